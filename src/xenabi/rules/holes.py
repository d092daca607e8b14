"""Rule ``holes``: implicit padding inside records, reported the way pahole shows it.

A hole is a range of a record's bytes (or bits, between bitfields) that no
field covers: between two fields, or after the last one (tail padding).
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
from dataclasses import dataclass
from functools import lru_cache
from posixpath import normpath

from xenabi.model import FieldLayout, Finding, RecordLayout, Severity, Snapshot
from xenabi.rules.arch import by_view, containers
from xenabi.rules.registry import Context, rule
from xenabi.targets import TARGETS
from xenabi.tree import XenTree

RULE = "holes"


@dataclass(frozen=True, slots=True)
class Hole:
    after: str | None  #: the field the hole follows
    offset_bits: int
    size_bits: int
    tail: bool  #: after the last field, up to the record's size

    def describe(self, key: str) -> str:
        size = (f"{self.size_bits // 8}-byte" if self.size_bits % 8 == 0
                else f"{self.size_bits}-bit")
        at = (f"offset {self.offset_bits // 8}" if self.offset_bits % 8 == 0
              else f"bit {self.offset_bits}")
        after = f"after `{self.after}`" if self.after else "at the start"
        if self.tail:
            return f"{key} has {size} tail padding {after} (at {at})"
        return f"{key} has a {size} hole {after} (at {at})"


def _coverage(rec: RecordLayout) -> list[FieldLayout]:
    """The entries whose bits together make up the record (containers give way to members,
    except arrays, whose members are listed for element 0 only)."""
    inner = containers(rec)
    if not inner:
        return list(rec.fields)
    types: dict[str, str] = {}
    for f in rec.fields:
        types.setdefault(f.name, f.type)
    arrays = {n for n in inner if types[n].endswith("]")}
    within = tuple(p for a in arrays for p in (a + "[", a + "."))  # an array's members
    return [f for f in rec.fields if (f.name not in inner or f.name in arrays)
            and not (within and f.name.startswith(within))]


@lru_cache(maxsize=1 << 16)
def holes(rec: RecordLayout) -> tuple[Hole, ...]:
    """Every hole of a record, in offset order (the 8 snapshots share most records)."""
    out: list[Hole] = []
    cursor = 0
    last: str | None = None
    for f in sorted(_coverage(rec), key=lambda f: (f.offset_bits, -f.size_bits)):
        if f.offset_bits > cursor:
            out.append(Hole(last, cursor, f.offset_bits - cursor, False))
        end = f.offset_bits + f.size_bits
        if end >= cursor:
            cursor, last = end, f.name
    if rec.size * 8 > cursor and rec.fields:
        out.append(Hole(last, cursor, rec.size * 8 - cursor, True))
    return tuple(out)


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
                seen[decl][h.describe(key)].append(arch)
    for decl in sorted(seen):
        for message, arches in seen[decl].items():
            everywhere = len(arches) == len(have[decl])
            yield Finding(RULE, Severity.INFO if everywhere else Severity.WARNING,
                          message if everywhere else
                          f"{message}, only on {', '.join(a for a in TARGETS if a in arches)}",
                          tree.finding_path(normpath(decl[1])), lines[decl], (decl[0],),
                          tuple(a for a in TARGETS if a in arches), (view,))


@rule(RULE, "implicit padding inside records (pahole-style); target-dependent holes warn",
      severities=(Severity.WARNING, Severity.INFO))
def check_holes(ctx: Context) -> Iterator[Finding]:
    for view, snaps in sorted(by_view(ctx).items()):
        yield from check_view(ctx.tree, view, snaps)
