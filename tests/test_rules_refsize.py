"""The refsize rule: reference.size against the computed sizes."""

from __future__ import annotations

from pathlib import Path

from tests.ruleskit import context, fld, make_tree, rec, snapshot
from xenabi.rules.refsize import PATH, check_refsize, parse

TABLE = """
structs                   |   arm32   arm64  x86_32  x86_64

start_info                |       -       -    1112    1168
vcpu_time_info            |      32      32      32      32
"""


def sized(n: int) -> object:
    return rec(n, 4, fld("a", "uint8_t[1]", 0, 1))


def test_parse_reads_the_columns_from_the_header_line() -> None:
    rows = parse(TABLE)
    assert [(r.name, dict(r.sizes), r.line) for r in rows] == [
        ("start_info", {"arm32": None, "arm64": None, "x86_32": 1112, "x86_64": 1168}, 4),
        ("vcpu_time_info", {"arm32": 32, "arm64": 32, "x86_32": 32, "x86_64": 32}, 5)]


def run(tmp_path: Path, sizes: dict[str, dict[str, int]]) -> list[tuple[str, int | None, str]]:
    ss = [snapshot(a, v, records={k: sized(by[a]) for k, by in sizes.items() if a in by})
          for a in ("x86_32", "x86_64", "arm64") for v in ("guest", "tools")]
    ctx = context(make_tree(tmp_path, {}, reference_size=TABLE), ss)
    return sorted({(f.file or "", f.line, f.message) for f in check_refsize(ctx)})


def test_agreeing_sizes_pass_and_dashes_are_skipped(tmp_path: Path) -> None:
    sizes = {"struct start_info": {"x86_32": 1112, "x86_64": 1168, "arm64": 4},
             "struct vcpu_time_info": {"x86_32": 32, "x86_64": 32, "arm64": 32}}
    assert run(tmp_path, sizes) == []


def test_a_wrong_cell_and_a_missing_struct_are_errors(tmp_path: Path) -> None:
    sizes = {"struct start_info": {"x86_32": 1116, "x86_64": 1168},
             "struct vcpu_time_info": {"x86_32": 32, "x86_64": 32}}
    assert run(tmp_path, sizes) == [
        (PATH, 4, "reference.size gives struct start_info 1112 bytes on x86_32, computed 1116"),
        (PATH, 5, "reference.size gives struct vcpu_time_info 32 bytes on arm64, "
                  "but no arm64 snapshot defines it")]
