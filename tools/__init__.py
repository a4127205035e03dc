"""Developer tools of the repository (not shipped): translation catalogs."""
