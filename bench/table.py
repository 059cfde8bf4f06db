"""The results table: one :class:`Row` per measured line, written as JSON (every number) and Markdown.

rows = [Row("model", "ours @ batch 64", "≥ 2000 crops/s", "2412 crops/s", True, "python -m bench.model")]
print(markdown(rows))
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

PASS, FAIL, NO_TARGET = "pass", "FAIL", "-"


@dataclass
class Row:
    """One line of the table. ``passed`` is None where the row has no target (or was not run)."""

    benchmark: str
    name: str
    target: str
    measured: str
    passed: bool | None
    command: str
    data: dict[str, Any] = field(default_factory=dict)

    def verdict(self) -> str:
        return NO_TARGET if self.passed is None else PASS if self.passed else FAIL

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"verdict": self.verdict()}


def not_run(benchmark: str, name: str, target: str, reason: str, command: str) -> Row:
    """A row that says why it was not measured, instead of a number."""
    return Row(benchmark, name, target, f"not run: {reason}", None, command, {"not_run": reason})


def at_least(value: float, target: float) -> bool:
    return value >= target


def cell(text: str) -> str:
    """Markdown-safe table cell: no pipes, no line breaks."""
    return " ".join(str(text).replace("|", "\\|").split())


def markdown(rows: list[Row], title: str | None = None, notes: list[str] | None = None) -> str:
    lines = [f"# {title}", ""] if title else []
    lines += [f"- {note}" for note in notes or []]
    if notes:
        lines.append("")
    lines += ["| benchmark | row | target | measured | pass | command |", "| --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        command = f"`{cell(row.command)}`" if row.command else ""
        cells = [row.benchmark, row.name, row.target, row.measured, row.verdict()]
        lines.append("| " + " | ".join(cell(c) for c in cells) + f" | {command} |")
    return "\n".join(lines) + "\n"


def summary(rows: list[Row]) -> dict[str, int]:
    counts = {PASS: 0, FAIL: 0, NO_TARGET: 0}
    for row in rows:
        counts[row.verdict()] += 1
    return counts
