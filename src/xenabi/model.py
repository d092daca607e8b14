"""The one data model every stage shares: C declarations, their layouts, and findings.

Nothing here imports pycparser or cffi; the adapters convert into these types.
Every class is a frozen dataclass: a model value can be cached, hashed and
compared, and no stage can change what another stage computed.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

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
            return f"{key.split()[0]} {{...}}" if "<anonymous" in key else key
        case Pointer(Function() as f):
            return f"{spell(f.result)} (*)({', '.join(spell(p) for p in f.params)})"
        case Pointer(target):
            return f"{spell(target)} *"
        case Array(element, length):
            return f"{spell(element)}[{'' if length is None else length}]"
        case Function(result, params, _):
            return f"{spell(result)} ()({', '.join(spell(p) for p in params)})"
    raise AssertionError(t)


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
    why: str | None = None  #: the reason for skipped and failed, with file:line when failed
    via: str | None = None  #: the header whose inclusion made this one valid

    def to_json(self) -> dict[str, str]:
        out = {"status": self.status.value}
        if self.why:
            out["why"] = self.why
        if self.via:
            out["via"] = self.via
        return out


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


@dataclass(frozen=True, slots=True)
class FieldLayout:
    """One ``offsetof()`` designator of a record: ``console.domU.mfn``."""

    name: str
    type: str  #: C spelling of the declared type
    offset_bits: int  #: from the start of the outermost record
    size_bits: int  #: bitfield width for bitfields, 0 for a flexible array member
    bitfield: bool = False

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "type": self.type, "offset_bits": self.offset_bits,
                "size_bits": self.size_bits, "bitfield": self.bitfield}


@dataclass(frozen=True, slots=True)
class RecordLayout:
    kind: Literal["struct", "union"]
    size: int
    align: int
    header: str
    line: int
    fields: tuple[FieldLayout, ...]

    def field(self, name: str) -> FieldLayout | None:
        return next((f for f in self.fields if f.name == name), None)

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, "size": self.size, "align": self.align,
                "header": self.header, "line": self.line,
                "fields": [f.to_json() for f in self.fields]}


@dataclass(frozen=True, slots=True)
class Constant:
    """An integer constant: an object-like macro or an enumerator, in its own C type."""

    value: int | str  #: str only for string macros
    kind: Literal["macro", "enumerator", "string"]
    header: str
    line: int
    ctype: str = "int"  #: ``unsigned long`` for ``~0UL``; the value already wraps to it
    expr: str | None = None  #: the macro body as written

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"value": self.value, "kind": self.kind, "type": self.ctype,
                                  "header": self.header, "line": self.line}
        if self.expr is not None:
            out["expr"] = self.expr
        return out


@dataclass(frozen=True, slots=True)
class TypedefLayout:
    type: str
    size: int | None  #: None for incomplete or function types
    align: int | None
    header: str
    line: int

    def to_json(self) -> dict[str, object]:
        return {"type": self.type, "size": self.size, "align": self.align,
                "header": self.header, "line": self.line}


SNAPSHOT_SCHEMA = "xenabi-snapshot/1"


@dataclass(frozen=True)
class Snapshot:
    """One target and view of a tree: what ``xenabi dump`` prints."""

    arch: str
    view: str
    interface_version: int
    records: Mapping[str, RecordLayout]
    constants: Mapping[str, Constant]
    typedefs: Mapping[str, TypedefLayout]
    headers: Mapping[str, HeaderStatus]

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
    def from_json(cls, data: Mapping[str, object]) -> Snapshot:
        """A snapshot from :meth:`to_json`'s form, or from :meth:`body`'s with arch and view added."""
        recs = data["records"]
        consts = data["constants"]
        tds = data["typedefs"]
        hdrs = data["headers"]
        assert isinstance(recs, dict) and isinstance(consts, dict)
        assert isinstance(tds, dict) and isinstance(hdrs, dict)
        return cls(
            arch=str(data["arch"]), view=str(data["view"]),
            interface_version=int(str(data["interface_version"]), 16),
            records={k: RecordLayout(kind=v["kind"], size=v["size"], align=v["align"],
                                     header=v["header"], line=v["line"],
                                     fields=tuple(FieldLayout(**f) for f in v["fields"]))
                     for k, v in recs.items()},
            constants={k: Constant(value=v["value"], kind=v["kind"], header=v["header"],
                                   line=v["line"], ctype=v.get("type", "int"),
                                   expr=v.get("expr"))
                       for k, v in consts.items()},
            typedefs={k: TypedefLayout(**v) for k, v in tds.items()},
            headers={k: HeaderStatus(Status(v["status"]), v.get("why"), v.get("via"))
                     for k, v in hdrs.items()},
        )


# --------------------------------------------------------------------------
# Findings (what rules report)


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


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
        where = f"{self.file}:{self.line}: " if self.file and self.line else (
            f"{self.file}: " if self.file else "")
        return f"{where}{self.severity.value}: {self.message} [{self.rule}]"

    def to_json(self) -> dict[str, object]:
        return {"rule": self.rule, "severity": self.severity.value, "message": self.message,
                "file": self.file, "line": self.line, "symbols": list(self.symbols),
                "arches": list(self.arches), "views": list(self.views), "waived": self.waived}
