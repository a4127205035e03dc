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

    def row(self, bench: str, metric: str, value: float | int | str, unit: str = "",
            target: str = "", ok: bool | None = None) -> None:
        self.rows.append(Row(bench, metric, value, unit, target, ok))

    def detail(self, bench: str, **values: Any) -> None:
        self.details.setdefault(bench, {}).update(values)

    def table(self) -> str:
        header = ("benchmark", "metric", "value", "target", "")
        lines = [(r.bench, r.metric, r.shown(), r.target,
                  "" if r.ok is None else ("PASS" if r.ok else "MISS")) for r in self.rows]
        widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]

        def fmt(cells: tuple[str, ...]) -> str:
            left = [c.ljust(w) for c, w in zip(cells[:2], widths[:2], strict=True)]
            right = [cells[2].rjust(widths[2])]
            rest = [c.ljust(w) for c, w in zip(cells[3:], widths[3:], strict=True)]
            return "  ".join([*left, *right, *rest]).rstrip()

        rule = "  ".join("-" * w for w in widths)
        out, previous = [fmt(header), rule], None
        for row, cells in zip(self.rows, lines, strict=True):
            if previous is not None and row.bench != previous:
                out.append("")
            out.append(fmt(cells if row.bench != previous else ("", *cells[1:])))
            previous = row.bench
        return "\n".join(out)
