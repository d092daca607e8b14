"""The doc-layout rule: offset tables drawn in header comments against the computed layout."""

from __future__ import annotations

from pathlib import Path

from tests.ruleskit import context, fld, make_tree, rec, snapshot
from xenabi.model import RecordLayout
from xenabi.rules.doc_layout import check_doc_layout, tables
from xenabi.analysis.headertext import analyse

HEADER = """\
/*
 * The layout:
 *
 *  0 +----------------+
 *    | magic          | The magic value
 *    |                | (more words).
 *  4 +----------------+
 *    | flags          | Flags.
 *  8 +----------------+
 *    | paddr          | An address.
 * 16 +----------------|
 *    | count          | How many.
 * 20 +----------------+
 *    | reserved       |
 * 24 +----------------+
 */
struct boot_info {
    uint32_t magic;
    uint32_t flags;
    uint64_t paddr;
    uint32_t count;
    uint32_t reserved;
};
"""


def boot_info(arch: str, paddr: int = 8) -> RecordLayout:
    return rec(paddr + 16, 8, fld("magic", "uint32_t", 0, 4), fld("flags", "uint32_t", 4, 4),
               fld("paddr", "uint64_t", paddr, 8), fld("count", "uint32_t", paddr + 8, 4),
               fld("reserved", "uint32_t", paddr + 12, 4), header="boot.h", line=17)


def test_tables_are_read_with_their_irregularities() -> None:
    text = analyse(HEADER)
    (t,) = tables("boot.h", text.lines, text.kinds)
    assert (t.line, t.size, t.end_line) == (4, 24, 15)
    assert [(d.name, d.offset, d.size, d.line) for d in t.fields] == [
        ("magic", 0, 4, 4), ("flags", 4, 4, 7), ("paddr", 8, 8, 9), ("count", 16, 4, 11),
        ("reserved", 20, 4, 13)]


def run(tmp_path: Path, header: str, layouts: dict[str, RecordLayout]) -> list[str]:
    ctx = context(make_tree(tmp_path, {"boot.h": header}),
                  [snapshot(a, "guest", records={"struct boot_info": r}, headers=["boot.h"])
                   for a, r in layouts.items()])
    return sorted({str(f) for f in check_doc_layout(ctx)})


def test_a_drawing_that_matches_passes(tmp_path: Path) -> None:
    assert run(tmp_path, HEADER, {"x86_64": boot_info("x86_64"), "x86_32": boot_info("x86_32")}) == []


def test_a_moved_field_and_a_wrong_end_are_errors(tmp_path: Path) -> None:
    assert run(tmp_path, HEADER, {"x86_32": boot_info("x86_32", paddr=12)}) == [
        "xen/include/public/boot.h:11: error: the table draws struct boot_info field `count` at "
        "offset 16, it is at 20 [doc-layout]",
        "xen/include/public/boot.h:13: error: the table draws struct boot_info field `reserved` "
        "at offset 20, it is at 24 [doc-layout]",
        "xen/include/public/boot.h:15: error: the table ends struct boot_info at 24 bytes, its "
        "size is 28 [doc-layout]",
        "xen/include/public/boot.h:9: error: the table draws struct boot_info field `paddr` at "
        "offset 8, it is at 12 [doc-layout]"]


def test_a_field_drawn_too_wide(tmp_path: Path) -> None:
    text = HEADER.replace(" * 16 +----------------|", " * 20 +----------------+").replace(
        " * 20 +----------------+\n *    | reserved", " * 24 +----------------+\n *    | reserved")
    found = run(tmp_path, text, {"x86_64": boot_info("x86_64")})
    assert ("xen/include/public/boot.h:9: error: the table draws struct boot_info field `paddr` "
            "12 bytes wide, it is 8 [doc-layout]") in found


def test_a_table_no_record_matches_is_a_warning(tmp_path: Path) -> None:
    text = HEADER.replace("magic", "alpha").replace("flags", "beta").replace("paddr", "gamma") \
        .replace("count", "delta").replace("reserved", "eps")
    assert run(tmp_path, text, {"x86_64": boot_info("x86_64")}) == [
        "xen/include/public/boot.h:4: warning: an offset table (alpha, beta, gamma, ...) that no "
        "record of boot.h matches [doc-layout]"]
