"""xenabi.cexpr, one table per C rule, on all four targets.

Every expected value is worked out by hand from C11 (6.4.4.1 literal types,
6.3.1.1 promotions, 6.3.1.8 usual arithmetic conversions, 6.5.7 shifts,
6.10.3 macro replacement and its EXAMPLEs) and the targets' data models
(ILP32: x86_32, arm32; LP64: x86_64, arm64; ``char`` signed on x86 only).
The same tables are then put to clang (``tests/oracle/clang.py`` for values,
``clang -E`` for expansions), so a wrong hand-written row fails twice.

Where C leaves signed overflow undefined we fold like gcc and clang do
(:class:`Folded`): clang still folds these, but warns, and the oracle then
reports no value. What we refuse on purpose although compilers accept it
with a warning is marked ``Err(..., clang_accepts=True)``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass

import pytest

from xenabi import cexpr
from xenabi.cexpr import (AlignofType, Binary, Cast, CInt, Conditional, Index, IntLit, Member,
                          Name, Offsetof, SizeofExpr, SizeofType, Token, Unary)
from xenabi.model import (Array, Coord, CType, EnumRef, MacroDef, Pointer, RecordRef, Scalar,
                          TypedefRef)
from xenabi.targets import TARGETS, Target

ILP32 = ("x86_32", "arm32")
LP64 = ("x86_64", "arm64")
SIGNED_CHAR = ("x86_32", "x86_64")
U64 = 2**64 - 1
U32 = 2**32 - 1

needs_clang = pytest.mark.skipif(shutil.which("clang") is None, reason="no clang on PATH")


# --------------------------------------------------------------------------
# Expected outcomes


@dataclass(frozen=True)
class Folded:
    """We fold this as gcc and clang do; clang warns of undefined behaviour, so the oracle
    has no value."""

    value: int
    ctype: str


@dataclass(frozen=True)
class Err:
    """``evaluate`` raises an ExprError whose message contains ``fragment``."""

    fragment: str
    clang_accepts: bool = False  #: compilers take it (with a warning); we refuse on purpose


Outcome = tuple[int, str] | Folded | Err


def same(outcome: Outcome) -> dict[str, Outcome]:
    return {t: outcome for t in TARGETS}


def bits(ilp32: Outcome, lp64: Outcome) -> dict[str, Outcome]:
    return {t: ilp32 if t in ILP32 else lp64 for t in TARGETS}


def chars(signed: Outcome, unsigned: Outcome) -> dict[str, Outcome]:
    return {t: signed if t in SIGNED_CHAR else unsigned for t in TARGETS}


def size(ilp32: int, lp64: int | None = None) -> dict[str, Outcome]:
    """A size_t result: unsigned int on ILP32 Linux, unsigned long on LP64."""
    return bits((ilp32, "unsigned int"), (ilp32 if lp64 is None else lp64, "unsigned long"))


def each(x86_32: Outcome, x86_64: Outcome, arm32: Outcome, arm64: Outcome) -> dict[str, Outcome]:
    # riscv64 and ppc64 are LP64 with 8-aligned 64-bit integers and a 16-byte long
    # double, as arm64 is: every case here gives them arm64's outcome
    return {"x86_32": x86_32, "x86_64": x86_64, "arm32": arm32, "arm64": arm64,
            "riscv64": arm64, "ppc64": arm64}


# --------------------------------------------------------------------------
# A small world of declarations, given both to the fake Env and to clang


PRELUDE = """
typedef unsigned char uint8_t;
typedef unsigned short uint16_t;
typedef unsigned int uint32_t;
typedef unsigned long long uint64_t;
typedef unsigned long xen_ulong_t;
typedef xen_ulong_t xen_pfn_t;
struct pair { int a; char b; };
struct ll { char c; long long x; };
struct demo_sring { unsigned int req_prod, rsp_prod; char pad[4]; struct pair ring[2]; };
enum color { RED = 1, BLUE = 4 };
#define offsetof(t, m) __builtin_offsetof(t, m)
"""

TYPEDEFS: dict[str, CType] = {
    "uint8_t": Scalar("unsigned char"), "uint16_t": Scalar("unsigned short"),
    "uint32_t": Scalar("unsigned int"), "uint64_t": Scalar("unsigned long long"),
    "xen_ulong_t": Scalar("unsigned long"), "xen_pfn_t": TypedefRef("xen_ulong_t"),
}


def _records(target: str) -> dict[str, tuple[int, int, dict[str, tuple[int, CType]]]]:
    """Size, alignment and members (name: offset in bits, type) of PRELUDE's structs."""
    # struct ll: long long is 4-aligned inside a struct on i386 only
    x = 32 if target == "x86_32" else 64
    return {
        "struct pair": (8, 4, {"a": (0, Scalar("int")), "b": (32, Scalar("char"))}),
        "struct ll": ((x + 64) // 8, x // 8, {"c": (0, Scalar("char")),
                                              "x": (x, Scalar("long long"))}),
        "struct demo_sring": (28, 4, {"req_prod": (0, Scalar("unsigned int")),
                                      "rsp_prod": (32, Scalar("unsigned int")),
                                      "pad": (64, Array(Scalar("char"), 4)),
                                      "ring": (96, Array(RecordRef("struct pair"), 2))}),
    }


class FakeEnv:
    """The declarations of PRELUDE, sized by hand for one target."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.records = _records(target.name)

    def is_typedef(self, name: str) -> bool:
        return name in TYPEDEFS

    def resolve(self, t: CType) -> CType:
        while isinstance(t, TypedefRef):
            t = TYPEDEFS[t.name]
        return t

    def _shape(self, t: CType) -> tuple[int, int]:
        match self.resolve(t):
            case Scalar(name):
                s = self.target.scalars[name]
                return s.size, s.align
            case Pointer():
                return self.target.pointer.size, self.target.pointer.align
            case Array(element, length):
                n, a = self._shape(element)
                return n * (length or 0), a
            case RecordRef(key):
                return self.records[key][:2]
            case EnumRef():
                return 4, 4
        raise cexpr.ExprError(f"no size for {t}")

    def sizeof(self, t: CType) -> int:
        return self._shape(t)[0]

    def alignof(self, t: CType) -> int:
        return self._shape(t)[1]

    def enumerator(self, name: str) -> CInt | None:
        return {"RED": CInt(1, "int"), "BLUE": CInt(4, "int")}.get(name)

    def member(self, t: CType, name: str) -> tuple[int, CType]:
        assert isinstance(t, RecordRef)
        found = self.records[t.key][2].get(name)
        if found is None:
            raise cexpr.ExprError(f"{t.key} has no member {name}")
        return found


def evaluate(text: str, target: str) -> CInt:
    t = TARGETS[target]
    env = FakeEnv(t)
    return cexpr.evaluate(cexpr.parse(cexpr.tokenize(text), env), t, env)


# --------------------------------------------------------------------------
# The rules, as tables: (expression, outcome per target)

CASES: dict[str, list[tuple[str, dict[str, Outcome]]]] = {
    "literal": [
        ("0", same((0, "int"))),
        ("2147483647", same((2147483647, "int"))),
        # decimal: int, long, long long
        ("2147483648", bits((2147483648, "long long"), (2147483648, "long"))),
        ("4294967295", bits((U32, "long long"), (U32, "long"))),
        # hex and octal also try the unsigned types
        ("0x7fffffff", same((2147483647, "int"))),
        ("0x80000000", same((2147483648, "unsigned int"))),
        ("0xffffffff", same((U32, "unsigned int"))),
        ("0x100000000", bits((2**32, "long long"), (2**32, "long"))),
        ("017777777777", same((2147483647, "int"))),
        ("020000000000", same((2147483648, "unsigned int"))),
        ("0b11111111111111111111111111111111", same((U32, "unsigned int"))),
        ("010", same((8, "int"))),
        ("9223372036854775807", bits((2**63 - 1, "long long"), (2**63 - 1, "long"))),
        ("0x8000000000000000", bits((2**63, "unsigned long long"), (2**63, "unsigned long"))),
        # a decimal too big for long long: gcc and clang make it unsigned long long
        ("9223372036854775808", same((2**63, "unsigned long long"))),
        ("18446744073709551615", same((U64, "unsigned long long"))),
        ("18446744073709551616", same(Err("too large for any integer type"))),
        # suffixes, in every order and case
        ("1u", same((1, "unsigned int"))),
        ("1U", same((1, "unsigned int"))),
        ("4294967296u", bits((2**32, "unsigned long long"), (2**32, "unsigned long"))),
        ("1l", same((1, "long"))),
        ("1L", same((1, "long"))),
        ("2147483648L", bits((2147483648, "long long"), (2147483648, "long"))),
        ("0x80000000L", bits((2147483648, "unsigned long"), (2147483648, "long"))),
        ("1ul", same((1, "unsigned long"))),
        ("1UL", same((1, "unsigned long"))),
        ("1lu", same((1, "unsigned long"))),
        ("1LU", same((1, "unsigned long"))),
        ("1uL", same((1, "unsigned long"))),
        ("1Lu", same((1, "unsigned long"))),
        ("1ll", same((1, "long long"))),
        ("1LL", same((1, "long long"))),
        ("0x8000000000000000LL", same((2**63, "unsigned long long"))),
        ("9223372036854775808LL", same((2**63, "unsigned long long"))),
        ("1ull", same((1, "unsigned long long"))),
        ("1ULL", same((1, "unsigned long long"))),
        ("1llu", same((1, "unsigned long long"))),
        ("1LLU", same((1, "unsigned long long"))),
        ("1uLL", same((1, "unsigned long long"))),
        ("1LLu", same((1, "unsigned long long"))),
        ("1lL", same(Err("invalid integer constant 1lL"))),
        ("1uu", same(Err("invalid integer constant"))),
        ("1lll", same(Err("invalid integer constant"))),
        ("08", same(Err("invalid integer constant 08"))),
        ("0x", same(Err("invalid integer constant"))),
        ("1.0", same(Err("floating constant 1.0"))),
        ("1e3", same(Err("floating constant"))),
        ("0x1p3", same(Err("floating constant"))),
        # C11 6.6p6 allows a floating constant as the operand of a cast: not supported
        ("(int)1.5", same(Err("floating constant 1.5", clang_accepts=True))),
    ],
    "char": [
        ("'a'", same((97, "int"))),
        ("'\\n'", same((10, "int"))),
        ("'\\0'", same((0, "int"))),
        ("'\\x41'", same((65, "int"))),
        ("'\\101'", same((65, "int"))),
        ("'\\''", same((39, "int"))),
        ("'\"'", same((34, "int"))),
        ("'\\\\'", same((92, "int"))),
        ("'\\?'", same((63, "int"))),
        ("'\\e'", same((27, "int"))),  # GNU
        ("'\\q'", same((113, "int"))),  # unknown escape: the character, with a warning
        ("'\\xff'", chars((-1, "int"), (255, "int"))),
        ("'\\377'", chars((-1, "int"), (255, "int"))),
        ("'\\200'", chars((-128, "int"), (128, "int"))),
        ("'ab'", same((0x6162, "int"))),
        ("'abcd'", same((0x61626364, "int"))),
        ("'\\xff\\x01'", same((0xFF01, "int"))),
        ("'\\xff\\xff\\xff\\xff'", same((-1, "int"))),
        ("u'a'", same((97, "unsigned short"))),
        ("U'\\x10ffff'", same((0x10FFFF, "unsigned int"))),
        ("'\\x100'", same(Err("out of range"))),
        ("''", same(Err("must hold"))),
        ("'abcde'", same(Err("must hold 1 to 4 characters", clang_accepts=True))),
        # wchar_t differs per target (int on x86, unsigned int on arm): not modelled
        ("L'a'", same(Err("prefix L", clang_accepts=True))),
    ],
    "promotion": [
        ("(unsigned char)200 + (unsigned char)100", same((300, "int"))),
        ("(signed char)-128 - 1", same((-129, "int"))),
        ("(unsigned short)65535 + 1", same((65536, "int"))),
        ("(short)-1 == 65535", same((0, "int"))),
        ("(unsigned short)-1 == 65535", same((1, "int"))),
        ("(_Bool)2 + 0", same((1, "int"))),
        ("(char)-1 < 0", chars((1, "int"), (0, "int"))),
        ("+(char)1", same((1, "int"))),
        ("-(unsigned char)1", same((-1, "int"))),
        ("~(unsigned short)0", same((-1, "int"))),
        ("(unsigned char)1 << 31", same((-2147483648, "int"))),
    ],
    "conversion": [
        ("-1 < 0u", same((0, "int"))),
        # long vs unsigned int: the same width on ILP32, so both become unsigned long
        ("-1L < 0u", bits((0, "int"), (1, "int"))),
        ("-1LL < 0u", same((1, "int"))),
        ("-1L < 0UL", same((0, "int"))),
        # long long vs unsigned long: the same width on LP64 -> unsigned long long
        ("-1LL < 0UL", bits((1, "int"), (0, "int"))),
        ("1L + 1U", bits((2, "unsigned long"), (2, "long"))),
        ("1LL + 1UL", bits((2, "long long"), (2, "unsigned long long"))),
        ("1 + 1L", same((2, "long"))),
        ("0x7fffffff + 1u", same((2147483648, "unsigned int"))),
        ("-1 + 0UL", bits((U32, "unsigned long"), (U64, "unsigned long"))),
        ("-7 / 2u", same(((2**32 - 7) // 2, "unsigned int"))),
    ],
    "unsigned wrap": [
        ("0u - 1", same((U32, "unsigned int"))),
        ("~0u", same((U32, "unsigned int"))),
        ("~0UL", bits((U32, "unsigned long"), (U64, "unsigned long"))),
        ("~0ULL", same((U64, "unsigned long long"))),
        ("0xffffffffu + 1", same((0, "unsigned int"))),
        ("-1UL", bits((U32, "unsigned long"), (U64, "unsigned long"))),
        ("0x10000u * 0x10000u", same((0, "unsigned int"))),
        ("-0x80000000", same((2147483648, "unsigned int"))),
        ("~0", same((-1, "int"))),
    ],
    "signed overflow": [
        ("2147483647 + 1", same(Folded(-2147483648, "int"))),
        ("-(-2147483647 - 1)", same(Folded(-2147483648, "int"))),
        ("65536 * 65536", same(Folded(0, "int"))),
        ("9223372036854775807LL + 1", same(Folded(-2**63, "long long"))),
        # clang folds these without a warning
        ("(-2147483647 - 1) / -1", same((-2147483648, "int"))),
        ("(-2147483647 - 1) % -1", same((0, "int"))),
        ("-2147483648", bits((-2147483648, "long long"), (-2147483648, "long"))),
    ],
    "shift": [
        ("1 << 31", same((-2147483648, "int"))),
        ("3 << 30", same((-1073741824, "int"))),
        ("2 << 31", same(Folded(0, "int"))),
        ("-1 << 1", same(Folded(-2, "int"))),
        ("1u << 31", same((2147483648, "unsigned int"))),
        ("1 << 31u", same((-2147483648, "int"))),
        ("1u << 1LL", same((2, "unsigned int"))),
        ("(char)1 << 8", same((256, "int"))),
        ("1 << 32", same(Err("shift count 32 is out of range for int"))),
        ("1 << -1", same(Err("shift count -1 is out of range"))),
        ("1 >> 32", same(Err("shift count 32"))),
        ("-8 >> 40", same(Err("shift count 40"))),
        ("1L << 32", bits(Err("shift count 32 is out of range for long"), (2**32, "long"))),
        ("1UL << 63", bits(Err("out of range for unsigned long"), (2**63, "unsigned long"))),
        ("1ULL << 63", same((2**63, "unsigned long long"))),
        ("-8 >> 1", same((-4, "int"))),
        ("-1 >> 31", same((-1, "int"))),
        ("0x80000000 >> 31", same((1, "unsigned int"))),
        ("0 && (1 << 32)", same(Folded(0, "int"))),
        ("1 ? 2 : 1 << 40", same(Folded(2, "int"))),
    ],
    "division": [
        ("7 / 2", same((3, "int"))),
        ("-7 / 2", same((-3, "int"))),
        ("7 / -2", same((-3, "int"))),
        ("-7 / -2", same((3, "int"))),
        ("-7 % 2", same((-1, "int"))),
        ("7 % -2", same((1, "int"))),
        ("-7 % -2", same((-1, "int"))),
        ("1 / 0", same(Err("division by zero in (1 / 0)"))),
        ("1 % 0", same(Err("division by zero"))),
        ("1 / (2 - 2)", same(Err("division by zero"))),
        ("0 && 1 / 0", same(Folded(0, "int"))),
        ("1 || 1 / 0", same(Folded(1, "int"))),
        ("0 ? 1 / 0 : 3", same(Folded(3, "int"))),
        ("sizeof(1 / 0)", size(4)),
    ],
    "logic": [
        ("1 < 2", same((1, "int"))),
        ("2 <= 1", same((0, "int"))),
        ("3 == 3u", same((1, "int"))),
        ("1 != 1", same((0, "int"))),
        ("2 > 1 == 1", same((1, "int"))),
        ("!0", same((1, "int"))),
        ("!5", same((0, "int"))),
        ("!0UL", same((1, "int"))),
        ("2 && 3", same((1, "int"))),
        ("0 || 0", same((0, "int"))),
        ("0UL || 2ULL", same((1, "int"))),
        ("1 & 3", same((1, "int"))),
        ("1 | 2", same((3, "int"))),
        ("5 ^ 1", same((4, "int"))),
        ("-1 & 0xff", same((255, "int"))),
        ("0xf0u | 0x0f", same((255, "unsigned int"))),
        ("1 + 2 * 3 - 4 / 2", same((5, "int"))),
        ("1 | 2 ^ 3 & 4", same((1 | (2 ^ (3 & 4)), "int"))),
        ("1 << 2 + 1", same((8, "int"))),
    ],
    "conditional": [
        ("1 ? 2 : 3", same((2, "int"))),
        ("0 ? 1 : 2u", same((2, "unsigned int"))),
        ("1 ? -1 : 0u", same((U32, "unsigned int"))),
        ("0 ? 1L : 2", same((2, "long"))),
        ("1 ? (char)1 : (char)2", same((1, "int"))),
        ("1 ? 1 : 1LL", same((1, "long long"))),
        ("1 ? -1 : 0UL", bits((U32, "unsigned long"), (U64, "unsigned long"))),
        ("0 ? 1 : 0 ? 2 : 3", same((3, "int"))),
        ("(1, 2)", same((2, "int"))),  # no ICE in C11, yet clang folds it silently
        ("(1, 2u)", same((2, "unsigned int"))),
    ],
    "cast": [
        ("(char)255", chars((-1, "char"), (255, "char"))),
        ("(char)-1", chars((-1, "char"), (255, "char"))),
        ("(signed char)255", same((-1, "signed char"))),
        ("(char signed)-1", same((-1, "signed char"))),
        ("(unsigned char)-1", same((255, "unsigned char"))),
        ("(unsigned char)256", same((0, "unsigned char"))),
        ("(_Bool)256", same((1, "_Bool"))),
        ("(_Bool)0", same((0, "_Bool"))),
        ("(_Bool)-1", same((1, "_Bool"))),
        ("(short)65535", same((-1, "short"))),
        ("(short)32768", same((-32768, "short"))),
        ("(unsigned short)-1", same((65535, "unsigned short"))),
        ("(int)4294967295", same((-1, "int"))),
        ("(unsigned)-1", same((U32, "unsigned int"))),
        ("(signed)4294967296", same((0, "int"))),
        ("(long)4294967296", bits((0, "long"), (2**32, "long"))),
        ("(unsigned long)-1", bits((U32, "unsigned long"), (U64, "unsigned long"))),
        ("(long unsigned int)-1", bits((U32, "unsigned long"), (U64, "unsigned long"))),
        ("(int long)1", same((1, "long"))),
        ("(long long)-1", same((-1, "long long"))),
        ("(unsigned long long)-1", same((U64, "unsigned long long"))),
        ("(const unsigned int)-1", same((U32, "unsigned int"))),
        ("(uint32_t)-1", same((U32, "unsigned int"))),
        ("(uint64_t)-1", same((U64, "unsigned long long"))),
        ("(uint8_t)0x1ff", same((255, "unsigned char"))),
        ("(xen_pfn_t)-1", bits((U32, "unsigned long"), (U64, "unsigned long"))),
        ("(char)(unsigned char)200 == -56", chars((1, "int"), (0, "int"))),
        ("(unsigned char)(char)-1", same((255, "unsigned char"))),
        ("(_Bool)(char)256", same((0, "_Bool"))),
        ("(int *)0", same(Err("a cast to int * (a pointer type) is not an integer constant"))),
        ("(void)0", same(Err("a cast to void"))),
        ("(double)1", same(Err("a cast to double"))),
        ("(struct pair)1", same(Err("a cast to struct pair"))),
    ],
    "sizeof": [
        ("sizeof(char)", size(1)),
        ("sizeof(short)", size(2)),
        ("sizeof(int)", size(4)),
        ("sizeof(long)", size(4, 8)),
        ("sizeof(long long)", size(8)),
        ("sizeof(_Bool)", size(1)),
        ("sizeof(double)", size(8)),
        ("sizeof(void *)", size(4, 8)),
        ("sizeof(char * *)", size(4, 8)),
        ("sizeof(int[10])", size(40)),
        ("sizeof(char[3][5])", size(15)),
        ("sizeof(int *[3])", size(12, 24)),
        ("sizeof(int (*)[3])", size(4, 8)),
        ("sizeof 1", size(4)),
        ("sizeof 1L", size(4, 8)),
        ("sizeof 'a'", size(4)),
        ("sizeof((char)1)", size(1)),
        ("sizeof (char)1", same(Err("unexpected '1'"))),  # sizeof (type) takes no operand
        ("sizeof +(char)1", size(4)),
        ("sizeof(1 ? (char)1 : (char)2)", size(4)),
        ("sizeof(1 ? 1 : 1LL)", size(8)),
        ("sizeof sizeof(int)", size(4, 8)),
        ("sizeof(uint64_t)", size(8)),
        ("sizeof(xen_ulong_t)", size(4, 8)),
        ("sizeof(struct pair)", size(8)),
        ("sizeof(struct pair[2])", size(16)),
        ("sizeof(struct ll)", each((12, "unsigned int"), (16, "unsigned long"),
                                   (16, "unsigned int"), (16, "unsigned long"))),
        ("sizeof(struct ll *)", size(4, 8)),
        ("sizeof(enum color)", size(4)),
        ("sizeof(int) * 8", size(32)),
        ("sizeof(int) - 5", size(U32, U64)),
        ("sizeof(long double)", each((12, "unsigned int"), (16, "unsigned long"),
                                     (8, "unsigned int"), (16, "unsigned long"))),
    ],
    "alignof": [
        # _Alignof is the ABI's alignment: 4 for long long and double on i386
        ("_Alignof(long long)", each((4, "unsigned int"), (8, "unsigned long"),
                                     (8, "unsigned int"), (8, "unsigned long"))),
        ("_Alignof(double)", each((4, "unsigned int"), (8, "unsigned long"),
                                  (8, "unsigned int"), (8, "unsigned long"))),
        ("_Alignof(uint64_t)", each((4, "unsigned int"), (8, "unsigned long"),
                                    (8, "unsigned int"), (8, "unsigned long"))),
        # __alignof__ is the preferred alignment: 8 on i386 too, but not for records
        ("__alignof__(long long)", size(8)),
        ("__alignof__(double)", size(8)),
        ("__alignof__(uint64_t)", size(8)),
        ("__alignof__(long long[2])", size(8)),
        ("__alignof__(struct ll)", size(4, 8) | {"arm32": (8, "unsigned int")}),
        ("_Alignof(struct ll)", size(4, 8) | {"arm32": (8, "unsigned int")}),
        ("__alignof__(long double)", each((4, "unsigned int"), (16, "unsigned long"),
                                          (8, "unsigned int"), (16, "unsigned long"))),
        ("_Alignof(char)", size(1)),
        ("_Alignof(short)", size(2)),
        ("__alignof(int)", size(4)),
        ("_Alignof(void *)", size(4, 8)),
    ],
    "offsetof": [
        ("offsetof(struct pair, b)", size(4)),
        ("__builtin_offsetof(struct ll, x)", size(4, 8) | {"arm32": (8, "unsigned int")}),
        ("offsetof(struct demo_sring, ring)", size(12)),
        ("offsetof(struct demo_sring, ring[1].b)", size(24)),
        ("offsetof(struct demo_sring, pad[RED + 2])", size(11)),
        ("sizeof(((struct demo_sring *)0)->ring[0])", size(8)),
        ("sizeof(((struct demo_sring *)0)->ring)", size(16)),
        ("sizeof(((struct demo_sring *)0)->ring[1].b)", size(1)),
        ("sizeof(((struct demo_sring *)0)->rsp_prod + 1L)", size(4, 8)),
        # no pointer arithmetic or indirection: only member access and subscripts
        ("sizeof((*(struct pair *)0).a)", same(Err("unexpected '*'", clang_accepts=True))),
        ("((struct pair *)0)->a", same(Err("((struct pair *)0)->a reads an object"))),
        ("offsetof(struct pair, c)", same(Err("struct pair has no member c"))),
        ("offsetof(int, a)", same(Err("member a of int, which is no struct or union"))),
        ("offsetof(struct pair, a[1])", same(Err("int is no array"))),
        ("sizeof(((struct pair *)0)->a.x)", same(Err("member x of int"))),
        ("sizeof(((struct pair *)0).a)", same(Err("member a of struct pair *"))),
    ],
    "name": [
        ("RED", same((1, "int"))),
        ("BLUE * 2", same((8, "int"))),
        ("GREEN", same(Err("'GREEN' is not an integer constant"))),
        ("0 && GREEN", same(Err("'GREEN' is not an integer constant"))),
        ("__extension__ 1", same((1, "int"))),
    ],
    "syntax": [
        ("", same(Err("empty expression"))),
        ("1 +", same(Err("unexpected '<end>' in '1 +'"))),
        ("(1", same(Err("expected ')' before '<end>'"))),
        ("1 2", same(Err("unexpected '2' in '1 2'"))),
        ("foo(1)", same(Err("call of 'foo' is not an integer constant"))),
        ("\"abc\"", same(Err("string literal \"abc\" is not an integer constant"))),
        ("RED++", same(Err("'++' is not allowed"))),
        ("RED = 1", same(Err("unexpected '='"))),
        ("(struct)1", same(Err("struct without a tag"))),
        ("(unsigned double)1", same(Err("'unsigned double' is not a C scalar type"))),
    ],
}

PARAMS = [pytest.param(expr, outcomes[target], target, id=f"{group}:{expr}-{target}")
          for group, rows in CASES.items() for expr, outcomes in rows for target in TARGETS]


@pytest.mark.parametrize(("expr", "outcome", "target"), PARAMS)
def test_evaluate(expr: str, outcome: Outcome, target: str) -> None:
    if isinstance(outcome, Err):
        with pytest.raises(cexpr.ExprError, match=re.escape(outcome.fragment)):
            evaluate(expr, target)
        return
    want = outcome if isinstance(outcome, tuple) else (outcome.value, outcome.ctype)
    got = evaluate(expr, target)
    assert (got.value, got.ctype) == want


@pytest.fixture(scope="module")
def clang_values() -> dict[tuple[str, str], tuple[int, str] | None]:
    """clang's answer for every row of CASES on every target."""
    clang = pytest.importorskip("tests.oracle.clang")
    exprs = [expr for rows in CASES.values() for expr, _ in rows]
    out: dict[tuple[str, str], tuple[int, str] | None] = {}
    for name, target in TARGETS.items():
        for expr, value in zip(exprs, clang.evaluate_exprs(target.clang_triple, PRELUDE, exprs)):
            out[(expr, name)] = value
    return out


@needs_clang
@pytest.mark.parametrize(("expr", "outcome", "target"), PARAMS)
def test_clang_agrees(expr: str, outcome: Outcome, target: str,
                      clang_values: Mapping[tuple[str, str], tuple[int, str] | None]) -> None:
    got = clang_values[(expr, target)]
    if isinstance(outcome, tuple):
        assert got == outcome
    elif isinstance(outcome, Err) and outcome.clang_accepts:
        assert got is not None
    else:  # an error, or undefined behaviour that clang folds with a warning
        assert got is None


def test_enum_cast_is_int() -> None:
    # clang types it `enum color`; the Env says nothing of an enum's underlying type
    assert evaluate("(enum color)-1", "x86_64") == CInt(-1, "int")


def test_cast_to_a_pointer_typedef_is_refused() -> None:
    t = TARGETS["x86_64"]

    class Env(FakeEnv):
        def is_typedef(self, name: str) -> bool:
            return name == "handle_t"

        def resolve(self, t: CType) -> CType:
            return Pointer(Scalar("void")) if t == TypedefRef("handle_t") else super().resolve(t)

    env = Env(t)
    with pytest.raises(cexpr.ExprError, match=re.escape("a cast to handle_t (a pointer type)")):
        cexpr.evaluate(cexpr.parse(cexpr.tokenize("(handle_t)0"), env), t, env)


# --------------------------------------------------------------------------
# Type names and canonical scalar names


@pytest.mark.parametrize(("words", "name"), [
    (["int"], "int"), (["signed"], "int"), (["signed", "int"], "int"),
    (["unsigned"], "unsigned int"), (["char"], "char"), (["signed", "char"], "signed char"),
    (["char", "unsigned"], "unsigned char"), (["short"], "short"),
    (["short", "int", "unsigned"], "unsigned short"), (["long"], "long"),
    (["long", "unsigned", "int"], "unsigned long"), (["long", "long"], "long long"),
    (["long", "int", "long", "signed"], "long long"),
    (["unsigned", "long", "long", "int"], "unsigned long long"), (["_Bool"], "_Bool"),
    (["void"], "void"), (["double"], "double"), (["long", "double"], "long double"),
    (["__signed__", "char"], "signed char"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else v)
def test_canonical_scalar(words: list[str], name: str) -> None:
    assert cexpr.canonical_scalar(words) == name


@pytest.mark.parametrize("words", [[], ["long", "long", "long"], ["short", "long"],
                                   ["signed", "unsigned"], ["int", "int"], ["unsigned", "double"],
                                   ["uint32_t"]], ids=lambda v: " ".join(v) or "empty")
def test_canonical_scalar_rejects(words: list[str]) -> None:
    with pytest.raises(cexpr.ExprError, match="is not a C scalar type"):
        cexpr.canonical_scalar(words)


class Types:
    def is_typedef(self, name: str) -> bool:
        return name in TYPEDEFS


def _parse(text: str) -> cexpr.Expr:
    return cexpr.parse(cexpr.tokenize(text), Types())


UL = Scalar("unsigned long")


@pytest.mark.parametrize(("text", "tree"), [
    ("(unsigned long)x", Cast(UL, Name("x"))),
    ("(long unsigned int)x", Cast(UL, Name("x"))),
    ("(x)", Name("x")),
    ("(uint64_t)1", Cast(TypedefRef("uint64_t"), IntLit(1, "1", True, False, 0))),
    ("sizeof(int *)", SizeofType(Pointer(Scalar("int")))),
    ("sizeof(int * const *)", SizeofType(Pointer(Pointer(Scalar("int"))))),
    ("sizeof(char[4][2])", SizeofType(Array(Array(Scalar("char"), 2), 4))),
    ("sizeof(char[])", SizeofType(Array(Scalar("char"), None))),
    ("sizeof(int (*)[4])", SizeofType(Pointer(Array(Scalar("int"), 4)))),
    ("sizeof(int *(*)[4])", SizeofType(Pointer(Array(Pointer(Scalar("int")), 4)))),
    ("sizeof(struct foo *)", SizeofType(Pointer(RecordRef("struct foo")))),
    ("sizeof(union u)", SizeofType(RecordRef("union u"))),
    ("sizeof(enum e)", SizeofType(EnumRef("enum e"))),
    ("sizeof x + 1", Binary("+", SizeofExpr(Name("x")), IntLit(1, "1", True, False, 0))),
    ("sizeof (int) + 1", Binary("+", SizeofType(Scalar("int")), IntLit(1, "1", True, False, 0))),
    ("__alignof__(long long)", AlignofType(Scalar("long long"), gnu=True)),
    ("_Alignof(long long)", AlignofType(Scalar("long long"), gnu=False)),
    ("-(int)x * y", Binary("*", Unary("-", Cast(Scalar("int"), Name("x"))), Name("y"))),
    ("a ? b : c ? d : e", Conditional(Name("a"), Name("b"),
                                      Conditional(Name("c"), Name("d"), Name("e")))),
    ("a - b - c", Binary("-", Binary("-", Name("a"), Name("b")), Name("c"))),
    ("a || b && c", Binary("||", Name("a"), Binary("&&", Name("b"), Name("c")))),
    ("0x10UL", IntLit(16, "0x10UL", False, True, 1)),
    ("((struct s *)0)->ring[1].b", Member(Index(
        Member(Cast(Pointer(RecordRef("struct s")), IntLit(0, "0", False, False, 0)), "ring", True),
        IntLit(1, "1", True, False, 0)), "b", False)),
    ("offsetof(struct s, a.b[N])", Offsetof(RecordRef("struct s"), ("a", "b", Name("N")))),
])
def test_parse(text: str, tree: cexpr.Expr) -> None:
    assert _parse(text) == tree


@pytest.mark.parametrize(("text", "fragment"), [
    ("sizeof(char[N])", "array length N in a type name is not an integer literal"),
    ("sizeof(int (void))", "function types are not supported"),
    ("(int){1}", "compound literal"),
    ("__alignof__(x)", "__alignof__ of an expression is not supported"),
    ("(unsigned uint32_t)1", "expected ')' before 'uint32_t'"),
    ("a.", "expected a name before '<end>'"),
    ("offsetof(struct s)", "expected ',' before ')'"),
])
def test_parse_rejects(text: str, fragment: str) -> None:
    with pytest.raises(cexpr.ExprError, match=re.escape(fragment)):
        _parse(text)


# --------------------------------------------------------------------------
# Tokens


@pytest.mark.parametrize(("text", "tokens"), [
    ("0x10UL", [("number", "0x10UL")]),
    ("1ULL+2", [("number", "1ULL"), ("punct", "+"), ("number", "2")]),
    ("1.5e+3f", [("number", "1.5e+3f")]),
    ("a##b", [("ident", "a"), ("punct", "##"), ("ident", "b")]),
    ("#x", [("punct", "#"), ("ident", "x")]),
    ("x<<=1>>2", [("ident", "x"), ("punct", "<<="), ("number", "1"), ("punct", ">>"),
                  ("number", "2")]),
    ("a->b...c", [("ident", "a"), ("punct", "->"), ("ident", "b"), ("punct", "..."),
                  ("ident", "c")]),
    ("&&||!=", [("punct", "&&"), ("punct", "||"), ("punct", "!=")]),
    ("'\\''", [("char", "'\\''")]),
    ("'\\x41'", [("char", "'\\x41'")]),
    ("L'a' u8\"s\"", [("char", "L'a'"), ("string", 'u8"s"')]),
    ('"a\\"b"', [("string", '"a\\"b"')]),
    ("a /* c */ b // d\n c", [("ident", "a"), ("ident", "b"), ("ident", "c")]),
    ("a \\\n b", [("ident", "a"), ("ident", "b")]),
    ("@", [("other", "@")]),
    ("", []),
])
def test_tokenize(text: str, tokens: list[tuple[str, str]]) -> None:
    assert [(t.kind, t.text) for t in cexpr.tokenize(text)] == tokens


def test_tokenize_records_white_space() -> None:
    assert [t.space for t in cexpr.tokenize("a  b(c)")] == [False, True, False, False, False]
    assert Token("ident", "a") == Token("ident", "a", space=True)


# --------------------------------------------------------------------------
# Macro expansion

_DEFINE = re.compile(r"#define\s+(\w+)(\(([^)]*)\))?(.*)")

XEN_HELPERS = r"""
#define __xen_mk_uint(x)  x ## U
#define xen_mk_uint(x)    __xen_mk_uint(x)
#define __xen_mk_ulong(x) x ## UL
#define xen_mk_ulong(x)   __xen_mk_ulong(x)
#define __xen_mk_ullong(x) x ## ULL
#define xen_mk_ullong(x) __xen_mk_ullong(x)
#define XEN_PAGE_SHIFT 12
"""

# C11 6.10.3.5 EXAMPLE 3, 4, 5 and 7, and the results the standard gives for them
EXAMPLE_3 = r"""
#define x 2
#define f(a) f(x * (a))
#define g f
#define z z[0]
#define h g(~
#define m(a) a(w)
#define w 0,1
#define t(a) a
#define p() int
#define q(x) x
#define r(x,y) x ## y
#define str(x) # x
"""
EXAMPLE_4 = r"""
#define str(s) # s
#define xstr(s) str(s)
#define debug(s, t) printf("x" # s "= %d, x" # t "= %s", \
 x ## s, x ## t)
#define INCFILE(n) vers ## n
#define glue(a, b) a ## b
#define xglue(a, b) glue(a, b)
#define HIGHLOW "hello"
#define LOW LOW ", world"
"""
EXAMPLE_5 = "#define t(x,y,z) x ## y ## z"
EXAMPLE_7 = r"""
#define debug(...) fprintf(stderr, __VA_ARGS__)
#define showlist(...) puts(#__VA_ARGS__)
#define report(test, ...) ((test)?puts(#test): printf(__VA_ARGS__))
"""

EXPANSIONS = [
    ("example 3", EXAMPLE_3, "f(y+1) + f(f(z)) % t(t(g)(0) + t)(1);",
     "f(2 * (y+1)) + f(2 * (f(2 * (z[0])))) % f(2 * (0)) + t(1);"),
    ("example 3 rescan", EXAMPLE_3, "g(x+(3,4)-w) | h 5) & m\n(f)^m(m);",
     "f(2 * (2+(3,4)-0,1)) | f(2 * (~ 5)) & f(2 * (0,1))^m(0,1);"),
    ("example 3 placemarker", EXAMPLE_3,
     "p() i[q()] = { q(1), r(2,3), r(4,), r(,5), r(,) }; char c[2][6] = { str(hello), str() };",
     'int i[] = { 1, 23, 4, 5, }; char c[2][6] = { "hello", "" };'),
    ("example 4 debug", EXAMPLE_4, "debug(1, 2);",
     'printf("x" "1" "= %d, x" "2" "= %s", x1, x2);'),
    ("example 4 stringize", EXAMPLE_4,
     "fputs(str(strncmp(\"abc\\0d\", \"abc\", '\\4') // this goes away\n == 0) str(: @\\n), s);",
     r'''fputs("strncmp(\"abc\\0d\", \"abc\", '\\4') == 0" ": @\n", s);'''),
    ("example 4 xstr", EXAMPLE_4, "xstr(INCFILE(2).h)", '"vers2.h"'),
    ("example 4 glue", EXAMPLE_4, "glue(HIGH, LOW); xglue(HIGH, LOW)",
     '"hello"; "hello" ", world"'),
    ("example 5", EXAMPLE_5,
     "int j[] = { t(1,2,3), t(,4,5), t(6,,7), t(8,9,), t(10,,), t(,11,), t(,,12), t(,,) };",
     "int j[] = { 123, 45, 67, 89, 10, 11, 12, };"),
    ("example 7", EXAMPLE_7,
     'debug("Flag"); debug("X = %d\\n", x); showlist(The first, second, and third items.);'
     ' report(x>y, "x is %d but y is %d", x, y);',
     'fprintf(stderr, "Flag"); fprintf(stderr, "X = %d\\n", x);'
     ' puts("The first, second, and third items.");'
     ' ((x>y)?puts("x>y"): printf("x is %d but y is %d", x, y));'),
    ("xen_mk_ulong", XEN_HELPERS, "xen_mk_ulong(1) << 3", "1UL << 3"),
    ("xen_mk_ullong", XEN_HELPERS, "xen_mk_ullong(0x1f)", "0x1fULL"),
    ("xen_mk_uint", XEN_HELPERS, "xen_mk_uint(0x80000000)", "0x80000000U"),
    # the outer helper expands its argument before the inner one pastes it
    ("helper expands its argument", XEN_HELPERS, "xen_mk_ulong(XEN_PAGE_SHIFT)", "12UL"),
    ("## pastes before expanding", XEN_HELPERS, "__xen_mk_ulong(XEN_PAGE_SHIFT)",
     "XEN_PAGE_SHIFTUL"),
    ("blue paint", "#define A A", "A", "A"),
    ("blue paint through two macros", "#define A B\n#define B A", "A + B", "A + B"),
    ("self-reference", "#define foo foo + 1", "foo", "foo + 1"),
    ("painted name stays painted as an argument", "#define g(x) x\n#define A g(A)", "A", "A"),
    ("painted function-like name", "#define f(x) x + f", "f(1)(2)", "1 + f(2)"),
    ("function-like name without (", "#define f(x) [x]\n#define B f + 1", "B", "f + 1"),
    ("function-like name before a macro for (", "#define lparen (\n#define f(x) [x]",
     "f lparen 1)", "f ( 1)"),
    ("call completed after the body", "#define g f\n#define f(x) x*2", "g(3)", "3*2"),
    ("arguments span parentheses", "#define first(a, b) a", "first((1, 2), 3)", "(1, 2)"),
    ("nested calls", "#define add(a,b) ((a)+(b))", "add(add(1,2),3)", "((((1)+(2)))+(3))"),
    ("empty arguments", "#define f(a, b) [a|b]", "f(,) f( , 1)", "[|] [|1]"),
    ("no parameters", "#define f() 7", "f()", "7"),
    ("stringize collapses white space", "#define str(x) #x", "str(  a   +b  )", '"a +b"'),
    ("stringize escapes literals", "#define str(x) #x", r"""str("a\n" '\0')""",
     r'''"\"a\\n\" '\\0'"'''),
    ("stringize an expanded argument", "#define str(x) #x\n#define xstr(x) str(x)\n#define N 4",
     "str(N) xstr(N)", '"N" "4"'),
    ("paste in an object-like macro", "#define AB a ## b", "AB", "ab"),
    ("paste into a number", "#define cat(a, b) a ## b", "cat(0x, 1f) cat(1, 2)", "0x1f 12"),
    ("variadic", "#define V(a, ...) a + __VA_ARGS__", "V(1, 2, 3)", "1 + 2, 3"),
    ("variadic left out", "#define V(a, ...) [a __VA_ARGS__]", "V(1)", "[1]"),
    ("GNU comma deletion", "#define e(fmt, ...) f(fmt, ## __VA_ARGS__)", "e(1) e(1, 2, 3)",
     "f(1) f(1, 2, 3)"),
    ("GNU named variadic", "#define g(args...) h(args)", "g(1, 2)", "h(1, 2)"),
]


def _macros(text: str) -> dict[str, MacroDef]:
    out = {}
    for n, line in enumerate(text.replace("\\\n", " ").splitlines(), 1):
        if m := _DEFINE.match(line.strip()):
            params = None if m.group(2) is None else tuple(
                p.strip() for p in m.group(3).split(",") if p.strip())
            out[m.group(1)] = MacroDef(m.group(1), params, m.group(4), Coord("test.h", n))
    return out


def expand_text(defines: str, use: str, **kw: int) -> str:
    """Expand ``use`` (as the body of a macro of its own) under ``defines``."""
    macros = _macros(defines) | {"USE": MacroDef("USE", None, use, Coord("test.h", 0))}
    return " ".join(t.text for t in cexpr.expand("USE", macros, **kw))


def _spaced(text: str) -> str:
    return " ".join(t.text for t in cexpr.tokenize(text))


@pytest.mark.parametrize(("defines", "use", "want"),
                         [pytest.param(d, u, w, id=i) for i, d, u, w in EXPANSIONS])
def test_expand(defines: str, use: str, want: str) -> None:
    assert expand_text(defines, use) == _spaced(want)


def _clang_cpp(defines: str, use: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["clang", "-E", "-P", "-x", "c", "-"], input=f"{defines}\n{use}\n",
                          capture_output=True, text=True)


@needs_clang
@pytest.mark.parametrize(("defines", "use", "want"),
                         [pytest.param(d, u, w, id=i) for i, d, u, w in EXPANSIONS])
def test_expand_as_clang(defines: str, use: str, want: str) -> None:
    out = _clang_cpp(defines, use)
    assert out.returncode == 0, out.stderr
    assert _spaced(out.stdout) == _spaced(want)


EXPANSION_ERRORS = [
    ("too few arguments", "#define f(x, y) x", "f(1)", "macro f takes 2 arguments, given 1"),
    ("too many arguments", "#define f(x, y) x", "f(1, 2, 3)", "macro f takes 2 arguments, given 3"),
    ("unterminated call", "#define f(x) x", "f(1", "unterminated call of macro f"),
    ("bad paste", "#define p(a, b) a ## b", "p(+, -)",
     "pasting '+' and '-' in macro p does not give one token"),
    ("## at the end", "#define bad a ##", "bad", "'##' cannot begin or end the body of macro bad"),
    ("# without a parameter", "#define s(x) # y", "s(1)",
     "'#' is not followed by a parameter in macro s"),
]


@pytest.mark.parametrize(("defines", "use", "fragment"),
                         [pytest.param(d, u, f, id=i) for i, d, u, f in EXPANSION_ERRORS])
def test_expand_rejects(defines: str, use: str, fragment: str) -> None:
    with pytest.raises(cexpr.ExprError, match=re.escape(fragment)):
        expand_text(defines, use)


@needs_clang
@pytest.mark.parametrize(("defines", "use", "fragment"),
                         [pytest.param(d, u, f, id=i) for i, d, u, f in EXPANSION_ERRORS])
def test_expand_rejects_as_clang(defines: str, use: str, fragment: str) -> None:
    assert _clang_cpp(defines, use).returncode != 0


def test_expand_needs_an_object_like_macro() -> None:
    macros = _macros("#define f(x) x")
    with pytest.raises(cexpr.ExprError, match="no macro named g"):
        cexpr.expand("g", macros)
    with pytest.raises(cexpr.ExprError, match="macro f is function-like, not a constant"):
        cexpr.expand("f", macros)


EXPONENTIAL = "\n".join(["#define X0 1"] + [f"#define X{i} (X{i - 1}+X{i - 1})"
                                            for i in range(1, 41)])
DOUBLING = "#define D(x) x x\n#define N " + "D(" * 30 + "1" + ")" * 30


@pytest.mark.parametrize(("defines", "name"), [(EXPONENTIAL, "X40"), (DOUBLING, "N")],
                         ids=["object-like", "function-like"])
def test_exponential_expansion_hits_the_bound_fast(defines: str, name: str) -> None:
    start = time.perf_counter()
    with pytest.raises(cexpr.ExpansionLimit, match=f"^macro {name} expands past 20000 tokens$"):
        cexpr.expand(name, _macros(defines))
    assert time.perf_counter() - start < 0.5


def test_the_bound_is_a_parameter() -> None:
    macros = _macros(EXPONENTIAL)
    assert len(cexpr.expand("X5", macros)) == 2**5 * 4 - 3  # 32 ones, 31 '+', 31 pairs of ()
    with pytest.raises(cexpr.ExpansionLimit, match="macro X5 expands past 100 tokens"):
        cexpr.expand("X5", macros, limit=100)


def test_deeply_nested_arguments_fail_cleanly() -> None:
    # each level rescans its argument, so the token bound must be lifted to get that deep
    macros = _macros("#define f(x) x\n#define N " + "f(" * 300 + "1" + ")" * 300)
    with pytest.raises(cexpr.ExprError, match="macro N nests macro arguments more than 200 deep"):
        cexpr.expand("N", macros, limit=10**7)


# --------------------------------------------------------------------------
# evaluate_macro: expansion, parsing and evaluation together

XEN_MACROS = XEN_HELPERS + r"""
#define GUEST_RAM0_BASE   xen_mk_ullong(0x40000000)
#define PSR_MODE_MASK     xen_mk_ullong(0x1f)
#define SIF_PM_MASK       (0xFF<<8)
#define XEN_PAGE_SIZE     (xen_mk_ulong(1) << XEN_PAGE_SHIFT)
#define XEN_ULONG_MAX     (~xen_mk_ulong(0))
#define INVALID_PFN       ((xen_pfn_t)-1)
#define EVTCHN_2L_NR_CHANNELS (sizeof(xen_ulong_t) * sizeof(xen_ulong_t) * 64)
#define SIGNED_BIT        (1 << 31)
#define COLOR_MASK        ((1 << BLUE) - RED)
#define BAD_DIV           (XEN_PAGE_SHIFT / (XEN_PAGE_SHIFT - 12))
#define NOT_A_CONSTANT    (struct_member + 1)
#define RING_ENTRIES(_s, _sz) \
    (((_sz) - offsetof(struct _s##_sring, ring)) / sizeof(((struct _s##_sring *)0)->ring[0]))
#define DEMO_RING_ENTRIES RING_ENTRIES(demo, XEN_PAGE_SIZE)
#define EMPTY
"""

MACRO_CASES = [
    ("GUEST_RAM0_BASE", same((0x40000000, "unsigned long long"))),
    ("PSR_MODE_MASK", same((0x1F, "unsigned long long"))),
    ("SIF_PM_MASK", same((0xFF00, "int"))),
    ("XEN_PAGE_SIZE", same((4096, "unsigned long"))),
    ("XEN_ULONG_MAX", bits((U32, "unsigned long"), (U64, "unsigned long"))),
    ("INVALID_PFN", bits((U32, "unsigned long"), (U64, "unsigned long"))),
    ("EVTCHN_2L_NR_CHANNELS", size(1024, 4096)),
    ("SIGNED_BIT", same((-2147483648, "int"))),
    ("COLOR_MASK", same((15, "int"))),
    ("DEMO_RING_ENTRIES", same((510, "unsigned long"))),
    ("BAD_DIV", same(Err("macro BAD_DIV: division by zero"))),
    ("NOT_A_CONSTANT",
     same(Err("macro NOT_A_CONSTANT: 'struct_member' is not an integer constant"))),
    ("EMPTY", same(Err("macro EMPTY: empty expression"))),
]

MACRO_PARAMS = [pytest.param(name, outcomes[target], target, id=f"{name}-{target}")
                for name, outcomes in MACRO_CASES for target in TARGETS]


@pytest.mark.parametrize(("name", "outcome", "target"), MACRO_PARAMS)
def test_evaluate_macro(name: str, outcome: Outcome, target: str) -> None:
    t = TARGETS[target]
    env = FakeEnv(t)
    macros = _macros(XEN_MACROS)
    if isinstance(outcome, Err):
        with pytest.raises(cexpr.ExprError, match=re.escape(outcome.fragment)):
            cexpr.evaluate_macro(name, macros, t, env, env)
        return
    got = cexpr.evaluate_macro(name, macros, t, env, env)
    assert (got.value, got.ctype) == outcome


@needs_clang
@pytest.mark.parametrize("target", TARGETS)
def test_evaluate_macro_as_clang(target: str) -> None:
    clang = pytest.importorskip("tests.oracle.clang")
    names = [name for name, _ in MACRO_CASES]
    got = clang.evaluate_exprs(TARGETS[target].clang_triple, PRELUDE + XEN_MACROS, names)
    want = [o if isinstance(o, tuple) else None for _, outcomes in MACRO_CASES
            for o in [outcomes[target]]]
    assert dict(zip(names, got)) == dict(zip(names, want))


def test_evaluate_macro_is_bounded() -> None:
    t = TARGETS["x86_64"]
    env = FakeEnv(t)
    with pytest.raises(cexpr.ExpansionLimit, match="macro X40 expands past 20000 tokens"):
        cexpr.evaluate_macro("X40", _macros(EXPONENTIAL), t, env, env)
