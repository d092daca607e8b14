"""Records side by side for several targets, pahole-style: offsets, sizes, holes, differences.

One row per ``offsetof()`` designator, one column pair (offset, size in
bytes) per target; a bitfield shows ``byte:bit`` and its width in bits
(``3b``). Implicit padding shows as ``(hole)`` rows before the member that
follows it and a ``(padding)`` row at the end. A leading ``*`` marks every
row that is not the same on all targets that define the record. Pure text
from snapshots: ``xenabi dump --format text`` prints it, and
:func:`assert_same_layout` puts it in a failing test's message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from xenabi.analysis.holes import holes
from xenabi.errors import UsageError
from xenabi.model import RecordLayout, Snapshot

_CELL = 11  #: width of one target's column pair


@dataclass(frozen=True, slots=True)
class _Row:
    label: str  #: a designator, ``(hole)``, ``(padding)``, ``size`` or ``align``
    type: str
    cells: tuple[str | None, ...]  #: per target; None where the target has no such row


def _pos(bits: int) -> str:
    return str(bits // 8) if bits % 8 == 0 else f"{bits // 8}:{bits % 8}"


def _size(bits: int, bitfield: bool = False) -> str:
    return f"{bits}b" if bitfield or bits % 8 else str(bits // 8)


def _cell(offset: str, size: str) -> str:
    return f"{offset:>5} {size:>4}"


def _holes(rec: RecordLayout) -> dict[str | None, tuple[int, int]]:
    """Padding per target: designator -> (offset, size in bits) of the hole before it;
    None -> the padding at the end."""
    return {h.before: (h.offset_bits, h.size_bits) for h in holes(rec)}


def _merged_order(layouts: Iterable[RecordLayout]) -> list[str]:
    """Every designator once, each target's after the one it follows there."""
    order: list[str] = []
    for rec in layouts:
        prev = -1
        for f in rec.fields:
            if f.name in order:
                prev = order.index(f.name)
            else:
                prev += 1
                order.insert(prev, f.name)
    return order


def _rows(layouts: list[RecordLayout | None]) -> list[_Row]:
    present = [r for r in layouts if r is not None]
    fields = [{f.name: f for f in r.fields} if r else {} for r in layouts]
    holes = [_holes(r) if r else {} for r in layouts]

    def hole_row(at: str | None, label: str) -> _Row | None:
        cells = tuple(_cell(_pos(h[at][0]), _size(h[at][1], h[at][0] % 8 != 0)) if at in h
                      else None for h in holes)
        return _Row(label, "", cells) if any(cells) else None

    rows = []
    for name in _merged_order(present):
        if (hole := hole_row(name, "(hole)")) is not None:
            rows.append(hole)
        types = dict.fromkeys(fs[name].type for fs in fields if name in fs)
        rows.append(_Row(name, " | ".join(types), tuple(
            _cell(_pos(fs[name].offset_bits), _size(fs[name].size_bits, fs[name].bitfield))
            if name in fs else None for fs in fields)))
    if (tail := hole_row(None, "(padding)")) is not None:
        rows.append(tail)
    rows.append(_Row("size", "", tuple(_cell("", str(r.size)) if r else None for r in layouts)))
    rows.append(_Row("align", "", tuple(_cell("", str(r.align)) if r else None for r in layouts)))
    return rows


def _differs(row: _Row, defined: list[bool]) -> bool:
    cells = [c for c, d in zip(row.cells, defined) if d]
    return len(set(cells)) > 1


def _where(layouts: Mapping[str, RecordLayout | None]) -> str:
    """``xen.h:678``, or per target where the definitions differ."""
    at: dict[str, list[str]] = {}
    for target, r in layouts.items():
        if r is not None:
            at.setdefault(f"{r.header}:{r.line}", []).append(target)
    if len(at) == 1:
        return next(iter(at))
    return "; ".join(f"{', '.join(ts)}: {where}" for where, ts in at.items())


def render(name: str, layouts: Mapping[str, RecordLayout | None]) -> str:
    """One record, a column pair per target (``layouts`` maps a target to its layout or None)."""
    targets = list(layouts)
    recs = list(layouts.values())
    defined = [r is not None for r in recs]
    where = _where(layouts)
    rows = _rows(recs)
    width = max([len("member"), *(len(r.label) for r in rows)])
    twidth = max([len("type"), *(len(r.type) for r in rows)])
    missing = _cell("", "-")
    lines = [f"{name}  ({where})",
             f"  {'member':<{width}}  {'type':<{twidth}}" + "".join(
                 f"  {t:>{_CELL}}" for t in targets)]
    for row in rows:
        mark = "*" if _differs(row, defined) else " "
        cells = "".join(f"  {c if c is not None else ('' if d else missing):>{_CELL}}"
                        for c, d in zip(row.cells, defined))
        lines.append(f"{mark} {row.label:<{width}}  {row.type:<{twidth}}{cells}".rstrip())
    absent = [t for t, d in zip(targets, defined) if not d]
    if absent:
        lines.append(f"  not defined on {', '.join(absent)}")
    return "\n".join(lines) + "\n"


def _typedef_records(snap: Snapshot) -> dict[str, str]:
    """Typedef name -> the record key it names (``vcpu_info_t`` -> ``struct vcpu_info``;
    a typedef of an anonymous record is itself the key)."""
    return {name: t.canonical_type for name, t in snap.typedefs.items()
            if t.canonical_type in snap.records}


def record_key(snapshots: Iterable[Snapshot], name: str) -> str:
    """The record key ``name`` means: itself, ``struct NAME`` / ``union NAME``, or the
    record a typedef of that name stands for (``vcpu_info_t``)."""
    snaps = list(snapshots)
    for key in (name, f"struct {name}", f"union {name}"):
        if any(key in s.records for s in snaps):
            return key
    for s in snaps:
        if (named := _typedef_records(s).get(name)) is not None:
            return named
    raise UsageError(f"no record '{name}' on any of {', '.join(s.arch for s in snaps)}"
                     + _suggestion(snaps, name))


def _suggestion(snaps: list[Snapshot], name: str) -> str:
    """`` (did you mean struct vcpu_info?)``, or nothing when no record's name is close."""
    from xenabi.docs.symbols import closest  # the one "did you mean" matcher, on errors only

    # a record by its tag or key, and by each typedef that names it
    spelled: dict[str, str] = {}
    for s in snaps:
        spelled.update({key.partition(" ")[2] or key: key for key in s.records})
        spelled.update({t: t for t in _typedef_records(s)})
    bare = name.removeprefix("struct ").removeprefix("union ")
    close = closest(bare, spelled)
    return f" (did you mean {spelled[close]}?)" if close else ""


def render_snapshots(snapshots: Mapping[str, Snapshot], names: Iterable[str] | None = None) -> str:
    """The chosen records (default: every one) side by side for the targets of ``snapshots``."""
    snaps = list(snapshots.values())
    keys = ([record_key(snaps, n) for n in names] if names
            else sorted({k for s in snaps for k in s.records}))
    views = sorted({s.view for s in snaps})
    head = f"{', '.join(snapshots)}: {'/'.join(views)} view; offsets and sizes in bytes\n\n"
    return head + "\n".join(render(k, {a: s.records.get(k) for a, s in snapshots.items()})
                            for k in keys)


def layout_table(snapshots: Mapping[tuple[str, str], Snapshot], name: str,
                 view: str = "tools") -> str:
    """One record for every target of one view, from ``(arch, view)``-keyed snapshots
    (the ``xen_snapshots`` fixture)."""
    chosen = {arch: s for (arch, v), s in snapshots.items() if v == view}
    key = record_key(chosen.values(), name)
    return render(key, {arch: s.records.get(key) for arch, s in chosen.items()})


def assert_same_layout(snapshots: Mapping[tuple[str, str], Snapshot], name: str,
                       view: str = "tools") -> None:
    """Fail, showing the table, unless the record is the same on every target of the view."""
    __tracebackhide__ = True
    chosen = [s for (_, v), s in snapshots.items() if v == view]
    key = record_key(chosen, name)
    layouts = {(r.size, r.align, r.fields) if r else None for r in (s.records.get(key) for s in chosen)}
    if len(layouts) > 1:
        raise AssertionError(f"{key} differs between targets ({view} view):\n"
                             + layout_table(snapshots, name, view))
