"""The layout engine: sizes, alignments and field offsets of C types on a target.

Pure computation over the model and a :class:`~xenabi.targets.Target`; the
rules it follows are the SysV/AAPCS ones GCC and clang implement, with every
target difference read from the target table (member alignment of 64-bit
integers and doubles, how zero-width and unnamed bitfields align a record).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from xenabi.errors import XenAbiError
from xenabi.model import (Array, CType, EnumRef, Field, FieldLayout, Function, Pointer, Record,
                          RecordRef, Scalar, Typedef, TypedefRef, canonical, spell)
from xenabi.targets import TARGETS, Target


class LayoutError(XenAbiError):
    """A type has no layout: incomplete, void, or a function."""


@dataclass(frozen=True, slots=True)
class Placed:
    """A direct member of a record at its place: the engine's raw answer."""

    name: str | None
    type: CType
    offset_bits: int
    size_bits: int  #: bitfield width, or the member's size (0 for a flexible array)
    bitfield: bool


@dataclass(frozen=True, slots=True)
class Shape:
    size: int
    align: int
    members: tuple[Placed, ...] = ()


def _round_up(n: int, to: int) -> int:
    return -(-n // to) * to


class Layouter:
    """Lays out types for one target, memoizing records.

    ``records`` and ``typedefs`` may grow while the layouter is in use (the
    parser asks for ``sizeof`` of records it has just defined); a record's
    shape is fixed once it is defined, so the memo stays right.
    """

    def __init__(self, target: Target, records: Mapping[str, Record],
                 typedefs: Mapping[str, Typedef]) -> None:
        self.target = target
        self.records = records
        self.typedefs = typedefs
        self._canonical: dict[CType, str | None] = {}
        self._memo: dict[str, Shape] = {}

    # -- scalars and derived types

    def resolve(self, t: CType) -> CType:
        """``t`` with typedefs stripped at the top."""
        while isinstance(t, TypedefRef):
            td = self.typedefs.get(t.name)
            if td is None:
                raise LayoutError(f"unknown type name '{t.name}'")
            t = td.type
        return t

    def _typedef_align(self, t: CType) -> int | None:
        """The ``aligned`` attribute of the outermost typedef of ``t`` that has one.

        Unlike on a member, ``aligned`` on a typedef sets the alignment, and may lower it.
        """
        while isinstance(t, TypedefRef) and (td := self.typedefs.get(t.name)) is not None:
            if td.align:
                return td.align
            t = td.type
        return None

    def shape(self, t: CType) -> Shape:
        """Size and alignment (as a member) of ``t``; records come with their members."""
        extra = self._typedef_align(t)
        t = self.resolve(t)
        match t:
            case Scalar("void"):
                raise LayoutError("void has no size")
            case Scalar(name):
                s = self.target.scalars[name]
                out = Shape(s.size, s.align)
            case Pointer():
                out = Shape(self.target.pointer.size, self.target.pointer.align)
            case EnumRef():
                e = self.target.scalars["enum"]
                out = Shape(e.size, e.align)
            case Array(element, length):
                el = self.shape(element)
                out = Shape(el.size * (length or 0), el.align)
            case RecordRef(key):
                out = self.record(key)
            case Function():
                raise LayoutError(f"function type {spell(t)} has no size")
            case _:
                raise AssertionError(t)
        if extra:
            out = Shape(out.size, extra, out.members)
        return out

    def sizeof(self, t: CType) -> int:
        return self.shape(t).size

    def alignof(self, t: CType) -> int:
        return self.shape(t).align

    # -- records

    def record(self, key: str) -> Shape:
        if key in self._memo:
            return self._memo[key]
        rec = self.records.get(key)
        if rec is None:
            raise LayoutError(f"{key} is incomplete (declared, never defined)")
        shape = self._union(rec) if rec.kind == "union" else self._struct(rec)
        self._memo[key] = shape
        return shape

    def _member_align(self, rec: Record, f: Field, natural: int) -> int:
        a = max(1 if rec.packed or f.packed else natural, f.align or 1)
        return min(a, rec.pack) if rec.pack else a

    def _bitfield_aligns_record(self, f: Field) -> bool:
        """Whether a bitfield's declared type raises its record's alignment."""
        if f.bits == 0:
            return self.target.zero_width_bitfield_aligns_record
        return f.name is not None or self.target.unnamed_bitfield_aligns_record

    @staticmethod
    def _bitfield_record_align(rec: Record, f: Field, natural: int, member: int) -> int:
        """How much a bitfield that aligns its record aligns it, as clang does: a
        zero-width one (AAPCS) by its type, packed or not, whatever the pack; under
        ``#pragma pack``, any other by its type capped by the pack, even when packed."""
        if f.bits == 0:
            return natural
        if rec.pack:
            return min(natural, rec.pack)
        return member

    def _is_flexible(self, t: CType) -> bool:
        r = self.resolve(t)
        return isinstance(r, Array) and r.length is None

    def _struct(self, rec: Record) -> Shape:
        off, align = 0, 1  # offset in bits
        placed = []
        for f in rec.fields:
            s = self.shape(f.type)
            a = self._member_align(rec, f, s.align)
            if f.bits is None:
                off = _round_up(off, a * 8)
                bits = 0 if self._is_flexible(f.type) else s.size * 8
                placed.append(Placed(f.name, f.type, off, bits, False))
                off += bits
                align = max(align, a)
                continue
            if self._bitfield_aligns_record(f):
                align = max(align, self._bitfield_record_align(rec, f, s.align, a))
            if f.bits == 0:
                off = _round_up(off, s.align * 8)
                continue
            # a bitfield must not straddle a unit of its type placed at the type's
            # alignment, unless packed (by attribute or, for clang, by #pragma pack)
            if not (rec.packed or f.packed or rec.pack) and \
                    (off % (s.align * 8)) + f.bits > s.size * 8:
                off = _round_up(off, s.align * 8)
            if f.align:
                off = _round_up(off, f.align * 8)
            placed.append(Placed(f.name, f.type, off, f.bits, True))
            off += f.bits
        align = max(align, rec.align or 1)
        return Shape(_round_up(_round_up(off, 8) // 8, align), align, tuple(placed))

    def _union(self, rec: Record) -> Shape:
        size_bits, align = 0, 1
        placed = []
        for f in rec.fields:
            s = self.shape(f.type)
            a = self._member_align(rec, f, s.align)
            if f.bits is None:
                bits = 0 if self._is_flexible(f.type) else s.size * 8
                placed.append(Placed(f.name, f.type, 0, bits, False))
                size_bits, align = max(size_bits, bits), max(align, a)
                continue
            if f.bits:
                placed.append(Placed(f.name, f.type, 0, f.bits, True))
                size_bits = max(size_bits, f.bits)
            if self._bitfield_aligns_record(f):
                align = max(align, self._bitfield_record_align(rec, f, s.align, a))
        align = max(align, rec.align or 1)
        return Shape(_round_up(_round_up(size_bits, 8) // 8, align), align, tuple(placed))

    def member(self, t: CType, name: str) -> tuple[int, CType]:
        """Offset in bits and type of member ``name`` of record type ``t``, looking into
        anonymous members (what ``offsetof`` and ``sizeof(((T *)0)->m)`` ask)."""
        t = self.resolve(t)
        if not isinstance(t, RecordRef):
            raise LayoutError(f"request for member '{name}' in {spell(t)}, which is no record")
        for m in self.record(t.key).members:
            if m.name == name:
                return m.offset_bits, m.type
            if m.name is None and not m.bitfield and isinstance(m.type, RecordRef):
                try:
                    off, mt = self.member(m.type, name)
                except LayoutError:
                    continue
                return m.offset_bits + off, mt
        raise LayoutError(f"{spell(t)} has no member named '{name}'")

    def canonical_spelling(self, t: CType) -> str | None:
        """The spelling of ``t`` with typedefs resolved, or None when that is ``spell(t)``."""
        if t not in self._canonical:
            c = spell(canonical(t, self.typedefs))
            self._canonical[t] = None if c == spell(t) else c
        return self._canonical[t]

    # -- offsetof() designators (DESIGN.md, snapshot contract)

    def designators(self, key: str) -> tuple[FieldLayout, ...]:
        """Every field of a record, named as ``offsetof()`` takes it, outermost offsets."""
        return tuple(self._walk(key, "", 0))

    def _walk(self, key: str, prefix: str, base: int) -> Iterator[FieldLayout]:
        for m in self.record(key).members:
            off = base + m.offset_bits
            if m.name is None:
                if not m.bitfield and isinstance(m.type, RecordRef):
                    yield from self._walk(m.type.key, prefix, off)
                continue
            name = prefix + m.name
            yield FieldLayout(name, spell(m.type), off, m.size_bits, m.bitfield,
                              self.canonical_spelling(m.type))
            inner, sub = m.type, name
            while isinstance(inner, Array):
                inner, sub = inner.element, sub + "[0]"
            if isinstance(inner, RecordRef) and self.records[inner.key].tag is None:
                yield from self._walk(inner.key, sub + ".", off)


def layout_source(c_text: str, arch: str) -> dict[str, object]:
    """Lay out every record that ``c_text`` defines, as a snapshot would list them.

    The entry point for tests that compare the engine with an oracle on
    generated C; goes through the same parser and engine as a Xen tree.
    """
    from xenabi.cparse import parse_text
    from xenabi.snapshot import record_layouts

    api = parse_text(c_text, TARGETS[arch])
    target = TARGETS[arch]
    return dict(record_layouts(api, Layouter(target, api.records, api.typedefs)))
