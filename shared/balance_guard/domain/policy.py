"""The platform's policy and the per-account overrides read from account metadata.

Metadata is typed by people in the Stripe dashboard: anything malformed in it is ignored,
and a notice says what and why, so operations can fix it. It never stops a check.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from balance_guard.domain.money import ABSURD_AMOUNT, CurrencyError, normalize_currency

META_PREFIX = "balance_guard_"
META_EMAILS = "balance_guard_emails"
META_LOCALE = "balance_guard_locale"
META_PREFUND_TARGET = "balance_guard_prefund_target_"
META_EXPOSURE_FLOOR = "balance_guard_exposure_floor_"
# ASCII digits only: `str.isdigit` also accepts superscripts and circled digits (which
# `int` then refuses) and other scripts' digits (which `int` silently reads).
_WHOLE_AMOUNT = re.compile(r"[0-9]+")


class Locale(StrEnum):
    FR = "fr"
    EN = "en"
    FR_EN = "fr+en"

    @property
    def languages(self) -> tuple[str, ...]:
        """Languages an email is written in, French first when bilingual."""
        return ("fr", "en") if self is Locale.FR_EN else (self.value,)


class Policy(BaseModel):
    """Platform-wide settings (environment or policy file), with their defaults."""

    model_config = ConfigDict(frozen=True)

    exposure_lookback_days: int = Field(default=90, ge=1, le=3650)
    release_horizon_days: int = Field(default=14, ge=0, le=3650)
    warning_reminder_days: int = Field(default=7, ge=1, le=365)
    # Emails a re-check between nights (a Stripe webhook) may send one account per run
    # date, each only for a critical finding no email since the night carried; 0: none.
    realtime_emails_per_day: int = Field(default=2, ge=0, le=24)
    arrival_business_days: int = Field(default=2, ge=0, le=30)
    default_locale: Locale = Locale.EN
    exposure_floors: dict[str, int] = Field(default_factory=dict)
    prefund_targets: dict[str, int] = Field(default_factory=dict)
    timezone: str = "America/Toronto"
    docs_base_url: str = "https://help.example.com"
    max_recipients: int = Field(default=10, ge=1, le=50)
    # Whom building admins write to with questions: `Name <address>`, an address, or a
    # name; with an address, emails link to it and carry it as their Reply-To.
    support_contact: str | None = Field(default=None, max_length=200)
    # The platform's name as its customers know it, for the emails' footers.
    platform_name: str | None = Field(default=None, max_length=80)
    # The platform's page where a building admin reaches their Stripe account (an https
    # address); without it, emails link to Stripe's own Express dashboard login.
    platform_portal_url: str | None = Field(default=None, max_length=500)
    # The platform's home market: the operations digest formats money and dates for it.
    platform_country: str = "CA"

    @field_validator("support_contact", "platform_name", mode="before")
    @classmethod
    def _one_line(cls, value: object) -> object:
        """Blank means unset; a line break or control character (a header injection
        attempt, or a copy-paste accident) is refused rather than silently mended."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if any(unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} for ch in text):
            raise ValueError("must be one line of text, without control characters")
        return text or None

    @field_validator("platform_portal_url", mode="before")
    @classmethod
    def _portal_address(cls, value: object) -> object:
        """Blank means unset; anything but one https address with a host (a `javascript:`
        link, a space, a line break) is refused: it becomes a button in every email."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if not text:
            return None
        if not is_portal_address(text):
            raise ValueError("must be one https:// address")
        return text

    @field_validator("platform_country")
    @classmethod
    def _country_code(cls, value: str) -> str:
        code = value.strip().upper()
        if len(code) != 2 or not code.isascii() or not code.isalpha():
            raise ValueError(f"not a two-letter country code: {value[:8]!r}")
        return code

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value[:40]!r}") from None
        return value


def is_portal_address(text: str) -> bool:
    """True for one https address with a host, in printable ASCII without spaces or the
    characters that end an HTML attribute: fit to become a link in every email."""
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:  # e.g. an unbalanced "[" in the host
        return False
    return (parts.scheme == "https" and bool(host) and text.isascii()
            and all(ch.isprintable() and not ch.isspace() and ch not in "<>\"'`\\"
                    for ch in text))


class AccountSettings(BaseModel):
    """The policy as it applies to one account, once its metadata is taken into account."""

    model_config = ConfigDict(frozen=True)

    locale: Locale
    emails: tuple[str, ...] | None = None  # raw addresses; validated by the recipients step
    prefund_targets: dict[str, int] = Field(default_factory=dict)
    exposure_floors: dict[str, int] = Field(default_factory=dict)
    notices: tuple[str, ...] = ()


def _parse_amount(raw: str) -> int | None:
    text = raw.strip()
    if not _WHOLE_AMOUNT.fullmatch(text):  # signs, decimals, spaces, non-ASCII digits
        return None
    value = int(text)
    return value if value < ABSURD_AMOUNT else None


def _shown_key(key: str) -> str:
    """A metadata key as a notice names it: as typed, or quoted and escaped when it holds
    a control, bidi or line-break character that a terminal or a page would obey."""
    return key[:60] if key.isprintable() else repr(key[:60])


def _currency_suffix(key: str, prefix: str) -> str | None:
    try:
        return normalize_currency(key[len(prefix):])
    except CurrencyError:
        return None


def resolve_account_settings(policy: Policy, metadata: dict[str, str]) -> AccountSettings:
    """Apply the account's `balance_guard_*` metadata on top of the platform policy."""
    notices: list[str] = []
    locale = policy.default_locale
    emails: tuple[str, ...] | None = None
    targets = dict(policy.prefund_targets)
    floors = dict(policy.exposure_floors)

    for key, raw in sorted(metadata.items()):
        if not key.startswith(META_PREFIX):
            continue
        value = str(raw)
        if key == META_LOCALE:
            try:
                locale = Locale(value.strip().lower())
            except ValueError:
                notices.append(f"{key}: {value[:40]!r} is not fr, en or fr+en; using {locale}")
        elif key == META_EMAILS:
            parts = tuple(p.strip() for p in value.split(",") if p.strip())
            if parts:
                emails = parts
            else:
                notices.append(f"{key}: no address given; using the account email")
        elif key.startswith((META_PREFUND_TARGET, META_EXPOSURE_FLOOR)):
            prefix = META_PREFUND_TARGET if key.startswith(META_PREFUND_TARGET) else (
                META_EXPOSURE_FLOOR)
            currency = _currency_suffix(key, prefix)
            amount = _parse_amount(value)
            if currency is None:
                notices.append(f"{_shown_key(key)}: the key does not end with a currency code; "
                               "ignored")
            elif amount is None:
                notices.append(f"{_shown_key(key)}: {value[:40]!r} is not a whole amount in "
                               "minor units; ignored")
            else:
                (targets if prefix == META_PREFUND_TARGET else floors)[currency] = amount
        else:
            notices.append(f"{_shown_key(key)}: unknown Balance Guard setting; ignored")

    return AccountSettings(locale=locale, emails=emails, prefund_targets=targets,
                           exposure_floors=floors, notices=tuple(notices))
