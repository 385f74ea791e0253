"""One results table, as aligned text for the terminal or as markdown for docs/benchmarks.md."""

from __future__ import annotations

from dataclasses import dataclass

HEADERS = ("Figure", "Result", "Target")


@dataclass(frozen=True)
class Row:
    """One figure: what was measured, the result, and the target it is held against."""

    figure: str
    result: str
    target: str = ""
    verdict: str = ""  # "ok", "MISSED" or "" when there is no target


def _target_cell(row: Row) -> str:
    if not row.target:
        return ""
    return f"{row.target} ({row.verdict})" if row.verdict else row.target


def render_text(rows: list[Row], machine: str) -> str:
    """Aligned plain-text table with the machine line above it."""
    cells = [HEADERS, *((row.figure, row.result, _target_cell(row)) for row in rows)]
    widths = [max(len(line[col]) for line in cells) for col in range(len(HEADERS))]
    lines = [f"Machine: {machine}", ""]
    for index, line in enumerate(cells):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(rows: list[Row], machine: str) -> str:
    """GitHub markdown table with the machine line above it."""
    lines = [
        f"Measured on: {_md(machine)}",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "| --- | ---: | --- |",
    ]
    lines += [
        f"| {_md(row.figure)} | {_md(row.result)} | {_md(_target_cell(row))} |" for row in rows
    ]
    return "\n".join(lines) + "\n"


def verdict(ok: bool) -> str:
    """The verdict cell for a figure with a target."""
    return "ok" if ok else "MISSED"
