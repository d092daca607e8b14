"""Two sets of snapshots (BASE and HEAD) -> the ABI changes between them, as :class:`Change`.

Compared is what the compiler sees: values, sizes, alignments, offsets and
canonical types, never spellings, so a respelling to the same type is no
change. Each (arch, view) both sides have is compared on its own; the facts
are then grouped into one change per symbol, kind and message, listing the
targets and views where it holds and both values per target.

A breaking change inside a versioned tools interface (a header that defines
an ``XEN_*_INTERFACE_VERSION``, found from the snapshots, not from a list) is
acceptable when that version changed in the same diff, or since a release
(``since``); otherwise its message names the version to bump.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace

from xenabi.analysis.families import bit_span
from xenabi.analysis.holes import holes
from xenabi.model import (Change, ChangeClass, Constant, FieldLayout, Finding, IntConstant,
                          RecordLayout, Severity, Snapshot, Status, TypedefLayout, anonymous_key)
from xenabi.targets import TARGETS

Snapshots = Mapping[tuple[str, str], Snapshot]

B, C, S = ChangeClass.BREAKING, ChangeClass.COMPATIBLE, ChangeClass.SUSPICIOUS

#: a version macro: a bump, never a break
_VERSION = re.compile(r"\A(?:__XEN_(?:LATEST_)?INTERFACE_VERSION__|[A-Z]\w*_INTERFACE_VERSION)\Z")
#: a versioned tools interface's own version macro: ``XEN_DOMCTL_INTERFACE_VERSION``,
#: ``XENPF_INTERFACE_VERSION`` (the guest ABI's ``__XEN_*`` versions accept no break)
_TOOLS_VERSION = re.compile(r"\A[A-Z]\w*_INTERFACE_VERSION\Z")
#: member names that make implicit padding explicit
_PAD = re.compile(r"(?:\A|[._])_*(?:pad|reserved|rsvd|unused)\w*\Z", re.I)
#: a family member that says where its reserved values start (``DOMID_FIRST_RESERVED``)
_FIRST_RESERVED = re.compile(r"FIRST_RESERVED|RESERVED_START|_RESERVED_MIN")
#: a family member that masks reserved or multi-bit fields (``SIF_PM_MASK``)
_MASK = re.compile(r"_MASK\Z|RESERVED")


@dataclass(frozen=True, slots=True)
class Fact:
    """One change on one target and view, before grouping."""

    kind: str
    cls: ChangeClass
    symbol: str
    message: str
    file: str  #: relative to the public headers directory
    line: int
    before: str | None = None
    after: str | None = None


def _promotes(c: IntConstant, arch: str) -> tuple[int, bool]:
    """(width in bits, signed) of a constant's C type on ``arch``."""
    t = TARGETS[arch]
    name = c.ctype.name
    size = t.scalars[name].size if name in t.scalars else 4
    signed = not name.startswith("unsigned") and (name != "char" or t.char_signed)
    return size * 8, signed


def constant_facts(base: Snapshot, head: Snapshot,
                   families: Mapping[str, frozenset[str]] | None = None) -> Iterator[Fact]:
    """``families``: HEAD's constant families by member name (None: HEAD has no text)."""
    for name in sorted(base.constants.keys() | head.constants.keys()):
        b, h = base.constants.get(name), head.constants.get(name)
        if b is h:
            continue  # most: one value both sides read from one cache entry or derived
        if h is None:
            assert b is not None
            yield Fact("constant-removed", B, name, f"{name} removed", b.header, b.line,
                       _value(b), None)
        elif b is None:
            yield from _added_constant(name, h, base,
                                        None if families is None else families.get(name, frozenset()))
        elif b.value != h.value:
            if _VERSION.match(name):
                yield Fact("version-bumped", C, name, f"{name} bumped", h.header, h.line,
                           _value(b), _value(h))
            else:
                what = (f"{name} ({h.enum}) renumbered" if isinstance(h, IntConstant) and h.enum
                        else f"{name} changed value")
                yield Fact("constant-value-changed", B, name, what, h.header, h.line,
                           _value(b), _value(h))
        elif (isinstance(b, IntConstant) and isinstance(h, IntConstant)
              and b.ctype != h.ctype):
            if _promotes(b, base.arch) != _promotes(h, head.arch):
                yield Fact("constant-type-changed", B, name,
                           f"{name} changed type with the same value: it promotes "
                           "differently in expressions", h.header, h.line,
                           b.ctype.name, h.ctype.name)


def _value(c: Constant) -> str:
    if isinstance(c, IntConstant):
        return hex(c.value) if c.value > 9 else str(c.value)
    return repr(c.value)


def _alias(c: IntConstant) -> bool:
    """``#define NEW OLD``: a second name for a value, not a second use of it."""
    return c.expr is not None and re.fullmatch(r"\(*\s*[A-Za-z_]\w*\s*\)*", c.expr) is not None


def _kin(name: str, h: IntConstant, base: Snapshot,
         family: frozenset[str] | None) -> list[tuple[str, IntConstant]]:
    """The constants BASE has of ``name``'s family: the same enum for an enumerator; else
    HEAD's family of it (:mod:`xenabi.analysis.families`, from the header text), or, when
    HEAD has no text (a snapshot file), the macros of its header that share its name
    but its last word."""
    if h.enum is not None:
        return [(n, c) for n, c in base.constants.items()
                if isinstance(c, IntConstant) and c.enum == h.enum]
    if family is not None:
        members = family - {name}
    else:
        stem = name.rstrip("_").rpartition("_")[0] + "_"
        members = frozenset(n for n in base.constants if n.startswith(stem) and n != name)
    return [(n, c) for n in sorted(members) if isinstance(c := base.constants.get(n), IntConstant)
            and c.header == h.header and not _VERSION.match(n)]


def _added_constant(name: str, h: Constant, base: Snapshot,
                    family: frozenset[str] | None) -> Iterator[Fact]:
    """A new constant: compatible, or suspicious when it claims a used or reserved value."""
    why = (_collision(name, h, _kin(name, h, base, family))
           if isinstance(h, IntConstant) and h.value > 0 and not _alias(h) else None)
    if why:
        yield Fact("constant-collides", S, name, why, h.header, h.line, None, _value(h))
    else:
        yield Fact("constant-added", C, name, _added_message(name, h, base, family), h.header,
                   h.line, None, _value(h))


def _added_message(name: str, h: Constant, base: Snapshot,
                   family: frozenset[str] | None) -> str:
    """``SIF_NEW added``; a new bit of a family of flags says it is free, and outside
    which of the family's masks: ``new flag SIF_HVM_GHCB (bit 5): free, outside
    SIF_PM_MASK (bits 8-15)``."""
    if not (isinstance(h, IntConstant) and _shifted_bit(h)):
        return f"{name} added"
    kin = _kin(name, h, base, family)
    if not any(_shifted_bit(c) for n, c in kin if not _MASK.search(n)):
        return f"{name} added"  # a bit among values, not among flags
    masks = [f"{n} ({bit_span(c.value)})" for n, c in kin
             if _MASK.search(n) and c.value & (c.value - 1)]
    outside = f", outside {', '.join(masks)}" if masks else ""
    return f"new flag {name} (bit {h.value.bit_length() - 1}): free{outside}"


def _shifted_bit(c: IntConstant) -> bool:
    """A flag as the flags rule reads one: a single bit, written as a shift."""
    return c.value > 0 and c.value & (c.value - 1) == 0 and "<<" in (c.expr or "")


def _collision(name: str, h: IntConstant, kin: list[tuple[str, IntConstant]]) -> str | None:
    """What a new constant's value claims that its family already uses, or reserves."""
    v = h.value
    single_bit = v & (v - 1) == 0
    bit = f"bit {v.bit_length() - 1}"
    own_mask = _MASK.search(name) or _FIRST_RESERVED.search(name)
    for n, c in kin:
        if own_mask:
            break
        if _FIRST_RESERVED.search(n) and v >= c.value:
            return f"{name} ({_value(h)}) takes a value reserved from {n} ({_value(c)})"
        if single_bit and _MASK.search(n) and c.value & v:
            return f"{name} ({bit}) lies inside {n} ({bit_span(c.value)})"
    for n, c in kin:
        if c.value == v and not _alias(c) and not _MASK.search(n):
            return (f"{name} takes {bit}, already {n}" if single_bit and c.kind == "macro"
                    else f"{name} ({_value(h)}) takes the value of {n}")
    return None


def record_facts(base: Snapshot, head: Snapshot) -> Iterator[Fact]:
    for key in sorted(base.records.keys() | head.records.keys()):
        b, h = base.records.get(key), head.records.get(key)
        if b is h:
            continue  # as in constant_facts
        if anonymous_key(key):
            continue  # named by position: its members are compared in the record holding it
        if h is None:
            assert b is not None
            yield Fact("record-removed", B, key, f"{key} removed", b.header, b.line,
                       str(b.size), None)
        elif b is None:
            yield Fact("record-added", C, key, f"{key} added", h.header, h.line,
                       None, str(h.size))
        else:
            yield from _record_change(key, b, h)


def _record_change(key: str, b: RecordLayout, h: RecordLayout) -> Iterator[Fact]:
    if b.fields == h.fields and b.size == h.size and b.align == h.align:
        return  # most records: the same on both sides (a line moved at most)
    at = (h.header, h.line)
    if b.size != h.size:
        yield Fact("record-size-changed", B, key, f"{key}: size changed", *at,
                   str(b.size), str(h.size))
    if b.align != h.align:
        yield Fact("record-align-changed", B, key, f"{key}: alignment changed", *at,
                   str(b.align), str(h.align))
    old = {f.name: f for f in b.fields}
    new = {f.name: f for f in h.fields}
    gone = [f for f in b.fields if f.name not in new]
    came = [f for f in h.fields if f.name not in old]
    renamed: dict[str, FieldLayout] = {}
    for g in gone:
        twin = next((f for f in came if f.offset_bits == g.offset_bits
                     and f.size_bits == g.size_bits and f.canonical_type == g.canonical_type
                     and f not in renamed.values()), None)
        if twin is not None:
            renamed[g.name] = twin
    for g in gone:
        sym = f"{key}.{g.name}"
        if g.name in renamed:
            yield Fact("field-renamed", B, sym, f"{key}: field {g.name} renamed to "
                       f"{renamed[g.name].name}", *at, g.name, renamed[g.name].name)
        else:
            yield Fact("field-removed", B, sym, f"{key}: field {g.name} removed", *at,
                       f"offset {g.offset_bits // 8}", None)
    moved = False
    for f in b.fields:
        n = new.get(f.name)
        if n is None:
            continue
        sym = f"{key}.{f.name}"
        if f.offset_bits != n.offset_bits:
            moved = True
            yield Fact("field-offset-changed", B, sym, f"{key}: field {f.name} moved", *at,
                       _bits(f.offset_bits), _bits(n.offset_bits))
        if f.size_bits != n.size_bits or f.bitfield != n.bitfield:
            moved = True
            kind = "field-width-changed" if f.bitfield or n.bitfield else "field-size-changed"
            yield Fact(kind, B, sym, f"{key}: field {f.name} changed "
                       f"{'width' if kind == 'field-width-changed' else 'size'}", *at,
                       _bits(f.size_bits, f.bitfield), _bits(n.size_bits, n.bitfield))
        if f.canonical_type != n.canonical_type:
            yield Fact("field-type-changed", B, sym, f"{key}: field {f.name} changed type",
                       *at, f.canonical_type, n.canonical_type)
    quiet = not gone and not moved and b.size == h.size and b.align == h.align
    for f in came:
        if f.name in {r.name for r in renamed.values()}:
            continue
        sym = f"{key}.{f.name}"
        in_hole = quiet and _in_padding(f, b)
        if in_hole and f.size_bits and _PAD.search(f.name):
            yield Fact("padding-made-explicit", C, sym,
                       f"{key}: implicit padding made explicit as {f.name}", *at,
                       None, _bits(f.offset_bits))
        elif in_hole and f.size_bits:
            yield Fact("field-in-padding", S, sym,
                       f"{key}: field {f.name} placed in bytes that were implicit padding "
                       "(older writers left them uninitialised)", *at, None,
                       _bits(f.offset_bits))
        elif "." in f.name and f.name.rsplit(".", 1)[0] in new and \
                f.name.rsplit(".", 1)[0] not in old:
            continue  # a member of a new member: the new member says it
        else:
            yield Fact("field-added", C, sym, f"{key}: field {f.name} added", *at,
                       None, _bits(f.offset_bits))


def _in_padding(f: FieldLayout, r: RecordLayout) -> bool:
    """Does ``f`` lie wholly in bytes that were implicit padding of ``r``?"""
    return any(h.offset_bits <= f.offset_bits and f.offset_bits + f.size_bits <= h.end_bits
               for h in holes(r))


def _bits(n: int, bitfield: bool = False) -> str:
    """A byte count where whole bytes (``8``), else bits (``3 bits``)."""
    return f"{n} bits" if bitfield or n % 8 else str(n // 8)


def typedef_facts(base: Snapshot, head: Snapshot) -> Iterator[Fact]:
    for name in sorted(base.typedefs.keys() | head.typedefs.keys()):
        b, h = base.typedefs.get(name), head.typedefs.get(name)
        if b is h:
            continue  # as in constant_facts
        if h is None:
            assert b is not None
            yield Fact("typedef-removed", B, name, f"typedef {name} removed", b.header, b.line,
                       b.canonical_type, None)
        elif b is None:
            yield Fact("typedef-added", C, name, f"typedef {name} added", h.header, h.line,
                       None, h.canonical_type)
        else:
            yield from _typedef_change(name, b, h)


def _typedef_change(name: str, b: TypedefLayout, h: TypedefLayout) -> Iterator[Fact]:
    at = (h.header, h.line)
    if b.size != h.size:
        yield Fact("typedef-size-changed", B, name, f"typedef {name}: size changed", *at,
                   str(b.size), str(h.size))
    if b.align != h.align:
        yield Fact("typedef-align-changed", B, name, f"typedef {name}: alignment changed",
                   *at, str(b.align), str(h.align))
    if b.canonical_type != h.canonical_type and not b.canonical_type.endswith("{...}"):
        yield Fact("typedef-type-changed", B, name, f"typedef {name}: type changed", *at,
                   b.canonical_type, h.canonical_type)


def facts(base: Snapshot, head: Snapshot,
          families: Mapping[str, frozenset[str]] | None = None) -> list[Fact]:
    """Every change from ``base`` to ``head`` (one target and view), before grouping. A
    header that parsed in BASE and fails in HEAD is one breaking change, not a removal
    of everything it declared."""
    failed = {h: st for h, st in head.headers.items() if st.status is Status.FAILED
              and (h not in base.headers or base.headers[h].status is not Status.FAILED)}
    out = [Fact("header-failed", B, h, f"{h} no longer parses: {st.why or 'cannot be read'}",
                h, st.coord.line if st.coord and st.coord.file == h else 1)
           for h, st in sorted(failed.items())]
    for f in (*constant_facts(base, head, families), *record_facts(base, head),
              *typedef_facts(base, head)):
        if not (f.file in failed and f.after is None and f.kind.endswith("-removed")):
            out.append(f)
    return out


# --------------------------------------------------------------------------
# Versioned tools interfaces


def interface_versions(snaps: Snapshots) -> dict[str, tuple[str, int]]:
    """``XEN_DOMCTL_INTERFACE_VERSION`` -> (its header, its value), from the tools views."""
    out: dict[str, tuple[str, int]] = {}
    for snap in snaps.values():
        for name, c in snap.constants.items():
            # the test of the suffix first: thousands of names, a few versions
            if name.endswith("_INTERFACE_VERSION") and _TOOLS_VERSION.match(name) \
                    and isinstance(c, IntConstant):
                out.setdefault(name, (c.header, c.value))
    return out


def _versioned(f: Fact, base_v: Mapping[str, tuple[str, int]],
               head_v: Mapping[str, tuple[str, int]],
               since_v: Mapping[str, tuple[str, int]] | None) -> Fact:
    """A breaking fact inside a versioned interface: covered by a bump, or naming it."""
    if f.cls is not B:
        return f
    for name, (header, value) in head_v.items():
        if header != f.file:
            continue
        if name in base_v and base_v[name][1] != value:
            return replace(f, cls=C, message=f"{f.message} (covered by the {name} bump)")
        if since_v is not None and name in since_v and since_v[name][1] != value:
            return replace(f, cls=C, message=f"{f.message} (covered by the {name} bump "
                                             "since the release)")
        return replace(f, message=f"{f.message} without a bump of {name}")
    return f


# --------------------------------------------------------------------------
# Grouping


def target_order(items: Iterable[str]) -> tuple[str, ...]:
    s = set(items)
    return tuple(a for a in TARGETS if a in s) + tuple(sorted(s - set(TARGETS)))


Families = Mapping[tuple[str, str], Mapping[str, frozenset[str]]]


def compare(base: Snapshots, head: Snapshots, *, prefix: str = "",
            since: Mapping[str, tuple[str, int]] | None = None,
            families: Families | None = None) -> list[Change]:
    """The changes from ``base`` to ``head`` on every (arch, view) both have, grouped;
    ``prefix`` re-roots header paths at the tree (``xen/include/public/``); ``since``
    are the interface versions of the last release (:func:`interface_versions`), for the
    versions bumped since it; ``families`` are HEAD's constant families per (arch, view)
    by member name (:func:`xenabi.sides.constant_families`; without them a family is
    guessed from names)."""
    # a snapshot has no change from itself (a commit's parent's, kept)
    pairs = sorted(p for p in base.keys() & head.keys() if base[p] is not head[p])
    if not pairs:
        return []
    base_v, head_v = interface_versions(base), interface_versions(head)
    since_v = since
    groups: dict[tuple[str, str, ChangeClass, str], list[tuple[str, str, Fact]]] = {}
    for pair in pairs:
        for f in facts(base[pair], head[pair],
                         None if families is None else families.get(pair)):
            f = _versioned(f, base_v, head_v, since_v)
            groups.setdefault((f.kind, f.symbol, f.cls, f.message), []).append((*pair, f))
    out = [_change(kind, symbol, cls, message, part, prefix)
           for (kind, symbol, cls, message), hits in groups.items() for part in _exact(hits)]
    return sorted(out, key=_order)


Hit = tuple[str, str, Fact]  #: (arch, view, fact): where a change holds


def _exact(hits: list[Hit]) -> list[list[Hit]]:
    """``hits`` as one change when it holds on every view of each of its targets with the
    same values there, else one change per view: a change lists its targets and its views
    apart, so it must hold on each pair of them (and a target's values be one)."""
    arches = {a for a, _, _ in hits}
    views = {v for _, v, _ in hits}
    values = {(a, f.before, f.after) for a, _, f in hits}
    if len(hits) == len(arches) * len(views) and len(values) == len(arches):
        return [hits]
    return [[h for h in hits if h[1] == v] for v in sorted(views)]


def _change(kind: str, symbol: str, cls: ChangeClass, message: str, hits: list[Hit],
            prefix: str) -> Change:
    arches = target_order(a for a, _, _ in hits)
    before = {a: f.before for a, _, f in hits if f.before is not None}
    after = {a: f.after for a, _, f in hits if f.after is not None}
    first = min((f for _, _, f in hits), key=lambda f: (f.file, f.line))
    return Change(kind, cls, symbol, message, prefix + first.file, first.line, arches,
                  tuple(sorted({v for _, v, _ in hits})),
                  tuple((a, before[a]) for a in arches if a in before),
                  tuple((a, after[a]) for a in arches if a in after))


_CLASS_ORDER = {B: 0, S: 1, C: 2}


def _order(c: Change) -> tuple[object, ...]:
    return (_CLASS_ORDER[c.cls], c.file or "", c.line or 0, c.symbol, c.kind)


def values(c: Change) -> str:
    """``64 -> 72 on x86_32, x86_64; 40 -> 48 on arm32``: both values per target, grouped."""
    before, after = dict(c.before), dict(c.after)
    by: dict[tuple[str | None, str | None], list[str]] = {}
    for a in c.arches:
        by.setdefault((before.get(a), after.get(a)), []).append(a)
    parts = []
    for (b, h), arches in by.items():
        if b is None and h is None:
            vals = ""
        elif b is None:
            vals = f"{h} "
        elif h is None:
            vals = f"was {b} "
        else:
            vals = f"{b} -> {h} "
        parts.append(f"{vals}on {', '.join(arches)}")
    return "; ".join(parts)


# --------------------------------------------------------------------------
# A diff's report


@dataclass(frozen=True)
class DiffReport:
    """What ``xenabi diff`` found: the changes, HEAD's new findings, what was compared."""

    base: str  #: the sides' names (``tree DIR``, ``revision REV (commit)``...)
    head: str
    changes: tuple[Change, ...]
    findings: tuple[Finding, ...]  #: HEAD's unwaived findings BASE has none of (all: --all)
    arches: tuple[str, ...]
    views: tuple[str, ...]
    not_run: tuple[tuple[str, str], ...] = ()  #: rules that did not run, and why
    fail_on: tuple[ChangeClass, ...] = (B, S)  #: the classes that make the exit status 1

    def count(self, cls: ChangeClass) -> int:
        return sum(c.cls is cls for c in self.changes)

    def errors(self) -> int:
        return sum(f.severity is Severity.ERROR for f in self.findings)

    def exit_status(self) -> int:
        """1 for a change of a class in :attr:`fail_on` or a new error, else 0."""
        return int(any(c.cls in self.fail_on for c in self.changes) or self.errors() > 0)


def new_findings(base: Iterable[Finding], head: Iterable[Finding]) -> list[Finding]:
    """HEAD's findings whose identity BASE has none of."""
    old = {f.identity() for f in base}
    return [f for f in head if f.identity() not in old]
