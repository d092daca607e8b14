"""clang as an oracle: integer constant expressions, record layouts, whole Xen header trees.

Everything is computed by libclang (the ``libclang`` wheel) for a ``--target``
triple, freestanding, with the resource headers of Debian's ``clang`` (the
wheel ships none): clang's own ``stdint.h`` and ``stddef.h``, no host libc.
"""

from __future__ import annotations

import atexit
import bisect
import ctypes
import functools
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import clang.cindex as ci

from xenabi.targets import TARGETS, Target

#: clang's warnings for undefined behaviour in a constant expression: clang
#: still folds these to some value, but C gives them none
UB_WARNINGS = frozenset({
    "-Wshift-count-overflow", "-Wshift-count-negative", "-Wshift-negative-value",
    "-Wshift-overflow", "-Winteger-overflow", "-Wdivision-by-zero",
    # folded although not an integer constant expression (a GNU extension)
    "-Wgnu-folding-constant",
})

_CXEval_Int = 1


@functools.cache
def _lib() -> ctypes.CDLL:
    """libclang with the evaluation API declared (the Python binding has no method for it)."""
    lib = ci.conf.lib
    lib.clang_Cursor_Evaluate.restype = ctypes.c_void_p
    lib.clang_Cursor_Evaluate.argtypes = [ci.Cursor]
    for name, restype in (("clang_EvalResult_getKind", ctypes.c_int),
                          ("clang_EvalResult_isUnsignedInt", ctypes.c_uint),
                          ("clang_EvalResult_getAsUnsigned", ctypes.c_ulonglong),
                          ("clang_EvalResult_getAsLongLong", ctypes.c_longlong)):
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = [ctypes.c_void_p]
    lib.clang_EvalResult_dispose.restype = None
    lib.clang_EvalResult_dispose.argtypes = [ctypes.c_void_p]
    for name in ("clang_Cursor_isMacroFunctionLike", "clang_Cursor_isAnonymous",
                 "clang_Cursor_isAnonymousRecordDecl"):
        fn = getattr(lib, name)
        fn.restype = ctypes.c_uint
        fn.argtypes = [ci.Cursor]
    return lib


@functools.cache
def resource_dir() -> str:
    """The resource directory of the host's clang (freestanding ``stdint.h`` and friends)."""
    exe = shutil.which("clang")
    if exe is None:
        raise RuntimeError("no `clang` on PATH: the oracle needs its resource headers "
                           "(Debian package `clang`)")
    return subprocess.run([exe, "-print-resource-dir"], check=True, capture_output=True,
                          text=True).stdout.strip()


def base_args(triple: str) -> list[str]:
    """Compiler arguments for one target: GNU C11, freestanding, no host include directories."""
    return ["-x", "c", "-std=gnu11", f"--target={triple}", "-ffreestanding", "-nostdlibinc",
            "-resource-dir", resource_dir(), "-ferror-limit=0"]


@functools.cache
def _index() -> ci.Index:
    return ci.Index.create()


def parse(triple: str, text: str, args: Sequence[str] = (), *, detailed: bool = False,
          name: str = "/xenabi-oracle/main.c") -> ci.TranslationUnit:
    """Parse C text (held in memory as ``name``) for a target."""
    options = ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD if detailed else 0
    return _index().parse(name, [*base_args(triple), *args], unsaved_files=[(name, text)],
                          options=options)


def evaluate(cursor: ci.Cursor) -> int | None:
    """clang's integer value of a variable's initializer, or None when it is no integer."""
    lib = _lib()
    res = lib.clang_Cursor_Evaluate(cursor)
    if not res:
        return None
    try:
        if lib.clang_EvalResult_getKind(res) != _CXEval_Int:
            return None
        if lib.clang_EvalResult_isUnsignedInt(res):
            return int(lib.clang_EvalResult_getAsUnsigned(res))
        return int(lib.clang_EvalResult_getAsLongLong(res))
    finally:
        lib.clang_EvalResult_dispose(res)


def ctype_spelling(t: ci.Type) -> str:
    """A type's canonical spelling without qualifiers: ``unsigned long``, ``enum foo``."""
    spelled = t.get_canonical().spelling
    words = [w for w in spelled.split() if w not in ("const", "volatile")]
    return " ".join(words)


# --------------------------------------------------------------------------
# Integer constant expressions

_V = "__oracle_v_"  # probe variables
_S = "__oracle_s_"  # sentinels


def _probe(i: int, expr: str) -> str:
    # __typeof__ keeps the expression's own type (unsigned long for ~0UL); the
    # _Static_assert makes clang check that it is an integer constant expression,
    # which a static initializer alone does not (address constants pass there).
    # The sentinel on a line of its own parses cleanly only if this probe left
    # the parser at file scope, so a later probe can tell whether to trust itself.
    return (f"static const __typeof__(({expr})) {_V}{i} = ({expr});\n"
            f"_Static_assert((({expr}) || 1), \"\");\n"
            f"static const int {_S}{i} = 1;\n")


def _run_probes(triple: str, prelude: str, exprs: Sequence[str], args: Sequence[str] = (),
                name: str = "/xenabi-oracle/exprs.c"
                ) -> tuple[list[tuple[int, str] | None], list[int]]:
    """Evaluate every expression in one TU; also return which results cannot be trusted."""
    parts = [prelude if not prelude or prelude.endswith("\n") else prelude + "\n"]
    lines = parts[0].count("\n")
    starts: list[int] = []
    sentinels: list[int] = []
    for i, expr in enumerate(exprs):
        starts.append(lines + 1)
        parts.append(_probe(i, expr))
        lines += parts[-1].count("\n")
        sentinels.append(lines)
    tu = parse(triple, "".join(parts), args, name=name)
    rejected: set[int] = set()
    broken_sentinels: set[int] = set()
    for d in tu.diagnostics:
        loc = d.location
        if loc.file is None or loc.file.name != name or not starts or loc.line < starts[0]:
            continue
        i = bisect.bisect_right(starts, loc.line) - 1
        if d.severity >= ci.Diagnostic.Error:
            (broken_sentinels if loc.line == sentinels[i] else rejected).add(i)
        elif d.option in UB_WARNINGS and loc.line != sentinels[i]:
            rejected.add(i)
    probes: dict[str, ci.Cursor] = {}
    for c in tu.cursor.get_children():
        if c.kind == ci.CursorKind.VAR_DECL and c.spelling.startswith((_V, _S)):
            probes[c.spelling] = c
    results: list[tuple[int, str] | None] = []
    for i in range(len(exprs)):
        sentinel = probes.get(f"{_S}{i}")
        if sentinel is None or evaluate(sentinel) != 1:
            broken_sentinels.add(i)
        c = probes.get(f"{_V}{i}")
        value = None if c is None or i in rejected else evaluate(c)
        results.append(None if value is None or c is None else (value, ctype_spelling(c.type)))
    untrusted = [i for i in range(1, len(exprs)) if i - 1 in broken_sentinels]
    return results, untrusted


def evaluate_exprs(triple: str, prelude: str, exprs: list[str]) -> list[tuple[int, str] | None]:
    """clang's value and type of each C expression, after ``prelude``, for one target.

    Each expression ``E`` is compiled as ``static const __typeof__((E)) v = (E);``.
    The result is ``(value, type)``: the value in the expression's own C type
    (``~0UL`` is 2**64-1 on a 64-bit target) and the canonical spelling of that
    type (``int``, ``unsigned long``, ``long long``, ``enum foo``). It is None
    when clang does not accept ``E`` as an integer constant expression, when
    the value is not an integer, or when clang diagnoses undefined behaviour
    on the way (shift count out of range, signed overflow, division by zero):
    see :data:`UB_WARNINGS`. Overflow clang does not diagnose (``INT_MIN / -1``)
    keeps clang's wrapped value.
    """
    results, untrusted = _run_probes(triple, prelude, exprs)
    for i in untrusted:  # an earlier malformed expression may have swallowed this one
        results[i] = _run_probes(triple, prelude, [exprs[i]])[0][0]
    return results


# --------------------------------------------------------------------------
# Record layouts


class OracleError(Exception):
    """clang rejected C text that was meant to be valid."""


_ARRAYS = (ci.TypeKind.CONSTANTARRAY, ci.TypeKind.INCOMPLETEARRAY)


def _is_unnamed(decl: ci.Cursor) -> bool:
    """A record type with neither a tag nor a typedef name."""
    return bool(_lib().clang_Cursor_isAnonymous(decl))


def _is_anonymous_member(decl: ci.Cursor) -> bool:
    """The record of an anonymous struct/union member (``union { ... };`` inside a record)."""
    return bool(_lib().clang_Cursor_isAnonymousRecordDecl(decl))


def _record_key(c: ci.Cursor) -> str | None:
    """``struct NAME``, ``union NAME``, the typedef name of an unnamed record, or None."""
    if _is_unnamed(c):
        return None
    kind = "struct" if c.kind == ci.CursorKind.STRUCT_DECL else "union"
    spelled = c.type.spelling
    if spelled == f"{kind} {c.spelling}":
        return spelled
    if spelled == c.spelling:  # typedef struct { ... } NAME;
        return spelled
    raise OracleError(f"cannot name the record {spelled!r} at {c.location}")


def _fields(t: ci.Type, base: int, prefix: str, out: list[dict[str, object]]) -> None:
    """Append the ``offsetof()`` designators of record type ``t`` (see DESIGN.md "Snapshot")."""
    for f in t.get_fields():
        offset = f.get_field_offsetof()
        if offset < 0:
            raise OracleError(f"no offset for field {f.spelling!r} at {f.location}")
        offset += base
        ft = f.type.get_canonical()
        if f.is_bitfield():
            if f.spelling:  # an unnamed bitfield has no designator
                out.append({"name": prefix + f.spelling, "offset_bits": offset,
                            "size_bits": f.get_bitfield_width(), "bitfield": True,
                            "canonical": ft.spelling})
            continue
        if ft.kind == ci.TypeKind.RECORD and _is_anonymous_member(ft.get_declaration()):
            _fields(ft, offset, prefix, out)
            continue
        name = prefix + f.spelling
        size = 0 if ft.kind == ci.TypeKind.INCOMPLETEARRAY else ft.get_size()
        if size < 0:
            raise OracleError(f"no size for field {name!r} at {f.location}")
        out.append({"name": name, "offset_bits": offset, "size_bits": size * 8,
                    "bitfield": False, "canonical": ft.spelling})
        element, designator = ft, name
        while element.kind in _ARRAYS:
            element, designator = element.element_type.get_canonical(), designator + "[0]"
        if element.kind == ci.TypeKind.RECORD and _is_unnamed(element.get_declaration()):
            _fields(element, offset, designator + ".", out)


def _collect_records(tu: ci.TranslationUnit, header_of: Callable[[str], str | None]
                     ) -> dict[str, dict[str, object]]:
    """Every complete record whose definition lies in a file ``header_of`` names."""
    out: dict[str, dict[str, object]] = {}

    def visit(parent: ci.Cursor) -> None:
        # Only file scope and record bodies: a record defined in a typedef or a
        # variable declaration is also a child of the translation unit
        for c in parent.get_children():
            if c.kind not in (ci.CursorKind.STRUCT_DECL, ci.CursorKind.UNION_DECL):
                continue
            if c.is_definition() and c.location.file is not None:
                header = header_of(c.location.file.name)
                key = _record_key(c) if header is not None else None
                if key is not None and key not in out:
                    size, align = c.type.get_size(), c.type.get_align()
                    if size < 0 or align < 0:
                        raise OracleError(f"no layout for {key} at {c.location}")
                    fields: list[dict[str, object]] = []
                    _fields(c.type.get_canonical(), 0, "", fields)
                    out[key] = {"kind": "struct" if c.kind == ci.CursorKind.STRUCT_DECL
                                else "union", "size": size, "align": align,
                                "header": header, "line": c.location.line, "fields": fields}
            visit(c)

    visit(tu.cursor)
    return out


def _errors(tu: ci.TranslationUnit) -> list[ci.Diagnostic]:
    return [d for d in tu.diagnostics if d.severity >= ci.Diagnostic.Error]


def record_layouts(triple: str, source: str, args: Sequence[str] = ()
                   ) -> dict[str, dict[str, object]]:
    """clang's layout of every struct and union that C ``source`` defines, for one target.

    Keys and field designators follow DESIGN.md's snapshot rules: ``struct NAME``,
    ``union NAME`` or the typedef name of an unnamed record; fields as
    ``offsetof()`` designators with ``offset_bits`` from the outermost record,
    ``size_bits`` (a bitfield's width, 0 for a flexible array member),
    ``bitfield`` and ``canonical`` (clang's canonical spelling of the type). Each record also has ``kind``, ``size``, ``align`` (bytes),
    ``header`` ("<source>") and ``line``. Raises :class:`OracleError` when
    clang reports an error.
    """
    name = "/xenabi-oracle/records.c"
    tu = parse(triple, source, args, name=name)
    errors = _errors(tu)
    if errors:
        raise OracleError("\n".join(str(d) for d in errors))
    return _collect_records(tu, lambda f: "<source>" if f == name else None)


# --------------------------------------------------------------------------
# A Xen public headers directory, compiled as its consumers compile it

#: stand-ins for the libc headers a few public headers want: io/ring.h's
#: inline helpers call memcpy/memset, io/libxenvchan.h includes <sys/types.h>
#: (and uses none of its types)
_STANDINS = {
    "string.h": "#include <stddef.h>\n"
                "void *memcpy(void *, const void *, size_t);\n"
                "void *memset(void *, int, size_t);\n",
    "sys/types.h": "",
}

#: consumers include <stdint.h> first: the headers use its types without including it
_PROLOGUE = "#include <stdint.h>\n#include <string.h>\n"

#: included before all other headers, because some headers are only valid
#: after them: arch-x86/pmu.h and arch-x86/xen-mca.h need xen.h, and
#: arch-x86/hvm/save.h is a fragment of hvm/save.h
_CONTEXT = ("xen.h", "hvm/save.h")

#: halves of arch-x86/xen.h that xen.h picks by target; the other target's
#: half redefines the same records and is no header of this target
_OTHER_HALF = {"x86_32": "arch-x86/xen-x86_64.h", "x86_64": "arch-x86/xen-x86_32.h"}


@dataclass(frozen=True)
class Oracle:
    """What clang sees in a public headers directory, for one target and view."""

    triple: str
    view: str
    interface_version: int  #: the ``__XEN_INTERFACE_VERSION__`` the headers were read with
    #: record key -> layout, as :func:`record_layouts` gives it (header relative to public/)
    records: Mapping[str, dict[str, object]]
    #: name -> {"value", "type", "kind" ("macro" or "enumerator"), "header", "line"}
    constants: Mapping[str, dict[str, object]]
    compiled: tuple[str, ...]  #: headers in the translation unit, directly or through others
    skipped: Mapping[str, str]  #: header -> why it does not apply (``#error``, another arch)
    failed: Mapping[str, str]  #: header -> clang's first error
    #: object-like macros defined in the headers that are no integer constant
    #: (strings, types, empty, helper macros #undef'd later)
    not_integers: tuple[str, ...]
    seconds: float  #: wall time to build this oracle
    #: the translation unit that compiled cleanly, and the arguments besides the
    #: target's (defines, include paths), so another compiler can check the oracle
    source: str
    args: tuple[str, ...]
    #: typedef name -> {"canonical" (clang's canonical spelling), "header", "line"}
    typedefs: Mapping[str, dict[str, object]] = field(default_factory=dict)


def _tempdir(prefix: str) -> Path:
    """A directory that lives as long as the process."""
    d = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, d, ignore_errors=True)
    return d


@functools.cache
def _standin_dir() -> Path:
    d = _tempdir("xenabi-oracle-")
    for name, text in _STANDINS.items():
        (d / name).parent.mkdir(parents=True, exist_ok=True)
        (d / name).write_text(text)
    return d


@functools.cache
def _public_link(public: Path) -> Path:
    """A directory in which ``public/`` is ``public``: arch-arm/smccc.h includes "public/xen.h"."""
    d = _tempdir("xenabi-oracle-parent-")
    (d / "public").symlink_to(public, target_is_directory=True)
    return d


def latest_interface_version(public: Path) -> int:
    """``__XEN_LATEST_INTERFACE_VERSION__`` as xen-compat.h defines it."""
    text = (public / "xen-compat.h").read_text()
    m = re.search(r"^#define\s+__XEN_LATEST_INTERFACE_VERSION__\s+(\w+)", text, re.M)
    if m is None:
        raise OracleError(f"{public}/xen-compat.h: no __XEN_LATEST_INTERFACE_VERSION__")
    return int(m.group(1), 0)


def _target(triple: str) -> Target:
    for t in TARGETS.values():
        if t.clang_triple == triple:
            return t
    raise ValueError(f"{triple}: not the clang triple of any Xen target")


def _covers(entries: Sequence[str], header: str) -> bool:
    """True when ``header`` is one of ``entries`` or lies under one of them (a directory)."""
    return any(header == e or header.startswith(e.rstrip("/") + "/") for e in entries)


def tree_oracle(public_dir: str | os.PathLike[str], triple: str, view: str,
                interface_version: int | None = None, *, exclude: Sequence[str] = ()) -> Oracle:
    """clang's records and integer constants of a Xen public headers directory.

    ``view`` is ``tools`` (``-D__XEN_TOOLS__``) or ``guest``
    (``-D__XEN_INTERFACE_VERSION__``, the latest of xen-compat.h unless given).
    Every ``.h`` under ``public_dir`` is included, except ``exclude`` (paths
    or directories relative to it: what an installed layout adds) and the
    arch headers of other arch families; see :data:`_CONTEXT` and
    :data:`_STANDINS` for the context a few headers need. Cached per process.
    """
    if view not in ("tools", "guest"):
        raise ValueError(f"{view}: view must be tools or guest")
    public = Path(public_dir).resolve()
    return _tree_oracle(public, triple, view, interface_version, tuple(exclude))


@functools.cache
def _tree_oracle(public: Path, triple: str, view: str, interface_version: int | None,
                 exclude: tuple[str, ...]) -> Oracle:
    start = time.perf_counter()
    target = _target(triple)
    latest = latest_interface_version(public)
    version = latest if view == "tools" or interface_version is None else interface_version
    defines = ["-D__XEN_TOOLS__"] if view == "tools" else [f"-D__XEN_INTERFACE_VERSION__={version:#x}"]
    args = [*defines, "-iquote", str(public), "-iquote", str(_public_link(public)),
            "-isystem", str(_standin_dir())]
    foreign = [h for t in TARGETS.values() if t.arch_family != target.arch_family
               for h in t.arch_headers if h not in target.arch_headers]

    skipped: dict[str, str] = {}
    headers: list[str] = []
    for p in sorted(public.rglob("*.h")):
        rel = p.relative_to(public).as_posix()
        if _covers(exclude, rel):
            continue
        if _covers(foreign, rel):
            skipped[rel] = f"arch header of another arch family than {target.arch_family}"
        elif rel == _OTHER_HALF.get(target.name):
            skipped[rel] = "the other x86 target's half of arch-x86/xen.h"
        else:
            headers.append(rel)
    headers.sort(key=lambda h: (h not in _CONTEXT, _CONTEXT.index(h) if h in _CONTEXT else 0, h))

    @functools.cache
    def header_of(filename: str) -> str | None:
        path = Path(os.path.realpath(filename))
        return path.relative_to(public).as_posix() if path.is_relative_to(public) else None

    # Drop the headers that stop at an #error, and the first header with any
    # other error (a later one may only suffer from its side effects), until
    # the rest compiles cleanly together
    failed: dict[str, str] = {}
    main = str(_standin_dir() / "oracle-main.c")
    while True:
        text = _PROLOGUE + "".join(f'#include "{h}"\n' for h in headers)
        tu = parse(triple, text, args, detailed=True, name=main)
        errors = _errors(tu)
        if not errors:
            break
        rejected, broken = _triage(tu, errors, headers, header_of, main)
        skipped.update(rejected)
        first = next((h for h in headers if h in broken and h not in rejected), None)
        if first is not None:
            failed[first] = broken[first]
        headers = [h for h in headers if h not in rejected and h != first]

    compiled = sorted({h for inc in tu.get_includes()
                       if (h := header_of(inc.include.name)) is not None} | set(headers))
    records = _collect_records(tu, header_of)

    # constant name -> (kind, header, line); the last definition is the one in force
    found: dict[str, tuple[str, str, int]] = {}
    typedefs: dict[str, dict[str, object]] = {}
    lib = _lib()
    for c in tu.cursor.get_children():
        h = header_of(c.location.file.name) if c.location.file else None
        if h is None:
            continue
        if c.kind == ci.CursorKind.TYPEDEF_DECL:
            typedefs.setdefault(c.spelling, {
                "canonical": c.underlying_typedef_type.get_canonical().spelling,
                "header": h, "line": c.location.line})
        if c.kind == ci.CursorKind.MACRO_DEFINITION and not lib.clang_Cursor_isMacroFunctionLike(c):
            found[c.spelling] = ("macro", h, c.location.line)
        elif c.kind in (ci.CursorKind.ENUM_DECL, ci.CursorKind.STRUCT_DECL,
                        ci.CursorKind.UNION_DECL, ci.CursorKind.TYPEDEF_DECL):
            for e in c.walk_preorder():
                if e.kind == ci.CursorKind.ENUM_CONSTANT_DECL:
                    found.setdefault(e.spelling, ("enumerator", h, e.location.line))
    names = sorted(found)
    values, untrusted = _run_probes(triple, text, names, args, name=main)
    for i in untrusted:
        values[i] = _run_probes(triple, text, [names[i]], args, name=main)[0][0]
    constants: dict[str, dict[str, object]] = {}
    for name, value in zip(names, values):
        if value is not None:
            kind, h, line = found[name]
            constants[name] = {"value": value[0], "type": value[1], "kind": kind,
                               "header": h, "line": line}
    return Oracle(triple=triple, view=view, interface_version=version, records=records,
                  constants=constants, compiled=tuple(compiled), skipped=skipped,
                  failed=failed,
                  not_integers=tuple(n for n, v in zip(names, values) if v is None),
                  seconds=time.perf_counter() - start, source=text, args=tuple(args),
                  typedefs=typedefs)


_ERROR_DIRECTIVE = re.compile(r"\s*#\s*error\b")


def _triage(tu: ci.TranslationUnit, errors: Sequence[ci.Diagnostic], headers: Sequence[str],
            header_of: Callable[[str], str | None], main: str
            ) -> tuple[dict[str, str], dict[str, str]]:
    """Blame each error on the directly included header that brought it in.

    Returns the headers that stop at an ``#error`` (skipped by design) and the
    others with an error (failed), each with the first reason.
    """
    includer = {os.path.realpath(i.include.name): i.source.name for i in tu.get_includes()}
    rejected: dict[str, str] = {}
    broken: dict[str, str] = {}
    for d in errors:
        f = d.location.file
        if f is None:
            raise OracleError(f"error without a location: {d.spelling}")
        if f.name == main:  # an #include line whose file clang cannot open
            culprit = headers[d.location.line - 1 - _PROLOGUE.count("\n")]
        else:
            name, seen = f.name, set()
            while header_of(name) not in headers:
                if name in seen:
                    raise OracleError(f"cannot tell which header brought in: {d}")
                seen.add(name)
                name = includer.get(os.path.realpath(name), main)
            culprit = str(header_of(name))
        where = f"{header_of(f.name) or culprit}:{d.location.line}"
        if _ERROR_DIRECTIVE.match(_source_line(f.name, d.location.line)):
            rejected.setdefault(culprit, f"{where}: #error {d.spelling}")
        else:
            broken.setdefault(culprit, f"{where}: {d.spelling}")
    return rejected, broken


@functools.cache
def _source_lines(filename: str) -> list[str]:
    return Path(filename).read_text(errors="replace").splitlines()


def _source_line(filename: str, line: int) -> str:
    lines = _source_lines(filename)
    return lines[line - 1] if 0 < line <= len(lines) else ""


_PADDED = re.compile(r"padding (?:struct|size of) '(?P<record>[^']+)' with (?P<n>\d+) "
                     r"(?P<unit>bytes?|bits?) ")


def padding_bits(oracle: Oracle) -> dict[str, int]:
    """clang's ``-Wpadded`` of every record the oracle saw, in bits: the padding clang adds
    to the record and to the unnamed records inside it (``struct evtchn_status::(unnamed
    at ...)``), before a member or at the end. A named record inside another is its own."""
    keys = sorted(oracle.records)
    probes = "".join(f"char xenabi_padding_probe_{i}[sizeof({k})];\n" for i, k in enumerate(keys))
    tu = parse(oracle.triple, oracle.source + probes, [*oracle.args, "-Wpadded"],
               name=str(_standin_dir() / "oracle-main.c"))
    if _errors(tu):
        raise OracleError(f"{oracle.triple}: the layout probes do not compile: "
                          f"{_errors(tu)[0].spelling}")
    out: dict[str, int] = {}
    for d in tu.diagnostics:
        m = _PADDED.match(d.spelling)
        if m is not None:
            record = m["record"]
            if "::" in record:  # "struct P::(unnamed at ...)": the kind is the inner one's
                parent = record.partition(" ")[2].split("::")[0]
                record = next((k for k in (f"struct {parent}", f"union {parent}")
                               if k in oracle.records), parent)
            bits = int(m["n"]) * (8 if m["unit"].startswith("byte") else 1)
            out[record] = out.get(record, 0) + bits
    return out
