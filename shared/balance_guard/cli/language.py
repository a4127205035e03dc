"""The language the CLI speaks to the person at the terminal, and its words in it.

That person asks for a language the way every gettext program is asked: through `LANGUAGE`,
`LC_ALL`, `LC_MESSAGES` and `LANG`, read in that order (`fr_CA.UTF-8` -> `fr`); anything we
do not write in reads in English. `_` is the CLI's gettext: its English argument, in that
language, from the one catalog (`text.i18n`), read at each call so a test or a shell that
changes the variables is heard; `figure` writes a measured number (seconds, requests per
second) for that reader. Imports only the standard library, `text.i18n` and
`text.formatting`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal

from balance_guard.text.formatting import format_number
from balance_guard.text.i18n import LANGUAGES, gettext, language_of

__all__ = ["GETTEXT_VARIABLES", "_", "cli_language", "figure"]

GETTEXT_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def cli_language(environ: Mapping[str, str] | None = None) -> str:
    """`fr` or `en`: the first of the gettext variables that is set decides, as in gettext."""
    env = os.environ if environ is None else environ
    for name in GETTEXT_VARIABLES:
        value = env.get(name, "").strip()
        if value:
            return _first_written(value)
    return "en"


def _first_written(value: str) -> str:
    # LANGUAGE lists languages by preference (`de:fr_CA:en`); the others name one locale,
    # with an encoding and a modifier (`fr_CA.UTF-8`, `fr_BE@euro`); `C` and `POSIX` are none.
    for item in value.split(":"):
        locale = item.split(".")[0].split("@")[0].strip()
        if locale.replace("-", "_").split("_")[0].lower() in LANGUAGES:
            return language_of(locale)
    return "en"


def _(message: str) -> str:
    """`message`, the English written in the source, in the CLI's language."""
    return gettext(message, cli_language())


def figure(value: float, spec: str, language: str | None = None) -> str:
    """`5.0`, `12.5`: as the English lines always wrote them (`format(value, spec)`);
    `5`, `12,5` in French, grouped and set as French numbers are."""
    language = cli_language() if language is None else language
    written = format(value, spec)
    return written if language == "en" else format_number(Decimal(written), language)
