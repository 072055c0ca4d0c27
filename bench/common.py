"""Shared measuring helpers: resident memory, percentiles, and the results table."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field


def rss_mb() -> float:
    """Resident memory of this process in MiB (Linux), the figure an operator's host sees."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass
class Row:
    section: str
    measure: str
    hearth: str
    baseline: str = ""
    ratio: str = ""
    target: str = ""
    verdict: str = ""


@dataclass
class Table:
    rows: list[Row] = field(default_factory=list)

    def add(self, *args: str, **kwargs: str) -> None:
        self.rows.append(Row(*args, **kwargs))

    def markdown(self) -> str:
        header = "| section | measure | Hearth | baseline | ratio | target | met |"
        lines = [header, "| --- | --- | --- | --- | --- | --- | --- |"]
        for row in self.rows:
            lines.append(
                f"| {row.section} | {row.measure} | {row.hearth} | {row.baseline} | "
                f"{row.ratio} | {row.target} | {row.verdict} |"
            )
        return "\n".join(lines)


def verdict(ok: bool) -> str:
    return "yes" if ok else "NO"
