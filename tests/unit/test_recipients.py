"""Who receives an account's email: metadata first, validated, bounded."""

from __future__ import annotations

from datetime import date
from email import message_from_bytes, policy

import pytest

from balance_guard.notify.recipients import resolve_recipients
from balance_guard.notify.render import RenderedEmail, build_message


def test_metadata_addresses_come_before_the_account_email() -> None:
    chosen = resolve_recipients(("board@example.com", "manager@example.org"),
                                "owner@example.com", 10)

    assert chosen.addresses == ("board@example.com", "manager@example.org")
    assert chosen.notices == ()


def test_without_metadata_the_account_email_is_used() -> None:
    assert resolve_recipients(None, "owner@example.com", 10).addresses == ("owner@example.com",)


def test_invalid_addresses_are_dropped_and_reported() -> None:
    chosen = resolve_recipients(("board@example.com", "not-an-address", "x@localhost"),
                                "owner@example.com", 10)

    assert chosen.addresses == ("board@example.com",)
    assert len(chosen.notices) == 2
    assert "'not-an-address'" in chosen.notices[0]
    assert "'x@localhost'" in chosen.notices[1]


def test_all_metadata_invalid_falls_back_to_the_account_email_and_says_so() -> None:
    chosen = resolve_recipients(("nope", "still nope"), "owner@example.com", 10)

    assert chosen.addresses == ("owner@example.com",)
    assert any("using the account email" in n for n in chosen.notices)


def test_no_valid_address_at_all_is_reported() -> None:
    chosen = resolve_recipients(("nope",), "also nope", 10)

    assert chosen.addresses == ()
    assert "no valid email address" in chosen.notices[-1]


def test_no_address_anywhere() -> None:
    assert resolve_recipients(None, None, 10).addresses == ()


def test_duplicates_differing_only_in_case_of_the_domain_are_sent_once() -> None:
    chosen = resolve_recipients(("board@example.com", "board@EXAMPLE.com"), None, 10)

    assert chosen.addresses == ("board@example.com",)


def test_at_most_max_recipients_and_the_rest_is_reported() -> None:
    many = tuple(f"admin{i}@example.com" for i in range(12))

    chosen = resolve_recipients(many, None, 10)

    assert chosen.addresses == many[:10]
    assert any("only the first 10" in n for n in chosen.notices)


def test_internationalized_domain_travels_as_punycode_and_is_flagged() -> None:
    lookalike = "admin@ex\u0430mple.com"  # Cyrillic "а" in the domain

    chosen = resolve_recipients((lookalike,), None, 10)

    assert chosen.addresses == ("admin@xn--exmple-4nf.com",)
    assert any("internationalized domain" in n for n in chosen.notices)


def test_non_ascii_local_part_is_dropped_because_ses_cannot_send_it() -> None:
    chosen = resolve_recipients(("\u0430dmin@example.com",), "owner@example.com", 10)

    assert chosen.addresses == ("owner@example.com",)
    assert "dropped invalid address" in chosen.notices[0]


def test_display_names_and_header_tricks_are_not_addresses() -> None:
    hostile = ('"Board" <board@example.com>', "board@example.com\r\nBcc: spy@evil.example",
               "board@example.com, spy@evil.example")

    chosen = resolve_recipients(hostile, None, 10)

    assert chosen.addresses == ()
    assert all("\r" not in n and "\n" not in n for n in chosen.notices)


@pytest.mark.parametrize("encoded_word", [
    "=?utf-8?b?ZXZpbA==?=@good.example",
    "=?utf-8?q?a?=@good.example",
])
def test_an_address_no_header_can_carry_is_dropped_and_the_rest_still_get_the_email(
    encoded_word: str,
) -> None:
    chosen = resolve_recipients(("board@good.example", encoded_word, "manager@good.example"),
                                "owner@good.example", 10)

    assert chosen.addresses == ("board@good.example", "manager@good.example")
    [notice] = chosen.notices
    assert repr(encoded_word) in notice
    rendered = RenderedEmail(subject="s", text="t", html="<p>h</p>", languages=("en",))
    built = build_message(rendered, sender="Balance Guard <no-reply@example.com>",
                          to=chosen.addresses, ref="acct_1", as_of=date(2026, 8, 1))
    reread = message_from_bytes(built.as_bytes(policy=policy.SMTP), policy=policy.default)
    assert [a.addr_spec for a in reread["To"].addresses] == list(chosen.addresses)


def test_an_account_email_no_header_can_carry_is_reported() -> None:
    chosen = resolve_recipients(None, "=?utf-8?b?ZXZpbA==?=@good.example", 10)

    assert chosen.addresses == ()
    assert "account email: dropped invalid address" in chosen.notices[0]
