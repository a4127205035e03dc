"""The benchmark suite: `make bench` (`pytest -q -s tests/bench`), never part of `make test`.

Benchmarks live in `bench_*.py` files, which pytest's default `python_files`
(`test_*.py`, `*_test.py`) never collects. The hook below collects them only when this
folder (or something inside it) is named on the command line, so a plain `pytest` — or
`pytest tests` — walks past them, while `pytest tests/bench` and
`pytest tests/bench/bench_faults.py::test_…` run them. No marker or `-m` expression is
needed, and a new `bench_*.py` file can never leak into the unit-test run by accident.

Each benchmark records rows with the `bench` fixture; at the end of the session the rows
are printed as one table and written, with each benchmark's details, to `out/bench.json`.
"""

from __future__ import annotations

import json
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.bench.support import BenchLog

BENCH_DIR = Path(__file__).resolve().parent
LOG_KEY = pytest.StashKey[BenchLog]()


def _names_this_folder(config: pytest.Config) -> bool:
    for arg in config.args:
        target = Path(config.invocation_params.dir, arg.split("::", 1)[0]).resolve()
        if target == BENCH_DIR or BENCH_DIR in target.parents:
            return True
    return False


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    if not (file_path.name.startswith("bench_") and file_path.suffix == ".py"):
        return None
    if parent.session.isinitpath(file_path):
        return None  # named on the command line: pytest's own hook collects it already
    if not _names_this_folder(parent.config):
        return None
    module: pytest.Module = pytest.Module.from_parent(parent, path=file_path)
    return module


def pytest_configure(config: pytest.Config) -> None:
    config.stash[LOG_KEY] = BenchLog()


@pytest.fixture
def bench(request: pytest.FixtureRequest) -> BenchLog:
    """Where a benchmark records its table rows and details."""
    return request.config.stash[LOG_KEY]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter,
                            config: pytest.Config) -> None:
    log = config.stash.get(LOG_KEY, None)
    if log is None or not log.rows:
        return
    terminalreporter.write_sep("=", "Balance Guard benchmarks")
    for line in log.table().splitlines():
        terminalreporter.write_line(line)
    tuned = log.details.get("sandbox", {}).get("tuned")
    if tuned:
        terminalreporter.write_line(f"sandbox artefacts removed: {', '.join(tuned)} "
                                    "(BENCH_SANDBOX_AS_IS=1 keeps them)")
    out = Path(config.rootpath, "out", "bench.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "schema": "balance-guard/bench@1",
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(),
                    "cpus": _cpus()},
        "titles": dict(sorted(log.titles.items())),
        "rows": [row.as_json() for row in log.ordered()],
        "details": dict(sorted(log.details.items())),
    }
    # Keys other tools add (`make deploy-check` writes "deploy_check") survive a bench run.
    try:
        kept = {key: value for key, value in json.loads(out.read_text(encoding="utf-8")).items()
                if key not in payload}
    except (OSError, ValueError, AttributeError):
        kept = {}
    out.write_text(json.dumps({**kept, **payload}, indent=2, default=str) + "\n",
                   encoding="utf-8")
    terminalreporter.write_line(f"results: {out.relative_to(config.rootpath)}")


def _cpus() -> int | None:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()



@pytest.fixture(scope="session", autouse=True)
def _sandbox_tuned(request: pytest.FixtureRequest) -> None:
    """See `helpers.tune_sandbox`; only benchmarks ever reach this fixture."""
    import os

    from tests.bench.helpers import tune_sandbox

    as_is = os.environ.get("BENCH_SANDBOX_AS_IS") == "1"
    changed = [] if as_is else tune_sandbox()
    request.config.stash[LOG_KEY].detail("sandbox", tuned=changed, as_is_requested=as_is)
