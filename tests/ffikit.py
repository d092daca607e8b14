"""Helpers for the cffi tests: walk a cffi record down to its scalars, fill it, and
say what bytes a layout implies for the same values.

Everything here reads cffi's own types (or clang's offsets); nothing comes
from the layout engine. Values are raw bit patterns of each scalar's width:
all four Xen targets are little-endian, so a record's bytes are the
little-endian integer in which each scalar's bits sit at its bit offset.
"""

from __future__ import annotations

import random
import re
import struct
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import _cffi_backend
import cffi

from xenabi.ffi import PADDING

Path = tuple[str | int, ...]

_PART = re.compile(r"\.?([A-Za-z_]\w*)|\[(\d+)\]")


def parse_designator(designator: str) -> Path:
    """``timers[0].config`` -> ``("timers", 0, "config")``."""
    return tuple(m.group(1) or int(m.group(2)) for m in _PART.finditer(designator))


def spell_path(path: Path) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _field(ctype: Any, name: str) -> Any:
    """A member of a cffi struct or union (members of anonymous members included)."""
    for n, f in ctype.fields or ():
        if n == name:
            return f
    raise KeyError(f"{ctype.cname} has no member {name!r}")


def cffi_field(ffi: cffi.FFI, ctype: Any, designator: str) -> tuple[int, int, bool]:
    """cffi's ``(offset_bits, size_bits, bitfield)`` of a designator, as a snapshot gives it."""
    offset, t, f = 0, ctype, None
    for part in parse_designator(designator):
        if isinstance(part, int):
            t = t.item
            offset += part * ffi.sizeof(t) * 8
            f = None
            continue
        f = _field(t, part)
        offset += f.offset * 8 + max(f.bitshift, 0)
        t = f.type
    if f is not None and f.bitsize >= 0:
        return offset, f.bitsize, True
    flexible = t.kind == "array" and t.length is None
    return offset, 0 if flexible else ffi.sizeof(t) * 8, False


def is_empty(ctype: Any) -> bool:
    """Whether a record is, or holds, a record with no members (cffi makes it 1 byte, GNU C 0)."""
    while ctype.kind == "array":
        ctype = ctype.item
    if ctype.kind not in ("struct", "union"):
        return False
    return not ctype.fields or any(is_empty(f.type) for _, f in ctype.fields)


# --------------------------------------------------------------------------
# Scalars of a record, and filling them


@dataclass(frozen=True)
class Leaf:
    """One scalar of a record: a member, a bitfield, or an element of an array."""

    path: Path
    ctype: Any  #: cffi's type of the scalar (the declared type, for a bitfield)
    width: int  #: bits
    kind: str  #: ``int``, ``char``, ``bool``, ``float``, ``pointer``
    signed: bool


def _kind(ffi: cffi.FFI, ctype: Any) -> tuple[str, bool]:
    if ctype.kind in ("pointer", "function"):
        return "pointer", False
    if ctype.cname == "char":
        return "char", False
    if ctype.cname == "_Bool":
        return "bool", False
    if ctype.cname in ("float", "double"):
        return "float", True
    return "int", int(ffi.cast(ctype, -1)) < 0


def leaves(ffi: cffi.FFI, ctype: Any, path: Path = ()) -> Iterator[Leaf]:
    """Every scalar of a record, in declaration order (padding members and flexible arrays left out)."""
    for name, f in ctype.fields or ():
        if name.startswith(PADDING):
            continue
        if f.bitsize >= 0:
            kind, signed = _kind(ffi, f.type)
            yield Leaf((*path, name), f.type, f.bitsize, kind, signed)
        else:
            yield from _leaves_of(ffi, f.type, (*path, name))


def _leaves_of(ffi: cffi.FFI, t: Any, path: Path) -> Iterator[Leaf]:
    if t.kind == "array":
        for i in range(t.length or 0):  # a flexible array has no elements to fill
            yield from _leaves_of(ffi, t.item, (*path, i))
    elif t.kind in ("struct", "union"):
        yield from leaves(ffi, t, path)
    else:
        kind, signed = _kind(ffi, t)
        yield Leaf(path, t, ffi.sizeof(t) * 8, kind, signed)


def random_bits(rng: random.Random, leaf: Leaf) -> int:
    """A bit pattern the scalar can hold and give back unchanged."""
    if leaf.kind == "bool":
        return rng.randrange(2)
    if leaf.kind == "float":  # a NaN's payload need not survive a store
        value = rng.uniform(-1e6, 1e6)
        return int.from_bytes(struct.pack("<f" if leaf.width == 32 else "<d", value), "little")
    return rng.getrandbits(leaf.width)


def _value(ffi: cffi.FFI, leaf: Leaf, bits: int) -> object:
    """The Python value cffi stores as ``bits`` in this scalar."""
    if leaf.kind == "char":
        return bytes([bits])
    if leaf.kind == "float":
        fmt = "<f" if leaf.width == 32 else "<d"
        return struct.unpack(fmt, bits.to_bytes(leaf.width // 8, "little"))[0]
    if leaf.kind == "pointer":
        return ffi.cast(leaf.ctype, bits)
    if leaf.signed and bits >> (leaf.width - 1):
        return bits - (1 << leaf.width)
    return bits


def pack(ffi: cffi.FFI, ctype: Any, values: Sequence[tuple[Leaf, int]]) -> bytes:
    """A record of ``ctype`` with each scalar set, in order, to its bits; as bytes."""
    p = ffi.new(_cffi_backend.new_pointer_type(ctype))  # a type string would be parsed anew
    for leaf, bits in values:
        obj: Any = p
        for part in leaf.path[:-1]:
            obj = obj[part] if isinstance(part, int) else getattr(obj, part)
        last = leaf.path[-1]
        if isinstance(last, int):
            obj[last] = _value(ffi, leaf, bits)
        else:
            setattr(obj, last, _value(ffi, leaf, bits))
    return bytes(ffi.buffer(p))


def fill(ffi: cffi.FFI, ctype: Any, rng: random.Random) -> list[tuple[Leaf, int]]:
    """Random bits for every scalar of a record."""
    return [(leaf, random_bits(rng, leaf)) for leaf in leaves(ffi, ctype)]


def rebind(ffi: cffi.FFI, ctype: Any, values: Sequence[tuple[Leaf, int]]) -> list[tuple[Leaf, int]]:
    """The same designators and bits, as scalars of another FFI's record ``ctype``."""
    mine = {leaf.path: leaf for leaf in leaves(ffi, ctype)}
    return [(mine[leaf.path], bits) for leaf, bits in values]


# --------------------------------------------------------------------------
# What clang's layout implies


class ClangPlacer:
    """Where clang puts each scalar of a record, from its record layouts (``tests.oracle.clang``).

    clang names fields by ``offsetof()`` designators: members of unnamed
    records under their parent (``console.domU.mfn``, ``timers[0].config``),
    a member of a named record type as one entry whose record is listed on
    its own. A path is followed through those, and through the named records
    that cffi's types say a member has: ``types`` is cffi's type of each
    record key (cffi may spell ``struct shared_info`` as ``shared_info_t``).
    """

    def __init__(self, records: Mapping[str, Mapping[str, Any]], types: Mapping[str, Any]) -> None:
        self.records = records
        self.names = {t: name for name, t in types.items()}
        self._fields = {k: {f["name"]: f for f in r["fields"]} for k, r in records.items()}

    def place(self, key: str, ctype: Any, path: Path) -> tuple[int, int]:
        """clang's ``(offset_bits, size_bits)`` of the scalar at ``path`` in record ``key``."""
        fields, origin, shift = self._fields[key], 0, 0  # shift: elements past [0] of unnamed records
        t, designator, offset, size = ctype, "", 0, 0
        for part in path:
            if isinstance(part, int):
                element = size // t.length
                offset, size, shift = offset + part * element, element, shift + part * element
                t, designator = t.item, designator + "[0]"
                continue
            if designator and t in self.names:
                # a member of a named record type: that record's own entry and offsets
                fields, origin, shift, designator = self._fields[self.names[t]], offset, 0, ""
            designator = f"{designator}.{part}" if designator else part
            entry = fields[designator]
            offset, size = origin + entry["offset_bits"] + shift, entry["size_bits"]
            t = _field(t, part).type
        return offset, size

    def bytes(self, key: str, ctype: Any, values: Sequence[tuple[Leaf, int]]) -> bytes:
        """The bytes of record ``key`` with each scalar's bits set, in order, where clang puts it."""
        image = 0
        for leaf, bits in values:
            offset, size = self.place(key, ctype, leaf.path)
            if size != leaf.width:
                raise AssertionError(f"{key} {spell_path(leaf.path)}: {leaf.width} bits in cffi, "
                                     f"{size} in clang")
            mask = (1 << size) - 1
            image = (image & ~(mask << offset)) | (bits << offset)
        return image.to_bytes(int(self.records[key]["size"]), "little")
