"""The unique rule on small hand-written headers: duplicates, and the aliases it must allow."""

from __future__ import annotations

from pathlib import Path

from tests.ruleskit import constants_context, make_tree
from xenabi.rules.unique import check_unique, is_number, numberings


def run(tmp_path: Path, text: str, header: str = "xen.h") -> list[str]:
    return [str(f) for f in check_unique(constants_context(make_tree(tmp_path, {header: text})))]


HYPERCALLS = """\
#define __HC_set_trap_table  0
#define __HC_mmu_update      1
#define __HC_set_gdt         2
#define __HC_platform_op     7
{extra}
/* Architecture-specific hypercall definitions. */
#define __HC_arch_0          48
#define __HC_arch_1          49
"""


def test_distinct_numbers_pass(tmp_path: Path) -> None:
    assert run(tmp_path, HYPERCALLS.format(extra="#define __HC_new_op 8")) == []


def test_a_duplicate_number_names_both(tmp_path: Path) -> None:
    assert run(tmp_path, HYPERCALLS.format(extra="#define __HC_new_op 2")) == [
        "xen/include/public/xen.h:5: error: __HC_new_op (0x2) has the value of __HC_set_gdt "
        "(line 3) in the __HC_* numbering [unique]"]


def test_a_name_defined_as_another_name_is_an_alias(tmp_path: Path) -> None:
    extra = "#define __HC_dom0_op __HC_platform_op\n#define __HC_old (__HC_mmu_update)"
    assert run(tmp_path, HYPERCALLS.format(extra=extra)) == []


def test_sentinels_and_masks_are_not_members(tmp_path: Path) -> None:
    text = """\
/* Domain ids >= FIRST_RESERVED are not domains. */
#define DID_FIRST_RESERVED  xen_mk_uint(0x7FF0)
#define DID_SELF            xen_mk_uint(0x7FF0)
#define DID_IO              xen_mk_uint(0x7FF1)
#define DID_XEN             xen_mk_uint(0x7FF2)
#define DID_INVALID         xen_mk_uint(0x7FF4)
#define DID_IDLE            xen_mk_uint(0x7FFF)
#define DID_MASK            xen_mk_uint(0x7FFF)
#define VQ_TIMER  0
#define VQ_DEBUG  1
#define NR_VQS    2
#define VQ_MAX    1
"""
    assert run(tmp_path, text) == []


def test_a_reserved_id_that_clashes_with_another_special_value(tmp_path: Path) -> None:
    text = "#define DID_SELF xen_mk_uint(0x7FF0)\n#define DID_IO xen_mk_uint(0x7FF1)\n" \
           "#define DID_XEN xen_mk_uint(0x7FF2)\n#define DID_COW xen_mk_uint(0x7FF2)\n"
    assert run(tmp_path, text) == [
        "xen/include/public/xen.h:4: error: DID_COW (0x7ff2) has the value of DID_XEN (line 3) "
        "in the DID_* numbering [unique]"]


def test_operations_are_one_family_across_the_header(tmp_path: Path) -> None:
    text = """\
#define MEMOP_increase 0
#define MEMOP_decrease 1
struct memop_args { int a; };
#define MEMOP_exchange 11
struct memop_exchange { int b; };
#define MEMOP_map 1
"""
    assert run(tmp_path, text) == [
        "xen/include/public/xen.h:6: error: MEMOP_map (0x1) has the value of MEMOP_decrease "
        "(line 2) in the MEMOP_* numbering [unique]"]


def test_sub_operations_number_on_their_own(tmp_path: Path) -> None:
    text = """\
#define MEMOP_increase 0
#define MEMOP_decrease 1
#define MEMOP_paging_op 20
#define MEMOP_paging_op_nominate 0
#define MEMOP_paging_op_evict 1
struct s { int a; };
#define MEMOP_resource_ioreq 0
#define MEMOP_resource_grants 1
struct t { int a; };
#define MEMOP_resource_ioreq_frame_buf 0
"""
    assert run(tmp_path, text) == []


def test_two_sets_on_one_field_and_same_comment_values(tmp_path: Path) -> None:
    text = """\
/* IN: urgent */
#define MCX_NONURGENT  0x0001
#define MCX_URGENT     0x0002
#define MCX_ACK        0x0004

/* OUT: all is ok */
#define MCX_OK         0x0
#define MCX_FAILED     0x1
#define MCX_NODATA     0x2

#define SEL_DS32 0xe02b  /* GDT index 261 */
#define SEL_SS32 0xe02b  /* GDT index 261 */
"""
    assert run(tmp_path, text) == []


def test_bits_and_lowercase_bounds_are_not_numbers(tmp_path: Path) -> None:
    text = "#define PM_USR 0x10\n#define PM_FIQ 0x11\n#define PM_BIT 0x10\n" \
           "#define PROF_init 0\n#define PROF_counter 17\n#define PROF_last_op 17\n"
    assert run(tmp_path, text) == []


def test_flag_families_are_left_to_the_flags_rule(tmp_path: Path) -> None:
    ctx = constants_context(make_tree(tmp_path, {"xen.h": "#define F_A (1<<0)\n#define F_B (1<<0)\n"}))
    snap = next(iter(ctx.snapshots.values()))
    assert numberings(ctx, snap) == []


def test_numbers_are_plain_literals() -> None:
    for expr in ("12", "0x7FF0U", "(-2)", "xen_mk_uint(0x7FF0)", "(uint16_t)0x7FF0"):
        assert is_number(expr), expr
    for expr in ("(1<<2)", "FOO", "(FOO + 1)", "sizeof(long)"):
        assert not is_number(expr), expr
