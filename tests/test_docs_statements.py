"""Statement recognition: each fixture document in tests/data/docs/statements holds the
shapes a form recognises and, under "Near misses", sentences that must not match.

Expected statements are read off the fixture by hand: the line is where the
subject's code span (or the C declaration) is in the fixture file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from xenabi.docs import Document, read_documents
from xenabi.docs.statements import Form, c_int, sentences, statements

DATA = Path(__file__).parent / "data" / "docs" / "statements"

#: (form, line, subject, container, field, number, arches) per fixture
EXPECTED = {
    "flag-in.pandoc": [
        (Form.FLAG_IN, 3, "SIF_ONE", "start_info", None, None, ()),
        (Form.FLAG_IN, 5, "SIF_TWO", "hvm_start_info", "flags", None, ()),
        (Form.FLAG_IN, 7, "SIF_THREE", "HVM start info structure", None, None, ()),
        (Form.FLAG_IN, 9, "SIF_FOUR", "struct start_info", None, None, ()),
        (Form.FLAG_IN, 11, "SIF_FIVE", "hvm_start_info", "flags", None, ()),
    ],
    "field-of.pandoc": [
        (Form.FIELD_OF, 4, "rsdp_paddr", "start info", None, None, ()),
        (Form.FIELD_OF, 6, "nr_modlist_entries", "hvm_start_info", None, None, ()),
        (Form.FIELD_OF, 8, "cmdline_paddr", "start info structure", None, None, ()),
    ],
    "value.pandoc": [
        (Form.VALUE, 3, "XEN_ONE", None, None, 1, ()),
        (Form.VALUE, 4, "XEN_TWO", None, None, 2, ()),
        (Form.VALUE, 6, "XEN_THREE", None, None, 3, ()),
        (Form.VALUE, 8, "XEN_FOUR", None, None, 4, ()),
        (Form.VALUE, 10, "XEN_FIVE", None, None, 5, ()),
        (Form.VALUE, 12, "XEN_SIX", None, None, 6, ()),
        (Form.VALUE, 13, "XEN_SEVEN", None, None, 128, ()),
    ],
    "bit.pandoc": [
        (Form.BIT, 3, "VGCF_THREE", None, None, 3, ()),
        (Form.BIT, 5, "VGCF_FOUR", None, None, 4, ()),
        (Form.BIT, 7, "_VGCF_five", None, None, 5, ()),
    ],
    "size-offset.pandoc": [
        (Form.SIZE, 3, "struct hvm_start_info", None, None, 56, ()),
        (Form.SIZE, 5, "struct hvm_memmap_table_entry", None, None, 24, ("x86_64",)),
        (Form.SIZE, 7, "struct vcpu_info", None, None, 64,
         ("x86_64", "arm64", "riscv64", "ppc64")),
        (Form.OFFSET, 9, "hvm_start_info.rsdp_paddr", None, None, 48, ()),
        (Form.OFFSET, 11, "flags", "struct hvm_start_info", None, 8, ()),
    ],
    "type-of.pandoc": [
        (Form.TYPE_OF, 3, "vcpu_hvm_context", None, None, None, ()),
        (Form.TYPE_OF, 5, "xen_pfn_t", None, None, None, ()),
    ],
}


@pytest.fixture(scope="module")
def docs() -> dict[str, Document]:
    texts = {p.name: p.read_text() for p in sorted(DATA.glob("*.pandoc"))}
    return {d.path: d for d in read_documents(texts, cache=False)}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_recognised_statements_and_no_near_miss(docs: dict[str, Document], name: str) -> None:
    found = [(s.form, s.line, s.subject, s.container, s.field, s.number, s.arches)
             for s in statements(docs[name])]
    assert found == EXPECTED[name]


def test_struct_in_code_block_gives_its_member_names(docs: dict[str, Document]) -> None:
    found = [(s.form, s.line, s.subject, s.members) for s in statements(docs["members.pandoc"])]
    assert found == [
        # a #define inside the struct body is still a value the doc gives
        (Form.VALUE, 20, "OUTER_FLAG", ()),
        (Form.MEMBERS, 3, "struct hvm_memmap_table_entry", ("addr", "size", "type", "reserved")),
        # a named union is one member (u); an anonymous struct's members are the outer's (d);
        # a function pointer is named inside its parentheses; "..." is no member
        (Form.MEMBERS, 9, "struct outer", ("a", "u", "d", "callback", "pad")),
    ]


@pytest.mark.parametrize("expr, value", [
    ("18", 18), ("0x336ec578", 0x336EC578), ("(1U << 7)", 128), ("(1<<5)", 32), ("8UL", 8),
    ("(0xFF<<8)", 0xFF00), ("SIF_PM_MASK", None), ("1 + 2", None), ('"text"', None),
])
def test_c_int_reads_literals_and_shifts_only(expr: str, value: int | None) -> None:
    assert c_int(expr) == value


def test_sentences_split_after_a_full_stop_before_a_capital_or_code_span() -> None:
    text = "One sets `A`. `B` is next; i.e. not split. Last one"
    assert [s for _, s in sentences(text)] == ["One sets `A`.", "`B` is next; i.e. not split.",
                                                "Last one"]
