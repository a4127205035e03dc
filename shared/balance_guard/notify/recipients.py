"""Who receives an account's email: its `balance_guard_emails` metadata, else its email.

Addresses are typed by people into Stripe's dashboard: each is validated, the invalid ones
are dropped and reported to operations, and none can carry a header or a second recipient.
An address is judged as it will be written: one that a To header cannot carry, or that
reads back as something else, is dropped like any other invalid address, so it cannot keep
the rest of the list from being emailed. Amazon SES wants ASCII addresses, so an
internationalized domain travels as its punycode (`xn--…`), which is also how operations
see a look-alike domain in the digest.
"""

from __future__ import annotations

import email.policy
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesHeaderParser

from email_validator import EmailNotValidError, validate_email

# Longer than any real address (RFC 5321 caps a path at 256); keeps notices short too.
_MAX_SHOWN = 60
_PUNYCODE = re.compile(r"(^|\.)xn--", re.IGNORECASE)


@dataclass(frozen=True)
class Recipients:
    addresses: tuple[str, ...]
    notices: tuple[str, ...] = ()


def shown(raw: str) -> str:
    """An untrusted value as operations may read it: quoted, escaped, cut short."""
    text = raw if len(raw) <= _MAX_SHOWN else raw[:_MAX_SHOWN] + "…"
    return repr(text)


def normalize_address(raw: str) -> tuple[str | None, str | None]:
    """(the address to send to, None) or (None, why it cannot be used)."""
    try:
        checked = validate_email(raw, check_deliverability=False, allow_smtputf8=False,
                                 allow_display_name=False)
    except EmailNotValidError as error:
        return None, str(error)
    address = checked.ascii_email or checked.normalized
    problem = header_problem(address)
    return (None, problem) if problem else (address, None)


def header_problem(address: str) -> str | None:
    """Why a To header cannot carry `address` as the senders write it, or None.

    The header is built like `render.build_message` builds it (an `Address` in an
    `EmailMessage` with the default policy), written with the SMTP policy the senders use,
    and read back: the `email` package decodes RFC 2047 encoded words such as
    `=?utf-8?b?…?=`, which are valid characters in an address but break its header.
    """
    message = EmailMessage()
    try:
        message["To"] = Address(addr_spec=address)
        written = message.as_bytes(policy=email.policy.SMTP)
    except (ValueError, TypeError, IndexError) as error:  # email.errors defects are ValueErrors
        return f"an email header cannot carry it ({type(error).__name__}: {error})"[:160]
    header = BytesHeaderParser(policy=email.policy.default).parsebytes(written)["To"]
    read_back = [a.addr_spec for a in getattr(header, "addresses", ())]
    if read_back != [address]:
        return "an email header would carry it as another address"
    return None


def resolve_recipients(
    metadata_emails: Sequence[str] | None,
    account_email: str | None,
    max_recipients: int,
) -> Recipients:
    """The valid, distinct addresses for one account, at most `max_recipients` of them.

    When the metadata names addresses but none is valid, the account's own email is used,
    so that a typo in the dashboard does not silence a critical warning.
    """
    notices: list[str] = []
    chosen = _valid(metadata_emails or (), "balance_guard_emails", notices)
    if not chosen:
        if metadata_emails:
            notices.append("balance_guard_emails: no valid address; using the account email")
        chosen = _valid([account_email] if account_email else [], "account email", notices)
    if not chosen:
        notices.append("no valid email address for this account; no email sent")
    if len(chosen) > max_recipients:
        notices.append(
            f"{len(chosen)} addresses given; only the first {max_recipients} receive the email")
        chosen = chosen[:max_recipients]
    return Recipients(tuple(chosen), tuple(notices))


def _valid(raw_addresses: Sequence[str], source: str, notices: list[str]) -> list[str]:
    chosen: list[str] = []
    seen: set[str] = set()
    for raw in raw_addresses:
        address, problem = normalize_address(raw)
        if address is None:
            notices.append(f"{source}: dropped invalid address {shown(raw)}: {problem}")
            continue
        if address.lower() in seen:
            continue
        seen.add(address.lower())
        if _PUNYCODE.search(address.split("@", 1)[1]):
            notices.append(
                f"{source}: {shown(raw)} has an internationalized domain, sent as {address}; "
                "check that it is the intended one")
        chosen.append(address)
    return chosen
