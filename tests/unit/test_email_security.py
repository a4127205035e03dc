"""Hostile account names and metadata: no header injection, no HTML injection."""

from __future__ import annotations

from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from balance_guard.domain.findings import Finding, RuleCode
from balance_guard.domain.policy import AccountSettings, Locale, Policy
from balance_guard.notify.digest import render_digest
from balance_guard.notify.notifier import Notifier
from balance_guard.notify.outbox import OutboxSender
from balance_guard.notify.render import (
    build_message,
    clean_text,
    render_account_email,
    reply_to_header,
)
from balance_guard.notify.send_log import SqliteNotificationLog
from balance_guard.report.model import AccountReport, Report, totals_of

AS_OF = date(2026, 8, 1)
NEGATIVE = Finding.of(RuleCode.NEGATIVE_BALANCE, "cad", 10_000, available=-10_000)
HOSTILE_NAMES = [
    "Evil\r\nBcc: victim@example.com",
    "Tours\nSubject: you won\n\n<b>body</b>",
    "<script>alert('x')</script><img src=x onerror=alert(1)>",
    '"><a href="https://phish.example">Click</a>',
    "Tours du Parc\u202e moc.elpmaxe\u202c",  # right-to-left override
    "A" * 10_000,
    "=?utf-8?q?=0D=0ABcc:_spy@evil.example?=",
]


def report(name: str, account_id: str = "acct_123") -> AccountReport:
    return AccountReport(account_id=account_id, name=name, locale="fr+en", status="critical",
                         findings=[NEGATIVE])


def message_for(name: str) -> EmailMessage:
    rendered = render_account_email(report(name), [NEGATIVE], languages=("fr", "en"),
                                    as_of=AS_OF, docs_base_url="https://help.example.com")
    built = build_message(rendered, sender="Balance Guard <no-reply@example.com>",
                          to=["admin@example.com"], ref="acct_123", as_of=AS_OF)
    reread = message_from_bytes(built.as_bytes(policy=policy.SMTP), policy=policy.default)
    assert isinstance(reread, EmailMessage)
    return reread


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_name_adds_no_header_and_no_recipient(name: str) -> None:
    message = message_for(name)

    assert sorted(message.keys()) == sorted([
        "From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted",
        "X-Auto-Response-Suppress", "X-Balance-Guard-Ref", "X-Balance-Guard-As-Of",
        "MIME-Version", "Content-Type", "Content-Language"])
    assert message.get_all("To") == ["admin@example.com"]
    assert message["Bcc"] is None
    subject = str(message["Subject"])
    assert "\r" not in subject
    assert "\n" not in subject
    assert len(subject) <= 400


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_name_is_escaped_in_the_html(name: str) -> None:
    html_part = message_for(name).get_body(preferencelist=("html",))
    assert html_part is not None
    html = html_part.get_content()

    assert "<script" not in html
    assert "<img" not in html
    assert "phish.example\"" not in html
    assert 'href="https://phish.example"' not in html
    assert "<b>body</b>" not in html
    assert "\u202e" not in html


def test_script_name_shows_as_text() -> None:
    html_part = message_for("<script>alert('x')</script>").get_body(preferencelist=("html",))
    assert html_part is not None

    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html_part.get_content()


def test_ten_thousand_character_name_is_cut_everywhere() -> None:
    message = message_for("A" * 10_000)
    text_part = message.get_body(preferencelist=("plain",))
    assert text_part is not None

    assert "A" * 81 not in str(message["Subject"])
    assert "A" * 81 not in text_part.get_content()
    assert "A" * 79 + "…" in text_part.get_content()


def test_clean_text_strips_line_breaks_controls_and_bidi() -> None:
    assert clean_text("a\r\nb\tc\x00d\u2028e\u202ef", 100) == "a b c d e f"
    assert clean_text("x" * 50, 10) == "x" * 9 + "…"


def test_hostile_sender_setting_is_refused_whole() -> None:
    rendered = render_account_email(report("Tours"), [NEGATIVE], languages=("en",),
                                    as_of=AS_OF, docs_base_url="https://help.example.com")
    with pytest.raises(ValueError, match="not a sender address"):
        build_message(rendered, sender="Guard\r\nBcc: spy@evil.example <no-reply@example.com>",
                      to=["admin@example.com"], ref="acct", as_of=AS_OF)


@pytest.mark.parametrize("sender", [
    "no-reply@example.com", "Balance Guard <no-reply@example.com>",
    "Boréal Gestion <alertes@boreal-gestion.example>",
])
def test_ordinary_senders_are_kept_as_written(sender: str) -> None:
    rendered = render_account_email(report("Tours"), [NEGATIVE], languages=("en",),
                                    as_of=AS_OF, docs_base_url="https://help.example.com")
    built = build_message(rendered, sender=sender, to=["admin@example.com"], ref="acct",
                          as_of=AS_OF)
    reread = message_from_bytes(built.as_bytes(policy=policy.SMTP), policy=policy.default)
    assert str(reread["From"]) == sender
    assert reread["Bcc"] is None


def test_hostile_metadata_addresses_never_reach_a_header(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    notifier = Notifier(OutboxSender(outbox), SqliteNotificationLog(tmp_path / "s.sqlite"),
                        Policy())
    settings = AccountSettings(locale=Locale.EN, emails=(
        "admin@example.com\r\nBcc: spy@evil.example",
        '"Support" <spy@evil.example>',
        "ops@ex\u0430mple.com",  # Cyrillic "а": a look-alike of example.com
        "\u0430dmin@example.com",  # Cyrillic "а" in the local part
        "<script>@example.com",
    ))

    outcome = notifier.notify_account(report("Tours"), account_email="owner@example.com",
                                      settings=settings, as_of=AS_OF, run_id="run")

    assert [e.to for e in outcome.emails] == [["ops@xn--exmple-4nf.com"]]
    eml = (outbox / f"acct_123_{AS_OF}.eml").read_bytes()
    message = message_from_bytes(eml)
    assert message["Bcc"] is None
    assert message.get_all("To") == ["ops@xn--exmple-4nf.com"]
    assert b"spy@evil.example" not in eml
    assert sum("dropped invalid address" in n for n in outcome.notices) == 4
    assert any("internationalized domain" in n for n in outcome.notices)
    assert all("\r" not in n and "\n" not in n for n in outcome.notices)


def test_hostile_account_id_cannot_escape_the_outbox(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    notifier = Notifier(OutboxSender(outbox), SqliteNotificationLog(tmp_path / "s.sqlite"),
                        Policy())

    notifier.notify_account(report("Tours", account_id="../../etc/passwd"),
                            account_email="owner@example.com",
                            settings=AccountSettings(locale=Locale.EN), as_of=AS_OF, run_id="r")

    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")
                     if p.is_file())
    assert written[-1] == "s.sqlite"
    emails = written[:-1]
    assert [Path(name).parent for name in emails] == [Path("outbox"), Path("outbox")]
    assert {Path(name).suffix for name in emails} == {".eml", ".html"}
    # the dots and slashes become underscores, and a hash keeps the name the id's own
    assert all(Path(name).name.startswith("______etc_passwd_") for name in emails)


def test_hostile_names_and_notices_are_escaped_in_the_digest() -> None:
    accounts = [
        report("<script>alert(1)</script>").model_copy(update={
            "notices": ["balance_guard_emails: dropped '<img src=x onerror=alert(1)>'"]}),
        AccountReport(account_id="acct_9", name="Bad\r\nBcc: x@y.z", locale="en",
                      status="error", error="<b>boom</b>\r\nInjected: yes"),
    ]
    digest = render_digest(Report(run_id="r\r\n1", as_of=AS_OF, accounts=accounts,
                                  totals=totals_of(accounts, 3, 1.0)), ("en",))

    assert "<script" not in digest.html
    assert "<img" not in digest.html
    assert "<b>boom" not in digest.html
    assert "&lt;script&gt;" in digest.html
    assert "\r" not in digest.subject
    assert "Injected: yes" in digest.text  # shown, on the same line as the error
    assert "\nInjected" not in digest.text


HOSTILE_CONTACTS = [
    "Support\r\nBcc: spy@evil.example <support@example.com>",
    "Support <support@example.com>\r\nBcc: spy@evil.example",
    "support@example.com, spy@evil.example",
    "Evil Bcc: spy@evil.example <support@example.com>",
    "=?utf-8?q?=0D=0ABcc:_spy@evil.example?= <support@example.com>",
    '"><script>alert(1)</script> <support@example.com>',
    # Accepted, and harmless once rebuilt:
    "Support =?utf-8?q?=0D=0ABcc=3A_spy=40evil.example?= <support@example.com>",
    "Tours & Co support <support@example.com>",
]


@pytest.mark.parametrize("contact", HOSTILE_CONTACTS)
def test_a_hostile_support_contact_is_refused_or_adds_no_header(contact: str) -> None:
    """The policy refuses a line break outright; what it lets through either fails the
    notifier's start-up or becomes one display name and one address."""
    try:
        platform = Policy(support_contact=contact)
        reply_to = reply_to_header(platform.support_contact)
    except ValueError:
        return
    rendered = render_account_email(report("Tours"), [NEGATIVE], languages=("en",),
                                    as_of=AS_OF, docs_base_url="https://help.example.com",
                                    contact=platform.support_contact)
    built = build_message(rendered, sender="Balance Guard <no-reply@example.com>",
                          to=["admin@example.com"], ref="acct", as_of=AS_OF, reply_to=reply_to)
    reread = message_from_bytes(built.as_bytes(policy=policy.SMTP), policy=policy.default)

    assert reread["Bcc"] is None
    assert reread.get_all("To") == ["admin@example.com"]
    assert reread.get_all("Reply-To") in (None, [str(reply_to)])
    assert "spy@evil.example" not in str(reread.get("Reply-To", ""))
    html = rendered.html
    assert "<script" not in html
    assert 'href="mailto:spy@evil.example"' not in html
    assert 'href="mailto:support@example.com"' in html
    assert "Tours & Co" not in html  # escaped as &amp; when it is the name


def test_an_accepted_support_contact_keeps_one_reply_to_address() -> None:
    reply_to = reply_to_header(
        "Support =?utf-8?q?=0D=0ABcc=3A_spy=40evil.example?= <support@example.com>")

    assert reply_to is not None
    assert reply_to.addr_spec == "support@example.com"
    assert "=?" not in reply_to.display_name


def test_the_policy_refuses_a_contact_or_platform_name_with_a_line_break() -> None:
    for field in ("support_contact", "platform_name"):
        with pytest.raises(ValueError, match="one line"):
            Policy.model_validate({field: "Boréal\r\nBcc: spy@evil.example"})
        with pytest.raises(ValueError, match="one line"):
            Policy.model_validate({field: "Boréal\u202e"})
    assert Policy(support_contact="  ", platform_name="").support_contact is None
    assert Policy(platform_name="  Boréal  ").platform_name == "Boréal"


def test_a_hostile_platform_name_is_escaped() -> None:
    rendered = render_account_email(report("Tours"), [NEGATIVE], languages=("en",),
                                    as_of=AS_OF, docs_base_url="https://help.example.com",
                                    platform_name="<b>Evil</b> & Co")

    assert "<b>Evil" not in rendered.html
    assert "&lt;b&gt;Evil&lt;/b&gt; &amp; Co" in rendered.html


@pytest.mark.parametrize("platform", [
    "Boréal\r\nBcc: spy@evil.example",
    "=?utf-8?q?=0D=0ABcc:_spy@evil.example?=",
    'Boréal" <spy@evil.example>, "x',
    "Boréal\u202e lavé",
    "B" * 500,
])
def test_a_hostile_platform_name_in_the_from_adds_no_header_nor_address(platform: str) -> None:
    """The From's display name is the platform's name; its address stays SENDER_EMAIL's."""
    rendered = render_account_email(report("Tours"), [NEGATIVE], languages=("en",),
                                    as_of=AS_OF, docs_base_url="https://help.example.com",
                                    platform_name=platform)
    built = build_message(rendered, sender="Balance Guard <no-reply@example.com>",
                          to=["admin@example.com"], ref="acct", as_of=AS_OF)
    reread = message_from_bytes(built.as_bytes(policy=policy.SMTP), policy=policy.default)

    assert reread["Bcc"] is None
    assert reread.get_all("To") == ["admin@example.com"]
    [sender] = reread["From"].addresses  # one address, whatever the name holds
    assert sender.addr_spec == "no-reply@example.com"
    assert "\u202e" not in sender.display_name
    [built_sender] = built["From"].addresses
    assert len(built_sender.display_name) <= 80


def test_a_hostile_portal_address_never_becomes_a_link() -> None:
    for portal in ('https://portal.example/" onclick="alert(1)', "javascript:alert(1)",
                   "data:text/html,<script>alert(1)</script>"):
        rendered = render_account_email(report("Tours"), [NEGATIVE], languages=("en",),
                                        as_of=AS_OF, docs_base_url="https://help.example.com",
                                        portal=portal)
        assert "onclick" not in rendered.html
        assert "javascript:" not in rendered.html
        assert "data:text" not in rendered.html
        assert 'href="https://connect.stripe.com/express_login"' in rendered.html
