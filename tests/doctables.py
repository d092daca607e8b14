"""The tables of docs/rules.md, read as a maintainer reads them: a table is found by its
header row, and each row is its cells with surrounding spaces and a first cell's
backticks taken off."""

from __future__ import annotations

from pathlib import Path

RULES_MD = Path(__file__).resolve().parents[1] / "docs" / "rules.md"


def table(header: str, text: str | None = None) -> list[list[str]]:
    """The rows of the table whose header row is ``header`` (``| rule | error | ...``)."""
    lines = (RULES_MD.read_text(encoding="utf-8") if text is None else text).splitlines()
    assert lines.count(header) == 1, f"docs/rules.md has {lines.count(header)} tables {header}"
    rows = []
    for line in lines[lines.index(header) + 2:]:  # past the header and its |---| line
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows.append([cells[0].strip("`"), *cells[1:]])
    return rows
