"""clang as an oracle: integer constant expressions, record layouts, whole Xen header trees.

Everything is computed by libclang (the ``libclang`` wheel) for a ``--target``
triple, freestanding, with the resource headers of Debian's ``clang`` (the
wheel ships none): clang's own ``stdint.h`` and ``stddef.h``, no host libc.
"""

from __future__ import annotations

import bisect
import ctypes
import functools
import shutil
import subprocess
from collections.abc import Sequence

import clang.cindex as ci

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
    lib.clang_Cursor_isMacroFunctionLike.restype = ctypes.c_uint
    lib.clang_Cursor_isMacroFunctionLike.argtypes = [ci.Cursor]
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
            "-resource-dir", resource_dir()]


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


def _probe(i: int, expr: str) -> str:
    # __typeof__ keeps the expression's own type (unsigned long for ~0UL); the
    # _Static_assert makes clang check that it is an integer constant expression,
    # which a static initializer alone does not (address constants are allowed there)
    return (f"static const __typeof__(({expr})) v_{i} = ({expr});\n"
            f"_Static_assert((({expr}) || 1), \"\");\n")


def _evaluate_chunks(triple: str, prelude: str, exprs: Sequence[tuple[int, str]]
                     ) -> tuple[dict[int, tuple[int, str] | None], set[int]]:
    """Evaluate probes in one TU; also say which probes had errors of their own."""
    text = prelude if prelude.endswith("\n") or not prelude else prelude + "\n"
    starts: list[int] = []
    for i, expr in exprs:
        starts.append(text.count("\n") + 1)
        text += _probe(i, expr)
    tu = parse(triple, text)
    rejected: set[int] = set()
    erroneous: set[int] = set()
    first = starts[0] if starts else 1
    for d in tu.diagnostics:
        line = d.location.line
        if d.location.file is None or line < first:
            continue
        i = exprs[bisect.bisect_right(starts, line) - 1][0]
        if d.severity >= ci.Diagnostic.Error:
            rejected.add(i)
            erroneous.add(i)
        elif d.option in UB_WARNINGS:
            rejected.add(i)
    wanted = {f"v_{i}": i for i, _ in exprs}
    out: dict[int, tuple[int, str] | None] = {i: None for i, _ in exprs}
    for c in tu.cursor.get_children():
        i = wanted.get(c.spelling) if c.kind == ci.CursorKind.VAR_DECL else None
        if i is None or i in rejected:
            continue
        value = evaluate(c)
        if value is not None:
            out[i] = (value, ctype_spelling(c.type))
    return out, erroneous


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
    numbered = list(enumerate(exprs))
    results, erroneous = _evaluate_chunks(triple, prelude, numbered)
    if erroneous:
        # A syntax error can swallow the probes after it, and clang may report
        # it at a later probe: give every failure from the first error on a
        # translation unit of its own before believing it
        first_bad = min(erroneous)
        for i, expr in numbered:
            if i >= first_bad and results[i] is None:
                results[i] = _evaluate_chunks(triple, prelude, [(i, expr)])[0][i]
    return [results[i] for i, _ in numbered]
