"""The holes rule: implicit padding, pahole-style; target-dependent holes warn, others inform."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.holeskit import reference_holes
from tests.ruleskit import context, fld, make_tree, rec, snapshot
from xenabi.model import Coord, FieldLayout, RecordLayout
from xenabi.analysis.holes import Hole, holes
from xenabi.rules.holes import check_holes, describe


def test_a_hole_between_fields_and_tail_padding() -> None:
    r = rec(24, 8, fld("a", "uint32_t", 0, 4), fld("b", "uint64_t", 8, 8),
            fld("c", "uint16_t", 16, 2))
    assert holes(r) == (Hole("a", "b", 32, 32), Hole("c", None, 144, 48))
    assert [describe(h, "struct s") for h in holes(r)] == [
        "struct s has a 4-byte hole after `a` (at offset 4)",
        "struct s has 6-byte tail padding after `c` (at offset 18)"]


def test_no_holes_in_a_packed_record_or_a_union_of_full_members() -> None:
    assert holes(rec(8, 4, fld("a", "uint32_t", 0, 4), fld("b", "uint32_t", 4, 4))) == ()
    u = rec(8, 8, fld("x", "uint64_t", 0, 8), fld("y", "uint32_t", 0, 4), kind="union")
    assert holes(u) == ()


def test_bitfield_gaps_are_reported_in_bits() -> None:
    r = rec(4, 4, fld("lo", "uint32_t", 0, 0, bits=(0, 3)), fld("hi", "uint32_t", 0, 0, bits=(8, 24)))
    assert [describe(h, "struct b") for h in holes(r)] == [
        "struct b has a 5-bit hole after `lo` (at bit 3)"]


def test_members_of_unnamed_structs_count_and_arrays_of_them_are_whole() -> None:
    r = rec(32, 8, fld("hdr", "uint32_t", 0, 4), fld("u", "struct {...}", 8, 16),
            fld("u.x", "uint32_t", 8, 4), fld("u.y", "uint64_t", 16, 8),
            fld("t", "struct {...}[1]", 24, 8), fld("t[0].z", "uint32_t", 24, 4))
    assert [describe(h, "struct n") for h in holes(r)] == [
        "struct n has a 4-byte hole after `hdr` (at offset 4)",
        "struct n has a 4-byte hole after `u.x` (at offset 12)"]


def test_a_flexible_array_after_padding() -> None:
    r = rec(8, 8, fld("count", "uint32_t", 0, 4), fld("msr", "struct one[]", 8, 0))
    assert [describe(h, "struct hvm_msr") for h in holes(r)] == [
        "struct hvm_msr has a 4-byte hole after `count` (at offset 4)"]


def test_each_alternative_of_a_union_has_its_own_holes() -> None:
    # struct evtchn_status's union u { struct { domid_t dom; } unbound;
    #   struct { domid_t dom; evtchn_port_t port; } interdomain; uint32_t pirq; }:
    # interdomain has 2 bytes after dom, though pirq spans them (clang -Wpadded says so)
    r = rec(12, 4, fld("status", "uint32_t", 0, 4), fld("u", "union {...}", 4, 8),
            fld("u.unbound", "struct {...}", 4, 2), fld("u.unbound.dom", "uint16_t", 4, 2),
            fld("u.interdomain", "struct {...}", 4, 8), fld("u.interdomain.dom", "uint16_t", 4, 2),
            fld("u.interdomain.port", "uint32_t", 8, 4), fld("u.pirq", "uint32_t", 4, 4))
    assert holes(r) == (Hole("u.interdomain.dom", "u.interdomain.port", 48, 16),)


def test_an_alternatives_tail_padding_is_a_hole_before_what_follows() -> None:
    # union { struct { uint64_t mfn; uint32_t evtchn; } domU; struct { uint32_t info_off;
    #   uint32_t info_size; } dom0; } console; then uint64_t pt_base (start_info's shape)
    r = rec(24, 8, fld("console", "union {...}", 0, 16),
            fld("console.domU", "struct {...}", 0, 16), fld("console.domU.mfn", "uint64_t", 0, 8),
            fld("console.domU.evtchn", "uint32_t", 8, 4),
            fld("console.dom0", "struct {...}", 0, 8), fld("console.dom0.off", "uint32_t", 0, 4),
            fld("console.dom0.size", "uint32_t", 4, 4), fld("pt_base", "uint64_t", 16, 8))
    assert holes(r) == (Hole("console.domU.evtchn", "console.dom0", 96, 32),)
    assert [describe(h, "struct start_info") for h in holes(r)] == [
        "struct start_info has a 4-byte hole after `console.domU.evtchn` (at offset 12)"]


def test_a_hole_before_a_union_belongs_to_the_fields_before_it() -> None:
    r = rec(16, 8, fld("cmd", "uint32_t", 0, 4), fld("u", "union {...}", 8, 8),
            fld("u.a", "uint64_t", 8, 8), fld("u.b", "uint32_t", 8, 4))
    assert holes(r) == (Hole("cmd", "u.a", 32, 32),)


def entry(arch: str) -> RecordLayout:
    off = 4 if arch == "x86_32" else 8
    return rec(off + 8, off, fld("a", "uint32_t", 0, 4), fld("b", "uint64_t", off, 8),
               header="io/blkif.h", line=7)


def test_severity_follows_whether_every_target_has_the_hole(tmp_path: Path) -> None:
    everywhere = rec(16, 8, fld("a", "uint32_t", 0, 4), fld("b", "uint64_t", 8, 8),
                     header="io/blkif.h", line=3)
    ss = [snapshot(a, "guest", records={"struct some": entry(a), "struct all": everywhere})
          for a in ("x86_32", "x86_64", "arm64")]
    found = sorted((f.severity.value, f.message, f.arches) for f in
                   check_holes(context(make_tree(tmp_path, {}), ss)))
    assert found == [
        ("info", "struct all has a 4-byte hole after `a` (at offset 4)",
         ("x86_32", "x86_64", "arm64")),
        ("warning", "struct some has a 4-byte hole after `a` (at offset 4), only on x86_64, arm64",
         ("x86_64", "arm64"))]


# -- the coverage walk against a plain bitmap (tests/holeskit.py), on generated records:
#    leaf fields, a nested struct's members, bitfields, arrays of structs


@st.composite
def _records(draw: st.DrawFn) -> RecordLayout:
    fields: list[FieldLayout] = []
    at = 0
    for i in range(draw(st.integers(0, 6))):
        at += draw(st.integers(0, 24))  # a gap, in bits
        shape = draw(st.sampled_from(["leaf", "bitfield", "struct", "array"]))
        if shape in ("leaf", "bitfield"):
            size = draw(st.integers(1, 7)) if shape == "bitfield" else 8 * draw(st.integers(0, 4))
            fields.append(FieldLayout(f"f{i}", "int", at, size, shape == "bitfield"))
            at += size
            continue
        inner = [(draw(st.integers(0, 16)), 8 * draw(st.integers(1, 2))) for _ in range(2)]
        size = 0
        members = []
        for j, (gap, width) in enumerate(inner):
            members.append((j, size + gap, width))
            size += gap + width
        size = -(-size // 8) * 8 + 8 * draw(st.integers(0, 2))  # tail padding of its own
        count = draw(st.integers(1, 3)) if shape == "array" else 1
        name = f"f{i}"
        fields.append(FieldLayout(name, f"struct s{i}[{count}]" if shape == "array"
                                  else f"struct s{i}", at, size * count))
        sub = f"{name}[0]." if shape == "array" else f"{name}."
        fields.extend(FieldLayout(f"{sub}m{j}", "int", at + off, width)
                      for j, off, width in members)
        at += size * count
    total = -(-at // 8) + draw(st.integers(0, 3))
    return RecordLayout("struct", total, 1, Coord("a.h", 1), tuple(fields))


@settings(max_examples=300, deadline=None)
@given(_records())
def test_holes_are_the_bits_no_field_covers(record: RecordLayout) -> None:
    assert [(h.offset_bits, h.size_bits, h.tail) for h in holes(record)] == reference_holes(record)
