"""cffi structs for any Xen target and view: create, fill and read them as bytes (the only cffi user).

Two builds, for two purposes:

- **plain** (host target only): the headers' own type declarations, as
  pycparser reads them, handed to cffi, which lays them out itself. Nothing
  here comes from the layout engine, so it is an independent check of it:
  ``sizeof(T)`` in an array dimension (which cffi's ``cdef`` rejects) is
  replaced by what this very FFI answers for ``T``, declared before it;
  attributes are dropped (``packed`` becomes cffi's ``packed=``); inline
  function bodies, prototypes and variables are left out.
- **explicit** (any target): every record as the engine lays it out for the
  target, spelled so that cffi cannot lay it out otherwise: packed, with
  explicit padding members; pointers, ``long`` and enums as fixed-width
  integers of the target's size; bitfields at their exact bit offsets
  (packed bitfields are contiguous, so unnamed bitfields pad between them).
  Alignment is not reproduced (every record is 1-aligned); sizes, offsets
  and bytes are the target's, checked against the engine when built.

All four targets are little-endian, so the bytes of a filled record are the
target's bytes. A 32-bit guest's start of day, as a domain builder's test
would write it (constants from the snapshot of the same target and view)::

    ffi = ffi_for(tree, "x86_32", "guest")
    sif = take(tree, "x86_32", "guest").constants
    p = ffi.new("struct hvm_start_info *", {
        "magic": sif["XEN_HVM_START_MAGIC_VALUE"].value, "version": 1,
        "flags": sif["SIF_PRIVILEGED"].value | sif["SIF_INITDOMAIN"].value})
    image = bytes(ffi.buffer(p))  # 56 bytes, as a 32-bit guest reads them
"""

from __future__ import annotations

import itertools
import platform
import re
import struct
from collections.abc import Iterable, Iterator
from typing import Any

import cffi  # type: ignore[import-untyped]

from xenabi.cparse import PlainDecl, build_api, parse_unit, plain_declarations
from xenabi.errors import HeaderError, UsageError, XenAbiError
from xenabi.layout import Layouter, Placed
from xenabi.model import (Api, Array, CType, EnumRef, Function, Pointer, Record, RecordRef, Scalar,
                          Status, TypedefRef, anonymous_key)
from xenabi.preprocess import Unit, preprocess
from xenabi.snapshot import take
from xenabi.targets import TARGETS, Target
from xenabi.tree import XenTree

#: ``platform.machine()`` of each host, and its pointer size, to the target cffi lays out for
_HOSTS = {("x86_64", 8): "x86_64", ("amd64", 8): "x86_64", ("x86_64", 4): "x86_32",
          ("i386", 4): "x86_32", ("i686", 4): "x86_32", ("aarch64", 8): "arm64",
          ("arm64", 8): "arm64", ("armv7l", 4): "arm32", ("armv8l", 4): "arm32"}

#: how a sizeof-like operator is asked of cffi, by the name the declarations use
_OPERATORS = {"sizeof": cffi.FFI.sizeof, "_Alignof": cffi.FFI.alignof}

#: the prefix of explicit padding members: never a Xen name, and skipped when walking fields
PADDING = "__xenabi_pad"


def host_arch() -> str | None:
    """The target cffi lays records out for in this interpreter (None: not a Xen target)."""
    return _HOSTS.get((platform.machine().lower(), struct.calcsize("P")))


def ffi_for(source: XenTree | Api, arch: str | None = None, view: str = "tools", *,
            explicit: bool | None = None) -> cffi.FFI:
    """A cffi FFI in which every record of ``arch`` and ``view`` can be created and filled.

    ``source`` is a tree (``arch`` and ``view`` choose what to read) or a
    model already read (its own arch and view). On the host target the FFI
    is the plain one unless ``explicit`` is true; elsewhere it is explicit,
    and so is any FFI built from a model (the plain build needs the text).
    """
    if isinstance(source, Api):
        if explicit is False:
            raise UsageError("a plain FFI is built from a tree's text, not from a model")
        return explicit_ffi(source)
    if arch is None or arch not in TARGETS:
        raise UsageError(f"unknown arch '{arch}' (known: {', '.join(TARGETS)})")
    if explicit is None:
        explicit = arch != host_arch()
    if not explicit and arch != host_arch():
        raise UsageError(f"cffi lays out for {host_arch() or 'this host'}, not {arch}: "
                         "use the explicit layout")
    unit, api = load(source, arch, view)
    return explicit_ffi(api) if explicit else plain_ffi(unit)


def load(tree: XenTree, arch: str, view: str) -> tuple[Unit, Api]:
    """The preprocessed text and the model of one target and view.

    Headers the snapshot found failed (which the parser rejects) are left out
    here too, so the FFI declares what the snapshot lists.
    """
    snap = take(tree, arch, view)
    failed = {h: s for h, s in snap.headers.items() if s.status is Status.FAILED}
    unit = preprocess(tree, arch, view, snap.interface_version, failed)
    conv = parse_unit(unit.text, unit.target, unit.public_dir)
    api = build_api(conv, arch, view, unit.interface_version, unit.macros, unit.headers)
    return unit, api


# --------------------------------------------------------------------------
# plain: the declarations as written, cffi's own layout


def plain_ffi(unit: Unit) -> cffi.FFI:
    """cffi's own layout of a preprocessed unit's declarations (host target only)."""
    ffi = cffi.FFI()
    pending: list[PlainDecl] = []
    for decl in plain_declarations(unit.text, unit.target, unit.public_dir):
        if not decl.public:
            continue  # xenabi's libc stand-ins: cffi knows stdint's types itself
        if decl.operands or decl.packed:
            _cdef(ffi, pending)  # what the operands name must be declared first
            pending = []
            _cdef(ffi, [decl], _answer_operands(ffi, decl), packed=decl.packed)
        else:
            pending.append(decl)
    _cdef(ffi, pending)
    return ffi


def _answer_operands(ffi: cffi.FFI, decl: PlainDecl) -> str:
    """The declaration with each ``sizeof(T)`` placeholder replaced by cffi's answer."""
    text = decl.text
    for o in decl.operands:
        try:
            value = _OPERATORS[o.op](ffi, o.type)
        except (cffi.FFIError, TypeError) as e:
            raise HeaderError(str(decl.coord), f"cffi cannot answer {o.op}({o.type}): {e}") from None
        text = text.replace(o.placeholder, str(value))
    return text


def _cdef(ffi: cffi.FFI, decls: list[PlainDecl], text: str | None = None,
          packed: bool = False) -> None:
    if not decls:
        return
    try:
        # override: C11 lets a typedef be repeated (cffi would reject the second)
        ffi.cdef(text if text is not None else "\n".join(d.text for d in decls),
                 packed=packed, override=True)
    except (cffi.CDefError, cffi.FFIError) as e:
        raise HeaderError(_culprit(decls, str(e)), f"cffi rejects the declaration: {e}") from None


def _culprit(decls: list[PlainDecl], message: str) -> str:
    """Where the declaration a cdef error points into is (cffi counts its input's lines)."""
    m = re.search(r":(\d+):", message)
    if m is not None:
        line = int(m.group(1))
        for d in decls:
            line -= d.text.count("\n") + 1
            if line <= 0:
                return str(d.coord)
    return str(decls[0].coord) if len(decls) == 1 else f"{decls[0].coord}..{decls[-1].coord}"


# --------------------------------------------------------------------------
# explicit: the engine's layout, spelled so that cffi reproduces it


def explicit_ffi(api: Api) -> cffi.FFI:
    """The engine's layout of every record of ``api``, as packed cffi records."""
    spell = _Explicit(api)
    ffi = cffi.FFI()
    try:
        ffi.cdef(spell.source(), packed=True)
    except (cffi.CDefError, cffi.FFIError) as e:
        raise XenAbiError(f"cffi rejects the explicit layout of {api.arch}: {e}") from None
    sizes = dict(spell.sizes())
    for name, ctype in types_of(ffi, sizes).items():
        if ffi.sizeof(ctype) != sizes[name]:
            raise XenAbiError(f"{name}: explicit FFI for {api.arch} is {ffi.sizeof(ctype)} bytes, "
                              f"the engine says {sizes[name]}")
    return ffi


def types_of(ffi: cffi.FFI, names: Iterable[str]) -> dict[str, Any]:
    """cffi's type of each C type name, such as ``struct vcpu_info`` or ``xen_uuid_t``.

    cffi parses every type string afresh behind a line per typedef it knows
    (for the Xen headers, ~70 ms a name); this parses once, by declaring in
    ``ffi`` a record ``__xenabi_indexN`` of pointers to them all. (Through a
    second FFI that includes ``ffi`` it would leave ``ffi`` unable to complete
    those records itself.)
    """
    names = list(names)
    tag = f"__xenabi_index{next(_indexes)}"
    ffi.cdef(f"struct {tag} {{ {' '.join(f'{n} *m{i};' for i, n in enumerate(names))} }};")
    fields = ffi.typeof(f"struct {tag}").fields
    return {n: f.type.item for n, (_, f) in zip(names, fields)}


_indexes = itertools.count()


def _public(file: str) -> bool:
    return not file.startswith(("/", "<"))


class _Explicit:
    """C text for cffi that fixes every offset of every record of one target."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.target: Target = TARGETS[api.arch]
        self.lay = Layouter(self.target, api.records, api.typedefs)
        self._pads = itertools.count()
        #: typedefs declared by name; any other (libc stand-ins) is spelled out
        self.typedefs = {n for n, td in api.typedefs.items()
                         if _public(td.coord.file) and self._declarable(td.type)}

    def source(self) -> str:
        """Enums (for their constants), then typedefs, then tagged records."""
        enums = [self._enum(key) for key in self.api.enums]
        typedefs = [f"typedef {self._decl(self.api.typedefs[n].type, n)};"
                    for n in self.api.typedefs if n in self.typedefs]
        records = [self._record(rec) for rec in self.api.records.values()
                   if rec.tag and self._complete(rec.key)]
        return "\n".join([*enums, *typedefs, *records])

    def sizes(self) -> Iterator[tuple[str, int]]:
        """Every record cffi can name, with the engine's size."""
        for key, rec in self.api.records.items():
            name = key if rec.tag else self.api.typedef_names.get(key)
            declared = name is not None and (rec.tag or name in self.typedefs)
            if declared and self._complete(key) and (size := self.lay.record(key).size) > 0:
                yield str(name), size

    # -- types

    def _declarable(self, t: CType) -> bool:
        """A typedef cffi can take: anything but a function type (pointers to them are integers)."""
        return not isinstance(self.lay.resolve(t), Function)

    def _complete(self, key: str) -> bool:
        try:
            self.lay.record(key)
        except XenAbiError:
            return False
        return True

    def _int(self, size: int, signed: bool) -> str:
        return f"{'' if signed else 'u'}int{size * 8}_t"

    def _scalar(self, name: str, declarator: str) -> str:
        if name in ("void", "char", "signed char", "unsigned char", "_Bool", "float", "double"):
            return f"{name} {declarator}"  # one size on every Xen target (double: 8)
        size = self.target.scalars[name].size
        if name == "long double":
            return f"uint8_t {declarator}[{size}]"  # 16, 12 or 8 bytes: no cffi type fits all
        return f"{self._int(size, not name.startswith('unsigned'))} {declarator}"

    def _decl(self, t: CType, declarator: str) -> str:
        """``t`` declaring ``declarator``, spelled with fixed-width types of this target."""
        match t:
            case Scalar(name):
                return self._scalar(name, declarator)
            case Pointer():
                return f"{self._int(self.target.pointer.size, False)} {declarator}"
            case EnumRef(key):
                signed = any(e.value < 0 for e in self.api.enums[key].members) \
                    if key in self.api.enums else True
                return f"{self._int(self.target.scalars['enum'].size, signed)} {declarator}"
            case Array(element, length):
                return self._decl(element, f"{declarator}[{'' if length is None else length}]")
            case RecordRef(key) if self.api.records.get(key) and not self.api.records[key].tag:
                rec = self.api.records[key]
                return f"{rec.kind} {{ {' '.join(self._members(rec))} }} {declarator}"
            case RecordRef(key):
                return f"{key} {declarator}"
            case TypedefRef(name) if name in self.typedefs:
                return f"{name} {declarator}"
            case TypedefRef(name):
                return self._decl(self.api.typedefs[name].type, declarator)
        raise XenAbiError(f"no explicit spelling for a member of type {t}")

    def _enum(self, key: str) -> str:
        enum = self.api.enums[key]
        tag = "" if anonymous_key(key) else key.split(" ", 1)[1]
        return f"enum {tag} {{ {', '.join(f'{e.name} = {e.value}' for e in enum.members)} }};"

    # -- records

    def _record(self, rec: Record) -> str:
        if self.lay.record(rec.key).size == 0:
            return f"{rec.key};"  # cffi gives every record a byte at least: leave it opaque
        return f"{rec.key} {{ {' '.join(self._members(rec))} }};"

    def _empty(self, m: Placed) -> bool:
        """A member of size 0 that is no flexible array: an empty record (or an array of them)."""
        t = self.lay.resolve(m.type)
        while isinstance(t, Array) and t.length is not None:
            t = self.lay.resolve(t.element)
        return not m.bitfield and m.size_bits == 0 and isinstance(t, RecordRef)

    def _members(self, rec: Record) -> list[str]:
        shape = self.lay.record(rec.key)
        if rec.kind == "union":
            out = [self._member(m) for m in shape.members]
            if max((m.size_bits for m in shape.members), default=0) < shape.size * 8:
                out.append(self._padding_bytes(shape.size))
            return out
        out, at = [], 0
        for i, m in enumerate(shape.members):
            out += self._padding(at, m.offset_bits, m.bitfield)
            last = i == len(shape.members) - 1
            flexible = m.size_bits == 0 and not m.bitfield
            # a flexible array member not at the very end needs padding after it,
            # which C does not allow after [] but cffi allows after [0]
            squeeze = flexible and (not last or m.offset_bits < shape.size * 8)
            out.append(self._member(m, squeeze))
            at = max(at, m.offset_bits + m.size_bits)
        out += self._padding(at, shape.size * 8, False)
        return out

    def _member(self, m: Placed, squeeze: bool = False) -> str:
        if m.bitfield:
            return f"{self._decl(m.type, m.name or '')} : {m.size_bits};"
        if self._empty(m):  # cffi would give it a byte; keep its name, take none
            return f"uint8_t {m.name}[0];" if m.name else ""
        if m.name is None:  # an anonymous struct or union member
            return f"{self._decl(m.type, '')};"
        t = self.lay.resolve(m.type)
        if squeeze and isinstance(t, Array):
            return f"{self._decl(Array(t.element, 0), m.name)};"
        return f"{self._decl(m.type, m.name)};"

    def _padding(self, at: int, to: int, bitfield: bool) -> list[str]:
        """Members that take a packed record from bit ``at`` to bit ``to``."""
        if not bitfield:
            at = -(-at // 8) * 8  # cffi starts a non-bitfield member at the next byte
        out = []
        if at < to and at % 8:
            n = min(to - at, 8 - at % 8)
            out.append(f"uint8_t : {n};")
            at += n
        if (to - at) // 8:
            out.append(self._padding_bytes((to - at) // 8))
            at += (to - at) // 8 * 8
        if at < to:
            out.append(f"uint8_t : {to - at};")
        return out

    def _padding_bytes(self, n: int) -> str:
        return f"uint8_t {PADDING}{next(self._pads)}[{n}];"
