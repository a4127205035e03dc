"""French typography, one rule for every surface: emails, digest, report, console, `explain`,
`reserve-simulate` and the help site.

We follow the usage the Office québécois de la langue française recommends for Quebec,
where our readers are. The rule, applied by `french` (and by `typeset` for a French text):

- a no-break space (U+00A0) before a colon, and inside « guillemets »;
- no space before a semicolon, a question mark or an exclamation mark;
- the typographic apostrophe (’), never the typewriter one (');
- a no-break space inside a number (`25 072,67`), between a number and the sign or unit
  that follows it (`25 %`, `1 650,00 $`, `3 h`), between a dollar and the country that
  marks it (`$ US`), and between a day and its month (`2 août`, `1er août`);
- one kind of no-break space: U+00A0, never the narrow U+202F some French locales use.

A no-break space keeps « Résidence Saint-Laurent », « Virements : » and « dimanche 2 août »
from breaking at the end of a phone's line. English has no rule of its own here.

`gettext` sets every French message it returns; `text.formatting` sets the figures and dates
it writes. A value put into a message afterwards (a building's name) is left as it is;
where code glues a label to its value, `colon(language)` gives what goes between them.
Imports only the standard library.
"""

from __future__ import annotations

import re

NO_BREAK_SPACE = "\u00a0"
NARROW_NO_BREAK_SPACE = "\u202f"

# A colon that ends a word or a sentence, not one inside `03:00`, `https://` or `{a:b}`.
_COLON = re.compile(r"(?<=[^\s{(:])[ \u00a0\u202f]?:(?=\s|$|\{)")
_OPENING_QUOTE = re.compile(r"«[ \u00a0\u202f]?")
_CLOSING_QUOTE = re.compile(r"[ \u00a0\u202f]?»")
_HIGH_SIGNS = re.compile(r"(?<=\S)[ \u00a0\u202f]+([;?!])")
_APOSTROPHE = re.compile(r"(?<=\w)'(?=\w)")
# `25 072,67`: a space between digit groups of three.
_DIGIT_GROUP = re.compile(r"(?<=\d) (?=\d{3}(?!\d))")
# `25 %`, `1 650,00 $`, `3 h`: a number and the sign or unit after it.
_NUMBER_SIGN = re.compile(r"(?<=\d) (?=[%$€¥£]|h\b)")
# `$ US`, `$ CA`: a currency sign and the country that marks it.
_MARKED_SIGN = re.compile(r"(?<=[$¥£]) (?=[A-Z]{2}\b)")
_MONTHS = ("janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre"
           "|décembre")
_DAY_AND_MONTH = re.compile(rf"\b(\d{{1,2}}|1er) (?=(?:{_MONTHS})\b)")


def french(text: str) -> str:
    """`Virements: manuels` -> `Virements\u00a0: manuels`; `« Aide »` and `2 août` keep their
    words together; `questions ?` -> `questions?`; `l'argent` -> `l’argent`."""
    text = text.replace(NARROW_NO_BREAK_SPACE, NO_BREAK_SPACE)
    text = _COLON.sub(NO_BREAK_SPACE + ":", text)
    text = _OPENING_QUOTE.sub("«" + NO_BREAK_SPACE, text)
    text = _CLOSING_QUOTE.sub(NO_BREAK_SPACE + "»", text)
    text = _HIGH_SIGNS.sub(r"\1", text)
    text = _DIGIT_GROUP.sub(NO_BREAK_SPACE, text)
    text = _NUMBER_SIGN.sub(NO_BREAK_SPACE, text)
    text = _MARKED_SIGN.sub(NO_BREAK_SPACE, text)
    text = _DAY_AND_MONTH.sub(r"\1" + NO_BREAK_SPACE, text)
    return _APOSTROPHE.sub("’", text)


def _is_french(language: str) -> bool:
    return language.replace("-", "_").partition("_")[0].lower() == "fr"


def typeset(text: str, language: str) -> str:
    """`text` set by the typography of its language (only French has rules of its own)."""
    return french(text) if _is_french(language) else text


def colon(language: str) -> str:
    """What follows a label: `Code: `, `Code\u00a0: `."""
    return NO_BREAK_SPACE + ": " if _is_french(language) else ": "
