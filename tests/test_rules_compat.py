"""The compat rule: xlat.lst's `?` structs are one layout on x86_32 and x86_64; `!` are listed."""

from __future__ import annotations

from pathlib import Path

from tests.ruleskit import context, fld, make_tree, rec, snapshot, td
from xenabi.model import RecordLayout, Snapshot
from xenabi.rules.compat import check_compat
from xenabi.analysis.xlat import parse

PAIR = ("x86_32", "x86_64")


def arr(arch: str) -> RecordLayout:
    """``struct { uint32_t n; uint8_t pad[sizeof(long)]; }``: the array follows the pointer size."""
    n = 4 if arch == "x86_32" else 8
    return rec(4 + n, 4, fld("n", "uint32_t", 0, 4), fld("pad", f"uint8_t[{n}]", 4, n),
               header="event_channel.h", line=30)


def same(arch: str) -> RecordLayout:
    return rec(8, 4, fld("a", "uint32_t", 0, 4), fld("b", "uint32_t", 4, 4), header="vcpu.h")


def run(tmp_path: Path, xlat: str, records: dict[str, object],
        views: tuple[str, ...] = ("guest", "tools"), **kw: object) -> list[tuple[str, str, str]]:
    ss: list[Snapshot] = [snapshot(a, v, records={k: f(a) for k, f in records.items()},  # type: ignore[operator]
                                   **kw)
                          for a in PAIR for v in views]
    ctx = context(make_tree(tmp_path, {}, xlat=xlat), ss)
    out = [(f.severity.value, f"{f.file}:{f.line}", f.message) for f in check_compat(ctx)]
    return list(dict.fromkeys(out))  # one per view, alike: merged as check() merges them


def test_checked_struct_with_one_layout_passes(tmp_path: Path) -> None:
    assert run(tmp_path, "?\tvcpu_get_physid\tvcpu.h\n",
               {"struct vcpu_get_physid": same}) == []


def test_checked_struct_that_differs_is_an_error_at_its_declaration(tmp_path: Path) -> None:
    found = run(tmp_path, "# comment\n?\tevtchn_status\tevent_channel.h\n",
                {"struct evtchn_status": arr})
    assert found == [("error", "xen/include/public/event_channel.h:30",
                      "struct evtchn_status is marked `?` in xlat.lst (used unchanged by 32-bit "
                      "guests) but differs between x86_32 and x86_64: `pad` size 4 (x86_32) vs 8 "
                      "(x86_64); size 8 (x86_32) vs 12 (x86_64)")]


def test_translated_struct_is_listed_as_information(tmp_path: Path) -> None:
    found = run(tmp_path, "!\tmemory_exchange\tmemory.h\n", {"struct xen_memory_exchange": arr})
    assert [(f[0], f[2].split(" (")[0]) for f in found] == [("info", "struct xen_memory_exchange")]


def test_xen_prefix_and_unions_are_found(tmp_path: Path) -> None:
    xlat = "?\tgrant_entry_v2\tgrant_table.h\n?\tflask_access\txsm/flask_op.h\n"
    found = run(tmp_path, xlat, {"union grant_entry_v2": arr, "struct xen_flask_access": arr})
    assert sorted(f[2].split(" is marked")[0] for f in found) == ["struct xen_flask_access",
                                                                  "union grant_entry_v2"]


def test_translated_members_are_left_out_of_a_checked_struct(tmp_path: Path) -> None:
    def mc(arch: str) -> RecordLayout:
        n = 20 if arch == "x86_32" else 24
        return rec(40, 8, fld("cmd", "uint32_t", 0, 4), fld("u", "union {...}", 8, 32),
                   fld("u.mc_fetch", "xen_mc_fetch_t", 8, n), fld("u.other", "uint8_t[32]", 8, 32))
    xlat = "?\tmc\tarch-x86/xen-mca.h\n!\tmc_fetch\tarch-x86/xen-mca.h\n"
    found = run(tmp_path, xlat, {"struct xen_mc": mc, "struct xen_mc_fetch": arr},
                typedefs={"xen_mc_fetch_t": td("struct xen_mc_fetch", 8, 4)})
    assert [f[0] for f in found] == ["info"]  # mc_fetch itself, translated; xen_mc is clean


def test_an_entry_no_snapshot_defines_is_a_warning_on_its_line(tmp_path: Path) -> None:
    found = run(tmp_path, "?\tgone\tvcpu.h\n", {"struct other": same})
    assert found == [("warning", "xen/include/xlat.lst:1", "xlat.lst marks gone `?` in vcpu.h, "
                      "but no x86 snapshot defines such a struct")]


def test_without_both_x86_targets_there_is_nothing_to_say(tmp_path: Path) -> None:
    ctx = context(make_tree(tmp_path, {}, xlat="?\tgone\tvcpu.h\n"),
                  [snapshot("x86_64", "guest"), snapshot("arm64", "guest")])
    assert list(check_compat(ctx)) == []


def test_xlat_parse_keeps_marks_names_headers_lines() -> None:
    entries = parse("# x\n?\tmc\t\tarch-x86/xen-mca.h\n!       cpu_user_regs   "
                    "arch-x86/xen-@arch@.h\n")
    assert [(e.mark, e.name, e.header, e.line) for e in entries] == [
        ("?", "mc", "arch-x86/xen-mca.h", 2), ("!", "cpu_user_regs", "arch-x86/xen-@arch@.h", 3)]
    assert entries[1].header_for("x86_32") == "arch-x86/xen-x86_32.h"
