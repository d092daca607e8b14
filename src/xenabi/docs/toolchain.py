"""``docs/misra/C-language-toolchain.rst``: the table of C type sizes and alignments that Xen
documents for every port it builds (from Xen 4.19 on).

The table is a reST ``list-table``: a row per type and group of architectures,

.. code-block:: rst

   * - long long
     - 64-bit
     - 32-bit
     - x86_32

with the architectures in Arm's and the ports' own words (``ARMv8-A AArch64``,
``RV64``); :attr:`xenabi.targets.Target.toolchain_names` maps them to targets.
Plain text, read without pandoc.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from xenabi.tree import XenTree

PATH = "docs/misra/C-language-toolchain.rst"

_ROW = re.compile(r"^\s*\*\s+-\s*(.*)$")
_CELL = re.compile(r"^\s+-\s*(.*)$")
_BITS = re.compile(r"^(\d+)[- ]bits?$")


@dataclass(frozen=True, slots=True)
class Row:
    type: str  #: ``long long``, ``pointer``
    size_bits: int
    align_bits: int
    arches: tuple[str, ...]  #: as the document names them: ``ARMv7-A``, ``RV64``
    line: int


def _rows(text: str) -> list[tuple[int, list[str]]]:
    """The rows of the list-tables after the summary line, each (line, cells)."""
    lines = text.splitlines()
    start = next((i for i, s in enumerate(lines) if "summary table of data types" in s),
                 len(lines))
    rows: list[tuple[int, list[str]]] = []
    for n, line in enumerate(lines[start:], start + 1):
        if (m := _ROW.match(line)) is not None:
            rows.append((n, [m.group(1).strip()]))
        elif rows and (m := _CELL.match(line)) is not None:
            rows[-1][1].append(m.group(1).strip())
        elif rows and line.strip() and line.startswith(" "):
            rows[-1][1][-1] += " " + line.strip()  # a cell that goes on
    return rows


def read(tree: XenTree) -> tuple[Row, ...]:
    """The size rows of the tree's table (none when the tree has no such document); a row
    that is no size row (the header row, a cell that is no bit count) is left out."""
    path = tree.root / PATH
    if not path.is_file():
        return ()
    out = []
    for line, cells in _rows(path.read_text(encoding="utf-8", errors="replace")):
        if len(cells) != 4:
            continue
        size, align = _BITS.match(cells[1]), _BITS.match(cells[2])
        if size is None or align is None:
            continue
        arches = tuple(a.strip() for a in cells[3].split(",") if a.strip())
        out.append(Row(cells[0], int(size.group(1)), int(align.group(1)), arches, line))
    return tuple(out)
