"""The local outbox: one file per email, never one file for two accounts."""

from __future__ import annotations

from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from balance_guard.notify.outbox import OutboxSender, file_token
from balance_guard.notify.render import REF_HEADER, RenderedEmail, build_message

AS_OF = date(2026, 8, 1)


def message(account_id: str, to: str = "admin@example.com") -> EmailMessage:
    rendered = RenderedEmail(subject="Bayview", text="text", html="<p>html</p>",
                             languages=("en",))
    return build_message(rendered, sender="Balance Guard <no-reply@example.com>", to=[to],
                         ref=account_id, as_of=AS_OF)


def test_two_ids_sharing_their_first_64_characters_write_two_files(tmp_path: Path) -> None:
    common = "acct_" + "x" * 59
    outbox = OutboxSender(tmp_path)

    outbox.send(message(common + "A", "a@example.com"))
    outbox.send(message(common + "B", "b@example.com"))

    emls = sorted(tmp_path.glob("*.eml"))
    assert len(emls) == 2
    assert len(list(tmp_path.glob("*.html"))) == 2
    recipients = {str(message_from_bytes(p.read_bytes(), policy=policy.default)["To"])
                  for p in emls}
    assert recipients == {"a@example.com", "b@example.com"}


def test_a_rerun_of_the_same_date_replaces_its_files(tmp_path: Path) -> None:
    OutboxSender(tmp_path).send(message("acct_1"))
    OutboxSender(tmp_path).send(message("acct_1"))

    assert sorted(p.name for p in tmp_path.iterdir()) == ["acct_1_2026-08-01.eml",
                                                          "acct_1_2026-08-01.html"]


def test_a_reference_that_is_no_file_name_keeps_a_hash_of_all_of_it() -> None:
    long_a, long_b = "acct_" + "x" * 70 + "a", "acct_" + "x" * 70 + "b"

    assert file_token("acct_1") == "acct_1"
    assert file_token(long_a) != file_token(long_b)
    assert file_token("acct.1") != file_token("acct:1")
    assert all(len(file_token(ref)) <= 64 for ref in (long_a, long_b, "é" * 300))
    assert file_token("../../etc/passwd").startswith("______etc_passwd_")


def test_a_message_carrying_a_long_reference_gets_its_own_file(tmp_path: Path) -> None:
    outbox = OutboxSender(tmp_path)
    for suffix in "ab":
        built = message("acct_1")
        built.replace_header(REF_HEADER, "acct_" + "x" * 70 + suffix)
        outbox.send(built)

    assert len(list(tmp_path.glob("*.eml"))) == 2


def test_long_ids_keep_their_own_file_across_runs(tmp_path: Path) -> None:
    """Each id's file name is stable from one run to the next, however long the ids."""
    common = "acct_" + "x" * 59
    for _ in range(2):  # two runs, each with its own sender
        outbox = OutboxSender(tmp_path)
        outbox.send(message(common + "A", "a@example.com"))
        outbox.send(message(common + "B", "b@example.com"))
    assert len(list(tmp_path.glob("*.eml"))) == 2
    assert message(common + "A")[REF_HEADER] != message(common + "B")[REF_HEADER]
