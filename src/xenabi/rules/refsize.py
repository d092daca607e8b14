"""Rule ``refsize``: ``tools/include/xen-foreign/reference.size`` agrees with the computed sizes.

Xen keeps that table of struct sizes per target and checks the foreign
headers its tools build against it. A cell that disagrees with the size
computed for that target (in any view that defines the struct) is an
**error**: either the table or the ABI is wrong. ``-`` marks a struct a
target does not have; a struct the table sizes but no snapshot of that
target defines is an error too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from xenabi.analysis.context import Context
from xenabi.model import Finding, Severity, Snapshot
from xenabi.rules.registry import rule
from xenabi.targets import TARGETS
from xenabi.tree import XenTree

RULE = "refsize"
PATH = "tools/include/xen-foreign/reference.size"


@dataclass(frozen=True, slots=True)
class Row:
    name: str  #: the struct tag
    sizes: Mapping[str, int | None]  #: arch -> size; None for ``-``
    line: int


def parse(text: str) -> list[Row]:
    """The table's rows; its header line names the targets of the columns."""
    arches: list[str] = []
    rows: list[Row] = []
    for no, line in enumerate(text.splitlines(), 1):
        if "|" not in line:
            continue
        name, _, cells = (s.strip() for s in line.partition("|"))
        values = cells.split()
        if name == "structs":
            arches = values
            continue
        if not arches or len(values) != len(arches) or not re.fullmatch(r"\w+", name):
            continue
        rows.append(Row(name, {a: None if v == "-" else int(v) for a, v in zip(arches, values)},
                        no))
    return rows


def check_row(row: Row, snaps: Mapping[str, Mapping[str, Snapshot]]) -> Iterator[Finding]:
    """``snaps``: arch -> view -> snapshot, for the targets that were computed."""
    key = f"struct {row.name}"
    for arch, want in row.sizes.items():
        if want is None or arch not in snaps:
            continue
        got = {view: s.records[key].size for view, s in snaps[arch].items() if key in s.records}
        if not got:
            yield Finding(RULE, Severity.ERROR,
                          f"reference.size gives {key} {want} bytes on {arch}, "
                          f"but no {arch} snapshot defines it", PATH, row.line, (key,),
                          (arch,), tuple(sorted(snaps[arch])))
        for view, size in sorted(got.items()):
            if size != want:
                yield Finding(RULE, Severity.ERROR,
                              f"reference.size gives {key} {want} bytes on {arch}, "
                              f"computed {size}", PATH, row.line, (key,), (arch,), (view,))


def read_table(tree: XenTree) -> list[Row]:
    path = tree.reference_size
    return parse(path.read_text(encoding="utf-8")) if path is not None else []


@rule(RULE, "reference.size agrees with the computed struct sizes", needs=("reference.size",),
      whole=("view",),  # a struct no view of a target defines is a finding
      severities=(Severity.ERROR,), scope="records")
def check_refsize(ctx: Context) -> Iterator[Finding]:
    snaps: dict[str, dict[str, Snapshot]] = {}
    for arch, view, snap in ctx.each():
        snaps.setdefault(arch, {})[view] = snap
    for row in read_table(ctx.tree):
        yield from check_row(row, {a: snaps[a] for a in TARGETS if a in snaps})
