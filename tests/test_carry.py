"""A run that carries findings over from the run before it finds what a run from scratch finds.

The mini tree gains io/flags.h, whose findings depend on xen.h without a
line of io/flags.h changing: ``IOF_ONE`` is defined from xen.h's
``MINI_FLAG_B``, and ``_IOG_one`` leaves its family when xen.h defines
``IOG_one`` (a ``_NAME`` stands behind ``NAME``). Each edit of xen.h is judged
both ways: carried from the unedited tree's findings (:mod:`xenabi.carry`),
and from scratch.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from xenabi import patchsnap
from xenabi.carry import carried_findings, carry
from xenabi.check import findings
from xenabi.checkpatch import rules_of
from xenabi.model import Finding
from xenabi.snapshot import take_all
from xenabi.tree import XenTree, open_tree
from tests.minitree import copy_mini

IO_FLAGS = """#ifndef MINI_IO_FLAGS_H
#define MINI_IO_FLAGS_H
#include "../xen.h"
/* io request flags */
#define IOF_ONE  (MINI_FLAG_B << 1)
#define IOF_TWO  (1U << 3)

/* the slots of a grant (each its own number) */
#define _IOG_one 5
#define _IOG_two 5
#endif
"""

XEN_H = "xen/include/public/xen.h"


def _tree(root: Path, edit: tuple[str, str] | None = None) -> XenTree:
    copy_mini(root)
    (root / "xen/include/public/io/flags.h").write_text(IO_FLAGS)
    if edit is not None:
        old, new = edit
        xen_h = root / XEN_H
        text = xen_h.read_text()
        assert text.count(old) == 1, old
        xen_h.write_text(text.replace(old, new))
    return open_tree(root)


def _at(found: list[Finding], file: str) -> list[tuple[str, str]]:
    return [(f.rule, f.message) for f in found if f.file == file]


EDITS = {
    # a macro edit, derived: MINI_FLAG_B at bit 2 puts IOF_ONE on IOF_TWO's bit 3
    "MINI_FLAG_B moved, so IOF_ONE in io/flags.h takes IOF_TWO's bit":
        ("#define MINI_FLAG_B (1U << 1)", "#define MINI_FLAG_B (1U << 2)"),
    # a macro edit, derived: _IOG_one is then the bit number behind IOG_one
    "IOG_one defined, so _IOG_one leaves its numbering in io/flags.h":
        ("#define MINI_MASK", "#define IOG_one (1U << _IOG_one)\n#define MINI_MASK"),
    # a macro edit through a function-like macro: derived with the head's macros in force
    "MINI_BIG_PAGES defined with xen_mk_ulong, and a string macro":
        ("#define MINI_MASK", '#define MINI_BIG_PAGES xen_mk_ulong(8192)\n'
                              '#define MINI_NAME "mini"\n#define MINI_MASK'),
    # a declaration: computed again, only the per-header findings carry
    "a field added to mini_info":
        ("    uint8_t  flags[3];\n", "    uint8_t  flags[3];\n    uint8_t  more;\n"),
}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[XenTree, dict, list[Finding]]:
    tree = _tree(tmp_path_factory.mktemp("base") / "mini")
    snaps = take_all(tree, use_cache=False)
    return tree, snaps, findings(tree, snaps, rules_of(tree), use_cache=False)


@pytest.mark.parametrize("what", list(EDITS))
def test_a_carried_run_finds_what_a_run_from_scratch_finds(
        base: tuple[XenTree, dict, list[Finding]], tmp_path: Path, what: str) -> None:
    tree0, snaps0, found0 = base
    tree = _tree(tmp_path / "mini", EDITS[what])
    texts0 = {h: tree0.read(h) for h in tree0.headers}
    texts = {h: tree.read(h) for h in tree.headers}
    plan = patchsnap.plan(texts0, texts)
    derived = patchsnap.derive(plan, snaps0, tree) if plan is not None else None
    assert (derived is not None) == ("field" not in what)
    snaps = derived if derived is not None else take_all(tree, use_cache=False)
    lines = (None if plan is None or derived is None else
             {tree.finding_path(h.name): h.line_map for h in plan.headers})
    rules = rules_of(tree)
    how = carry(tree, snaps0, snaps, rules_of(tree0), rules, [h for h in texts
                if texts[h] != texts0.get(h)], lines, tables_changed=False)
    assert how is not None and "flags" in how.per_header
    full = take_all(tree, use_cache=False)
    assert snaps == full  # derived: the changed macros and those defined from them
    scratch = findings(tree, full, rules, use_cache=False)
    assert carried_findings(tree, snaps, rules, how, found0, use_cache=False) == scratch


def test_the_edits_change_what_io_flags_h_is_found_to_have(
        base: tuple[XenTree, dict, list[Finding]], tmp_path: Path) -> None:
    """Without this the test above could pass on findings that never change."""
    tree0, _, found0 = base
    io = tree0.finding_path("io/flags.h")
    assert [r for r, _ in _at(found0, io)] == ["unique"]  # _IOG_one, _IOG_two: both 5
    after = {}
    for what, edit in EDITS.items():
        tree = _tree(tmp_path / str(len(after)) / "mini", edit)
        after[what] = _at(findings(tree, take_all(tree, use_cache=False), rules_of(tree),
                                   use_cache=False), io)
    moved, named, _, field = after.values()
    assert any(r == "flags" and "IOF_TWO" in m and "IOF_ONE" in m for r, m in moved), moved
    assert named == [], named
    assert field == _at(found0, io)
