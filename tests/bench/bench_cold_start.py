"""Bench 4: cold start (importing a handler module under 0.8 s), and the Lambda layer.

`test_cold_start`: a fresh interpreter (this virtualenv's) imports the `check_account`
Lambda handler when it exists, else what that handler needs (the runner and the account
check). Each run prints the import's own time (`perf_counter` around the import); the whole
process (start, import, exit) is timed too. Medians of five runs after one warm-up run, which
writes the bytecode caches. One more run with `-X importtime` names the heaviest packages.

`test_layer_before_and_after`: the layer as `ContentUri: shared/` shipped it (the whole
`balance_guard`, sandbox and CLI included, every dependency, no bytecode) against the one
`shared/Makefile` builds (runtime packages only, Babel's locale data for en/fr only,
hash-based `.pyc`). Lambda's arm64 wheels do not load here, so the bench builds the layer for
this machine: the same Makefile with this machine's wheels (`PLATFORMS=`), installed once
into out/bench-layer/ from PyPI (or copied from this virtualenv when offline) and reused
while shared/requirements.txt is unchanged. Sizes are the files' own sizes, unzipped. Each
handler (`functions/*/app.py`) is imported in a fresh Python 3.13 (`-S -B`: no
site-packages, nothing written, as from a read-only /opt), its folder then the layer first on
the path as on Lambda: from the layer before (as shipped, no bytecode), and after, with its
bytecode and with the bytecode removed; medians of three runs. Each run also counts the
modules it compiled from source: the same modules before and after, since nothing left out
was ever imported, so the bytecode alone makes the difference in time. When `sam build` has
run, the arm64 layer it built (.aws-sam/build/SharedLayer) is measured too.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # the warm-up run must write the caches
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


# -- the layer, before and after ------------------------------------------------------------

LAYER_NAME = "4 layer"
SHARED = ROOT / "shared"
REQUIREMENTS = SHARED / "requirements.txt"
LAYER_OUT = ROOT / "out" / "bench-layer"
SAM_LAYER = ROOT / ".aws-sam" / "build" / "SharedLayer" / "python"
LAMBDA_PYTHON = "3.13"
LAYER_RUNS = 3
NOT_AT_RUNTIME = ("cli", "sandbox")
# A fresh interpreter, the function's folder then the layer first on the path (Lambda's
# /var/task, then /opt/python); counts the modules compiled from source as it imports.
IMPORT_APP = """
import sys, time
import importlib._bootstrap_external as external
sys.path[:0] = [sys.argv[1], sys.argv[2]]
compiled = []
to_code = external.SourceLoader.source_to_code
def counted(self, data, path, *args, **kwargs):
    compiled.append(path)
    return to_code(self, data, path, *args, **kwargs)
external.SourceLoader.source_to_code = counted
started, cpu = time.perf_counter(), time.process_time()
import app
print(time.perf_counter() - started, time.process_time() - cpu, len(compiled))
"""


@dataclass(frozen=True)
class Interpreter:
    path: str
    version: str  # "3.13"


@dataclass(frozen=True)
class Tree:
    """A layer's python/ folder: its files' own sizes (unzipped), as Lambda counts them."""

    bytes: int
    files: int
    pyc: int
    pyc_bytes: int
    babel_locales: int
    left_out: tuple[str, ...]  # of NOT_AT_RUNTIME, the sub-packages absent

    @classmethod
    def of(cls, site: Path) -> Tree:
        files = [f for f in site.rglob("*") if f.is_file()]
        pyc = [f for f in files if f.suffix == ".pyc"]
        return cls(bytes=sum(f.stat().st_size for f in files), files=len(files),
                   pyc=len(pyc), pyc_bytes=sum(f.stat().st_size for f in pyc),
                   babel_locales=len(list((site / "babel" / "locale-data").glob("*.dat"))),
                   left_out=tuple(n for n in NOT_AT_RUNTIME
                                  if not (site / "balance_guard" / n).exists()))


def _version(python: str) -> str | None:
    try:
        done = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                              capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _lambda_python() -> Interpreter | None:
    """Lambda's Python (3.13): on the PATH, else pyenv's."""
    candidates = [shutil.which(f"python{LAMBDA_PYTHON}")]
    pyenv = subprocess.run(["pyenv", "prefix", LAMBDA_PYTHON], capture_output=True, text=True,
                           check=False) if shutil.which("pyenv") else None
    if pyenv is not None and pyenv.returncode == 0:
        candidates.append(f"{pyenv.stdout.strip()}/bin/python{LAMBDA_PYTHON}")
    for candidate in filter(None, candidates):
        if _version(candidate) == LAMBDA_PYTHON:
            return Interpreter(candidate, LAMBDA_PYTHON)
    return None


def _this_python() -> Interpreter:
    return Interpreter(sys.executable, f"{sys.version_info[0]}.{sys.version_info[1]}")


def _pins() -> list[str]:
    return [m[1] for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines()
            if (m := re.match(r"^([A-Za-z0-9_.-]+)==", line))]


def _copy_this_environment(target: Path) -> None:
    """The pinned distributions as this virtualenv installed them, for an offline bench."""
    for name in _pins():
        for file in importlib.metadata.distribution(name).files or []:
            if "__pycache__" in file.parts or file.parts[0] == "..":
                continue
            source = Path(str(file.locate()))
            if source.is_file():
                (target / file).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / file)


def _dependencies(python: Interpreter) -> tuple[Path, str] | None:
    """shared/requirements.txt installed for this machine, once per requirements and Python."""
    key = hashlib.sha256(REQUIREMENTS.read_bytes() + python.version.encode()).hexdigest()[:12]
    target = LAYER_OUT / f"dependencies-{python.version}-{key}"
    done = LAYER_OUT / f"{target.name}.from"
    if done.exists() and target.is_dir():
        return target, done.read_text(encoding="utf-8")
    for stale in LAYER_OUT.glob("dependencies-*"):
        if stale.is_dir():
            shutil.rmtree(stale)
        else:
            stale.unlink()
    pip = subprocess.run([python.path, "-m", "pip", "install", "--quiet", "--no-compile",
                          "--disable-pip-version-check", "--target", str(target),
                          "-r", str(REQUIREMENTS)],
                         capture_output=True, text=True, timeout=600, check=False)
    if pip.returncode == 0:
        source = "PyPI (this machine's wheels)"
    elif python.path == sys.executable:
        shutil.rmtree(target, ignore_errors=True)
        _copy_this_environment(target)
        source = "this virtualenv (pip could not install: offline?)"
    else:
        shutil.rmtree(target, ignore_errors=True)
        return None
    done.write_text(source, encoding="utf-8")
    return target, source


def _strip_bytecode(site: Path) -> None:
    for cache in [d for d in site.rglob("__pycache__") if d.is_dir()]:
        shutil.rmtree(cache)


def _before(dependencies: Path, into: Path) -> Path:
    """What `ContentUri: shared/` with `BuildMethod: python3.13` shipped: every dependency
    and the whole package, no bytecode."""
    site = into / "python"
    shutil.rmtree(into, ignore_errors=True)
    shutil.copytree(dependencies, site)
    shutil.copytree(SHARED / "balance_guard", site / "balance_guard",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return site


def _after(python: Interpreter, dependencies: Path, into: Path) -> Path:
    """shared/Makefile's build-SharedLayer, with this machine's wheels."""
    shutil.rmtree(into, ignore_errors=True)
    subprocess.run(["make", "--no-print-directory", "-s", "-C", str(SHARED), "build-SharedLayer",
                    f"ARTIFACTS_DIR={into}", f"PYTHON={python.path}",
                    f"PYTHON_VERSION={python.version}", "PLATFORMS=",
                    f"DEPS_FROM={dependencies}"],
                   capture_output=True, text=True, check=True, timeout=600)
    return into / "python"


def _handlers() -> list[str]:
    return sorted(app.parent.name for app in (ROOT / "functions").glob("*/app.py"))


def _cold_imports(python: Interpreter, site: Path, handler: str) -> dict[str, Any]:
    """Import times of `app` in fresh interpreters (-S: no site-packages; -B: nothing
    written, as on a read-only /opt), wall and CPU, and how many modules each compiled from
    source."""
    folder = ROOT / "functions" / handler
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["AWS_DEFAULT_REGION"] = os.environ.get("AWS_DEFAULT_REGION", "ca-central-1")
    walls, cpus, compiled = [], [], 0
    for _ in range(LAYER_RUNS):
        done = subprocess.run([python.path, "-S", "-B", "-c", IMPORT_APP, str(folder), str(site)],
                              cwd=folder, env=env, capture_output=True, text=True, timeout=120,
                              check=False)
        assert done.returncode == 0, f"{handler} does not import from {site}:\n{done.stderr}"
        wall, cpu, count = done.stdout.split()[-3:]
        walls.append(float(wall))
        cpus.append(float(cpu))
        compiled = int(count)
    return {"cpu_median_s": statistics.median(cpus), "wall_median_s": statistics.median(walls),
            "cpu_runs_s": cpus, "wall_runs_s": walls, "modules_compiled": compiled}


def _timed(python: Interpreter, site: Path) -> dict[str, dict[str, Any]]:
    return {handler: _cold_imports(python, site, handler) for handler in _handlers()}


class _Phases:
    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = now - self._last
        self._last = now


def _mb(size: int) -> float:
    return size / 1e6


def test_layer_before_and_after(bench: BenchLog) -> None:
    clock = _Phases()
    python = _lambda_python() or _this_python()
    found = _dependencies(python)
    if found is None:  # Python 3.13 without PyPI: this virtualenv's Python and packages
        python = _this_python()
        found = _dependencies(python)
    assert found is not None
    dependencies, installed_from = found
    clock.lap("dependencies")
    before_site = _before(dependencies, LAYER_OUT / "before")
    after_site = _after(python, dependencies, LAYER_OUT / "after")
    before, after = Tree.of(before_site), Tree.of(after_site)
    clock.lap("build")

    timings = {"before, no .pyc (as shipped)": _timed(python, before_site),
               "after, with .pyc": _timed(python, after_site)}
    _strip_bytecode(after_site)
    timings["after, no .pyc"] = _timed(python, after_site)
    shutil.rmtree(LAYER_OUT / "before")
    shutil.rmtree(LAYER_OUT / "after")
    clock.lap("imports")

    bench.title(LAYER_NAME, f"the layer built for this machine; each handler imported by "
                f"Python {python.version} (-S -B), wall time, median of {LAYER_RUNS}")
    bench.row(LAYER_NAME, "size before: whole package + dependencies, no .pyc",
              _mb(before.bytes), "MB")
    bench.row(LAYER_NAME, "size after: runtime only, Babel en/fr, with .pyc", _mb(after.bytes),
              "MB", "< before", after.bytes < before.bytes)
    bench.row(LAYER_NAME, "  of which .pyc", _mb(after.pyc_bytes), "MB")
    bench.row(LAYER_NAME, ".pyc files before / after", f"{before.pyc} / {after.pyc}")
    bench.row(LAYER_NAME, "Babel locales before / after",
              f"{before.babel_locales} / {after.babel_locales}")
    bench.row(LAYER_NAME, "left out after", ", ".join(after.left_out) or "nothing",
              "", "cli, sandbox", after.left_out == NOT_AT_RUNTIME)
    compiled = {case: max(t["modules_compiled"] for t in by_handler.values())
                for case, by_handler in timings.items()}
    bench.row(LAYER_NAME, "modules compiled at a cold import: before / after",
              f"{compiled['before, no .pyc (as shipped)']} / {compiled['after, with .pyc']}")
    for handler in _handlers():
        for case, by_handler in timings.items():
            seconds = by_handler[handler]["wall_median_s"]
            if case == "after, with .pyc":
                bench.row(LAYER_NAME, f"import {handler}: {case}", seconds, "s",
                          f"< {BAR_S:g} s", seconds < BAR_S)
            else:
                bench.row(LAYER_NAME, f"import {handler}: {case}", seconds, "s")
    load = _load_average()
    if load is not None:
        bench.row(LAYER_NAME, "load average (1 min) after the imports", load[0])
    arm64 = _sam_layer()
    if arm64 is not None:
        bench.row(LAYER_NAME, "sam build's arm64 layer: size", _mb(arm64["tree"].bytes), "MB")
        bench.row(LAYER_NAME, "sam build's arm64 layer: .pyc files", arm64["tree"].pyc)
        bench.row(LAYER_NAME, "sam build's arm64 layer: left out",
                  ", ".join(arm64["tree"].left_out) or "nothing", "", "cli, sandbox",
                  arm64["tree"].left_out == NOT_AT_RUNTIME)
    bench.detail(LAYER_NAME, python=python.path, python_version=python.version,
                 dependencies_from=installed_from, runs=LAYER_RUNS,
                 before=vars(before), after=vars(after), cold_import=timings,
                 sam_arm64_layer=None if arm64 is None else {
                     **vars(arm64["tree"]), "built_at": arm64["built_at"]},
                 phases_s=clock.laps, load_average=load)

    assert after.bytes < before.bytes
    assert after.pyc > 0
    assert after.left_out == NOT_AT_RUNTIME
    with_pyc = sum(t["wall_median_s"] for t in timings["after, with .pyc"].values())
    without = sum(t["wall_median_s"] for t in timings["after, no .pyc"].values())
    assert with_pyc < without, "the layer's bytecode is not used"


def _load_average() -> tuple[float, ...] | None:
    """How busy the machine was (1, 5 and 15 minutes): the wall times depend on it."""
    return os.getloadavg() if hasattr(os, "getloadavg") else None


def _sam_layer() -> dict[str, Any] | None:
    """The arm64 layer of the last `sam build`, when there is one (.aws-sam/ stays local)."""
    if not SAM_LAYER.is_dir():
        return None
    built = datetime.fromtimestamp(SAM_LAYER.stat().st_mtime, UTC)
    return {"tree": Tree.of(SAM_LAYER), "built_at": built.isoformat(timespec="seconds")}
