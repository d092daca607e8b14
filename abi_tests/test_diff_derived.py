"""A diff whose HEAD changes only macros derives HEAD and carries BASE's findings, and says what
a diff that computes both sides from scratch says.

HEAD is a copy of the real tree's inputs with three edits to xen.h: a flag
on the bit of ``SIF_MULTIBOOT_MOD`` (a new flags error);
``__HYPERVISOR_arch_0`` renumbered onto ``__HYPERVISOR_arch_1`` (a new
numbering error in xen.h, and ``__HYPERVISOR_mca``, which arch-x86/xen-mca.h
defines from it, changes with it: a macro of a header whose text did not
change); and ``DOMID_ANY`` as Xen defined it in 2026, through the
function-like ``xen_mk_uint``, in the reserved range (suspicious). The
reference is each side checked on its own, every snapshot and finding
computed afresh.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from xenabi.checkpatch import CHECKOUT_INPUTS
from xenabi.diff import new_findings
from xenabi.model import ChangeClass, IntConstant
from xenabi.run import run
from xenabi.sides import Side, diff_sides, diff_snapshots
from xenabi.snapshot import take_all
from xenabi.tree import PUBLIC, XenTree, open_tree

pytestmark = pytest.mark.needs("checkout", "docs")  # deselected on the other trees: no docs/

EDITS = (("#define SIF_PM_MASK", "#define SIF_X_BAD         (1<<2)\n#define SIF_PM_MASK"),
         ("#define __HYPERVISOR_arch_0               48",
          "#define __HYPERVISOR_arch_0               49"),
         # as Xen's own DOMID_ANY came (2026): through the function-like xen_mk_uint
         ("/* Idle domain. */", "#define DOMID_ANY            xen_mk_uint(0x7FF5)\n\n"
                                "/* Idle domain. */"))


@pytest.fixture(scope="module")
def sides(xen_tree: XenTree, tmp_path_factory: pytest.TempPathFactory) -> tuple[Side, Side]:
    root = tmp_path_factory.mktemp("head")
    for pattern in CHECKOUT_INPUTS:
        for src in xen_tree.root.glob(pattern):
            dest = root / src.relative_to(xen_tree.root)
            dest.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dest, dirs_exist_ok=True)
            else:
                shutil.copyfile(src, dest)
    xen_h = root / PUBLIC / "xen.h"
    text = xen_h.read_text()
    for old, new in EDITS:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    xen_h.write_text(text)
    return Side(f"tree {xen_tree.root}", xen_tree), Side(f"tree {root}", open_tree(root))


def test_head_is_derived_and_equals_its_snapshots_computed_afresh(
        sides: tuple[Side, Side]) -> None:
    base, head = sides
    made = diff_snapshots(base, head, use_cache=False)
    assert made.plan is not None, "HEAD changes only macros: its snapshots are derived"
    assert head.tree is not None
    assert made.head == take_all(head.tree, use_cache=False)


def test_the_diff_lists_the_findings_and_changes_of_two_checks_from_scratch(
        sides: tuple[Side, Side]) -> None:
    base, head = sides
    assert base.tree is not None and head.tree is not None
    report = diff_sides(base, head, use_cache=False)
    before, after = run(base.tree, use_cache=False), run(head.tree, use_cache=False)
    want = new_findings(before.all_findings(), after.findings)
    assert list(report.findings) == list(want)
    assert {f.rule for f in report.findings} >= {"flags", "unique"}
    mca = [c for c in report.changes if c.symbol == "__HYPERVISOR_mca"]
    assert [(c.kind, c.cls, c.file) for c in mca] == [
        ("constant-value-changed", ChangeClass.BREAKING,
         f"{PUBLIC.as_posix()}/arch-x86/xen-mca.h")], report.changes
    assert set(mca[0].arches) == {"x86_32", "x86_64"}
    any_ = [(c.kind, c.cls) for c in report.changes if c.symbol == "DOMID_ANY"]
    assert any_ and all(cls is ChangeClass.SUSPICIOUS for _, cls in any_), report.changes


@pytest.mark.parametrize("arch", ["x86_64", "x86_32", "arm64"])
def test_the_constants_derived_again_have_the_values_clang_gives_them(
        sides: tuple[Side, Side], arch: str) -> None:
    """The derivation's own evaluation of what the edits changed, held to clang reading
    HEAD's headers: the flag, the renumbered hypercall, the dependent one in another
    header (x86 only), and DOMID_ANY through xen_mk_uint."""
    from tests.oracle.clang import tree_oracle
    from xenabi.targets import TARGETS

    base, head = sides
    assert head.tree is not None
    made = diff_snapshots(base, head, arches=[arch], views=["tools"], use_cache=False)
    assert made.plan is not None
    got = made.head[arch, "tools"].constants
    want = tree_oracle(head.tree.public, TARGETS[arch].clang_triple, "tools").constants
    names = ["SIF_X_BAD", "__HYPERVISOR_arch_0", "DOMID_ANY"] + (
        ["__HYPERVISOR_mca"] if arch.startswith("x86") else [])
    for name in names:
        c = got[name]
        assert isinstance(c, IntConstant), (name, c)
        assert (c.value, c.ctype.name) == (want[name]["value"], want[name]["type"]), name
