"""Names are shown, not obeyed: text from Stripe made inert for a terminal, a page or a mail.

A building's name is typed by whoever owns the connected account. A NUL, an escape sequence
(`ESC[31m` recolours the operator's terminal) or a bidi override (U+202E turns `cba.exe`
into `exe.abc` in report.html) would act on the reader instead of being read.
"""

from __future__ import annotations

import re

# Line breaks and tabs (and their Unicode kin) separate words: they become a space.
_BREAKS = re.compile(r"[\t\n\v\f\r\x1c-\x1f\x85\u2028\u2029]")
# Every other C0 and C1 control character, DEL, and the bidi embeddings, overrides,
# isolates and marks (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C).
_CONTROLS = re.compile(
    r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]"
)


def displayable(text: str) -> str:
    """`text` without the characters a terminal or a browser would obey rather than show.

    Control characters and bidi controls are removed; line and paragraph breaks become a
    space, so a name stays on one line. Everything else (accents, other scripts, emoji,
    the joiners emoji need) is kept as it is.
    """
    return _CONTROLS.sub("", _BREAKS.sub(" ", text))
