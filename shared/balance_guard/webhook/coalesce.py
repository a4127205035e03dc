"""Events of one account within a window become one re-check of it.

The window opens with the account's first event and closes `window_s` later; every event
of that account meanwhile joins the re-check already waiting (a burst of a hundred
`balance.available` costs one check). An event arriving once the re-check has started
opens the next window: that check may have read Stripe before the change.

`Coalescer` is the local, in-memory implementation of `RecheckSink`, with its clock
injected. On AWS the same decision is a conditional put per account (the window's end as
its condition) and an SQS message delayed by the window onto the check queue.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

from balance_guard.config import ConfigError
from balance_guard.domain.findings import RuleCode
from balance_guard.webhook.events import Trigger

COALESCE_ENV = "BALANCE_GUARD_COALESCE_SECONDS"
DEFAULT_COALESCE_S = 60.0
MAX_COALESCE_S = 900.0  # SQS delays a message at most 15 minutes: the same bound locally
MAX_WAITING_ACCOUNTS = 10_000


class CoalesceSettingError(ConfigError, ValueError):
    """BALANCE_GUARD_COALESCE_SECONDS is not a usable number of seconds."""


class SinkFullError(Exception):
    """Too many accounts wait for a re-check: the event is refused, Stripe sends it again."""


def coalesce_seconds(env: Mapping[str, str] | None = None) -> float:
    """BALANCE_GUARD_COALESCE_SECONDS (0 to MAX_COALESCE_S), else 60. Raises
    CoalesceSettingError."""
    env = os.environ if env is None else env
    text = env.get(COALESCE_ENV, "").strip()
    if not text:
        return DEFAULT_COALESCE_S
    try:
        value = float(text)
    except ValueError:
        raise CoalesceSettingError(
            f"{COALESCE_ENV} must be a number of seconds (got {text[:20]!r})") from None
    if not (math.isfinite(value) and 0 <= value <= MAX_COALESCE_S):
        raise CoalesceSettingError(
            f"{COALESCE_ENV} must be between 0 and {MAX_COALESCE_S:g} seconds "
            f"(got {text[:20]!r})")
    return value


class RecheckSink(Protocol):
    def add(self, trigger: Trigger) -> bool:
        """Ask for a re-check of the trigger's account: True when this opened a window,
        False when it joined one already waiting. Raises SinkFullError."""
        ...


@dataclass(frozen=True)
class Pending:
    """One account's re-check waiting for its window to close."""

    account: str
    due_at: float
    events: int = 1
    rules: frozenset[RuleCode] = frozenset()
    event_types: tuple[str, ...] = ()
    event_ids: tuple[str, ...] = field(default=(), repr=False)  # the first few, for logs


_IDS_KEPT = 5


class Coalescer:
    """`RecheckSink` in memory; thread-safe. `take_due` hands over the closed windows."""

    def __init__(self, window_s: float, *, clock: Callable[[], float] = time.monotonic,
                 max_accounts: int = MAX_WAITING_ACCOUNTS) -> None:
        self.window_s = window_s
        self.clock = clock
        self._max = max_accounts
        self._waiting: dict[str, Pending] = {}
        self._changed = threading.Condition()

    def add(self, trigger: Trigger) -> bool:
        with self._changed:
            known = self._waiting.get(trigger.account)
            if known is not None:
                self._waiting[trigger.account] = replace(
                    known, events=known.events + 1, rules=known.rules | set(trigger.rules),
                    event_types=_with(known.event_types, trigger.event_type),
                    event_ids=(*known.event_ids, trigger.event_id)[:_IDS_KEPT])
                return False
            if len(self._waiting) >= self._max:
                raise SinkFullError(f"{len(self._waiting)} accounts already wait for a re-check")
            self._waiting[trigger.account] = Pending(
                trigger.account, self.clock() + self.window_s, 1, frozenset(trigger.rules),
                (trigger.event_type,), (trigger.event_id,))
            self._changed.notify_all()
            return True

    def take_due(self) -> list[Pending]:
        """The re-checks whose window has closed, first due first; they leave the sink."""
        now = self.clock()
        with self._changed:
            due = sorted((p for p in self._waiting.values() if p.due_at <= now),
                         key=lambda p: p.due_at)
            for pending in due:
                del self._waiting[pending.account]
        return due

    def wait(self, timeout: float) -> None:
        """Block until a window may have closed, an account was added, or `timeout`."""
        with self._changed:
            soonest = min((p.due_at for p in self._waiting.values()), default=None)
            if soonest is not None:
                timeout = min(timeout, max(0.0, soonest - self.clock()))
            if timeout > 0:
                self._changed.wait(timeout)

    def wake(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def drain(self) -> list[Pending]:
        """Every waiting re-check, due or not (at shutdown, to say what was left)."""
        with self._changed:
            left = list(self._waiting.values())
            self._waiting.clear()
        return left

    def __len__(self) -> int:
        with self._changed:
            return len(self._waiting)


def _with(types: tuple[str, ...], kind: str) -> tuple[str, ...]:
    return types if kind in types else (*types, kind)
