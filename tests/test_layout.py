"""The layout engine on small fixtures, one per layout rule, checked against clang.

Each case is a snippet of C and the rule it exercises. The expected layout is
clang's for the same text and ``--target`` (tests/oracle/clang.py), never a
number written from the engine's output; a few cases also state the ABI fact
by hand where the psABI documents say what it must be.
"""

from __future__ import annotations

import pytest

from tests.oracle.clang import record_layouts
from xenabi.layout import layout_source
from xenabi.targets import TARGETS

CASES = {
    "64-bit integer after a 32-bit one (i386: 4-aligned in structs)":
        "struct s { uint32_t a; uint64_t b; };",
    "aligned(8) attribute restores 8-byte alignment on i386 (uint64_aligned_t)":
        "struct s { uint32_t a; uint64_t __attribute__((aligned(8))) b; };",
    "union aligned only through an aligned(8) member":
        "union u { uint32_t a; uint64_t __attribute__((aligned(8))) b; };\n"
        "struct s { uint32_t x; union u y; };",
    "double and long double members":
        "struct s { char c; double d; char e; long double f; };",
    "pointers and longs follow the pointer size":
        "struct s { char c; void *p; long l; unsigned long ul; char *q[3]; };",
    "bitfields packed into one unit":
        "struct s { uint32_t a:3, b:5, c:24; uint8_t d; };",
    "bitfield that would straddle its unit moves to the next":
        "struct s { uint8_t a; uint32_t b:30; uint32_t c:4; };",
    "64-bit bitfields":
        "struct s { char a; uint64_t b:40; uint64_t c:30; };",
    "zero-width bitfield":
        "struct s { char a; int :0; char b; };",
    "zero-width bitfield of a wide type":
        "struct s { char a; long long :0; char b; };",
    "unnamed bitfield":
        "struct s { char a; long long :3; char b; };",
    "bitfields in a union":
        "union u { uint8_t a:3; uint16_t b:9; };",
    "anonymous struct and union members":
        "struct s { uint32_t t; union { uint64_t q; struct { uint32_t lo, hi; }; }; uint8_t z; };",
    "named member of an unnamed struct type":
        "struct s { uint16_t a; struct { uint8_t x; uint32_t y; } inner; };",
    "array of an unnamed struct type":
        "struct s { uint8_t n; struct { uint32_t c; uint64_t d; } t[2]; };",
    "flexible array member":
        "struct s { uint32_t n; uint64_t data[]; };",
    "zero-length array (GNU)":
        "struct s { uint16_t n; uint32_t grants[0]; };",
    "enum member":
        "enum e { A, B = 300 }; struct s { char c; enum e v; };",
    "typedef of an anonymous struct":
        "typedef struct { uint8_t bytes[16]; } uuid_t; struct s { char c; uuid_t u; };",
    "packed struct":
        "struct __attribute__((packed)) s { char a; uint32_t b; uint16_t c; };",
    "packed struct, attribute after the body":
        "struct s { char a; uint64_t b; } __attribute__((packed));",
    "aligned struct":
        "struct s { char a; } __attribute__((aligned(16)));",
    "nested record by value":
        "struct in { uint16_t a; uint64_t b; }; struct s { char c; struct in i; char d; };",
    "array dimension from sizeof and enumerators":
        "enum { N = 3 }; struct s { uint8_t pad[sizeof(uint64_t) * N]; };",
    "aligned attribute after the member's name":
        "struct s { char c; long long al __attribute__((aligned(16))); int x : 4 "
        "__attribute__((aligned(8))); };",
    "aligned typedef":
        "typedef int aint __attribute__((aligned(8))); struct s { char c; aint v; };",
    "packed member":
        "struct s { char c; int x __attribute__((packed)); char d; "
        "__attribute__((packed)) int y; };",
    "zero-width bitfield in a packed record":
        "struct s { char a; int : 0; char b; } __attribute__((packed));\n"
        "union u { short : 0; int m; } __attribute__((packed));",
    "#pragma pack":
        "#pragma pack(push, 2)\nstruct s { char c; int x; long long y; };\n#pragma pack(pop)\n"
        "struct t { char c; int x; };",
    "_Alignas of a type":
        "struct s { char c; _Alignas(long long) char x; };",
    "_Bool and char arrays":
        "struct s { _Bool f; char name[7]; int16_t v; };",
}

PRELUDE = "#include <stdint.h>\n"


@pytest.mark.parametrize("arch", list(TARGETS))
@pytest.mark.parametrize("source", list(CASES.values()), ids=list(CASES))
def test_layout_matches_clang(source, arch):
    ours = layout_source(PRELUDE + source, arch)
    theirs = record_layouts(TARGETS[arch].clang_triple, PRELUDE + source)
    assert set(ours) == set(theirs)
    for key, rec in theirs.items():
        mine = ours[key]
        assert (mine.size, mine.align) == (rec["size"], rec["align"]), f"{arch} {key}"
        want = [(f["name"], f["offset_bits"], f["size_bits"], f["bitfield"]) for f in rec["fields"]]
        got = [(f.name, f.offset_bits, f.size_bits, f.bitfield) for f in mine.fields]
        assert got == want, f"{arch} {key}"


@pytest.mark.parametrize("arch, offset, size", [
    ("x86_32", 4, 12), ("x86_64", 8, 16), ("arm32", 8, 16), ("arm64", 8, 16),
], ids=lambda v: str(v))
def test_i386_aligns_uint64_to_4_inside_structs(arch, offset, size):
    # The i386 SysV psABI gives long long 4-byte alignment inside structs; ARM's
    # AAPCS gives it 8. This is why Xen has uint64_aligned_t.
    rec = layout_source(PRELUDE + CASES["64-bit integer after a 32-bit one "
                                        "(i386: 4-aligned in structs)"], arch)["struct s"]
    assert rec.field("b").offset_bits == offset * 8
    assert rec.size == size
