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

html_theme = "alabaster"
html_static_path = ["_static"]
html_css_files = ["balance-guard.css"]
html_show_sourcelink = False
html_copy_source = False
html_show_sphinx = False
html_sidebars = {"**": ["about.html", "navigation.html", "searchfield.html"]}
html_theme_options = {
    "page_width": "1040px",
    "sidebar_width": "230px",
    "font_family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    "head_font_family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    "show_powered_by": False,
}
