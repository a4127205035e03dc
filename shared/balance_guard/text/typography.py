"""French typography, one rule for every surface: emails, digest, report, CLI, help site.

We follow the usage the Office québécois de la langue française recommends for Quebec,
where our readers are:

- a no-break space (U+00A0) before a colon, and inside « guillemets »;
- no space before a semicolon, a question mark or an exclamation mark;
- the typographic apostrophe (’), never the typewriter one (').

A no-break space keeps « Résidence Saint-Laurent » and « Versements : » from breaking at
the end of a phone's line. Only the sentence frame is set this way: a value put into it
afterwards (a building's name, an amount already formatted by Babel) is left as it is.
"""

from __future__ import annotations

import re

NO_BREAK_SPACE = "\u00a0"

# A colon that ends a word or a sentence, not one inside `03:00`, `https://` or `{a:b}`.
_COLON = re.compile(r"(?<=[^\s{(:])[ \u00a0\u202f]?:(?=\s|$|\{)")
_OPENING_QUOTE = re.compile(r"«[ \u00a0\u202f]?")
_CLOSING_QUOTE = re.compile(r"[ \u00a0\u202f]?»")
_HIGH_SIGNS = re.compile(r"(?<=\S)[ \u00a0\u202f]+([;?!])")
_APOSTROPHE = re.compile(r"(?<=\w)'(?=\w)")


def french(text: str) -> str:
    """`Versements: manuels` -> `Versements\u00a0: manuels`; `« Aide »` keeps its words
    together; `questions ?` -> `questions?`; `l'argent` -> `l’argent`."""
    text = _COLON.sub(NO_BREAK_SPACE + ":", text)
    text = _OPENING_QUOTE.sub("«" + NO_BREAK_SPACE, text)
    text = _CLOSING_QUOTE.sub(NO_BREAK_SPACE + "»", text)
    text = _HIGH_SIGNS.sub(r"\1", text)
    return _APOSTROPHE.sub("’", text)


def _is_french(language: str) -> bool:
    return language.replace("-", "_").partition("_")[0].lower() == "fr"


def typeset(text: str, language: str) -> str:
    """`text` set by the typography of its language (only French has rules of its own)."""
    return french(text) if _is_french(language) else text


def colon(language: str) -> str:
    """What follows a label: `Code: `, `Code\u00a0: `."""
    return NO_BREAK_SPACE + ": " if _is_french(language) else ": "
