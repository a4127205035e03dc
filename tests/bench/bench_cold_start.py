"""Bench 4: cold start (SPEC §14: importing a handler module under 0.8 s).

A fresh interpreter imports the `check_account` Lambda handler when it exists, else what
that handler needs (the runner and the account check). Each run prints the import's own
time (`perf_counter` around the import); the whole process (start, import, exit) is timed
too. Medians of five runs after one warm-up run, which writes the bytecode caches as a
Lambda package ships them. One more run with `-X importtime` names the heaviest packages.
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


def _module() -> str:
    if HANDLER.exists():
        return "functions.check_account.app"
    return "balance_guard.check.runner, balance_guard.check.account"


def _python(code: str, *flags: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ,
           "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "ca-central-1")}
    return subprocess.run([sys.executable, *flags, "-c", code], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True, timeout=60)


def _heaviest(importtime: str, count: int) -> list[tuple[str, float]]:
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
    module = _module()
    timed = ("import time; t = time.perf_counter(); "
             f"import {module}; print(time.perf_counter() - t)")
    _python(timed)  # warm-up: bytecode caches
    imports, processes = [], []
    for _ in range(RUNS):
        started = time.perf_counter()
        imports.append(float(_python(timed).stdout.split()[-1]))
        processes.append(time.perf_counter() - started)
    median = statistics.median(imports)
    heaviest = _heaviest(_python(f"import {module}", "-X", "importtime").stderr, 3)
    bench.title(NAME, f"import {module} in a fresh interpreter, median of {RUNS}")
    bench.row(NAME, "import", median, "s", f"< {BAR_S:g} s", median < BAR_S)
    bench.row(NAME, "whole process (start, import, exit)", statistics.median(processes), "s")
    for name, seconds in heaviest:
        bench.row(NAME, f"  package {name} (cumulative, -X importtime)", seconds, "s")
    bench.detail(NAME, module=module, handler_exists=HANDLER.exists(), import_s=imports,
                 process_s=processes, median_import_s=median, heaviest=heaviest)
    assert median < BAR_S * 3, "far past the cold-start bar"
