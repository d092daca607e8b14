"""Sharing the parse between units (cparse.ParseMemo, snapshot.take_all): declarations parsed once.

The model read through a memo must be the model read without one, for every
target and view of a tree, while declarations common to units are parsed
once; a declaration whose meaning depends on earlier typedefs is not shared
across different typedefs.
"""

from __future__ import annotations

from tests.minitree import MINI
from xenabi import pipeline
from xenabi.cparse import Converter, ParseMemo
from xenabi.model import RecordRef
from xenabi.preprocess import Unit, preprocess
from xenabi.snapshot import compute, take_all
from xenabi.targets import TARGETS, VIEWS
from xenabi.tree import open_tree


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
