"""cffi structs on small fixtures: the plain FFI (cffi's own host layout) and the
explicit FFI (the engine's layout on any target), each checked against clang.

Expected sizes, offsets and bytes are clang's for the same text and target
(tests/oracle/clang.py); the values written are random bit patterns, placed
where clang's offsets say (all targets are little-endian).
"""

from __future__ import annotations

import random

import pytest

from tests.ffikit import ClangPlacer, cffi_field, fill, pack
from tests.layout_cases import CASES
from tests.oracle.clang import record_layouts
from tests.sourcekit import parse_text
from xenabi.errors import UsageError
from xenabi.ffi import explicit_ffi, ffi_for, host_arch, plain_ffi, types_of
from xenabi.preprocess import Unit, preprocess_text
from xenabi.targets import TARGETS

PRELUDE = "#include <stdint.h>\n"

#: what the plain FFI must get past cffi's cdef; each is C that cffi rejects as written
PLAIN_CASES = {
    "sizeof in array dimensions":
        "struct a { uint64_t x; uint8_t y; };\n"
        "struct s { uint8_t b[sizeof(struct a) * 2]; uint32_t n[sizeof(unsigned long) / 4]; };",
    "_Alignof in an array dimension":
        "struct s { uint8_t pad[_Alignof(uint64_t)]; uint8_t c; };",
    "inline function, prototype and variable":
        "struct s { uint32_t a; };\n"
        "static inline uint32_t get(struct s *p) { return p->a; }\n"
        "int put(struct s *p);\nextern struct s the_s;",
    "one definition, two declarators":
        "struct g { struct p { uint16_t x; uint64_t y; } source, dest; uint8_t len; };",
    "typedef repeated":
        "typedef uint16_t domid_t;\ntypedef uint16_t domid_t;\nstruct s { domid_t d; };",
    "packed struct":
        "struct __attribute__((packed)) s { char a; uint32_t b; uint16_t c; };",
    "aligned attribute that changes nothing on the host":
        "struct s { uint32_t a; uint64_t __attribute__((aligned(8))) b; };",
    "bitfields, anonymous union and flexible array":
        "struct s { uint32_t a:3, b:29; union { uint64_t q; uint32_t w[2]; }; uint8_t d[]; };",
}

#: layouts the explicit FFI must reproduce on every target
#: layouts the explicit FFI must reproduce on every target: the layout tests' fixtures
EXPLICIT_CASES = CASES


def _unit(source: str, arch: str) -> Unit:
    text, macros, public = preprocess_text(source, TARGETS[arch])
    return Unit(TARGETS[arch], "tools", 0, text, macros, {}, {}, public)


def _check_fields(ffi, types, clang):
    """Every clang designator at clang's offset and size, in cffi."""
    for key, rec in clang.items():
        for f in rec["fields"]:
            got = cffi_field(ffi, types[key], f["name"])
            assert got == (f["offset_bits"], f["size_bits"], f["bitfield"]), f"{key} {f['name']}"


@pytest.mark.parametrize("source", list(PLAIN_CASES.values()), ids=list(PLAIN_CASES))
def test_plain_ffi_lays_out_as_clang_on_the_host(source):
    arch = host_arch()
    if arch is None:
        pytest.skip("this host is no Xen target: cffi's layout is no target's")
    clang = record_layouts(TARGETS[arch].clang_triple, PRELUDE + source)
    ffi = plain_ffi(_unit(PRELUDE + source, arch))
    types = types_of(ffi, clang)
    for key, rec in clang.items():
        assert (ffi.sizeof(types[key]), ffi.alignof(types[key])) == (rec["size"], rec["align"]), key
    _check_fields(ffi, types, clang)


@pytest.mark.parametrize("arch", list(TARGETS))
@pytest.mark.parametrize("source", list(EXPLICIT_CASES.values()), ids=list(EXPLICIT_CASES))
def test_explicit_ffi_packs_the_bytes_clang_implies(source, arch):
    clang = record_layouts(TARGETS[arch].clang_triple, PRELUDE + source)
    ffi = explicit_ffi(parse_text(PRELUDE + source, TARGETS[arch]))
    sized = {k: r for k, r in clang.items() if r["size"]}
    types = types_of(ffi, clang)
    for key in clang.keys() - sized.keys():
        assert types[key].fields is None, f"{key}: cffi has no empty records; it must stay opaque"
    for key, rec in sized.items():
        assert ffi.sizeof(types[key]) == rec["size"], key
    _check_fields(ffi, types, sized)
    placer = ClangPlacer(clang, types)
    for key in sized:
        values = fill(ffi, types[key], random.Random(key))
        assert pack(ffi, types[key], values) == placer.bytes(key, types[key], values), key


def test_explicit_ffi_sets_bitfields_by_name():
    # a 32-bit guest's struct: the bitfield straddles what would be a unit boundary
    ffi = explicit_ffi(parse_text(PRELUDE + EXPLICIT_CASES["bitfields across units"],
                                  TARGETS["x86_32"]))
    p = ffi.new("struct s *", {"a": 0xff, "b": (1 << 30) - 1, "c": 0x5})
    data = bytes(ffi.buffer(p))
    # clang: a at byte 0, b at bit 32 (30 bits), c at bit 64
    assert data[:9] == bytes([0xff, 0, 0, 0, 0xff, 0xff, 0xff, 0x3f, 0x05])


def test_a_model_gives_an_explicit_ffi():
    api = parse_text(PRELUDE + "struct s { long l; };", TARGETS["arm32"])
    assert ffi_for(api).sizeof("struct s") == 4
    with pytest.raises(UsageError, match="plain FFI"):
        ffi_for(api, explicit=False)


def test_plain_ffi_is_for_the_host_only(tmp_path):
    other = next(a for a in TARGETS if a != host_arch())
    with pytest.raises(UsageError, match="explicit layout"):
        ffi_for(tmp_path, other, explicit=False)  # type: ignore[arg-type]
