"""What a check concludes: severities, the capacity cause a finding names, ordering, status."""

from __future__ import annotations

from datetime import date

import pytest

from balance_guard.domain.findings import (
    CapacityShortCause,
    Finding,
    RuleCode,
    Severity,
    account_status,
    detail_date,
    most_severe_first,
)


def short(cause: object) -> Finding:
    return Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "cad", 100, cause=cause)


@pytest.mark.parametrize("cause", list(CapacityShortCause))
def test_a_finding_names_its_capacity_cause(cause: CapacityShortCause) -> None:
    assert CapacityShortCause.of_finding(short(cause.value)) is cause


@pytest.mark.parametrize("cause", ["gremlins", "MANUAL_PAYOUTS", 3, None])
def test_an_unknown_or_malformed_cause_is_no_cause(cause: object) -> None:
    assert CapacityShortCause.of_finding(short(cause)) is None


def test_a_finding_without_a_cause_has_none() -> None:
    assert CapacityShortCause.of_finding(Finding.of(RuleCode.NEGATIVE_BALANCE, "cad", 1)) is None


def test_a_finding_takes_its_severity_from_its_rule() -> None:
    finding = Finding.of(RuleCode.PREFUND_USED, "cad", 10, previous=20, prefund=10)
    assert finding.severity is Severity.INFO
    assert finding.details == {"previous": 20, "prefund": 10}


def test_ranks_grow_with_severity() -> None:
    assert [s.rank for s in (Severity.INFO, Severity.WARNING, Severity.CRITICAL,
                             Severity.ERROR)] == [1, 2, 3, 4]


def test_detail_dates_are_dates_or_iso_text() -> None:
    assert detail_date(date(2026, 8, 31)) == date(2026, 8, 31)
    assert detail_date("2026-08-31") == date(2026, 8, 31)
    assert detail_date("31/08/2026") is None
    assert detail_date(20260831) is None


def test_worst_first_then_rule_order_then_currency() -> None:
    info = Finding.of(RuleCode.RESERVE_HELD, "usd", 1)
    warning = Finding.of(RuleCode.PAYOUTS_DISABLED)
    usd = Finding.of(RuleCode.NEGATIVE_BALANCE, "usd", 1)
    cad = Finding.of(RuleCode.NEGATIVE_BALANCE, "cad", 1)
    blocked = Finding.of(RuleCode.REFUND_BLOCKED, "cad", 1, refunds=1)
    assert most_severe_first([info, warning, usd, blocked, cad]) == [
        cad, usd, blocked, warning, info]


def test_an_account_without_findings_is_ok() -> None:
    assert account_status([]) == "ok"


def test_an_account_is_as_bad_as_its_worst_finding() -> None:
    findings = [Finding.of(RuleCode.RESERVE_HELD, "usd", 1),
                Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "cad", 1, cause="manual_payouts"),
                Finding.of(RuleCode.PAYOUTS_DISABLED)]
    assert account_status(findings) == "critical"
    assert account_status(findings[:1]) == "info"
