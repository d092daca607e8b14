"""Sharing the parse between units (cparse.ParseMemo, snapshot.take_all): declarations parsed once.

The model read through a memo must be the model read without one, for every
target and view of a tree, while declarations common to units are parsed
once; a declaration whose meaning depends on earlier typedefs is not shared
across different typedefs. A unit preprocessed as the last one of its target
and view was (snapshot.Batch) has that one's snapshot: only when everything
the snapshot is made from is the same.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.minitree import MINI, copy_mini
from xenabi import pipeline
from xenabi.cparse import Converter, ParseMemo
from xenabi.model import RecordRef, Status
from xenabi.preprocess import Unit, preprocess
from xenabi.snapshot import Batch, compute, take_all
from xenabi.targets import TARGETS, VIEWS
from xenabi.tree import XenTree, open_tree


def _model(conv: Converter) -> tuple[object, ...]:
    return (list(conv.records.items()), list(conv.typedefs.items()), list(conv.enums.items()),
            conv.enumerator_defs, conv.typedef_names)


def test_a_memo_gives_the_same_model_for_every_target_and_view():
    tree, memo, parsed = open_tree(MINI), ParseMemo(), []
    for arch in TARGETS:
        for view in VIEWS:
            unit = preprocess(tree, arch, view)
            whole = pipeline.parse(unit).conv
            shared = pipeline.parse(unit, memo).conv
            assert _model(shared) == _model(whole), (arch, view)
            parsed.append(len(memo))
    # the second view of a target adds only what differs; a second target of the family little
    assert parsed[1] - parsed[0] < parsed[0] / 2


def test_a_shared_declaration_is_laid_out_with_each_units_typedefs():
    memo, x86_64, sizes = ParseMemo(), TARGETS["x86_64"], []
    for base in ("int", "long"):
        text = (f'# 1 "/p/a.h"\ntypedef {base} T;\n'
                '# 5 "/p/b.h"\nstruct s { T a; char b; };\n')
        parsed = pipeline.parse(Unit(x86_64, "tools", 0, text, {}, {}, {}, "/p"), memo)
        sizes.append(parsed.layouter.sizeof(RecordRef("struct s")))
        assert parsed.api.records["struct s"].coord.file == "b.h"
    assert sizes == [8, 16]
    assert len(memo) == 3  # two typedefs, one struct parsed once


def test_take_all_in_batches_gives_what_each_target_view_alone_gives():
    tree = open_tree(MINI)
    together = take_all(tree, use_cache=False, jobs=2)
    for (arch, view), snap in together.items():
        assert snap.to_json() == compute(tree, arch, view).to_json(), (arch, view)


XEN_H = "xen/include/public/xen.h"
#: a condition spelled otherwise: what cpp gives every target is the same
GUARD = ("#if defined(__i386__) || defined(__x86_64__)",
         "#if defined(__x86_64__) || defined(__i386__)")


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    root = copy_mini(tmp_path / "edited")
    text = (root / XEN_H).read_text()
    assert text.count(old) == 1, old
    (root / XEN_H).write_text(text.replace(old, new))
    return root


def test_a_unit_has_one_digest_wherever_its_tree_and_its_temporary_directory_are(
        tmp_path: Path) -> None:
    copy = open_tree(copy_mini(tmp_path / "copy"))
    first, again = (preprocess(open_tree(MINI), "x86_64", "tools") for _ in range(2))
    elsewhere = preprocess(copy, "x86_64", "tools")
    assert len({first.public_dir, again.public_dir, elsewhere.public_dir}) == 3
    assert first.digest() == again.digest() == elsewhere.digest()


@pytest.mark.parametrize("old, new", [
    ("#define MINI_FLAG_B (1U << 1)", "#define MINI_FLAG_B (1U << 2)"),
    ("uint8_t  flags[3];", "uint8_t  flags[4];"),
    ("#define MINI_FLAG_A", "/* moves every line below */\n#define MINI_FLAG_A"),
], ids=["a macro's value", "a field", "the lines below a comment"])
def test_an_edit_the_snapshot_can_see_changes_the_digest(tmp_path: Path, old: str,
                                                          new: str) -> None:
    edited = open_tree(_edited(tmp_path, old, new))
    assert (preprocess(edited, "x86_64", "tools").digest()
            != preprocess(open_tree(MINI), "x86_64", "tools").digest())


def test_the_target_and_view_are_in_the_digest() -> None:
    tree = open_tree(MINI)
    digests = {preprocess(tree, a, v).digest() for a in ("x86_32", "x86_64") for v in VIEWS}
    assert len(digests) == 2 * len(VIEWS)


def test_a_unit_as_the_last_one_was_has_its_snapshot_and_another_is_computed(
        tmp_path: Path) -> None:
    batch = Batch(trails=True)
    first = compute(open_tree(MINI), "x86_64", "tools", batch=batch)
    same = open_tree(_edited(tmp_path / "same", *GUARD))
    assert compute(same, "x86_64", "tools", batch=batch) is first
    other = open_tree(_edited(tmp_path / "other", "uint8_t  flags[3];", "uint8_t  flags[5];"))
    changed = compute(other, "x86_64", "tools", batch=batch)
    assert changed is not first
    assert changed == compute(other, "x86_64", "tools")
    assert changed.records["struct mini_info"] != first.records["struct mini_info"]


def test_a_trail_through_a_failed_header_is_followed_only_while_it_still_fails(
        tmp_path: Path) -> None:
    def tree(root: Path, bad: str) -> XenTree:
        (root / "xen/include/public/io/bad.h").write_text(bad)
        return open_tree(root)

    broken = "struct mini_bad { unknown_t a; };\n"  # no such type: the parse fails
    batch = Batch(trails=True)
    first = compute(tree(copy_mini(tmp_path / "first"), broken), "x86_64", "tools", batch=batch)
    assert first.headers["io/bad.h"].status is Status.FAILED
    assert len(batch.trails["x86_64", "tools"].steps) == 2
    same = tree(_edited(tmp_path / "same", *GUARD), broken)
    assert compute(same, "x86_64", "tools", batch=batch) is first
    fixed = tree(copy_mini(tmp_path / "fixed"), "struct mini_bad { uint32_t a; };\n")
    again = compute(fixed, "x86_64", "tools", batch=batch)
    assert again.headers["io/bad.h"].status is Status.PARSED
    assert again == compute(fixed, "x86_64", "tools")


def test_a_batch_keeps_trails_only_when_asked() -> None:
    plain, kept = Batch(), Batch(trails=True)
    tree = open_tree(MINI)
    assert compute(tree, "x86_64", "tools", batch=plain) == compute(tree, "x86_64", "tools",
                                                                    batch=kept)
    assert plain.trails == {} and set(kept.trails) == {("x86_64", "tools")}
