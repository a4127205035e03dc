"""The benchmark log and its table; standard library only, since conftest imports it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Row:
    bench: str
    metric: str
    value: float | int | str
    unit: str = ""
    target: str = ""
    ok: bool | None = None  # None: informative, no bar

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def shown(self) -> str:
        if isinstance(self.value, float):
            text = f"{self.value:,.3f}" if abs(self.value) < 10 else f"{self.value:,.1f}"
        elif isinstance(self.value, int):
            text = f"{self.value:,}"
        else:
            text = self.value
        return f"{text} {self.unit}".rstrip()


@dataclass
class BenchLog:
    rows: list[Row] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)

    def title(self, bench: str, text: str) -> None:
        """What the benchmark ran on, printed above its rows."""
        self.titles[bench] = text

    def row(self, bench: str, metric: str, value: float | int | str, unit: str = "",
            target: str = "", ok: bool | None = None) -> None:
        self.rows.append(Row(bench, metric, value, unit, target, ok))

    def detail(self, bench: str, **values: Any) -> None:
        self.details.setdefault(bench, {}).update(values)

    def ordered(self) -> list[Row]:
        """Rows grouped by benchmark, in the benchmarks' numbered order."""
        return sorted(self.rows, key=lambda row: row.bench)

    def table(self) -> str:
        rows = self.ordered()
        header = ("metric", "value", "target", "")
        cells = [(r.metric, r.shown(), r.target,
                  "" if r.ok is None else ("PASS" if r.ok else "MISS")) for r in rows]
        widths = [max(len(c[i]) for c in [header, *cells]) for i in range(len(header))]

        def fmt(line: tuple[str, ...]) -> str:
            metric, value, target, verdict = line
            return (f"  {metric.ljust(widths[0])}  {value.rjust(widths[1])}  "
                    f"{target.ljust(widths[2])}  {verdict}").rstrip()

        out = [fmt(header), "  " + "  ".join("-" * w for w in widths)]
        previous = None
        for row, line in zip(rows, cells, strict=True):
            if row.bench != previous:
                title = self.titles.get(row.bench)
                out.append(f"{row.bench}" + (f" — {title}" if title else ""))
                previous = row.bench
            out.append(fmt(line))
        return "\n".join(out)
