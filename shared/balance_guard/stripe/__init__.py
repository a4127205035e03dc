"""Stripe, read only: the paced and counted reader, its typed models, and the key kept
out of every output. Imports domain/ only.
"""
