"""The flags rule on small hand-written headers: what it must report, and what it must not."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ruleskit import constants_context, make_tree
from xenabi.model import Finding
from xenabi.analysis.families import header_families
from xenabi.analysis.flagfamilies import flag_families
from xenabi.rules.flags import check_flags


def run(tmp_path: Path, text: str, header: str = "xen.h") -> list[str]:
    ctx = constants_context(make_tree(tmp_path, {header: text}))
    return [str(f) for f in check_flags(ctx)]


def families_of(tmp_path: Path, text: str) -> dict[str, list[str]]:
    ctx = constants_context(make_tree(tmp_path, {"xen.h": text}))
    snap = next(iter(ctx.snapshots.values()))
    return {f.id: [m.name for m in f.flags] for f in flag_families(ctx, snap)}


START_FLAGS = """\
/* Flags of the start record. */
#define SF_ONE      (1<<0)  /* first */
#define SF_TWO      (1<<1)  /* second */
#define SF_FOUR     (1<<4)  /* fourth */
{extra}#define SF_PM_MASK  (0xFF<<8) /* reserve 1 byte for power options */
"""


def start_flags(extra: str = "", mask: str = "(0xFF<<8)") -> str:
    return START_FLAGS.format(extra=extra).replace("(0xFF<<8)", mask)


def test_distinct_single_bits_pass(tmp_path: Path) -> None:
    assert run(tmp_path, start_flags("#define SF_FIVE (1<<5)\n")) == []


def test_shared_bit_names_both_flags_and_lines(tmp_path: Path) -> None:
    assert run(tmp_path, start_flags("#define SF_NEW (1<<4)\n")) == [
        "xen/include/public/xen.h:5: error: SF_NEW (bit 4) shares bit 4 with SF_FOUR (line 4) "
        "[flags]"]


def test_flag_inside_reserved_mask(tmp_path: Path) -> None:
    assert run(tmp_path, start_flags("#define SF_NEW (1<<8)\n")) == [
        "xen/include/public/xen.h:5: error: SF_NEW (bit 8) lies inside SF_PM_MASK "
        "(bits 8-15, line 6) [flags]"]


def test_widened_reserved_mask_swallows_a_flag(tmp_path: Path) -> None:
    assert run(tmp_path, start_flags(mask="(0xFF<<4)")) == [
        "xen/include/public/xen.h:4: error: SF_FOUR (bit 4) lies inside SF_PM_MASK "
        "(bits 4-11, line 5) [flags]"]


def test_reserved_by_name_without_comment(tmp_path: Path) -> None:
    text = "#define GF_A (1u<<0)\n#define GF_B (1u<<1)\n#define GF_RESERVED (0xfu<<4)\n" \
           "#define GF_C (1u<<5)\n"
    assert run(tmp_path, text) == [
        "xen/include/public/xen.h:4: error: GF_C (bit 5) lies inside GF_RESERVED "
        "(bits 4-7, line 3) [flags]"]


def test_multi_bit_member_outside_any_mask(tmp_path: Path) -> None:
    assert run(tmp_path, start_flags("#define SF_BOTH (3<<5)\n")) == [
        "xen/include/public/xen.h:5: error: SF_BOTH (bits 5-6) is not a single bit and lies "
        "in no mask of the SF_* family [flags]"]


def test_non_contiguous_mask(tmp_path: Path) -> None:
    text = "#define PX_A (1<<0)\n#define PX_B (1<<1)\n#define PX_ODD_MASK (0x0600fc00)\n"
    assert run(tmp_path, text) == [
        "xen/include/public/xen.h:3: error: PX_ODD_MASK (0x600fc00) is not one run of bits: "
        "bits 10-15, 25-26 [flags]"]


FIELD = """\
#define TF_invalid     (0U<<0)
#define TF_permit      (1U<<0)
#define TF_accept      (2U<<0)
#define TF_transitive  (3U<<0)
#define TF_type_mask   (3U<<0)
#define TF_readonly    (1U<<2)
#define TF_reading     (1U<<3)
"""


def test_values_of_a_declared_field_may_share_bits(tmp_path: Path) -> None:
    assert run(tmp_path, FIELD) == []


def test_equal_values_in_one_field_collide(tmp_path: Path) -> None:
    assert run(tmp_path, FIELD + "#define TF_other (2U<<0)\n") == [
        "xen/include/public/xen.h:8: error: TF_other (0x2) has the value of TF_accept (line 3) "
        "in the field TF_type_mask [flags]"]


ONE_BIT_FIELD = """\
#include <stdint.h>
struct gp_permission {
    uint32_t gp;
#define GP_REVOKE      0
#define GP_GRANT       1
#define GP_ACTION_MASK 1
    uint32_t flags;
};
"""


def test_a_one_bit_mask_beside_a_zero_is_a_field_of_two_values(tmp_path: Path) -> None:
    # the mask of a one-bit field (values 0 and 1) holds its value 1, it does not share it
    assert run(tmp_path, ONE_BIT_FIELD) == []
    assert run(tmp_path, ONE_BIT_FIELD.replace("MASK 1", "MASK 1\n#define GP_OTHER 1")) == [
        "xen/include/public/xen.h:7: error: GP_OTHER (0x1) has the value of GP_GRANT (line 5) "
        "in the field GP_ACTION_MASK [flags]"]


def test_a_one_bit_mask_with_no_zero_beside_it_is_a_flag(tmp_path: Path) -> None:
    # as PSR_IRQ_MASK: a bit that masks something, so a second name on its bit is a clash
    text = ("/* PS bits */\n#define PS_IRQ_MASK (1U<<7)\n#define PS_BIG (1U<<9)\n"
            "#define PS_DBG_MASK (1U<<9)\n")
    assert run(tmp_path, text) == [
        "xen/include/public/xen.h:4: error: PS_DBG_MASK (bit 9) shares bit 9 with PS_BIG "
        "(line 3) [flags]"]


def test_mask_paired_with_a_shift_covers_the_shifted_bits(tmp_path: Path) -> None:
    text = "#define DI_a (1U<<0)\n#define DI_b (1U<<1)\n#define DI_codemask 255\n" \
           "#define DI_codeshift 16\n"
    assert run(tmp_path, text) == []
    assert run(tmp_path, text + "#define DI_c (1U<<17)\n") == []  # a value of bits 16-23
    assert run(tmp_path, text + "#define DI_c (3U<<1)\n") == [
        "xen/include/public/xen.h:5: error: DI_c (bits 1-2) is not a single bit and lies in "
        "no mask of the DI_* family [flags]",
        "xen/include/public/xen.h:5: error: DI_c (bits 1-2) shares bit 1 with DI_b (line 2) "
        "[flags]"]


def test_aliases_sentinels_composites_and_spellings_are_not_members(tmp_path: Path) -> None:
    text = """\
#define VF_I387_VALID  (1<<0)
#define VF_IN_KERNEL   (1<<2)
#define _VF_i387_valid 0
#define VF_i387_valid  (1<<_VF_i387_valid)
#define _VF_in_kernel  2
#define VF_in_kernel   (1<<_VF_in_kernel)
#define VF_BOTH        (VF_i387_valid | VF_in_kernel)
#define VF_MAX         VF_in_kernel
#define VF_SHIFT       2
"""
    assert run(tmp_path, text) == []


def test_a_paragraph_that_starts_over_is_a_family_of_its_own(tmp_path: Path) -> None:
    text = """\
/* Subflags for one kind of entry. */
#define EF_readonly   (1U<<2)
#define EF_reading    (1U<<3)
#define EF_writing    (1U<<4)

/* Subflags for the other kind, on the same bits. */
#define EF_committed  (1U<<2)
#define EF_completed  (1U<<3)
"""
    assert run(tmp_path, text) == []
    assert families_of(tmp_path, text) == {
        "EF": ["EF_readonly", "EF_reading", "EF_writing"],
        "EF#2": ["EF_committed", "EF_completed"]}


def test_a_lone_new_paragraph_is_still_checked(tmp_path: Path) -> None:
    text = "#define HP_a (1 << 0)\n\n/* b */\n#define HP_b (1 << 1)\n\n/* c */\n" \
           "#define HP_c (1 << 1)\n"
    assert run(tmp_path, text) == [
        "xen/include/public/xen.h:7: error: HP_c (bit 1) shares bit 1 with HP_b (line 4) "
        "[flags]"]


def test_family_found_by_its_comment_and_by_its_field(tmp_path: Path) -> None:
    by_comment = "/* Notify flags */\n#define NF_A 0x1\n#define NF_B 0x2\n#define NF_C 0x2\n"
    assert run(tmp_path, by_comment) == [
        "xen/include/public/xen.h:4: error: NF_C (bit 1) shares bit 1 with NF_B (line 3) "
        "[flags]"]
    by_field = "struct s {\n#define OPT_A 0x1\n#define OPT_B 0x1\n    uint32_t flags;\n};\n"
    assert run(tmp_path / "f", by_field) == [
        "xen/include/public/xen.h:3: error: OPT_B (bit 0) shares bit 0 with OPT_A (line 2) "
        "[flags]"]


def test_numbers_that_merely_mention_flags_are_not_flags(tmp_path: Path) -> None:
    text = "/* Equivalent to ENABLE with no mode flags. */\n#define OPX_TEST 1\n" \
           "#define OPX_LOGDIRTY 2\n#define OPX_TRANSLATE 3\n"
    assert run(tmp_path, text) == []


def test_an_operation_and_a_flag_next_to_it_are_not_one_family(tmp_path: Path) -> None:
    text = "/* op; arg: unsigned long flags */\n#define XA_OP_register_ring 1\n" \
           "/* Register op flags */\n#define XA_REGISTER_FLAG_FAIL_EXIST 0x1\n"
    assert run(tmp_path, text) == []


def test_code_between_defines_splits_families(tmp_path: Path) -> None:
    text = "#define CF_a (1<<0)\n#define CF_b (1<<1)\nstruct x { int y; };\n" \
           "#define CF_c (1<<1)\n#define CF_d (1<<2)\n"
    assert run(tmp_path, text) == []


@pytest.mark.parametrize("expr", ["(1UL << 31)", "(1U<<31)", "(1<<31)"])
def test_bit_31_in_any_spelling(tmp_path: Path, expr: str) -> None:
    text = f"#define BF_a (1<<0)\n#define BF_top {expr}\n#define BF_b {expr}\n"
    found = run(tmp_path, text)
    assert found == ["xen/include/public/xen.h:3: error: BF_b (bit 31) shares bit 31 with "
                     "BF_top (line 2) [flags]"]


def test_findings_carry_target_view_and_symbols(tmp_path: Path) -> None:
    ctx = constants_context(make_tree(tmp_path, {"xen.h": start_flags("#define SF_X (1<<1)\n")}),
                            arches=("arm64",), views=("guest",))
    (f,) = list(check_flags(ctx))
    assert isinstance(f, Finding)
    assert (f.arches, f.views, f.symbols) == (("arm64",), ("guest",), ("SF_X", "SF_TWO"))


def test_snapshots_that_see_a_header_alike_share_its_families(tmp_path: Path) -> None:
    ctx = constants_context(make_tree(tmp_path, {"xen.h": start_flags()}),
                            arches=("x86_32", "x86_64"))
    x86_32, x86_64 = (header_families(ctx, s) for s in ctx.snapshots.values())
    assert [h.header for h in x86_32] == ["xen-compat.h", "xen.h"]
    assert all(a is b for a, b in zip(x86_32, x86_64))  # computed once in the run
    assert [f.id for f in flag_families(ctx, ctx.snapshots["x86_32", "tools"])] == ["SF"]
