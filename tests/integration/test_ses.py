"""Sending through Amazon SES v2, against moto: what SES receives, throttling, rejections."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from email import message_from_string, policy
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID  # type: ignore[attr-defined]
from moto.ses.models import ses_backends

from balance_guard.domain.findings import Finding, RuleCode
from balance_guard.domain.policy import AccountSettings, Locale, Policy
from balance_guard.notify.notifier import Notifier
from balance_guard.notify.render import build_message, render_account_email
from balance_guard.notify.send_log import SqliteNotificationLog
from balance_guard.notify.sender import RecipientRejectedError, SendError
from balance_guard.notify.ses import SesSender
from balance_guard.report.model import AccountReport

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client

REGION = "us-east-1"
SENDER = "Balance Guard <alerts@balance-guard.example>"
AS_OF = date(2026, 8, 1)
NEGATIVE = Finding.of(RuleCode.NEGATIVE_BALANCE, "cad", 2_507_267, available=-2_507_267)


@pytest.fixture
def ses(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("sesv2", region_name=REGION)
        client.create_email_identity(EmailIdentity="alerts@balance-guard.example")
        yield client


def sent_messages() -> list[Any]:
    return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


def report(name: str = "Les Tours du Parc") -> AccountReport:
    return AccountReport(account_id="acct_1", name=name, locale="fr+en", status="critical",
                         findings=[NEGATIVE])


def message(to: list[str]) -> EmailMessage:
    rendered = render_account_email(report(), [NEGATIVE], languages=("fr", "en"), as_of=AS_OF,
                                    docs_base_url="https://help.example.com", country="CA")
    return build_message(rendered, sender=SENDER, to=to, ref="acct_1", as_of=AS_OF)


class Flaky:
    """A real SES client that throttles the first `throttled` calls and refuses any message
    addressed to one of `refused`, as SES does for an unverified recipient in its sandbox."""

    def __init__(self, client: Any, throttled: int = 0, refused: set[str] | None = None) -> None:
        self.client = client
        self.throttled = throttled
        self.refused = refused or set()
        self.calls: list[dict[str, Any]] = []

    def send_email(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        if self.throttled:
            self.throttled -= 1
            raise ClientError({"Error": {"Code": "TooManyRequestsException",
                                         "Message": "Maximum sending rate exceeded."}},
                              "SendEmail")
        raw = kwargs["Content"]["Raw"]["Data"].decode()
        to = str(message_from_string(raw, policy=policy.default)["To"])
        if any(address in to for address in self.refused):
            raise ClientError({"Error": {"Code": "MessageRejected",
                                         "Message": "Email address is not verified."}},
                              "SendEmail")
        return self.client.send_email(**kwargs)

    @property
    def as_client(self) -> SESV2Client:
        return cast("SESV2Client", self)


def test_sends_the_raw_multipart_message_through_ses(ses: Any) -> None:
    sender = SesSender(ses)

    message_id = sender.send(message(["admin@example.com", "board@example.com"]))

    [sent] = sent_messages()
    assert sent.id == message_id
    assert sent.source == "alerts@balance-guard.example"
    assert sorted(sent.destinations) == ["admin@example.com", "board@example.com"]
    parsed = message_from_string(sent.raw_data, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["Subject"] == (
        "Les Tours du Parc\xa0: Votre solde Stripe est négatif / Your Stripe balance is below zero")
    assert parsed["From"] == SENDER
    text = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    assert "25\u00a0072,67\u00a0$" in text.get_content()
    assert "$25,072.67" in html.get_content()


def test_an_unverified_sender_is_refused(ses: Any) -> None:
    rendered = render_account_email(report(), [NEGATIVE], languages=("en",), as_of=AS_OF,
                                    docs_base_url="https://help.example.com")
    unverified = build_message(rendered, sender="someone@elsewhere.example",
                               to=["admin@example.com"], ref="acct_1", as_of=AS_OF)

    with pytest.raises(RecipientRejectedError, match="MessageRejected"):
        SesSender(ses).send(unverified)
    assert sent_messages() == []


def test_throttling_is_retried_with_bounded_backoff(ses: Any) -> None:
    flaky = Flaky(ses, throttled=3)
    pauses: list[float] = []
    sender = SesSender(flaky.as_client, sleep=pauses.append, base_delay_s=0.5, max_delay_s=2.0)

    sender.send(message(["admin@example.com"]))

    assert len(flaky.calls) == 4
    assert len(sent_messages()) == 1
    assert len(pauses) == 3
    assert all(0 < p <= 2.0 for p in pauses)
    assert pauses[2] >= 1.0  # grows: third pause is drawn from [1, 2]


def test_throttling_that_never_stops_gives_up(ses: Any) -> None:
    flaky = Flaky(ses, throttled=100)
    sender = SesSender(flaky.as_client, sleep=lambda _: None, max_attempts=4)

    with pytest.raises(SendError, match="throttling after 4 attempts"):
        sender.send(message(["admin@example.com"]))
    assert len(flaky.calls) == 4
    assert sent_messages() == []


def test_configuration_set_is_passed_when_set(ses: Any) -> None:
    flaky = Flaky(ses)

    with_set = SesSender(flaky.as_client, configuration_set="balance-guard")
    with_set.send(message(["admin@example.com"]))
    SesSender(flaky.as_client).send(message(["admin@example.com"]))

    assert flaky.calls[0]["ConfigurationSetName"] == "balance-guard"
    assert "ConfigurationSetName" not in flaky.calls[1]
    assert len(sent_messages()) == 2


def test_a_rejected_recipient_is_recorded_and_the_others_are_sent(
    ses: Any, tmp_path: Path,
) -> None:
    flaky = Flaky(ses, refused={"unverified@example.com"})
    notifier = Notifier(SesSender(flaky.as_client, sleep=lambda _: None),
                        SqliteNotificationLog(tmp_path / "state.sqlite"), Policy(),
                        sender_address=SENDER)
    settings = AccountSettings(locale=Locale.EN, emails=(
        "admin@example.com", "unverified@example.com", "board@example.com"))

    outcome = notifier.notify_account(report(), account_email=None, settings=settings,
                                      as_of=AS_OF, run_id="run")

    delivered = sorted(d for m in sent_messages() for d in m.destinations)
    assert delivered == ["admin@example.com", "board@example.com"]
    assert [e.to for e in outcome.emails] == [["admin@example.com"], ["board@example.com"]]
    assert [e.message_id for e in outcome.emails] == [m.id for m in sent_messages()]
    assert len(outcome.notices) == 1
    assert "'unverified@example.com' rejected" in outcome.notices[0]
    assert "MessageRejected" in outcome.notices[0]


def test_from_env_reads_the_configuration_set(ses: Any) -> None:
    sender = SesSender.from_env({"SES_CONFIGURATION_SET": "bg-events"})

    assert sender.configuration_set == "bg-events"
    assert SesSender.from_env({}).configuration_set is None
    sender.send(message(["admin@example.com"]))  # region and credentials from the environment
    assert len(sent_messages()) == 1


def test_the_reply_to_travels_in_the_raw_message_and_adds_no_recipient(
    ses: Any, tmp_path: Path,
) -> None:
    support = "Boréal Gestion immobilière support <support@boreal-gestion.example>"
    notifier = Notifier(SesSender(ses), SqliteNotificationLog(tmp_path / "state.sqlite"),
                        Policy(support_contact=support, platform_name="Boréal"),
                        sender_address=SENDER)

    notifier.notify_account(report(), account_email="admin@example.com",
                            settings=AccountSettings(locale=Locale.FR_EN), as_of=AS_OF,
                            run_id="run")

    [sent] = sent_messages()
    assert sent.destinations == ["admin@example.com"]
    parsed = message_from_string(sent.raw_data, policy=policy.default)
    assert parsed["Reply-To"] == support
    text = parsed.get_body(preferencelist=("plain",))
    assert text is not None
    assert "écrivez à Boréal Gestion immobilière support (support@boreal-gestion.example)" in (
        text.get_content())
