"""Bring the French catalogs of the help site up to date with the English sources.

    .venv/bin/python docs/update_translations.py

Extracts the messages with Sphinx's gettext builder, then merges them into
`docs/locales/fr/LC_MESSAGES/<page>.po`: existing translations are kept, messages that
left the sources are dropped, new ones are added with an empty `msgstr` (never fuzzy, so
nothing half-translated can ship). Exits 1 and lists the messages still to translate, which
the docs build test also refuses.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

DOCS = Path(__file__).resolve().parent
CATALOGS = DOCS / "locales" / "fr" / "LC_MESSAGES"


def extract(into: Path) -> list[Path]:
    subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
        [sys.executable, "-m", "sphinx", "-q", "-b", "gettext", "-d", str(into / "doctrees"),
         str(DOCS), str(into / "pot")],
        check=True,
    )
    return sorted((into / "pot").glob("*.pot"))


def merge(template_path: Path) -> list[str]:
    """Update one page's catalog; return the messages it still lacks."""
    with template_path.open("rb") as handle:
        template = read_po(handle)
    target = CATALOGS / (template_path.stem + ".po")
    if target.exists():
        with target.open("rb") as handle:
            catalog = read_po(handle, locale="fr")
    else:
        catalog = Catalog(locale="fr", project="Balance Guard")
    before = {(m.id, m.string) for m in catalog if m.id}
    catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
    catalog.obsolete.clear()
    for message in catalog:
        message.flags.discard("fuzzy")
    if {(m.id, m.string) for m in catalog if m.id} != before or not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as handle:
            write_po(handle, catalog, width=0, include_previous=False)
    return [str(m.id) for m in catalog if m.id and not m.string]


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        missing = {pot.stem: merge(pot) for pot in extract(Path(scratch))}
    todo = [(page, msgid) for page, ids in missing.items() for msgid in ids]
    for page, msgid in todo:
        print(f"{page}.po: untranslated: {msgid[:100]}")
    return 1 if todo else 0


if __name__ == "__main__":
    sys.exit(main())
