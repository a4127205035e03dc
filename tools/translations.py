"""The product's translation catalog: extract, merge, and report what is left to translate.

    .venv/bin/python tools/translations.py          # update the .pot and the French .po
    .venv/bin/python tools/translations.py --check  # change nothing; exit 1 on any problem

English is written in the sources (`gettext("…", language)` calls, `N_("…")` tables, and
`_("…")` in the Jinja2 templates); Babel extracts it into
`shared/balance_guard/text/locales/balance_guard.pot`. Merging keeps every translation,
drops messages that left the sources, and adds new ones with an empty `msgstr` — never a
fuzzy guess, so nothing half-translated can ship. A problem is a message without French, a
fuzzy one, one whose French names other `{placeholders}` than its English, or an obsolete
one; the test suite fails on any (`tests/unit/test_translations.py`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from string import Formatter

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "shared" / "balance_guard" / "text" / "locales"
TEMPLATE = LOCALES / "balance_guard.pot"
FRENCH = LOCALES / "fr" / "LC_MESSAGES" / "balance_guard.po"
# What Babel reads, relative to each source folder; the sandbox only imitates Stripe's own
# English and says nothing to our readers.
SOURCES: dict[Path, list[tuple[str, str]]] = {
    ROOT / "shared" / "balance_guard": [
        ("sandbox/**.py", "ignore"),
        ("**.py", "python"),
        ("**/templates/**.j2", "jinja2"),
    ],
    ROOT / "docs" / "_ext": [("**.py", "python")],
}
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None}


def extract() -> Catalog:
    """Every message the sources mark, with where it is written."""
    template = Catalog(project="Balance Guard", domain="balance_guard", fuzzy=False,
                       copyright_holder="Balance Guard")
    for folder, method_map in SOURCES.items():
        options = {"**/templates/**.j2": {"trimmed": "true"}}
        for filename, lineno, message, comments, context in extract_from_dir(
            folder, method_map, options_map=options, keywords=KEYWORDS, strip_comment_tags=True
        ):
            where = (str((folder / filename).relative_to(ROOT)), lineno)
            template.add(message, None, [where], auto_comments=comments, context=context)
    return template


def read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def merge(template: Catalog, translations: Catalog) -> Catalog:
    translations.update(template, no_fuzzy_matching=True, update_header_comment=False)
    translations.obsolete.clear()
    translations.fuzzy = False
    return translations


def fields(text: str) -> set[str]:
    try:
        return {name for _, name, _, _ in Formatter().parse(text) if name is not None}
    except ValueError:
        return {"<unbalanced braces>"}


def problems(template: Catalog, translations: Catalog) -> list[str]:
    """One line per message a French reader would meet untranslated or wrong."""
    found: list[str] = []
    wanted = {message.id for message in template if message.id}
    for message in translations:
        if not message.id:
            continue
        if message.id not in wanted:
            found.append(f"obsolete: {message.id!r}")
        elif not message.string:
            found.append(f"untranslated: {message.id!r}")
        elif message.fuzzy:
            found.append(f"fuzzy: {message.id!r}")
        elif fields(str(message.id)) != fields(str(message.string)):
            found.append(f"placeholders differ: {message.id!r}")
    found += [f"missing: {msgid!r}" for msgid in sorted(wanted - {m.id for m in translations})]
    return found


def write(path: Path, catalog: Catalog) -> None:
    with path.open("wb") as handle:
        write_po(handle, catalog, width=0, include_previous=False, sort_by_file=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report only, change nothing")
    args = parser.parse_args(argv)
    template = extract()
    translations = read(FRENCH, "fr")
    if not args.check:
        write(TEMPLATE, template)
        translations = merge(template, translations)
        write(FRENCH, translations)
    found = problems(template, translations)
    for line in found:
        print(f"{FRENCH.relative_to(ROOT)}: {line}")
    print(f"{len(template)} messages, {len(found)} to fix")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
