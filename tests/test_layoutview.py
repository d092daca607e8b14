"""The side-by-side layout view: rows, holes and difference marks from given layouts, and
``xenabi dump --format text`` on the mini tree with clang's offsets in its cells.
"""

from __future__ import annotations

import pytest

from pathlib import Path

from tests.minitree import MINI, copy_mini
from tests.oracle.clang import tree_oracle
from xenabi.cli import main
from xenabi.errors import UsageError
from xenabi.layoutview import assert_same_layout, layout_table, render
from xenabi.model import Coord, FieldLayout, RecordLayout, Snapshot, TypedefLayout
from xenabi.targets import TARGETS, tree_arches
from xenabi.tree import open_tree


def _rec(size: int, align: int, *fields: tuple[str, str, int, int],
         bitfields: tuple[str, ...] = ()) -> RecordLayout:
    return RecordLayout("struct", size, align, Coord("x.h", 3), tuple(
        FieldLayout(n, t, off, bits, n in bitfields) for n, t, off, bits in fields))


# struct s { uint8_t a; xen_ulong_t b; uint8_t c; } on a 32- and a 64-bit target
NARROW = _rec(12, 4, ("a", "uint8_t", 0, 8), ("b", "xen_ulong_t", 32, 32), ("c", "uint8_t", 64, 8))
WIDE = _rec(24, 8, ("a", "uint8_t", 0, 8), ("b", "xen_ulong_t", 64, 64), ("c", "uint8_t", 128, 8))


def _line(text: str, label: str) -> str:
    return next(ln for ln in text.splitlines() if ln[2:].split(" ", 1)[0] == label)


def test_holes_and_tail_padding_per_target():
    text = render("struct s", {"t32": NARROW, "t64": WIDE})
    assert _line(text, "(hole)").split()[-4:] == ["1", "3", "1", "7"]
    assert _line(text, "(padding)").split()[-4:] == ["9", "3", "17", "7"]
    assert _line(text, "size").split()[-2:] == ["12", "24"]


def test_rows_that_differ_are_marked():
    text = render("struct s", {"t32": NARROW, "t64": WIDE})
    assert _line(text, "a").startswith(" ")
    assert _line(text, "b").startswith("*")
    assert _line(text, "align").startswith("*")


def test_a_record_or_member_missing_on_a_target():
    extra = _rec(12, 4, ("a", "uint8_t", 0, 8), ("pad0", "uint8_t", 8, 8),
                 ("b", "xen_ulong_t", 32, 32), ("c", "uint8_t", 64, 8))
    text = render("struct s", {"t32": NARROW, "arm": extra, "none": None})
    rows = [ln[2:].split(" ", 1)[0] for ln in text.splitlines()[2:]]
    assert rows[:3] == ["a", "pad0", "(hole)"]  # merged in declaration order
    assert _line(text, "pad0").startswith("*")
    assert _line(text, "a").split()[-1] == "-"  # the target without the record
    assert text.rstrip().endswith("not defined on none")


def test_bitfields_show_byte_bit_and_width():
    rec = _rec(4, 4, ("x", "uint32_t", 0, 3), ("y", "uint32_t", 11, 5), bitfields=("x", "y"))
    cells = _line(render("struct b", {"t": rec}), "y").split()[-2:]
    assert cells == ["1:3", "5b"]
    assert _line(render("struct b", {"t": rec}), "(hole)").split()[-2:] == ["0:3", "8b"]


def test_members_of_an_unnamed_struct_make_the_holes():
    # struct { struct { uint8_t a; uint32_t b; } in; } : the hole is inside `in`
    rec = _rec(8, 4, ("in", "struct {...}", 0, 64), ("in.a", "uint8_t", 0, 8),
               ("in.b", "uint32_t", 32, 32))
    text = render("struct o", {"t": rec})
    assert _line(text, "(hole)").split()[-2:] == ["1", "3"]


def _snapshots(**records: RecordLayout) -> dict[tuple[str, str], Snapshot]:
    return {(arch, "tools"): Snapshot(arch, "tools", 0, {"struct s": rec}, {}, {}, {})
            for arch, rec in records.items()}


def test_assert_same_layout_fails_with_the_table():
    with pytest.raises(AssertionError, match=r"struct s differs between targets") as e:
        assert_same_layout(_snapshots(x86_32=NARROW, x86_64=WIDE), "s")
    assert "(hole)" in str(e.value)
    assert_same_layout(_snapshots(x86_32=NARROW, arm32=NARROW), "s")


def test_names_without_struct_are_found_and_unknown_ones_refused():
    snaps = _snapshots(x86_32=NARROW)
    assert layout_table(snaps, "s").startswith("struct s")
    with pytest.raises(UsageError, match="no record 'nope'"):
        layout_table(snaps, "nope")


def test_a_typedef_name_finds_the_record_it_names():
    snaps = _snapshots(x86_32=NARROW)
    only = snaps["x86_32", "tools"]
    snaps["x86_32", "tools"] = Snapshot("x86_32", "tools", 0, only.records, {}, {
        "s_t": TypedefLayout("struct s", 12, 4, Coord("x.h", 9)),
        "len_t": TypedefLayout("uint32_t", 4, 4, Coord("x.h", 10))}, {})
    assert layout_table(snaps, "s_t").startswith("struct s  (x.h:3)")
    with pytest.raises(UsageError, match="no record 'len_t'"):
        layout_table(snaps, "len_t")  # a typedef, but of no record


def test_an_unknown_record_gets_the_closest_name_or_none():
    snaps = {("x86_32", "tools"): Snapshot("x86_32", "tools", 0,
                                           {"struct shared_info": NARROW}, {}, {}, {})}
    with pytest.raises(UsageError, match=r"^no record 'shared_inf' on any of x86_32 \(did "
                                         r"you mean struct shared_info\?\)$"):
        layout_table(snaps, "shared_inf")
    with pytest.raises(UsageError, match=r"^no record 'unrelated' on any of x86_32$"):
        layout_table(snaps, "unrelated")


def _mini_with_typedef(tmp_path: Path) -> Path:
    root = copy_mini(tmp_path / "tree")
    xen_h = root / "xen/include/public/xen.h"
    xen_h.write_text(xen_h.read_text().replace(
        "typedef struct {", "typedef struct mini_info mini_info_t;\ntypedef struct {"))
    return root


def test_dump_record_takes_a_typedef_name(tmp_path, capsys):
    root = _mini_with_typedef(tmp_path)
    assert main(["dump", "--xen-root", str(root), "--format", "text", "--record",
                 "mini_info_t"]) == 0
    assert capsys.readouterr().out.splitlines()[2].startswith("struct mini_info  (xen.h:14)")


def test_dump_record_unknown_is_one_line_with_a_suggestion(tmp_path, capsys):
    root = _mini_with_typedef(tmp_path)
    assert main(["dump", "--xen-root", str(root), "--format", "text", "--record",
                 "mini_info_tt"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ("xenabi: error: no record 'mini_info_tt' on any of x86_32, x86_64, "
                            "arm32, arm64 (did you mean mini_info_t?)\n")


def test_dump_text_shows_each_arch_asked_for_in_the_order_given(capsys):
    assert main(["dump", "--xen-root", str(MINI), "--format", "text", "--arch", "arm32",
                 "--arch", "x86_32", "--arch", "arm32", "--record", "mini_info"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "arm32, x86_32: tools view; offsets and sizes in bytes"
    assert lines[3].split()[-2:] == ["arm32", "x86_32"]


def test_dump_json_takes_one_arch_and_says_where_several_go(tmp_path, capsys):
    out = tmp_path / "dump.json"
    assert main(["dump", "--xen-root", str(MINI), "--arch", "arm32", "--arch", "x86_32",
                 "-o", str(out)]) == 2
    assert capsys.readouterr().err == (
        "xenabi: error: dump --format json takes one --arch, not 2: xenabi snapshot "
        "--arch arm32 --arch x86_32 writes them to one file\n")
    assert not out.exists()


def test_dump_text_shows_clangs_offsets_for_every_target(capsys):
    assert main(["dump", "--xen-root", str(MINI), "--no-cache", "--format", "text",
                 "--record", "mini_info"]) == 0
    out = capsys.readouterr().out
    public = MINI / "xen/include/public"
    for name in ("magic", "stamp", "owner", "flags"):
        cells = _line(out, name).split()[-8:]
        for i, arch in enumerate(tree_arches(open_tree(MINI).headers)):
            clang = tree_oracle(public, TARGETS[arch].clang_triple, "tools").records
            f = next(f for f in clang["struct mini_info"]["fields"] if f["name"] == name)
            assert cells[2 * i: 2 * i + 2] == [str(f["offset_bits"] // 8),
                                               str(f["size_bits"] // 8)], (name, arch)
    assert _line(out, "stamp").startswith("*")  # 4-aligned inside a struct on i386 only


def test_dump_json_still_needs_an_arch(capsys):
    assert main(["dump", "--xen-root", str(MINI), "--no-cache"]) == 2
    assert "needs --arch" in capsys.readouterr().err
