"""Builders for the rule tests: tiny Xen trees on disk and hand-made snapshots.

A rule test writes a few lines of C into a temporary tree, reads the
``#define``s back with :func:`scan_constants` (simple integer expressions
only: literals, other macros, ``<<``, ``|``, ``~``, casts to fixed-width
types) and hands the rules a :class:`~xenabi.rules.Context` over snapshots
built here, so that the rules can be tested before, and independently of,
the real snapshot builder.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from xenabi.model import (
    Constant,
    Coord,
    IntConstant,
    FieldLayout,
    Finding,
    HeaderStatus,
    RecordLayout,
    Snapshot,
    Status,
    TypedefLayout,
)
from xenabi.analysis.context import Context
from xenabi.analysis.headertext import analyse
from xenabi.tree import PUBLIC, XenTree

XEN_COMPAT = "#define __XEN_LATEST_INTERFACE_VERSION__ 0x00040e00\n"


def make_tree(root: Path, headers: Mapping[str, str], *, xlat: str | None = None,
              reference_size: str | None = None,
              extra: Mapping[str, str] | None = None) -> XenTree:
    """A checkout-shaped tree under ``root`` with the given public headers."""
    public = root / PUBLIC
    files = {"xen.h": "", "xen-compat.h": XEN_COMPAT, **headers}
    for name, text in files.items():
        (public / name).parent.mkdir(parents=True, exist_ok=True)
        (public / name).write_text(text)
    if xlat is not None:
        (root / "xen/include/xlat.lst").write_text(xlat)
    if reference_size is not None:
        p = root / "tools/include/xen-foreign/reference.size"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(reference_size)
    for rel, text in (extra or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return XenTree("checkout", root, public, PUBLIC.as_posix() + "/")


# -- constants from header text

_DEFINE = re.compile(r"^\s*#\s*define\s+([A-Za-z_]\w*)\s+(.*?)\s*(?:/\*.*)?$")
_CAST = re.compile(r"\(\s*(?:const\s+)?(u?int(8|16|32|64)_t|unsigned(?: int)?|unsigned long"
                   r"(?: long)?|long(?: long)?|int)\s*\)")
_MK = re.compile(r"\bxen_mk_(?:uint|ulong|ullong)\b")
_LIT = re.compile(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]*\b")


def _py(expr: str, known: Mapping[str, int]) -> str:
    e = _MK.sub("", expr)
    e = _CAST.sub("", e)
    e = _LIT.sub(lambda m: str(int(m.group(1), 0)), e)
    e = re.sub(r"~\s*(\d+)", lambda m: str(~int(m.group(1)) & 0xFFFFFFFF), e)
    e = e.replace("||", " or ").replace("&&", " and ")

    def ident(m: re.Match[str]) -> str:
        if m.group(0) in known:
            return str(known[m.group(0)])
        raise ValueError(m.group(0))

    return re.sub(r"\b[A-Za-z_]\w*\b", ident, e)


def scan_constants(tree: XenTree, header: str) -> dict[str, Constant]:
    """Every ``#define NAME EXPR`` of a header whose EXPR is a simple integer expression."""
    out: dict[str, Constant] = {}
    known: dict[str, int] = {}
    kinds = analyse(tree.read(header)).kinds
    for no, line in enumerate(tree.read(header).splitlines(), 1):
        m = _DEFINE.match(line)
        if kinds[no - 1] != "#":
            continue  # a #define inside a comment
        if not m or "(" in m.group(1):
            continue
        name, expr = m.group(1), m.group(2)
        if line.lstrip().startswith("#define " + name + "("):
            continue
        try:
            value = int(eval(_py(expr, known), {"__builtins__": {}}))
        except (ValueError, SyntaxError, TypeError, ZeroDivisionError):
            continue  # not a simple integer expression
        known[name] = value
        out[name] = IntConstant(value, "macro", Coord(header, no), expr=expr)
    return out


def scan_all(tree: XenTree) -> dict[str, Constant]:
    out: dict[str, Constant] = {}
    for h in tree.headers:
        out.update(scan_constants(tree, h))
    return out


# -- records


def fld(name: str, type_: str, offset: int, size: int, *, bits: tuple[int, int] | None = None
        ) -> FieldLayout:
    """A field at ``offset`` bytes of ``size`` bytes (or ``bits=(offset_bits, width)``)."""
    if bits is not None:
        return FieldLayout(name, type_, bits[0], bits[1], True)
    return FieldLayout(name, type_, offset * 8, size * 8)


def rec(size: int, align: int, *fields: FieldLayout, kind: str = "struct",
        header: str = "xen.h", line: int = 1) -> RecordLayout:
    assert kind in ("struct", "union")
    return RecordLayout(kind, size, align, Coord(header, line), tuple(fields))  # type: ignore[arg-type]


def td(type_: str, size: int | None, align: int | None, header: str = "xen.h",
       line: int = 1) -> TypedefLayout:
    return TypedefLayout(type_, size, align, Coord(header, line))


def snapshot(arch: str = "x86_64", view: str = "tools", *,
             records: Mapping[str, RecordLayout] | None = None,
             constants: Mapping[str, Constant] | None = None,
             typedefs: Mapping[str, TypedefLayout] | None = None,
             headers: Iterable[str] = ("xen.h",)) -> Snapshot:
    return Snapshot(arch, view, 0x00040E00, dict(records or {}), dict(constants or {}),
                    dict(typedefs or {}), {h: HeaderStatus(Status.PARSED) for h in headers})


def context(tree: XenTree, snaps: Iterable[Snapshot]) -> Context:
    return Context(tree, {(s.arch, s.view): s for s in snaps})


def constants_context(tree: XenTree, arches: Iterable[str] = ("x86_64",),
                      views: Iterable[str] = ("tools",)) -> Context:
    """A context whose snapshots hold the constants scanned from every header of ``tree``."""
    consts = scan_all(tree)
    return context(tree, [snapshot(a, v, constants=consts, headers=tree.headers)
                          for a in arches for v in views])


# -- severities


def undeclared_severities(findings: Iterable[Finding]) -> list[str]:
    """Each finding whose severity its rule does not declare (``severities=`` of a
    registered rule, or a :data:`~xenabi.check.RUN_CHECKS` entry), as a line naming both."""
    from xenabi.check import RUN_CHECKS
    from xenabi.rules import REGISTRY

    declared = {**{r.id: r.severities for r in REGISTRY.values()},
                **{c.id: c.severities for c in RUN_CHECKS}}
    return [f"{f.rule} declares {', '.join(s.value for s in declared.get(f.rule, ())) or 'nothing'}"
            f" but reported: {f}" for f in findings if f.severity not in declared.get(f.rule, ())]
