"""Sphinx configuration of the Balance Guard help site.

One source tree, built once per language:

    sphinx-build -W --keep-going -b html -D language=en -d out/doctrees/en docs out/docs/en
    sphinx-build -W --keep-going -b html -D language=fr -d out/doctrees/fr docs out/docs/fr

English is written in the `.rst` sources; French comes from the gettext catalogs in
`locales/fr/LC_MESSAGES/`, set by the product's French typography at build time. Rule texts,
the comparison table, the reserve examples and the page frame's words are rendered by the
`balance_guard_docs` extension from the package's own gettext catalog
(`balance_guard.text`), in the build's language, so they need no entry here.
"""

from __future__ import annotations

import sys
from pathlib import Path

_DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(_DOCS / "_ext"))
sys.path.insert(0, str(_DOCS.parent / "shared"))

project = "Balance Guard"
author = "Balance Guard"
copyright = "2026, Balance Guard"

extensions = ["balance_guard_docs"]

language = "en"
locale_dirs = ["locales/"]
gettext_compact = False
gettext_uuid = False
gettext_location = False

root_doc = "index"
exclude_patterns = ["_build", "locales"]
templates_path = ["_templates"]

# Furo: responsive (a phone gets a header with the page list and this page's contents in
# drawers), maintained, and readable; light only, for building administrators. The site's
# title and every word of the page frame come from the extension in the build's language;
# `_templates/page.html` is Furo's page with those words, the language switch and no theme
# toggle.
html_theme = "furo"
html_static_path = ["_static"]
html_css_files = ["balance-guard.css"]
html_show_sourcelink = False
html_copy_source = False
html_show_sphinx = False
html_permalinks_icon = "#"
html_theme_options = {
    "top_of_page_buttons": [],
    "light_css_variables": {
        "font-stack": "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, "
                      "sans-serif",
        "color-brand-primary": "#1d5aa6",
        "color-brand-content": "#1d5aa6",
        # An admonition's text (13 px in Furo) as large as the text around it.
        "admonition-font-size": "var(--font-size--normal)",
        "admonition-title-font-size": "var(--font-size--normal)",
    },
}
