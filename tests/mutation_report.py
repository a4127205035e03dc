"""Per-module score of a mutmut run over `domain/`, for `make mutation`.

Reads mutmut's results (`mutants/**/*.py.meta`) and prints, for each module of the pure
core, how many of its mutants the tests killed. Survivors judged equivalent (no input the
code can receive tells them from the original) are listed in `mutation_equivalent.txt`
beside this file, each with the line as mutated and the reason: they are shown with their
reason and left out of the score. Every other survivor is printed with its mutated line,
for a test to kill it.

Exits 1 when a module is below the bar, or when an entry of the list no longer matches its
mutant (mutmut numbers a function's mutants in order: an edit renumbers them, and the
entry must be reviewed again).

    python tests/mutation_report.py [MUTANTS_DIR]
"""

from __future__ import annotations

import ast
import difflib
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

BAR = 95.0
PACKAGE = "balance_guard.domain"
DEFAULT_MUTANTS = Path("out/mutation/mutants")
EQUIVALENT_FILE = Path(__file__).with_name("mutation_equivalent.txt")

# mutmut's exit codes (mutmut.stats.status_by_exit_code): a test failed, pytest broke, the
# run timed out, or the process died: the mutant was caught either way.
KILLED_CODES = frozenset({1, 3, 24, -24, 36, 152, 255, -9, -11, 37})
SURVIVED_CODE = 0
NO_TESTS_CODES = frozenset({5, 33})


@dataclass(frozen=True)
class Equivalent:
    name: str
    mutated: str
    why: str


@dataclass
class ModuleScore:
    module: str
    total: int = 0
    killed: int = 0
    no_tests: int = 0
    equivalent: int = 0

    @property
    def survived(self) -> int:
        return self.total - self.killed - self.no_tests - self.equivalent

    @property
    def percent(self) -> float:
        counted = self.total - self.equivalent
        return 100.0 if counted == 0 else 100.0 * self.killed / counted


def load_equivalents(path: Path) -> dict[str, Equivalent]:
    """Entries: the mutant's name on its own line, then indented `mutated:` and `why:`
    (a longer reason goes on over further indented lines)."""
    entries: dict[str, Equivalent] = {}
    name: str | None = None
    fields: dict[str, str] = {}
    last = "why"

    def close() -> None:
        if name is not None:
            if "mutated" not in fields or "why" not in fields:
                raise SystemExit(f"{path}: {name} needs both `mutated:` and `why:`")
            entries[name] = Equivalent(name, fields["mutated"], fields["why"])

    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if not raw[0].isspace():
            close()
            name, fields = raw.strip(), {}
            continue
        key, colon, value = raw.strip().partition(":")
        if key in {"mutated", "why"} and colon:
            last = key
        elif name is not None and fields:  # an indented line goes on with the last field
            value = raw.strip()
        else:
            raise SystemExit(f"{path}: unexpected line {raw!r}")
        fields[last] = (fields.get(last, "") + " " + value.strip()).strip()
    close()
    return entries


def _functions(source: str) -> dict[str, str]:
    """Every function of a mutated module (methods too), by name, as its source text."""
    tree = ast.parse(source)
    return {
        node.name: ast.get_source_segment(source, node) or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def mutated_line(functions: dict[str, str], mutant: str) -> str:
    """The lines a mutant changes, as mutated (joined with ` / ` when several)."""
    function = mutant.rsplit(".", 1)[1]
    original = function.rsplit("__mutmut_", 1)[0] + "__mutmut_orig"
    if function not in functions or original not in functions:
        return "?"
    before = functions[original].replace(original, "f").splitlines()
    after = functions[function].replace(function, "f").splitlines()
    changed = [line[2:] for line in difflib.ndiff(before, after) if line.startswith("+ ")]
    return " / ".join(_squeeze(line) for line in changed) or "(no change)"


@dataclass
class Findings:
    """What the run says beyond the scores: survivors, equivalents, stale list entries."""

    survivors: list[tuple[str, str, str]]
    judged: list[Equivalent]
    stale: list[str]
    seen: set[str]


def score_module(domain: Path, meta: Path, equivalents: dict[str, Equivalent],
                 found: Findings) -> ModuleScore | None:
    module = meta.name.removesuffix(".py.meta")
    exit_codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
    if not exit_codes:
        return None
    functions = _functions((domain / f"{module}.py").read_text(encoding="utf-8"))
    score = ModuleScore(module, total=len(exit_codes))
    for name, code in sorted(exit_codes.items(), key=lambda item: _natural(item[0])):
        entry = equivalents.get(name)
        if entry is not None:
            found.seen.add(name)
        if code in KILLED_CODES:
            score.killed += 1
            if entry is not None:
                found.stale.append(f"{name}: now killed, drop it from the list")
            continue
        line = mutated_line(functions, name)
        if entry is not None and code == SURVIVED_CODE:
            if _squeeze(entry.mutated) == line:
                score.equivalent += 1
                found.judged.append(entry)
                continue
            found.stale.append(f"{name}: the list says `{entry.mutated}`, the mutant is "
                               f"`{line}`: review the entry")
        if code in NO_TESTS_CODES:
            score.no_tests += 1
        found.survivors.append((name, _status(code), line))
    return score


def main(mutants: Path) -> int:
    domain = mutants / "src" / PACKAGE.replace(".", "/")
    metas = sorted(domain.glob("*.py.meta"))
    if not metas:
        print(f"no mutmut results under {domain}: run `make mutation`", file=sys.stderr)
        return 1
    equivalents = load_equivalents(EQUIVALENT_FILE)
    found = Findings([], [], [], set())
    scores = [score for meta in metas
              if (score := score_module(domain, meta, equivalents, found)) is not None]
    found.stale += [f"{name}: no such mutant" for name in sorted(set(equivalents) - found.seen)]

    _print_table(scores)
    if found.judged:
        print(f"\nSurvivors judged equivalent ({len(found.judged)}), left out of the score:")
        for entry in found.judged:
            print(f"  {entry.name}\n      {entry.mutated}\n      why: {entry.why}")
    if found.survivors:
        print(f"\nSurvivors to kill ({len(found.survivors)}):")
        for name, status, line in found.survivors:
            print(f"  {name} [{status}]\n      {line}")
    if found.stale:
        print(f"\nStale entries in {EQUIVALENT_FILE.name}:")
        for message in found.stale:
            print(f"  {message}")
    below = [s.module for s in scores if s.percent < BAR]
    if below:
        print(f"\nBelow {BAR:.0f} % killed: {', '.join(below)}")
    return 1 if below or found.stale else 0


def _natural(name: str) -> tuple[str, int]:
    base, _, number = name.rpartition("__mutmut_")
    return base, int(number) if number.isdigit() else 0


def _status(code: int | None) -> str:
    if code is None:
        return "not checked"
    if code in NO_TESTS_CODES:
        return "no tests"
    return "survived" if code == SURVIVED_CODE else f"exit {code}"


def _print_table(scores: list[ModuleScore]) -> None:
    header = ("module", "mutants", "killed", "survived", "no tests", "equivalent", "killed %")
    print(f"{header[0]:<17}" + "".join(f"{h:>11}" for h in header[1:]))
    totals: Counter[str] = Counter()
    for s in scores:
        print(f"{s.module:<17}{s.total:>11}{s.killed:>11}{s.survived:>11}{s.no_tests:>11}"
              f"{s.equivalent:>11}{s.percent:>11.1f}")
        totals.update(total=s.total, killed=s.killed, no_tests=s.no_tests,
                      equivalent=s.equivalent)
    whole = ModuleScore("all", totals["total"], totals["killed"], totals["no_tests"],
                        totals["equivalent"])
    print(f"{'all':<17}{whole.total:>11}{whole.killed:>11}{whole.survived:>11}"
          f"{whole.no_tests:>11}{whole.equivalent:>11}{whole.percent:>11.1f}")
    print("killed % = killed / (mutants - equivalent); survivors and mutants no test "
          f"reaches count against it. Bar: {BAR:.0f} % in every module.")


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_MUTANTS))
