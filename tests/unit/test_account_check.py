from __future__ import annotations

from datetime import UTC, date, datetime

from balance_guard.account_check import evaluate_account
from balance_guard.domain.findings import RuleCode
from balance_guard.domain.ledger import AccountState
from balance_guard.domain.policy import Policy
from balance_guard.domain.snapshot import AccountSnapshot, PayoutSchedule, ReserveHold

AS_OF = date(2026, 8, 1)


def with_hold(**fields: object) -> AccountSnapshot:
    hold = ReserveHold(id="rh_1", currency="usd", amount=7_267,
                       scheduled_release=datetime(2026, 8, 31, tzinfo=UTC))
    base: dict[str, object] = {
        "account_id": "acct_1", "name": "Bayview", "country": "US", "default_currency": "usd",
        "minimum_balances": {"usd": 0}, "available": {"usd": 0}, "reserve_holds": (hold,),
        "schedule": PayoutSchedule(interval="daily"),
    }
    base.update(fields)
    return AccountSnapshot.model_validate(base)


def test_releases_get_payout_and_arrival_dates_with_automatic_payouts() -> None:
    findings, releases, _ = evaluate_account(with_hold(), AccountState(), AS_OF, Policy())
    [release] = releases
    assert (release.release_date, release.payout_date, release.arrival_date) == (
        date(2026, 8, 31), date(2026, 8, 31), date(2026, 9, 2))
    assert RuleCode.RESERVE_HELD in {f.code for f in findings}


def test_released_funds_have_no_payout_date_while_payouts_are_disabled() -> None:
    _, releases, _ = evaluate_account(with_hold(payouts_enabled=False), AccountState(), AS_OF,
                                      Policy())
    [release] = releases
    assert release.payout_date is None
    assert release.arrival_date is None


def test_releases_already_past_are_not_listed() -> None:
    _, releases, _ = evaluate_account(with_hold(), AccountState(), date(2026, 8, 31), Policy())
    assert releases == []


def test_findings_come_worst_first() -> None:
    snapshot = with_hold(available={"usd": -100})
    findings, _, _ = evaluate_account(snapshot, AccountState(), AS_OF, Policy())
    ranks = [f.severity.rank for f in findings]
    assert ranks == sorted(ranks, reverse=True)
