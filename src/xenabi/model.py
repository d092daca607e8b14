"""The one data model every stage shares: C declarations, their layouts, and findings.

Nothing here imports pycparser or cffi; the adapters convert into these types.
Every class is a frozen dataclass: a model value can be cached, hashed and
compared, and no stage can change what another stage computed.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeAlias, TypeVar

# --------------------------------------------------------------------------
# Source positions


@dataclass(frozen=True, slots=True, order=True)
class Coord:
    """A position in a header: ``xen.h:876``.

    ``file`` is relative to the public headers directory in the model and in
    snapshots; findings re-root it at the tree (``xen/include/public/xen.h``).
    """

    file: str  #: path relative to the public headers directory
    line: int  #: 1-based line number
    column: int | None = None  #: 1-based column, when the parser knows it

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" + (f":{self.column}" if self.column else "")


# --------------------------------------------------------------------------
# C types (as declared; the layout engine gives them sizes per target)


@dataclass(frozen=True, slots=True)
class Scalar:
    """A C arithmetic type or void, spelled canonically: ``unsigned long``."""

    name: str  #: ``char``, ``signed char``, ``unsigned long long``, ``_Bool``, ``double``, ``void``...


@dataclass(frozen=True, slots=True)
class Pointer:
    """``T *``: its size is the target's pointer size, whatever ``T`` is."""

    target: CType


@dataclass(frozen=True, slots=True)
class Array:
    """``T name[N]``; ``length`` None is a flexible array member (``XEN_FLEX_ARRAY_DIM``)."""

    element: CType
    length: int | None


@dataclass(frozen=True, slots=True)
class RecordRef:
    """A use of ``struct TAG`` / ``union TAG``; ``key`` finds it in :attr:`Api.records`."""

    key: str  #: ``struct vcpu_info``, or a synthetic key for an anonymous record


@dataclass(frozen=True, slots=True)
class EnumRef:
    """A use of ``enum TAG`` (or of an anonymous enum)."""

    key: str


@dataclass(frozen=True, slots=True)
class TypedefRef:
    """A use of a typedef name; kept so that snapshots say ``uint32_t``, not ``unsigned int``."""

    name: str


@dataclass(frozen=True, slots=True)
class Function:
    """A function type; only ever seen behind a :class:`Pointer` in a record."""

    result: CType
    params: tuple[CType, ...]
    variadic: bool = False


CType: TypeAlias = Scalar | Pointer | Array | RecordRef | EnumRef | TypedefRef | Function


def anonymous_key(key: str) -> bool:
    """Whether a :class:`RecordRef` or :class:`EnumRef` key is the synthetic key of a
    record or enum without a tag (the parser's ``struct <anonymous at FILE:LINE:COL>``)."""
    return key.endswith(">") and " <anonymous at " in key


@functools.cache
def spell(t: CType) -> str:
    """The C spelling of a type, as a snapshot shows it: ``uint8_t[16]``, ``struct foo *``.

    Cached: a tree spells the same few thousand types over and over.
    """
    match t:
        case Scalar(name) | TypedefRef(name):
            return name
        case RecordRef(key) | EnumRef(key):
            # anonymous keys carry their position; the spelling must not
            return f"{key.split()[0]} {{...}}" if anonymous_key(key) else key
        case Pointer(Function() as f):
            return f"{spell(f.result)} (*)({', '.join(spell(p) for p in f.params)})"
        case Pointer(target):
            return f"{spell(target)} *"
        case Array(element, length):
            return f"{spell(element)}[{'' if length is None else length}]"
        case Function(result, params, _):
            return f"{spell(result)} ()({', '.join(spell(p) for p in params)})"
    raise AssertionError(t)


#: the names :class:`Scalar` spells (any other bare name a snapshot spells is a typedef's)
SCALARS = frozenset({
    "void", "_Bool", "char", "signed char", "unsigned char", "short", "unsigned short", "int",
    "unsigned int", "long", "unsigned long", "long long", "unsigned long long", "float",
    "double", "long double"})


@functools.cache
def spelled(text: str) -> CType:
    """The type a snapshot's spelling stands for: :func:`spell` read back.

    ``uint8_t[16]`` is ``Array(TypedefRef("uint8_t"), 16)``; a record without a tag
    (``struct {...}``) is a :class:`RecordRef` of that key, since the spelling does not
    say where it was declared. ``spell(spelled(s)) == s`` for every spelling :func:`spell`
    makes; raises ValueError on any other text.
    """
    s = text.strip()
    if s.endswith(" *"):
        return Pointer(spelled(s[:-2]))
    if s.endswith("]"):
        at = s.rindex("[")
        n = s[at + 1:-1]
        if n and not n.isdigit():
            raise ValueError(f"not a type spelling: {text!r}")
        return Array(spelled(s[:at]), int(n) if n else None)
    if s.endswith(")"):
        at = _open_paren(s)
        params = tuple(spelled(p) for p in _split_params(s[at + 1:-1]))
        for marker, pointer in ((" (*)", True), (" ()", False)):
            if s[:at].endswith(marker):
                f = Function(spelled(s[:at - len(marker)]), params)
                return Pointer(f) if pointer else f
        raise ValueError(f"not a type spelling: {text!r}")
    kind, _, tag = s.partition(" ")
    if kind in ("struct", "union", "enum"):
        if not tag:
            raise ValueError(f"not a type spelling: {text!r}")
        return EnumRef(s) if kind == "enum" else RecordRef(s)
    if s in SCALARS:
        return Scalar(s)
    if _IDENT.fullmatch(s):
        return TypedefRef(s)
    raise ValueError(f"not a type spelling: {text!r}")


_IDENT = re.compile(r"[A-Za-z_]\w*")


def _open_paren(s: str) -> int:
    """Where the parenthesis that closes ``s`` opens."""
    depth = 0
    for i in range(len(s) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(s[i], 0)
        if depth == 0:
            return i
    raise ValueError(f"not a type spelling: {s!r}")


def _split_params(s: str) -> list[str]:
    """``int, void (*)(int, char)`` -> ``["int", "void (*)(int, char)"]``."""
    out, depth, start = [], 0, 0
    for i, c in enumerate(s):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(c, 0)
        if c == "," and depth == 0:
            out.append(s[start:i])
            start = i + 1
    return [p for p in (*out, s[start:]) if p.strip()]


def element_type(t: CType) -> CType:
    """``t`` without its array dimensions: ``uint8_t`` for ``uint8_t[4][16]``."""
    while isinstance(t, Array):
        t = t.element
    return t


def canonical(t: CType, typedefs: Mapping[str, Typedef]) -> CType:
    """``t`` with every typedef name replaced by what it names: the type the compiler sees.

    ``domid_t`` is ``Scalar("unsigned short")``; a typedef the mapping lacks stays,
    and so does one that names an anonymous record or enum (``vcpu_guest_context_t``).
    """
    match t:
        case TypedefRef(name) if name in typedefs:
            named = typedefs[name].type
            if isinstance(named, RecordRef | EnumRef) and anonymous_key(named.key):
                return t  # the typedef is the only name the record has, as in clang
            return canonical(named, typedefs)
        case Pointer(target):
            return Pointer(canonical(target, typedefs))
        case Array(element, length):
            return Array(canonical(element, typedefs), length)
        case Function(result, params, variadic):
            return Function(canonical(result, typedefs),
                            tuple(canonical(p, typedefs) for p in params), variadic)
    return t


# --------------------------------------------------------------------------
# Declarations (one target, one view)


@dataclass(frozen=True, slots=True)
class Field:
    """One member of a struct or union.

    .. code-block:: c

        struct vcpu_time_info { uint32_t version; uint64_aligned_t tsc : 3; };
                                         ~~~~~~~                    ~~~ ~~~
                                         name          align=8      name bits
    """

    name: str | None  #: None for an anonymous struct/union member or an unnamed bitfield
    type: CType
    coord: Coord
    bits: int | None = None  #: bitfield width; 0 for ``int : 0``
    align: int | None = None  #: ``__attribute__((aligned(N)))`` / ``_Alignas(N)`` on the member
    packed: bool = False  #: ``__attribute__((packed))`` on the member


@dataclass(frozen=True, slots=True)
class Record:
    """A struct or union definition."""

    kind: Literal["struct", "union"]
    key: str  #: ``struct NAME``, ``union NAME``, or a synthetic key when anonymous
    tag: str | None  #: None when anonymous
    fields: tuple[Field, ...]
    coord: Coord
    packed: bool = False
    align: int | None = None  #: ``__attribute__((aligned(N)))`` on the record
    pack: int | None = None  #: ``#pragma pack(N)`` in force where the record is defined


@dataclass(frozen=True, slots=True)
class Typedef:
    name: str
    type: CType
    coord: Coord
    align: int | None = None  #: an ``aligned(N)`` attribute on the typedef


@dataclass(frozen=True, slots=True)
class Enumerator:
    name: str
    value: int
    coord: Coord


@dataclass(frozen=True, slots=True)
class Enum:
    key: str  #: ``enum NAME`` or a synthetic key
    members: tuple[Enumerator, ...]
    coord: Coord


@dataclass(frozen=True, slots=True)
class MacroDef:
    """``#define NAME body`` or ``#define NAME(params) body``, as cpp left it in force."""

    name: str
    params: tuple[str, ...] | None  #: None for an object-like macro
    body: str
    coord: Coord


class Status(str, enum.Enum):
    """What became of a header: read, left out by design, or broken."""

    PARSED = "parsed"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class HeaderStatus:
    status: Status
    why: str | None = None  #: the reason for skipped and failed, without its location
    via: str | None = None  #: the header whose inclusion made this one valid
    coord: Coord | None = None  #: where the reason lies, when a line of a header is to blame

    def to_json(self) -> dict[str, str]:
        out = {"status": self.status.value}
        if self.why:
            out["why"] = f"{self.coord}: {self.why}" if self.coord else self.why
        if self.via:
            out["via"] = self.via
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, str]) -> HeaderStatus:
        """The inverse of :meth:`to_json`: a reason that starts ``file:line: `` gets its coord."""
        why = data.get("why")
        coord = None
        if why is not None:
            m = _LOCATED.match(why)
            if m:
                coord, why = Coord(m.group(1), int(m.group(2))), m.group(3)
        return cls(Status(data["status"]), why, data.get("via"), coord)


#: a reason as :meth:`HeaderStatus.to_json` writes it when it has a coord
_LOCATED = re.compile(r"([^\s:]+\.h):(\d+): (.*)\Z", re.S)


@dataclass(frozen=True)
class Api:
    """Every declaration in the public headers, as one target and view see them."""

    arch: str
    view: str
    interface_version: int
    records: Mapping[str, Record]
    typedefs: Mapping[str, Typedef]
    enums: Mapping[str, Enum]
    macros: Mapping[str, MacroDef]
    headers: Mapping[str, HeaderStatus]
    #: anonymous records first named by a typedef: record key -> typedef name
    typedef_names: Mapping[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------
# Snapshot: computed layouts and values (the contract of ``xenabi dump``)


class _Located:
    """``header`` and ``line`` of a value located by its ``coord``, for code that has
    not moved to :attr:`coord` (the rules)."""

    __slots__ = ()
    coord: Coord

    @property
    def header(self) -> str:
        return self.coord.file

    @property
    def line(self) -> int:
        return self.coord.line


@dataclass(frozen=True, slots=True, order=True)
class RecordKey:
    """What names a record in a snapshot; ``str()`` is its key in the JSON.

    Exactly one of ``tag``, ``typedef`` and ``position`` is set: ``struct vcpu_info``
    (a tag), ``vcpu_guest_context_t`` (the typedef that names an anonymous record),
    or ``struct <anonymous at xen.h:12:5>`` (an anonymous record no typedef names).
    """

    kind: Literal["struct", "union"]
    tag: str | None = None  #: the record's tag
    typedef: str | None = None  #: the typedef name of an anonymous record
    position: Coord | None = None  #: where an anonymous record no typedef names is defined

    def __str__(self) -> str:
        if self.tag is not None:
            return f"{self.kind} {self.tag}"
        if self.typedef is not None:
            return self.typedef
        return f"{self.kind} <anonymous at {self.position}>"

    @property
    def anonymous(self) -> bool:
        """True when the record has no tag (a typedef or its position names it)."""
        return self.tag is None

    @classmethod
    def parse(cls, text: str, kind: Literal["struct", "union"]) -> RecordKey:
        """The key whose ``str()`` is ``text``, for a record of ``kind``."""
        if text.startswith(f"{kind} <anonymous at ") and text.endswith(">"):
            file, _, rest = text[len(f"{kind} <anonymous at "):-1].partition(":")
            line, _, col = rest.partition(":")
            return cls(kind, position=Coord(file, int(line), int(col) if col else None))
        if text.startswith(f"{kind} "):
            return cls(kind, tag=text[len(kind) + 1:])
        return cls(kind, typedef=text)


def _typed(d: Mapping[str, Any], types: Mapping[str, tuple[type, ...]]) -> None:
    """Raise TypeError unless each of ``types``' keys in ``d`` has one of its types
    (exactly: ``True`` is no int here, ``1`` no bool)."""
    # a file repeats a few shapes (keys and value types) thousands of times
    shape = (id(types), tuple(d), tuple(map(type, d.values())))
    if shape in _SHAPES_SEEN:
        return
    for key, allowed in types.items():
        if key in d and type(d[key]) not in allowed:
            raise TypeError(f"{key!r} is {type(d[key]).__name__}: {d[key]!r}")
    _SHAPES_SEEN.add(shape)


_SHAPES_SEEN: set[tuple[int, tuple[str, ...], tuple[type, ...]]] = set()


_FIELD_TYPES = {"name": (str,), "type": (str,), "offset_bits": (int,), "size_bits": (int,),
                "bitfield": (bool,), "canonical": (str,)}
_RECORD_TYPES = {"kind": (str,), "size": (int,), "align": (int,), "header": (str,),
                 "line": (int,), "fields": (list,)}
_TYPEDEF_TYPES = {"type": (str,), "size": (int, type(None)), "align": (int, type(None)),
                  "header": (str,), "line": (int,), "canonical": (str,)}
_CONSTANT_TYPES = {"kind": (str,), "type": (str,), "header": (str,), "line": (int,),
                   "expr": (str,), "enum": (str,)}


@dataclass(frozen=True, slots=True)
class FieldLayout:
    """One ``offsetof()`` designator of a record: ``console.domU.mfn``."""

    name: str
    type: str  #: C spelling of the declared type: ``domid_t``
    offset_bits: int  #: from the start of the outermost record
    size_bits: int  #: bitfield width for bitfields, 0 for a flexible array member
    bitfield: bool = False
    #: the type the compiler sees, typedefs resolved: ``unsigned short`` (None: as ``type``)
    canonical: str | None = None

    @property
    def canonical_type(self) -> str:
        """:attr:`canonical`, or :attr:`type` when they are the same."""
        return self.type if self.canonical is None else self.canonical

    @property
    def ctype(self) -> CType:
        """The declared type, as the model's :data:`CType`: ``TypedefRef("domid_t")``."""
        return spelled(self.type)

    @property
    def canonical_ctype(self) -> CType:
        """What the compiler sees, as a :data:`CType`: ``Scalar("unsigned short")``."""
        return spelled(self.canonical_type)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"name": self.name, "type": self.type,
                                  "offset_bits": self.offset_bits,
                                  "size_bits": self.size_bits, "bitfield": self.bitfield}
        if self.canonical is not None:
            out["canonical"] = self.canonical
        return out

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> FieldLayout:
        _typed(d, _FIELD_TYPES)
        return cls(d["name"], d["type"], d["offset_bits"], d["size_bits"], d["bitfield"],
                   d.get("canonical"))


@dataclass(frozen=True, slots=True)
class RecordLayout(_Located):
    """A record's size, alignment and fields on one target and view."""

    kind: Literal["struct", "union"]
    size: int
    align: int
    coord: Coord  #: where the record is defined
    fields: tuple[FieldLayout, ...]

    def field(self, name: str) -> FieldLayout | None:
        return next((f for f in self.fields if f.name == name), None)

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, "size": self.size, "align": self.align,
                "header": self.coord.file, "line": self.coord.line,
                "fields": [f.to_json() for f in self.fields]}

    @classmethod
    def from_json(cls, d: Mapping[str, Any],
                  field: Callable[[Mapping[str, Any]], FieldLayout] = FieldLayout.from_json
                  ) -> RecordLayout:
        """The inverse of :meth:`to_json`; ``field`` decodes each field."""
        _typed(d, _RECORD_TYPES)
        if d["kind"] not in ("struct", "union"):
            raise ValueError(f"a record of kind {d['kind']!r}")
        return cls(d["kind"], d["size"], d["align"], Coord(d["header"], d["line"]),
                   tuple(field(f) for f in d["fields"]))


@dataclass(frozen=True, slots=True)
class IntConstant(_Located):
    """An integer constant: an object-like macro or an enumerator, in its own C type."""

    value: int  #: already wrapped to :attr:`ctype`
    kind: Literal["macro", "enumerator"]
    coord: Coord  #: the ``#define`` or the enumerator
    ctype: Scalar = Scalar("int")  #: ``unsigned long`` for ``~0UL``; ``int`` for an enumerator
    expr: str | None = None  #: the macro body as written (None for an enumerator)
    #: an enumerator's enum: ``enum xenbus_state``, the typedef naming an anonymous
    #: enum, or ``enum <anonymous at FILE:LINE>``
    enum: str | None = None

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"value": self.value, "kind": self.kind,
                                  "type": self.ctype.name, "header": self.coord.file,
                                  "line": self.coord.line}
        if self.expr is not None:
            out["expr"] = self.expr
        if self.enum is not None:
            out["enum"] = self.enum
        return out


@dataclass(frozen=True, slots=True)
class StrConstant(_Located):
    """A string macro: ``#define XEN_IO_PROTO_ABI_X86_64 "x86_64-abi"``."""

    value: str  #: the characters between the quotes, escapes as written
    coord: Coord  #: the ``#define``
    expr: str  #: the macro body as written, quotes included

    kind: ClassVar[Literal["string"]] = "string"
    ctype: ClassVar[Array] = Array(Scalar("char"), None)

    def to_json(self) -> dict[str, object]:
        return {"value": self.value, "kind": "string", "type": "char[]",
                "header": self.coord.file, "line": self.coord.line, "expr": self.expr}


#: a constant of a snapshot; ``isinstance(c, IntConstant)`` tells the two apart
Constant: TypeAlias = IntConstant | StrConstant


def constant_from_json(d: Mapping[str, Any]) -> Constant:
    """The inverse of ``to_json`` of either constant class."""
    _typed(d, _CONSTANT_TYPES)
    coord = Coord(d["header"], d["line"])
    if d["kind"] == "string":
        if not isinstance(d["value"], str) or d.get("type") != "char[]":
            raise ValueError("a string constant holds a string of type char[]")
        return StrConstant(d["value"], coord, d["expr"])
    if d["kind"] not in ("macro", "enumerator") or type(d["value"]) is not int:
        raise ValueError(f"a constant of kind {d['kind']!r} holding {d['value']!r}")
    return IntConstant(d["value"], d["kind"], coord, Scalar(d["type"]), d.get("expr"),
                       d.get("enum"))


@dataclass(frozen=True, slots=True)
class TypedefLayout(_Located):
    """A typedef's type, size and alignment on one target and view."""

    type: str  #: C spelling of the aliased type: ``uint64_t``
    size: int | None  #: None for incomplete or function types
    align: int | None
    coord: Coord  #: the typedef
    #: the type the compiler sees, typedefs resolved: ``unsigned long long`` (None: as ``type``)
    canonical: str | None = None

    @property
    def canonical_type(self) -> str:
        """:attr:`canonical`, or :attr:`type` when they are the same."""
        return self.type if self.canonical is None else self.canonical

    @property
    def ctype(self) -> CType:
        """The aliased type, as the model's :data:`CType`."""
        return spelled(self.type)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"type": self.type, "size": self.size, "align": self.align,
                                  "header": self.coord.file, "line": self.coord.line}
        if self.canonical is not None:
            out["canonical"] = self.canonical
        return out

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> TypedefLayout:
        _typed(d, _TYPEDEF_TYPES)
        return cls(d["type"], d["size"], d["align"], Coord(d["header"], d["line"]),
                   d.get("canonical"))


SNAPSHOT_SCHEMA = "xenabi-snapshot/1"

#: a value of a snapshot that :meth:`Snapshot.body` writes with its own ``to_json``
Encoded: TypeAlias = "RecordLayout | Constant | TypedefLayout | HeaderStatus"

_D = TypeVar("_D")


def _flat_key(d: Mapping[str, Any]) -> tuple[object, ...]:
    """What tells two JSON objects of scalars apart: their items and the types of their
    values (``1`` equals ``True`` and hashes alike, but only one is a bitfield flag).
    Raises TypeError for a value that is no scalar, AttributeError for no object."""
    return (tuple(d.items()), tuple(map(type, d.values())))


class Decoder:
    """Decodes snapshot bodies into one object per distinct value.

    The eight target-views of a tree, and two trees a patch apart, repeat most
    of their records, fields, constants and typedefs (of 4.17's and a one-line
    edit's sixteen bodies, a tenth are distinct): each distinct value is decoded
    and type-checked once and shared, so that a comparison finds equal values
    identical. :attr:`new` lists the values decoded afresh with the JSON they
    came from, for a caller that checks that they write it back. A value equal
    to one in ``shared`` (by value: another decoder's, the other side of a
    diff) is that one.
    """

    def __init__(self, shared: dict[object, object] | None = None) -> None:
        self._values: dict[tuple[object, ...], object] = {}
        self._equal = shared
        self.new: list[tuple[Encoded, Mapping[str, Any]]] = []

    def _shared(self, key: tuple[object, ...], d: Mapping[str, Any],
                make: Callable[[Mapping[str, Any]], _D], top: bool) -> _D:
        hit = self._values.get(key)
        if hit is not None:
            return hit  # type: ignore[return-value]
        value = make(d)
        if self._equal is not None:
            value = self._equal.setdefault(value, value)  # type: ignore[assignment]
        self._values[key] = value
        if top:
            self.new.append((value, d))  # type: ignore[arg-type]
        return value

    def _flat(self, kind: str, d: Mapping[str, Any], make: Callable[[Mapping[str, Any]], _D],
              top: bool = True) -> _D:
        try:
            key = (kind, *_flat_key(d))
        except (TypeError, AttributeError):
            return make(d)  # not a JSON object of scalars: ``make`` says what is wrong
        return self._shared(key, d, make, top)

    def field(self, d: Mapping[str, Any]) -> FieldLayout:
        return self._flat("field", d, FieldLayout.from_json, top=False)

    def record(self, d: Mapping[str, Any]) -> RecordLayout:
        try:
            key = ("record", tuple(d), tuple(v for k, v in d.items() if k != "fields"),
                   tuple(map(type, d.values())), tuple(_flat_key(f) for f in d["fields"]))
        except (TypeError, AttributeError, KeyError):
            return RecordLayout.from_json(d, self.field)  # which says what is wrong
        return self._shared(key, d, self._record, True)

    def _record(self, d: Mapping[str, Any]) -> RecordLayout:
        return RecordLayout.from_json(d, self.field)

    def constant(self, d: Mapping[str, Any]) -> Constant:
        return self._flat("constant", d, constant_from_json)

    def typedef(self, d: Mapping[str, Any]) -> TypedefLayout:
        return self._flat("typedef", d, TypedefLayout.from_json)

    def header(self, d: Mapping[str, Any]) -> HeaderStatus:
        return self._flat("header", d, HeaderStatus.from_json)


@dataclass(frozen=True)
class Snapshot:
    """One target and view of a tree: what ``xenabi dump`` prints."""

    arch: str
    view: str
    interface_version: int
    records: Mapping[str, RecordLayout]  #: keyed by ``str(RecordKey)``; see :meth:`record_keys`
    constants: Mapping[str, Constant]
    typedefs: Mapping[str, TypedefLayout]
    headers: Mapping[str, HeaderStatus]

    def record_keys(self) -> dict[RecordKey, RecordLayout]:
        """:attr:`records` keyed by :class:`RecordKey`."""
        return {RecordKey.parse(k, r.kind): r for k, r in self.records.items()}

    def body(self) -> dict[str, object]:
        """Everything but the schema, arch and view: what ``xenabi snapshot`` nests per target."""
        return {
            "interface_version": f"0x{self.interface_version:08x}",
            "records": {k: v.to_json() for k, v in sorted(self.records.items())},
            "constants": {k: v.to_json() for k, v in sorted(self.constants.items())},
            "typedefs": {k: v.to_json() for k, v in sorted(self.typedefs.items())},
            "headers": {k: v.to_json() for k, v in sorted(self.headers.items())},
        }

    def to_json(self) -> dict[str, object]:
        """What ``xenabi dump`` prints."""
        return {"schema": SNAPSHOT_SCHEMA, "arch": self.arch, "view": self.view, **self.body()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], decoder: Decoder | None = None) -> Snapshot:
        """A snapshot from :meth:`to_json`'s form, or from :meth:`body`'s with arch and view
        added; ``decoder`` shares the values of the snapshots it decodes (without one, each
        value is decoded on its own: for one snapshot, keying its values costs twice what
        sharing saves).

        Raises KeyError, TypeError or ValueError on a mapping of another shape.
        """
        record, constant, typedef, header = (
            (RecordLayout.from_json, constant_from_json, TypedefLayout.from_json,
             HeaderStatus.from_json) if decoder is None else
            (decoder.record, decoder.constant, decoder.typedef, decoder.header))
        return cls(
            arch=str(data["arch"]), view=str(data["view"]),
            interface_version=int(str(data["interface_version"]), 16),
            records={k: record(v) for k, v in data["records"].items()},
            constants={k: constant(v) for k, v in data["constants"].items()},
            typedefs={k: typedef(v) for k, v in data["typedefs"].items()},
            headers={k: header(v) for k, v in data["headers"].items()},
        )


# --------------------------------------------------------------------------
# Findings (what rules report)


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


def place(file: str | None, line: int | None) -> str:
    """``file:line``, ``file`` or nothing: where a finding or change is."""
    return f"{file}:{line}" if file and line else (file or "")


def _place(file: str | None, line: int | None) -> str:
    """``file:line: ``, ``file: `` or nothing: how a finding or change line starts."""
    return f"{p}: " if (p := place(file, line)) else ""


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a rule says about a tree, located at a line of it.

    ``file`` is relative to the tree root (``xen/include/public/xen.h``).
    """

    rule: str
    severity: Severity
    message: str
    file: str | None
    line: int | None
    symbols: tuple[str, ...] = ()
    arches: tuple[str, ...] = ()
    views: tuple[str, ...] = ()
    waived: bool = False

    def __str__(self) -> str:
        return f"{_place(self.file, self.line)}{self.severity.value}: {self.message} [{self.rule}]"

    def to_json(self) -> dict[str, object]:
        return {"rule": self.rule, "severity": self.severity.value, "message": self.message,
                "file": self.file, "line": self.line, "symbols": list(self.symbols),
                "arches": list(self.arches), "views": list(self.views), "waived": self.waived}

    def identity(self) -> tuple[str, tuple[str, ...], str]:
        """What makes two findings the same across versions: the rule, the symbols and
        the message without line numbers and suggestions, so that moving lines (a field
        added above an old finding) never makes an old finding new."""
        plain = _LINE_NUMBER.sub(lambda m: m.group(1) or "", self.message)
        return (self.rule, self.symbols, _NO_SUGGESTION.sub("", plain).strip())


#: ``xen.h:876``, ``(line 878)``, ``, line 878``: where a message names a line
_LINE_NUMBER = re.compile(r"(\.(?:h|md|lst|pandoc|size)):\d+(?::\d+)?"
                          r"|,?\s*\(?\blines? \d+(?:-\d+)?\)?")
#: ``; did you mean X?``, ``(did you mean X?)``: a suggestion that depends on what else exists
_NO_SUGGESTION = re.compile(r"[;,]?\s*\(?did you mean[^)]*\)?\??")


# --------------------------------------------------------------------------
# Changes (what ``diff`` reports between two versions)


class ChangeClass(str, enum.Enum):
    """How much a change matters to those who built against the base."""

    BREAKING = "breaking"  #: what was built against the base no longer works
    SUSPICIOUS = "suspicious"  #: a reviewer must look: legal C, likely wrong
    COMPATIBLE = "compatible"  #: additions, explicit padding, version bumps


@dataclass(frozen=True, slots=True)
class Change:
    """One change of one symbol between two versions, on the targets and views it holds.

    ``before`` and ``after`` are per target (``{"x86_64": "64"}``): the values
    differ between targets as often as not (a size, an offset).
    """

    kind: str  #: ``record-size-changed``, ``constant-added``, ``field-in-padding``...
    cls: ChangeClass
    symbol: str  #: ``struct vcpu_info``, ``SIF_HVM_GHCB``, ``struct vcpu_info.evtchn_pending_sel``
    message: str  #: the change as a sentence, without the targets
    file: str | None  #: relative to the tree root; HEAD's place (BASE's for a removal)
    line: int | None
    arches: tuple[str, ...] = ()
    views: tuple[str, ...] = ()
    before: tuple[tuple[str, str], ...] = ()  #: (arch, value) pairs
    after: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        return f"{_place(self.file, self.line)}{self.cls.value}: {self.message}"

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, "class": self.cls.value, "symbol": self.symbol,
                "message": self.message, "file": self.file, "line": self.line,
                "arches": list(self.arches), "views": list(self.views),
                "before": dict(self.before), "after": dict(self.after)}
