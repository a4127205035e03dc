"""One translation system: every marked message has its French, and the runtime reads it."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog

from balance_guard.text import i18n
from balance_guard.text.i18n import gettext, language_of, words
from tools.translations import FRENCH, extract, fields, merge, problems, read

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "shared" / "balance_guard"


@pytest.fixture(scope="module")
def template() -> Catalog:
    return extract()


def test_every_message_of_the_sources_is_translated_and_none_is_fuzzy(
    template: Catalog,
) -> None:
    assert problems(template, read(FRENCH, "fr")) == []


def test_the_catalog_holds_the_product_s_words(template: Catalog) -> None:
    ids = {message.id for message in template}
    # One of each surface: the rule catalog, the emails' frame, the digest, simulate, the
    # help site's extension.
    for expected in ("Your Stripe balance is below zero", "What to do today",
                     "Accounts by status", "Nothing is held: no payment is large enough to "
                     "reserve a minor unit.", "Table, scrolls sideways"):
        assert expected in ids


def test_problems_name_each_kind_of_gap() -> None:
    template = Catalog()
    for msgid in ("Done", "Left {n}", "Fuzzy", "New"):
        template.add(msgid)
    french = Catalog(locale="fr")
    french.add("Done", "Fait")
    french.add("Left {n}", "Il reste {count}")
    french.add("Fuzzy", "Flou", flags=["fuzzy"])
    french.add("Gone", "Parti")
    french.add("Empty", "")
    assert problems(template, french) == [
        "placeholders differ: 'Left {n}'",
        "fuzzy: 'Fuzzy'",
        "obsolete: 'Gone'",
        "obsolete: 'Empty'",
        "missing: 'New'",
    ]


def test_merge_keeps_translations_adds_new_messages_empty_and_drops_the_rest() -> None:
    template = Catalog()
    template.add("Kept")
    template.add("Added")
    french = Catalog(locale="fr")
    french.add("Kept", "Gardé")
    french.add("Removed", "Retiré")
    merged = merge(template, french)
    assert {m.id: m.string for m in merged if m.id} == {"Kept": "Gardé", "Added": None}
    assert not merged.obsolete
    assert problems(template, merged) == ["untranslated: 'Added'"]


def test_fields_are_the_placeholders_of_a_template() -> None:
    assert fields("{amount} on {release_date}") == {"amount", "release_date"}
    assert fields("no {brace") == {"<unbalanced braces>"}


def test_french_comes_from_the_catalog_and_is_typeset() -> None:
    assert gettext("What to do today", "fr") == "À faire aujourd’hui"
    assert gettext("What to do today", "fr_CA") == "À faire aujourd’hui"
    assert gettext("What to do today", "en") == "What to do today"
    # A colon gets its no-break space from the one typography rule, not from the .po.
    assert gettext("Amount", "fr") == "Montant"
    assert gettext("Left {count}", "fr") == "Left {count}"  # no such message: English
    assert words({"a": "What to do", "b": "Cause"}, "fr") == {"a": "Que faire", "b": "Cause"}


def test_a_message_without_translation_reads_in_english() -> None:
    assert gettext("A sentence nobody marked", "fr") == "A sentence nobody marked"
    assert gettext("", "fr") == ""


def test_language_of_reduces_a_locale_to_a_catalog_language() -> None:
    assert [language_of(x) for x in ("fr_CA", "fr-CA", "FR", "en_US", "de", "")] == [
        "fr", "fr", "fr", "en", "en", "en"]


def test_the_compiled_catalog_is_used_when_current_and_the_po_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    po = folder / "balance_guard.po"
    po.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
                  'msgid "Hello,"\nmsgstr "Allô,"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n._translations.cache_clear()
    try:
        assert i18n._translations("fr").gettext("Hello,") == "Allô,"  # from the .po
        shutil.copy(FRENCH.with_suffix(".mo") if FRENCH.with_suffix(".mo").exists()
                    else _compiled(tmp_path), folder / "balance_guard.mo")
        i18n._translations.cache_clear()
        # The .mo is newer than the .po: it is the one read.
        assert i18n._translations("fr").gettext("Hello,") == "Bonjour,"
        po.unlink()  # the Lambda layer ships the .mo alone
        i18n._translations.cache_clear()
        assert i18n._translations("fr").gettext("Hello,") == "Bonjour,"
    finally:
        i18n._translations.cache_clear()
        gettext.cache_clear()


def _compiled(folder: Path) -> Path:
    from io import BytesIO

    from babel.messages.mofile import write_mo

    buffer = BytesIO()
    write_mo(buffer, read(FRENCH, "fr"))
    target = folder / "compiled.mo"
    target.write_bytes(buffer.getvalue())
    return target


# A French sentence written in a .py file outside a gettext call: accented letters, or
# French words that English never uses.
FRENCH_IN_CODE = re.compile(r"[àâçéèêëîïôûùüÿœ’]|\b(le|la|les|des|du|votre|vous|est)\b",
                            re.IGNORECASE)


def test_no_french_sentence_is_written_in_the_product_s_python() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "sandbox" in path.parts:
            continue  # the sandbox imitates Stripe's objects, names included
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and " " in node.value and FRENCH_IN_CODE.search(node.value)
                    and not _is_docstring_or_comment_like(node.value)):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:60]!r}")
    assert found == []


def _is_docstring_or_comment_like(text: str) -> bool:
    # Docstrings explain French usage to developers (`1er`, « »); they are not shown.
    return "\n" in text or text.startswith(("`", "A ", "The "))
