"""A snapshot's type spellings read back into the model's CType (model.spelled): the
inverse of model.spell, so rules compare types, not strings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xenabi.model import (SCALARS, Array, CType, EnumRef, Function, Pointer, RecordRef, Scalar,
                          TypedefRef, element_type, spell, spelled)


def test_the_shapes_a_snapshot_spells() -> None:
    assert spelled("uint8_t[16]") == Array(TypedefRef("uint8_t"), 16)
    assert spelled("unsigned long *") == Pointer(Scalar("unsigned long"))
    assert spelled("struct {...}[64]") == Array(RecordRef("struct {...}"), 64)
    assert spelled("struct one[]") == Array(RecordRef("struct one"), None)
    assert spelled("enum xenbus_state") == EnumRef("enum xenbus_state")
    # C's char a[2][3] is an array of 2 arrays of 3; spell writes the outer length last
    assert spelled("char[3][2]") == Array(Array(Scalar("char"), 3), 2)
    assert spelled("void (*)(int, void (*)(char))") == Pointer(Function(
        Scalar("void"), (Scalar("int"), Pointer(Function(Scalar("void"), (Scalar("char"),))))))
    assert element_type(spelled("domid_t[4][2]")) == TypedefRef("domid_t")


@pytest.mark.parametrize("text", ["", "uint8_t[x]", "int (*", "struct", "a b c", "int )("])
def test_what_no_spelling_looks_like_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a type spelling"):
        spelled(text)


_leaf = st.one_of(st.sampled_from(sorted(SCALARS)).map(Scalar),
                  st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)
                  .filter(lambda n: n not in SCALARS).map(TypedefRef),
                  st.sampled_from(["struct a", "union b", "struct {...}"]).map(RecordRef),
                  st.just(EnumRef("enum c")))


def _extend(inner: st.SearchStrategy[CType]) -> st.SearchStrategy[CType]:
    return st.one_of(inner.map(Pointer),
                     st.builds(Array, inner, st.one_of(st.none(), st.integers(0, 99))),
                     st.builds(lambda r, ps: Pointer(Function(r, tuple(ps))), inner,
                               st.lists(inner, max_size=3)))


@given(st.recursive(_leaf, _extend, max_leaves=6))
def test_spelled_reads_back_what_spell_writes(t: CType) -> None:
    assert spelled(spell(t)) == t
