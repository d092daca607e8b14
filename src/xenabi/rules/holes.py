"""Rule ``holes``: implicit padding inside records, reported the way pahole shows it.

A hole (:mod:`xenabi.analysis.holes`) is a range of a record's bytes (or
bits, between bitfields) that no field covers: between two fields, or after
the last one (tail padding), in each alternative of a union on its own.
Each finding names the record, the field the hole follows, its size and
the targets that have it.

Severity: a hole is how a record's layout comes to differ between targets
(``uint64_t`` after a ``uint32_t`` is 8-aligned on x86_64 and arm, 4 on
x86_32), so a hole that some targets of the same declaration have and
others do not is a **warning**; a hole every target has is **info**: many
long-standing records have one, it is harmless on its own, and what
matters is the hole a change introduces (the diff gate's job).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from posixpath import normpath

from xenabi.analysis.context import Context
from xenabi.analysis.holes import Hole, holes
from xenabi.model import Finding, Severity, Snapshot
from xenabi.rules.registry import rule
from xenabi.targets import TARGETS
from xenabi.tree import XenTree

RULE = "holes"


def describe(hole: Hole, key: str) -> str:
    """``struct s has a 4-byte hole after `a` (at offset 4)``."""
    size = (f"{hole.size_bits // 8}-byte" if hole.size_bits % 8 == 0
            else f"{hole.size_bits}-bit")
    at = (f"offset {hole.offset_bits // 8}" if hole.offset_bits % 8 == 0
          else f"bit {hole.offset_bits}")
    after = f"after `{hole.after}`" if hole.after else "at the start"
    if hole.tail:
        return f"{key} has {size} tail padding {after} (at {at})"
    return f"{key} has a {size} hole {after} (at {at})"


def check_view(tree: XenTree, view: str, snaps: Sequence[tuple[str, Snapshot]]
               ) -> Iterator[Finding]:
    # (record, header) -> hole message -> arches; and which arches have the record at all
    seen: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    have: dict[tuple[str, str], list[str]] = defaultdict(list)
    lines: dict[tuple[str, str], int] = {}
    for arch, snap in snaps:
        for key, rec in snap.records.items():
            decl = (key, rec.header)
            have[decl].append(arch)
            lines[decl] = rec.line
            for h in holes(rec):
                seen[decl][describe(h, key)].append(arch)
    for decl in sorted(seen):
        for message, arches in seen[decl].items():
            everywhere = len(arches) == len(have[decl])
            yield Finding(RULE, Severity.INFO if everywhere else Severity.WARNING,
                          message if everywhere else
                          f"{message}, only on {', '.join(a for a in TARGETS if a in arches)}",
                          tree.finding_path(normpath(decl[1])), lines[decl], (decl[0],),
                          tuple(a for a in TARGETS if a in arches), (view,))


@rule(RULE, "implicit padding inside records (pahole-style); target-dependent holes warn",
      severities=(Severity.WARNING, Severity.INFO), scope="records")
def check_holes(ctx: Context) -> Iterator[Finding]:
    for view, snaps in sorted(ctx.by_view().items()):
        yield from check_view(ctx.tree, view, snaps)
