"""The layout engine on small fixtures, one per layout rule, checked against clang.

Each case is a snippet of C and the rule it exercises. The expected layout is
clang's for the same text and ``--target`` (tests/oracle/clang.py), never a
number written from the engine's output; a few cases also state the ABI fact
by hand where the psABI documents say what it must be.
"""

from __future__ import annotations

import pytest

from tests.layout_cases import CASES
from tests.oracle.clang import record_layouts
from tests.sourcekit import layout_source
from xenabi.targets import TARGETS


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
