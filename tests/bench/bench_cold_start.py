"""Bench 4: cold start (SPEC §14: importing a handler module under 0.8 s).

A fresh interpreter imports the `check_account` Lambda handler when it exists, else what
that handler needs (the runner and the account check); the median of five runs after one
warm-up (which writes the bytecode caches, as a Lambda package ships them). One more run
with `-X importtime` names the heaviest imports.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tests.bench.support import BenchLog

ROOT = Path(__file__).resolve().parents[2]
HANDLER = ROOT / "functions" / "check_account" / "app.py"
BAR_S = 0.8
RUNS = 5
NAME = "4 cold start"


def _target() -> str:
    if HANDLER.exists():
        return "import functions.check_account.app"
    return "import balance_guard.runner, balance_guard.account_check"


def _run(code: str, *flags: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "ca-central-1")}
    return subprocess.run([sys.executable, *flags, "-c", code], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True, timeout=60)


def _heaviest(importtime: str, count: int = 5) -> list[tuple[str, float]]:
    """Packages (not their submodules) by cumulative import time, from `-X importtime`."""
    found: list[tuple[str, float]] = []
    for line in importtime.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if not line.startswith("import time:") or len(parts) != 3:
            continue
        cumulative, name = parts[1].strip(), parts[2].strip()
        if cumulative.isdigit() and "." not in name:
            found.append((name, int(cumulative) / 1e6))
    return sorted(found, key=lambda item: -item[1])[:count]


def test_cold_start(bench: BenchLog) -> None:
    code = _target()
    _run("pass")
    _run(code)  # warm-up: bytecode caches
    empty, timings = [], []
    for _ in range(RUNS):
        started = time.perf_counter()
        _run("pass")
        empty.append(time.perf_counter() - started)
        started = time.perf_counter()
        _run(code)
        timings.append(time.perf_counter() - started)
    median = statistics.median(timings)
    interpreter = statistics.median(empty)
    heaviest = _heaviest(_run(code, "-X", "importtime").stderr)
    bench.title(NAME, f"python -c {code!r}, median of {RUNS}")
    bench.row(NAME, "interpreter + imports", median, "s", f"< {BAR_S:g} s", median < BAR_S)
    bench.row(NAME, "of which the bare interpreter", interpreter, "s")
    for name, seconds in heaviest[:3]:
        bench.row(NAME, f"  package {name} (cumulative)", seconds, "s")
    bench.detail(NAME, command=code, handler_exists=HANDLER.exists(), runs_s=timings,
                 median_s=median, interpreter_s=interpreter, heaviest=heaviest)
    assert median < BAR_S * 3, "far past the cold-start bar"
