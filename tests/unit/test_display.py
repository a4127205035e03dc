"""Names are shown, not obeyed: what `displayable` removes and what it keeps."""

from __future__ import annotations

import unicodedata

import pytest

from balance_guard.text.display import displayable

BIDI_CONTROLS = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A),
                                  0x200E, 0x200F, 0x061C)]


@pytest.mark.parametrize("text", [
    "Tours du Parc",
    "Résidence Ébène – Côte-des-Neiges",
    "東京タワー 管理組合",
    "שלום עולם",  # right-to-left script, without any control
    "Family 👨\u200d👩\u200d👧 & Co",  # zero-width joiners hold the emoji together
    "50% < 100% & \"quotes\" 'too'",
])
def test_ordinary_text_is_kept_as_it_is(text: str) -> None:
    assert displayable(text) == text


def test_terminal_escape_sequences_lose_their_escape() -> None:
    assert displayable("Tours\x1b[31m du Parc\x1b[0m") == "Tours[31m du Parc[0m"
    assert displayable("\x9b31mC1 CSI") == "31mC1 CSI"


@pytest.mark.parametrize("control", BIDI_CONTROLS)
def test_bidi_controls_are_removed(control: str) -> None:
    assert displayable(f"Tours du Parc{control} moc.elpmaxe") == "Tours du Parc moc.elpmaxe"


def test_line_breaks_become_spaces_so_a_name_stays_on_one_line() -> None:
    assert displayable("Tours\r\nBcc: x\u2028y\tz\x85w") == "Tours  Bcc: x y z w"


def test_no_c0_or_c1_control_character_survives() -> None:
    every_control = "".join(chr(c) for c in (*range(0x20), *range(0x7F, 0xA0)))

    shown = displayable(f"a{every_control}b")

    assert not any(unicodedata.category(ch) == "Cc" for ch in shown)
    assert shown.startswith("a")
    assert shown.endswith("b")
