"""What Stripe holds for each account on a given day: the scenario, materialised.

A view is built once per (account, clock day) and cached: the server's request threads
only read it. Objects created after the end of the clock's day (UTC) are left out, so a
scenario can describe tomorrow's charges and refunds and the sandbox reveals them when its
clock moves on.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from balance_guard.sandbox import objects
from balance_guard.sandbox.ids import LONG_ID, served_until, stable_id, timestamp
from balance_guard.sandbox.objects import ChargeRow, HoldRow, RefundRow
from balance_guard.sandbox.scenario import AccountSpec, ObjectKind, ReservePlanSpec, Scenario
from balance_guard.sandbox.templates import JsonObject, deep_merge

# When a scenario gives no creation date: accounts opened two years before its clock.
DEFAULT_ACCOUNT_AGE = timedelta(days=730)


@dataclass(frozen=True)
class AccountView:
    """Every object one account shows on one day; lists are newest first, like Stripe's."""

    spec: AccountSpec
    account: JsonObject
    balance: JsonObject
    balance_settings: JsonObject | None  # None: this account's settings are unavailable
    charges: list[JsonObject] = field(default_factory=list)
    refunds: list[JsonObject] = field(default_factory=list)
    balance_transactions: list[JsonObject] = field(default_factory=list)
    reserve_holds: list[JsonObject] = field(default_factory=list)
    reserve_plans: dict[str, JsonObject] = field(default_factory=dict)


def _newest_first(items: list[tuple[int, int, JsonObject]]) -> list[JsonObject]:
    """Sort (created, seq, object) newest first; seq keeps ties in a stable order."""
    return [obj for _, _, obj in sorted(items, key=lambda t: (t[0], t[1]), reverse=True)]


def _charge_rows(account: AccountSpec) -> list[ChargeRow]:
    rows: list[ChargeRow] = []
    for index, spec in enumerate(account.charges):
        for copy in range(spec.count):
            rows.append(ChargeRow(
                id=spec.id or stable_id("ch", account.id, "charge", index, copy),
                spec=spec,
                created=spec.created - timedelta(minutes=spec.every_minutes * copy),
                seq=len(rows),
            ))
    return rows


def _plan_created(plan: ReservePlanSpec, holds: list[HoldRow], fallback: datetime) -> datetime:
    if plan.created is not None:
        return plan.created
    return min((h.created for h in holds if h.spec.reserve_plan == plan.id), default=fallback)


def _hold_rows(account: AccountSpec, charges: dict[str, ChargeRow]) -> list[HoldRow]:
    plans = {p.id: p for p in account.reserve_plans}
    rows: list[HoldRow] = []
    for index, spec in enumerate(account.reserve_holds):
        charge_created = charges[spec.source_charge].created if spec.source_charge else None
        created = spec.created or charge_created
        assert created is not None  # the scenario requires created or a source charge
        release_after = spec.release_after
        plan = plans.get(spec.reserve_plan or "")
        if release_after is None and plan is not None:
            # A hold made by a plan releases on the plan's terms.
            if plan.fixed_release is not None:
                release_after = plan.fixed_release.release_after
            elif plan.rolling_release is not None:
                release_after = created + timedelta(days=plan.rolling_release.days_after_charge)
        rows.append(HoldRow(
            id=spec.id or stable_id("reshold", account.id, "hold", index, length=LONG_ID),
            spec=spec, created=created, release_after=release_after, seq=index,
        ))
    return rows


def _transactions(
    account: AccountSpec, charges: list[ChargeRow], refunds: list[RefundRow], now: datetime
) -> list[tuple[int, int, JsonObject]]:
    """Balance transactions of succeeded charges and refunds, and the scenario's extras."""
    found = [objects.charge_transaction(row, account.payout_schedule.delay_days, now)
             for row in charges if row.spec.status == "succeeded"]
    found += [objects.refund_transaction(row, now) for row in refunds
              if row.spec.status == "succeeded"]
    found += [
        objects.extra_transaction(extra.id or stable_id("txn", account.id, "extra", index),
                                  extra, now)
        for index, extra in enumerate(account.balance_transactions) if extra.created < now
    ]
    return [(txn["created"], seq, txn) for seq, txn in enumerate(found)]


def _refunded(account: AccountSpec, row: ChargeRow, now: datetime) -> int:
    """What a charge shows as refunded on the clock's day."""
    so_far = account.refunded_by_refunds(row.id, now) if row.spec.id else None
    return row.spec.amount_refunded if so_far is None else so_far


def build_view(account: AccountSpec, created: datetime, clock: date) -> AccountView:
    now = served_until(clock)
    charge_rows = _charge_rows(account)
    charges_by_id = {row.id: row for row in charge_rows}
    refund_rows = [
        RefundRow(id=spec.id or stable_id("re", account.id, "refund", index), spec=spec,
                  seq=index)
        for index, spec in enumerate(account.refunds) if spec.created < now
    ]
    hold_rows = [h for h in _hold_rows(account, charges_by_id) if h.created < now]
    served_charges = [row for row in charge_rows if row.created < now]

    refunds = [(timestamp(r.spec.created), r.seq, objects.refund_object(r)) for r in refund_rows]
    by_charge: dict[str, list[tuple[int, int, JsonObject]]] = defaultdict(list)
    for item in refunds:
        if item[2]["charge"]:
            by_charge[item[2]["charge"]].append(item)

    transactions = _transactions(account, served_charges, refund_rows, now)
    holds = []
    for hold in hold_rows:
        released = hold.scheduled_release is not None and hold.scheduled_release < now
        holds.append((timestamp(hold.created), hold.seq, objects.hold_object(hold, released)))
        transactions += [(txn["created"], len(transactions) + i, txn) for i, txn in
                         enumerate(objects.hold_transactions(hold, released, now))]

    plans = {}
    for plan in account.reserve_plans:
        plan_created = _plan_created(plan, hold_rows, created)
        if plan_created < now:
            plans[plan.id] = objects.plan_object(plan, plan_created)

    settings = account.balance_settings
    view = AccountView(
        spec=account,
        account=objects.account_object(account, created),
        balance=objects.balance_object(account.balances_on(clock), account.default_currency),
        balance_settings=None if settings == "unavailable" else objects.balance_settings_object(
            settings, account.payout_schedule, objects.timezone_of(account)),
        charges=_newest_first([
            (timestamp(row.created), row.seq,
             objects.charge_object(row, account, _newest_first(by_charge[row.id]),
                                  _refunded(account, row, now)))
            for row in served_charges
        ]),
        refunds=_newest_first(refunds),
        balance_transactions=_newest_first(transactions),
        reserve_holds=_newest_first(holds),
        reserve_plans=plans,
    )
    _apply_overrides(view, account.object_overrides)
    return view


def _apply_overrides(view: AccountView, overrides: dict[ObjectKind, dict[str, object]]) -> None:
    """Write a scenario's deliberate damage into the served objects (bad-input tests)."""
    served: dict[str, list[JsonObject]] = {
        "account": [view.account], "balance": [view.balance],
        "balance_settings": [view.balance_settings] if view.balance_settings else [],
        "charge": view.charges, "refund": view.refunds,
        "balance_transaction": view.balance_transactions, "reserve.hold": view.reserve_holds,
        "reserve.plan": list(view.reserve_plans.values()),
    }
    for kind, overlay in overrides.items():
        for obj in served[kind]:
            deep_merge(obj, overlay)


class World:
    """The scenario's accounts as Stripe shows them on any clock day, built lazily."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self._accounts = {a.id: a for a in scenario.accounts}
        self._views: dict[tuple[str, date], AccountView] = {}
        self._lists: dict[date, list[JsonObject]] = {}
        self._lock = threading.Lock()
        platform = scenario.platform
        self._platform = AccountSpec(
            id=platform.account_id, business_name=platform.business_name,
            email=platform.email, country=platform.country,
            default_currency=platform.default_currency, type="standard",
            balances=platform.balances,
        )

    @property
    def platform_id(self) -> str:
        return self._platform.id

    def _created(self, account: AccountSpec) -> datetime:
        default = served_until(self.scenario.clock) - DEFAULT_ACCOUNT_AGE - timedelta(hours=12)
        return account.created or default

    def spec(self, account_id: str, clock: date) -> AccountSpec | None:
        """The connected account, if it exists by the end of the clock's day."""
        account = self._accounts.get(account_id)
        if account is None or self._created(account) >= served_until(clock):
            return None
        return account

    def view(self, account_id: str | None, clock: date) -> AccountView | None:
        """One account's objects (the platform's for None); None when it does not exist."""
        account = self._platform if account_id in (None, self.platform_id) else self.spec(
            account_id or "", clock)
        if account is None:
            return None
        key = (account.id, clock)
        with self._lock:
            if key not in self._views:
                self._views[key] = build_view(account, self._created(account), clock)
            return self._views[key]

    def connected_accounts(self, clock: date) -> list[JsonObject]:
        """Every connected account existing on that day, newest first."""
        with self._lock:
            if clock not in self._lists:
                now = served_until(clock)
                found = [
                    (timestamp(self._created(a)), index,
                     deep_merge(objects.account_object(a, self._created(a)),
                                a.object_overrides.get("account", {})))
                    for index, a in enumerate(self.scenario.accounts)
                    if self._created(a) < now
                ]
                self._lists[clock] = _newest_first(found)
            return self._lists[clock]
