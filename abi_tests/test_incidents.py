"""Incidents from Xen's history, replayed on a copy of the provisioned tree; and the seed patch.

Each replay is an edit applied at test time to a temporary copy of the tree
under test (nothing of Xen is committed here): the edit reintroduces the
kind of mistake Xen once shipped or nearly shipped, and the test asserts
that the rules that should catch it do, with the finding a maintainer would
read. An edit that no longer applies (the text it looks for is gone) fails
loudly rather than passing vacuously.

The seed tests apply the xen.h hunk of ``shared/seed/sif-hvm-ghcb.mangled.patch``
by hand (its context lines lost their whitespace and it was made against
master, 16 lines off): ``SIF_HVM_GHCB`` goes after ``SIF_VIRT_P2M_4TOOLS``.
They skip, saying why, when the seed is absent.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

from xenabi import run as run_mod
from xenabi.check import Report
from xenabi.model import Finding, Severity
from xenabi.tree import XenTree, open_tree

pytestmark = pytest.mark.needs("checkout")

#: the seed, in the shared/ folder beside the checkout (there in CI; users skip its tests)
SEED = Path(__file__).resolve().parents[2] / "shared/seed/sif-hvm-ghcb.mangled.patch"

#: what a copy of a checkout needs for every rule: headers, ABI tables, release number
_COPY = ("xen/include/public", "xen/include/xlat.lst", "tools/include/xen-foreign/reference.size",
         "xen/Makefile")


def copy_tree(tree: XenTree, dest: Path) -> Path:
    for rel in _COPY:
        src = tree.root / rel
        if src.is_dir():
            shutil.copytree(src, dest / rel)
        elif src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


def edit(root: Path, header: str, old: str, new: str, *, after: str | None = None) -> int:
    """Replace ``old`` (the first one after the text ``after``) in a public header; the line of
    the change. Fails when the text is not there: the replay no longer applies."""
    path = root / "xen/include/public" / header
    text = path.read_text()
    start = 0
    if after is not None:
        start = text.find(after)
        assert start >= 0, f"{header}: no '{after}' to anchor the edit"
    at = text.find(old, start)
    assert at >= 0, f"{header}: no '{old}' after '{after}'"
    path.write_text(text[:at] + new + text[at + len(old):])
    return text.count("\n", 0, at) + 1


def run(root: Path, rules: Sequence[str], arches: Iterable[str],
        views: Iterable[str] = ("guest", "tools")) -> Report:
    return run_mod.run(open_tree(root), arches=arches, views=views, rules=rules, waivers=())


def lines(report: Report, severity: Severity | None = None) -> list[str]:
    return [str(f) for f in report.findings if severity is None or f.severity is severity]


def about(report: Report, symbol: str) -> list[Finding]:
    return [f for f in report.findings if symbol in f.symbols]


# --------------------------------------------------------------------------
# The incidents


def test_union_aligned_only_by_a_uint64_aligned_member(xen_tree: XenTree, tmp_path: Path) -> None:
    """x86_32's 64-bit guest handle is ``struct { union { T *p; uint64_aligned_t q; }; }``: the
    union is 8-aligned only because of ``q``. Made a plain ``uint64_t`` (4-aligned on i386),
    every tools struct whose handle follows a 4-byte field moves on x86_32: the arch rule
    reports them, the holes rule the holes that appear or vanish."""
    root = copy_tree(xen_tree, tmp_path)
    edit(root, "arch-x86/xen-x86_32.h", "uint64_aligned_t q;", "uint64_t q;",
         after="#define ___DEFINE_XEN_GUEST_HANDLE(name, type)")
    report = run(root, ["arch", "holes"], ["x86_32", "x86_64"])
    (bitmap,) = [f for f in about(report, "struct xen_domctl_vcpuaffinity") if f.rule == "arch"]
    assert bitmap.severity is Severity.ERROR
    assert bitmap.message == (
        "struct xen_domctl_vcpuaffinity is built from fixed-width types but its layout differs "
        "(a 32-bit toolstack and 64-bit Xen disagree): `cpumap_hard` size 12 (x86_32) vs 16 "
        "(x86_64); `cpumap_soft` offset 20 (x86_32) vs 24 (x86_64); size 32 (x86_32) vs 40 "
        "(x86_64)")
    holes = [f.message for f in about(report, "struct xenctl_bitmap") if f.rule == "holes"]
    assert "struct xenctl_bitmap has 4-byte tail padding after `nr_bits` (at offset 12), only " \
           "on x86_64" in holes


def test_array_sized_by_the_pointer_in_a_shared_struct(xen_tree: XenTree,
                                                       tmp_path: Path) -> None:
    """A struct that 32- and 64-bit guests share (xlat.lst ``?``) gets an array whose length
    follows the pointer size: arch sees arm32 and arm64 disagree, compat sees x86_32 and
    x86_64 disagree on a struct Xen uses unchanged."""
    root = copy_tree(xen_tree, tmp_path)
    line = edit(root, "vcpu.h", "uint32_t rsvd;", "uint8_t rsvd[sizeof(void *)];",
                after="struct vcpu_register_vcpu_info {")
    report = run(root, ["arch", "compat"], ["x86_32", "x86_64", "arm32", "arm64"], ["guest"])
    key = "struct vcpu_register_vcpu_info"
    by_rule = {f.rule: f for f in about(report, key)}
    assert by_rule["arch"].severity is Severity.ERROR
    assert "(arm32 and arm64 disagree): `rsvd` size 4 (x86_32, arm32) vs 8 (x86_64, arm64)" \
        in by_rule["arch"].message
    assert str(by_rule["compat"]) == (
        f"xen/include/public/vcpu.h:{line - 3}: error: {key} is marked `?` in xlat.lst (used "
        "unchanged by 32-bit guests) but differs between x86_32 and x86_64: `rsvd` size 4 "
        "(x86_32) vs 8 (x86_64); size 16 (x86_32) vs 24 (x86_64) [compat]")


def test_shared_struct_that_stops_being_fixed_width(xen_tree: XenTree, tmp_path: Path) -> None:
    """``uint32_t pad`` of xen_multiboot_mod_list becomes ``unsigned long pad``: the record is
    no longer built from fixed-width types, but arm32 (16 bytes) and arm64 (pad 8-aligned at
    16, 24 bytes) still share it with no compat layer between them: an error, decided by
    layout, not a mere holes warning."""
    root = copy_tree(xen_tree, tmp_path)
    edit(root, "xen.h", "uint32_t pad;", "unsigned long pad;",
         after="struct xen_multiboot_mod_list")
    report = run(root, ["arch"], ["arm32", "arm64"])
    found = [f for f in about(report, "struct xen_multiboot_mod_list") if f.rule == "arch"]
    assert [(f.severity, f.arches, f.views) for f in found] == [
        (Severity.ERROR, ("arm32", "arm64"), ("guest", "tools"))]
    assert found[0].message.endswith(
        "`pad` offset 12 (arm32) vs 16 (arm64); size 16 (arm32) vs 24 (arm64)")
    # the control: on the unedited tree the one arm error is the known upstream finding
    # (waived in the shipped list); the records Arm does not exchange are information
    clean = run(copy_tree(xen_tree, tmp_path / "clean"), ["arch"], ["arm32", "arm64"])
    assert [f.symbols[0] for f in clean.findings if f.severity is Severity.ERROR] == [
        "struct xenfb_page"]


def test_tools_only_struct_shrinks_on_x86_32(xen_tree: XenTree, tmp_path: Path) -> None:
    """A struct only ``__XEN_TOOLS__`` shows, which guests used anyway, loses the alignment of
    ``uint64_aligned_t`` when its field becomes a plain ``uint64_t``: 20 bytes on x86_32, 24 on
    x86_64. Both views are computed: the tools view reports it as an error (no compat layer
    stands between a 32-bit toolstack and 64-bit Xen); the guest view does not see the struct,
    which is why the check runs on both."""
    root = copy_tree(xen_tree, tmp_path)
    edit(root, "domctl.h", "uint64_aligned_t cpu_time;", "uint64_t cpu_time;",
         after="struct xen_domctl_getvcpuinfo {")
    report = run(root, ["arch"], ["x86_32", "x86_64"])
    (f,) = [f for f in about(report, "struct xen_domctl_getvcpuinfo") if f.rule == "arch"]
    assert (f.severity, f.views) == (Severity.ERROR, ("tools",))
    assert f.message.endswith("size 20 (x86_32) vs 24 (x86_64)")


def test_flag_renumbered_by_the_revert_of_a_neighbour(xen_tree: XenTree, tmp_path: Path) -> None:
    """Reverting a flag renumbered its neighbour onto a bit still in use: the flags rule names
    both flags and both lines (the diff gate reports the renumbering itself)."""
    root = copy_tree(xen_tree, tmp_path)
    line = edit(root, "domctl.h", "(1U << 7)", "(1U << 6)", after="XEN_DOMCTL_CDF_vpmu")
    report = run(root, ["flags"], ["x86_64"], ["tools"])
    (f,) = report.findings
    assert re.fullmatch(
        rf"xen/include/public/domctl\.h:{line}: error: XEN_DOMCTL_CDF_vpmu \(bit 6\) shares "
        r"bit 6 with XEN_DOMCTL_CDF_nested_virt \(line \d+\) \[flags\]", str(f))


def test_reserved_domain_id_clashes_with_another(xen_tree: XenTree, tmp_path: Path) -> None:
    """A reserved domain id defined with the value of another special id."""
    root = copy_tree(xen_tree, tmp_path)
    line = edit(root, "xen.h", "xen_mk_uint(0x7FF4)", "xen_mk_uint(0x7FF3)",
                after="#define DOMID_INVALID")
    report = run(root, ["unique"], ["x86_64"], ["guest"])
    assert [(f.file, f.line, f.message) for f in report.findings] == [
        ("xen/include/public/xen.h", line,
         f"DOMID_INVALID (0x7ff3) has the value of DOMID_COW (line {line - 3}) in the DOMID_* "
         "numbering")]


def test_the_provisioned_tree_itself_is_clean_for_these_rules(xen_tree: XenTree,
                                                              tmp_path: Path) -> None:
    """The control: the unedited copy has no error the replays rely on."""
    root = copy_tree(xen_tree, tmp_path)
    report = run(root, ["flags", "unique"], ["x86_64"], ["guest", "tools"])
    assert lines(report, Severity.ERROR) == []


# --------------------------------------------------------------------------
# The seed patch: SIF_HVM_GHCB


def _seed_define() -> str:
    if not SEED.is_file():
        pytest.skip(f"{SEED}: the seed patch is absent")
    added = [ln[1:] for ln in SEED.read_text().splitlines()
             if ln.startswith("+") and not ln.startswith("+++")]
    start = next(i for i, ln in enumerate(added) if ln.startswith("#define SIF_HVM_GHCB"))
    return "\n".join(added[start:start + 2]) + "\n"


def _with_seed(tree: XenTree, dest: Path, bit: str | None = None,
               mask: str | None = None) -> tuple[Path, int]:
    root = copy_tree(tree, dest)
    define = _seed_define()
    if bit is not None:
        define = define.replace("(1<<5)", bit)
    line = edit(root, "xen.h", "#define SIF_PM_MASK", define + "#define SIF_PM_MASK",
                after="#define SIF_VIRT_P2M_4TOOLS")
    if mask is not None:
        edit(root, "xen.h", "(0xFF<<8)", mask, after="#define SIF_PM_MASK")
    return root, line


def test_seed_sif_hvm_ghcb_at_bit_5_passes(xen_tree: XenTree, tmp_path: Path) -> None:
    root, _ = _with_seed(xen_tree, tmp_path)
    report = run(root, ["flags"], ["x86_64"], ["guest"])
    assert lines(report) == []
    sif = [f for f in report.findings if "SIF_HVM_GHCB" in f.symbols]
    assert sif == []


def test_seed_variant_colliding_with_sif_virt_p2m_4tools(xen_tree: XenTree,
                                                         tmp_path: Path) -> None:
    root, line = _with_seed(xen_tree, tmp_path, bit="(1<<4)")
    report = run(root, ["flags"], ["x86_64"], ["guest"])
    assert lines(report) == [
        f"xen/include/public/xen.h:{line}: error: SIF_HVM_GHCB (bit 4) shares bit 4 with "
        f"SIF_VIRT_P2M_4TOOLS (line {line - 2}) [flags]"]


def test_seed_variant_inside_sif_pm_mask(xen_tree: XenTree, tmp_path: Path) -> None:
    root, line = _with_seed(xen_tree, tmp_path, bit="(1<<8)")
    report = run(root, ["flags"], ["x86_64"], ["guest"])
    assert lines(report) == [
        f"xen/include/public/xen.h:{line}: error: SIF_HVM_GHCB (bit 8) lies inside SIF_PM_MASK "
        f"(bits 8-15, line {line + 2}) [flags]"]


def test_seed_variant_with_sif_pm_mask_widened(xen_tree: XenTree, tmp_path: Path) -> None:
    root, line = _with_seed(xen_tree, tmp_path, mask="(0xFF<<4)")
    report = run(root, ["flags"], ["x86_64"], ["guest"])
    assert lines(report) == [
        f"xen/include/public/xen.h:{line - 2}: error: SIF_VIRT_P2M_4TOOLS (bit 4) lies inside "
        f"SIF_PM_MASK (bits 4-11, line {line + 2}) [flags]",
        f"xen/include/public/xen.h:{line}: error: SIF_HVM_GHCB (bit 5) lies inside SIF_PM_MASK "
        f"(bits 4-11, line {line + 2}) [flags]"]
