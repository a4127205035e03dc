"""Check what `sam build` built as a deployment would ship it (`make deploy-check`).

    python infra/deploy_check.py --build-dir .aws-sam/build --python python3.13 \
        [--import-layer DIR] [--budget-mb 97] [--bench out/bench.json]

Reads the built template (`<build-dir>/template.yaml`) and checks:

- **the layer's size**: the files under `SharedLayer/` (unzipped, as Lambda counts them)
  under `--budget-mb`;
- **bytecode**: every `.py` of the layer has its `__pycache__/*.cpython-313.pyc` (Python
  3.13's), since /opt is read-only and a cold start would otherwise compile each module;
- **every handler imports**: each function of the built template (its `CodeUri` folder and
  `Handler`) is imported by a fresh `--python` (`-S -B`: no site-packages, nothing written,
  as from a read-only /opt), with the function's folder then the layer first on the path,
  as on Lambda, and its handler is callable. The import's own time (`perf_counter` around
  it) is its cold import time: the median of `--runs` fresh interpreters, and the first.

The arm64 layer's compiled extensions (pydantic-core, PyYAML...) do not load on another
machine: there, `--import-layer` names a copy of the same layer built for this machine
(shared/Makefile with `PLATFORMS=`), used for the imports and their times only; size and
bytecode are checked on the arm64 build. The figures are merged into `--bench` (the JSON
`make bench` writes) under the key "deploy_check". Exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

LAYER = "SharedLayer"
BYTECODE_TAG = "cpython-313"
IMPORT = """
import sys, time
sys.path[:0] = [sys.argv[1], sys.argv[2]]
module, name = sys.argv[3].rsplit(".", 1)
started = time.perf_counter()
handler = getattr(__import__(module), name)
took = time.perf_counter() - started
assert callable(handler), sys.argv[3]
print(took)
"""


class _Tagged(yaml.SafeLoader):
    """A YAML loader that reads CloudFormation's short forms (!Ref, !GetAtt...) as plain
    values: only the functions' folders and handlers are needed."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]


_Tagged.add_multi_constructor("!", _any_tag)


def built_functions(build_dir: Path) -> dict[str, tuple[Path, str]]:
    """Each function of the built template: its built folder and its handler."""
    template = yaml.load((build_dir / "template.yaml").read_text(encoding="utf-8"),
                         Loader=_Tagged)  # noqa: S506 - a SafeLoader subclass
    found: dict[str, tuple[Path, str]] = {}
    for name, item in template.get("Resources", {}).items():
        if item.get("Type") == "AWS::Serverless::Function":
            properties = item["Properties"]
            found[name] = (build_dir / str(properties["CodeUri"]), str(properties["Handler"]))
    return found


def layer_size(layer: Path) -> int:
    return sum(p.stat().st_size for p in layer.rglob("*") if p.is_file() and not p.is_symlink())


def missing_bytecode(site: Path) -> tuple[int, list[str]]:
    """How many .py the layer holds, and those without Python 3.13 bytecode."""
    sources = sorted(site.rglob("*.py"))
    missing = [str(p.relative_to(site)) for p in sources
               if not (p.parent / "__pycache__" / f"{p.stem}.{BYTECODE_TAG}.pyc").is_file()]
    return len(sources), missing


def foreign_extensions(site: Path) -> list[Path]:
    """Compiled extensions built for another machine than this one."""
    machine = platform.machine().lower()
    aliases = {"x86_64": {"x86_64", "amd64"}, "aarch64": {"aarch64", "arm64"},
               "arm64": {"aarch64", "arm64"}}.get(machine, {machine})
    found = []
    for extension in site.rglob("*.so"):
        parts = extension.name.split(".")
        tag = parts[-2] if len(parts) >= 3 else ""
        if "linux" in tag and not any(alias in tag for alias in aliases):
            found.append(extension)
    return found


def import_times(python: str, folder: Path, site: Path, handler: str, runs: int,
                 ) -> list[float]:
    env = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8",
           "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "ca-central-1"),
           "AWS_REGION": os.environ.get("AWS_DEFAULT_REGION", "ca-central-1"),
           "POWERTOOLS_SERVICE_NAME": "balance-guard",
           "POWERTOOLS_METRICS_NAMESPACE": "BalanceGuard"}
    times = []
    for _ in range(runs):
        done = subprocess.run(  # noqa: S603 - the Python 3.13 make deploy-check found
            [python, "-S", "-B", "-c", IMPORT, str(folder), str(site), handler],
            cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise ImportError(done.stderr.strip().splitlines()[-1] if done.stderr.strip()
                              else f"exit {done.returncode}")
        times.append(float(done.stdout.strip().splitlines()[-1]))
    return times


def python_version(python: str) -> str:
    done = subprocess.run(  # noqa: S603 - the Python 3.13 make deploy-check found
        [python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
        capture_output=True, text=True, timeout=30, check=True)
    return done.stdout.strip()


def merge_bench(path: Path, figures: dict[str, Any]) -> None:
    """Adds (or replaces) the "deploy_check" key of the bench JSON, keeping the rest."""
    payload: dict[str, Any] = {}
    if path.is_file():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            loaded = None
        if isinstance(loaded, dict):
            payload = loaded
    payload["deploy_check"] = figures
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


def check(build_dir: Path, python: str, budget_mb: float, import_layer: Path | None,
          bench: Path | None, runs: int) -> int:
    problems: list[str] = []
    layer = build_dir / LAYER
    site = layer / "python"
    if not site.is_dir():
        print(f"deploy-check: {site} is missing: run sam build first", file=sys.stderr)
        return 1

    size = layer_size(layer)
    budget = int(budget_mb * 1_000_000)
    print(f"layer size: {size / 1e6:.1f} MB unzipped (budget {budget_mb:g} MB)")
    if size > budget:
        problems.append(f"the layer is {size / 1e6:.1f} MB, over its {budget_mb:g} MB budget")

    sources, missing = missing_bytecode(site)
    compiled = sum(1 for _ in site.rglob(f"*.{BYTECODE_TAG}.pyc"))
    print(f"bytecode: {compiled} .pyc for {sources} .py ({len(missing)} without)")
    if not sources or missing:
        problems.append("modules without Python 3.13 bytecode: "
                        + (", ".join(missing[:10]) or "(the layer has no module)")
                        + (f" and {len(missing) - 10} more" if len(missing) > 10 else ""))

    imported_from = site
    foreign = foreign_extensions(site)
    if foreign:
        if import_layer is None:
            problems.append(f"the layer's extensions are for another machine ({foreign[0].name}) "
                            "and no --import-layer was given: the imports were not checked")
            imported_from = None  # type: ignore[assignment]
        else:
            imported_from = import_layer
            print(f"imports: from {import_layer} (this machine's build of the same layer: "
                  f"the arm64 extensions do not load on {platform.machine()})")
    functions = built_functions(build_dir)
    if not functions:
        problems.append("the built template has no function")
    handlers: dict[str, Any] = {}
    if imported_from is not None:
        for name, (folder, handler) in sorted(functions.items()):
            try:
                times = import_times(python, folder, imported_from, handler, runs)
            except ImportError as error:
                problems.append(f"{name}: {handler} does not import: {error}")
                continue
            handlers[name] = {"handler": f"{folder.name}/{handler}",
                              "cold_import_s": round(statistics.median(times), 3),
                              "first_s": round(times[0], 3), "runs": len(times)}
            print(f"  {name}: {handler} imports in {statistics.median(times):.2f} s "
                  f"(median of {len(times)}; first {times[0]:.2f} s)")

    figures = {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": platform.machine(),
        "python": python_version(python),
        "layer_bytes": size,
        "layer_budget_bytes": budget,
        "layer_py_files": sources,
        "layer_pyc_files": compiled,
        "imports_from": "this machine's build of the layer" if imported_from == import_layer
        and foreign else "the built layer",
        "handlers": handlers,
        "passed": not problems,
        "problems": problems,
    }
    if bench is not None:
        merge_bench(bench, figures)
        print(f"figures: {bench} (key deploy_check)")
    for problem in problems:
        print(f"deploy-check: {problem}", file=sys.stderr)
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", type=Path, default=Path(".aws-sam/build"))
    parser.add_argument("--python", default="python3.13",
                        help="the Python 3.13 that imports the handlers")
    parser.add_argument("--budget-mb", type=float, default=97.0,
                        help="the layer's unzipped size budget, in MB")
    parser.add_argument("--import-layer", type=Path,
                        help="a build of the layer for this machine, for the imports")
    parser.add_argument("--bench", type=Path, help="the bench JSON to merge the figures into")
    parser.add_argument("--runs", type=int, default=3, help="fresh interpreters per handler")
    args = parser.parse_args(argv)
    return check(args.build_dir, args.python, args.budget_mb, args.import_layer, args.bench,
                 args.runs)


if __name__ == "__main__":
    sys.exit(main())
