"""Synthetic platforms for the benchmarks (`make bench`): N buildings, realistic charges.

Everything is drawn from a seeded generator, so one (seed, size) always gives the same
platform. Each building is an Express account of a property-management platform:

- rent from each of its units once a month, most of it on the 1st and the rest trickling
  in over the following days (never 100 or more charges on one day);
- a few small charges most days (laundry, parking, party room, move-in fees);
- a few failed and partly refunded payments, refunds a few days after their charge, and on
  some buildings a refund blocked for lack of funds;
- a minimum balance on most accounts, prefunding on some, daily / weekly / monthly /
  manual payouts, and on a few buildings a fixed or a rolling reserve, with one hold per
  charge as Stripe makes them (the sandbox keeps listing released holds).

Charges run from `history_days` before the first night to the last night; the sandbox
reveals each night's new ones as its clock moves on.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from balance_guard.sandbox.scenario import Scenario

FIRST_NIGHT = date(2026, 8, 3)
PLATFORM_ID = "acct_benchplatform"
MAX_CHARGES_A_DAY = 99  # the steady-state bar is for accounts under 100 new charges a day

_STREETS = (
    "Saint-Denis", "Sherbrooke", "Laurier", "Queen", "King", "Bloor", "Maple", "Cedar",
    "Fleury", "Beaubien", "Jarry", "Bank", "Elgin", "Robson", "Granville", "Main",
)
_KINDS = ("Tower", "Lofts", "Residences", "Court", "Place", "Manor", "Gardens", "Terrace")
# (description, amount in minor units, weight): what residents pay for besides rent.
_EXTRAS = (
    ("Laundry card top-up", 2_000, 30), ("Parking", 7_500, 20), ("Storage locker", 3_500, 10),
    ("Party room booking", 15_000, 8), ("Guest suite", 9_500, 6), ("Key fob", 4_000, 6),
    ("Move-in fee", 30_000, 4), ("Pet fee", 25_000, 3),
)
# Share of a month's rent paid on the n-th day of the month.
_RENT_DAYS = ((1, 0.55), (2, 0.2), (3, 0.1), (4, 0.05), (5, 0.05), (8, 0.03), (12, 0.02))


@dataclass(frozen=True)
class BenchPlatform:
    scenario: Scenario
    nights: tuple[date, ...]  # the run dates the benchmark plays, in order

    @property
    def account_ids(self) -> list[str]:
        return [a.id for a in self.scenario.accounts]

    @property
    def secret_key(self) -> str:
        return self.scenario.platform.secret_key


def _at(day: date, hour: int, minute: int = 0) -> str:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC).isoformat()


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


class _Building:
    """One building's scenario entry, drawn from its own generator."""

    def __init__(self, index: int, seed: int, first: date, last: date,
                 reserve_share: float) -> None:
        self.rng = random.Random(f"balance-guard-bench:{seed}:{index}")
        self.index = index
        self.first, self.last = first, last
        rng = self.rng
        draw = rng.random()
        self.reserve = "" if draw >= reserve_share else (
            "fixed" if draw < reserve_share / 2 else "rolling")
        self.id = f"acct_bench{index:05d}"
        self.us = rng.random() < 0.1
        self.currency = "usd" if self.us else "cad"
        self.units = rng.randint(8, 64)
        self.rent = rng.randrange(95_000, 260_000, 500)
        self.charges: list[dict[str, Any]] = []
        self.refunds: list[dict[str, Any]] = []

    def _charge(self, day: date, amount: int, hour: int, **extra: Any) -> None:
        self.charges.append({"amount": amount, "currency": self.currency,
                             "created": _at(day, hour, self.rng.randrange(60)), **extra})

    def _rent(self, day: date) -> None:
        share = dict(_RENT_DAYS).get(day.day)
        if share is None:
            return
        payers = min(MAX_CHARGES_A_DAY - 10, max(1, round(self.units * share)))
        # Three unit sizes, each paid in a run of copies a few minutes apart.
        sizes = (0.8, 1.0, 1.35)
        for size, count in zip(sizes, _split(payers, 3, self.rng), strict=True):
            if count:
                self._charge(day, int(self.rent * size) // 100 * 100, 22, count=count,
                             every_minutes=7, description="Rent payment")
        if self.rng.random() < 0.15:
            self._charge(day, self.rent, 15, status="failed", description="Rent payment")

    def _extras(self, day: date) -> None:
        rng = self.rng
        for _ in range(rng.choices((0, 1, 2, 3), (40, 32, 18, 10))[0]):
            label, amount, _weight = rng.choices(_EXTRAS, [e[2] for e in _EXTRAS])[0]
            self._charge(day, amount, rng.randint(11, 21), description=label)

    def _refunded_payment(self, day: date, number: int) -> None:
        """A payment partly refunded a few days later (the refund shows from that day)."""
        charge_id = f"ch_bench{self.index:05d}r{number:03d}"
        amount = self.rent
        refunded = self.rng.randrange(10_000, amount // 2, 100)
        self._charge(day, amount, 14, id=charge_id, amount_refunded=refunded,
                     description="Rent payment")
        when = day + timedelta(days=self.rng.randint(1, 6))
        self.refunds.append({"charge": charge_id, "amount": refunded,
                             "currency": self.currency, "created": _at(when, 16)})

    def _blocked_refund(self) -> None:
        charge_id = f"ch_bench{self.index:05d}blocked"
        day = self.first + timedelta(days=self.rng.randint(0, 20))
        self._charge(day, self.rent, 13, id=charge_id, description="Rent payment")
        self.refunds.append({
            "charge": charge_id, "amount": self.rent, "currency": self.currency,
            "status": "pending", "pending_reason": "insufficient_funds",
            "created": _at(self.last - timedelta(days=self.rng.randint(4, 15)), 17),
        })

    def _reserves(self, kind: str) -> dict[str, Any]:
        """A fixed or a rolling reserve: one hold per charge since the plan began, as Stripe
        holds a share of each new payment; a fixed reserve also took part of the balance."""
        if not kind:
            return {}
        plan_id = f"resplan_bench{self.index:05d}{kind[0]}"
        since = self.first + timedelta(days=self.rng.randint(0, 45))
        percent = self.rng.choice((5, 10))
        holds: list[dict[str, Any]] = [
            {"amount": max(1, charge["amount"] * percent // 100), "currency": self.currency,
             "reserve_plan": plan_id, "source_charge": charge["id"]}
            for charge in self.charges
            if charge.get("status") != "failed"
            and datetime.fromisoformat(charge["created"]).date() >= since
        ]
        if kind == "fixed":
            release = self.last + timedelta(days=self.rng.randint(-20, 40))
            holds.append({"amount": self.rent * 2, "currency": self.currency,
                          "reason": "standalone", "created": _at(since, 9),
                          "release_after": _at(release, 0)})
            plan: dict[str, Any] = {"id": plan_id, "type": "fixed_release", "percent": percent,
                                    "fixed_release": {"release_after": _at(release, 0)}}
        else:
            plan = {"id": plan_id, "type": "rolling_release", "percent": percent,
                    "rolling_release": {"days_after_charge": self.rng.choice((30, 60, 90))}}
        return {"reserve_plans": [plan], "reserve_holds": holds}

    def build(self, nights: tuple[date, ...]) -> dict[str, Any]:
        rng = self.rng
        refunded = 0
        for day in _days(self.first, self.last):
            self._rent(day)
            self._extras(day)
            if rng.random() < 0.05:
                refunded += 1
                self._refunded_payment(day, refunded)
        if rng.random() < 0.04:
            self._blocked_refund()
        reserve = self.reserve
        if reserve:
            self._name_every_charge()
        schedule = rng.choices(
            ({"interval": "daily"}, {"interval": "weekly", "weekly_payout_days": ["friday"]},
             {"interval": "monthly", "monthly_payout_days": [1]}, {"interval": "manual"}),
            (60, 25, 10, 5))[0]
        settings: Any = rng.choices(
            ({"minimum_balance_by_currency": {self.currency: self.rent * rng.randint(1, 3)}},
             {"minimum_balance_by_currency": None}, "unavailable"),
            (70, 25, 5))[0]
        available = rng.randrange(-20_000, self.rent * 4, 100)
        prefund = rng.randrange(0, self.rent * 2, 100) if rng.random() < 0.3 else 0
        history = {
            night.isoformat(): {"available": {
                self.currency: max(-50_000, available + rng.randrange(-self.rent, self.rent, 100))
            }}
            for night in nights[1:]
        }
        street = _STREETS[self.index % len(_STREETS)]
        kind = _KINDS[(self.index // len(_STREETS)) % len(_KINDS)]
        return {
            "id": self.id,
            "business_name": f"{100 + self.index * 7} {street} {kind}",
            "email": f"admin+{self.id}@buildings.example",
            "country": "US" if self.us else "CA",
            "default_currency": self.currency,
            "metadata": {"balance_guard_locale": rng.choice(("fr", "en", "fr+en"))},
            "payout_schedule": schedule,
            "balance_settings": settings,
            "balances": {"available": {self.currency: available},
                         "pending": {self.currency: rng.randrange(0, self.rent * 3, 100)},
                         "prefunding": {"available": {self.currency: prefund}}},
            "balance_history": history,
            "charges": self.charges,
            "refunds": self.refunds,
            **self._reserves(reserve),
        }

    def _name_every_charge(self) -> None:
        """Give each charge its own id (expanding runs), so holds can point at them."""
        named: list[dict[str, Any]] = []
        for spec in self.charges:
            copies = spec.pop("count", 1)
            every = spec.pop("every_minutes", 60)
            created = datetime.fromisoformat(spec["created"])
            for n in range(copies):
                named.append({**spec, "id": spec.get("id") or
                              f"ch_bench{self.index:05d}n{len(named):05d}",
                              "created": (created - timedelta(minutes=every * n)).isoformat()})
        self.charges = named


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    cuts = sorted(rng.randint(0, total) for _ in range(parts - 1))
    bounds = [0, *cuts, total]
    return [bounds[i + 1] - bounds[i] for i in range(parts)]


def synthetic_platform(
    buildings: int,
    *,
    seed: int = 2026,
    first_night: date = FIRST_NIGHT,
    nights: int = 4,
    history_days: int = 91,
    reserve_share: float = 0.1,
) -> BenchPlatform:
    """`buildings` connected accounts with `history_days` of charges before `first_night`;
    `reserve_share` of them under a reserve (half fixed, half rolling)."""
    if buildings < 1 or nights < 1:
        raise ValueError("a benchmark platform needs at least one building and one night")
    run_dates = tuple(first_night + timedelta(days=n) for n in range(nights))
    first = first_night - timedelta(days=history_days)
    accounts = [
        _Building(index, seed, first, run_dates[-1], reserve_share).build(run_dates)
        for index in range(buildings)
    ]
    scenario = Scenario.model_validate({
        "description": f"benchmark platform: {buildings} buildings, seed {seed}",
        "clock": first_night.isoformat(),
        "platform": {"account_id": PLATFORM_ID, "business_name": "Gestion Banc d'essai",
                     "email": "operations@platform.example"},
        "accounts": accounts,
    })
    return BenchPlatform(scenario, run_dates)


def charges_per_day(platform: BenchPlatform) -> dict[str, float]:
    """The most charges any building has on one day, and the average a day (for the table)."""
    most = 0
    total = 0
    days: set[date] = set()
    for account in platform.scenario.accounts:
        counted: dict[date, int] = {}
        for charge in account.charges:
            for n in range(charge.count):
                day = (charge.created - timedelta(minutes=charge.every_minutes * n)).date()
                counted[day] = counted.get(day, 0) + 1
        most = max(most, *counted.values(), 0)
        total += sum(counted.values())
        days |= counted.keys()
    accounts = len(platform.scenario.accounts)
    return {"max_per_account_day": most,
            "avg_per_account_day": round(total / accounts / max(1, len(days)), 1)}
