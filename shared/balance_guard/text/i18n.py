"""Every word a reader sees, in their language: one gettext catalog for the whole product.

English is written in the source, marked with `N_` (where the text is data: the rule
catalog, the emails' frame) or passed to `gettext` (where it is said); `make translations`
extracts it with Babel into `locales/balance_guard.pot`, and the French is in
`locales/fr/LC_MESSAGES/balance_guard.po`. The build compiles the `.po` into a `.mo`
(`make catalogs`, the Lambda layer's build); when the `.mo` is missing or older than its
`.po`, the `.po` is compiled in memory instead, so a checkout never reads stale words.

Every translated text is set by the typography of its language (`typography.typeset`).
"""

from __future__ import annotations

import gettext as _gettext
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from balance_guard.domain.catalog import LANGUAGES, N_
from balance_guard.text.typography import typeset

__all__ = ["DOMAIN", "LANGUAGES", "LOCALE_DIR", "N_", "gettext", "language_of", "words"]

DOMAIN = "balance_guard"
LOCALE_DIR = Path(__file__).parent / "locales"


def language_of(language: str) -> str:
    """`fr_CA`, `fr-CA`, `FR` -> `fr`; a language we do not write in -> `en`."""
    lang = language.replace("-", "_").split("_")[0].strip().lower()
    return lang if lang in LANGUAGES else "en"


@lru_cache(maxsize=len(LANGUAGES))
def _translations(language: str) -> _gettext.NullTranslations:
    if language == "en":
        return _gettext.NullTranslations()
    po = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo = po.with_suffix(".mo")
    # The Lambda layer ships the compiled catalog alone.
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as handle:
            return _gettext.GNUTranslations(handle)
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


@lru_cache(maxsize=4096)
def gettext(message: str, language: str) -> str:
    """`message` (English, as written in the source) in `language`, typeset for it.

    A message with no translation reads in English: the test suite fails on any, so a
    reader never meets one.
    """
    lang = language_of(language)
    if not message:
        return message
    return typeset(_translations(lang).gettext(message), lang)


def words(messages: dict[str, str], language: str) -> dict[str, str]:
    """A table of marked messages (`{"greeting": N_("Hello,")}`) in `language`."""
    return {key: gettext(message, language) for key, message in messages.items()}
