"""docs/misra/C-language-toolchain.rst's table of type sizes against the targets' data
models (doc-semantics): rows written here in the document's list-table form, each
agreeing or not with the SysV i386, AAPCS and LP64 data models as their ABIs give them."""

from __future__ import annotations

from pathlib import Path

from tests.ruleskit import make_tree
from xenabi.docs import toolchain
from xenabi.rules.doc_semantics import check_toolchain
from xenabi.run import run
from xenabi.tree import XenTree


def _table(*rows: tuple[str, str, str, str]) -> str:
    out = ["Data types", "", "A summary table of data types, sizes and alignment is below:", "",
           ".. list-table::", "   :widths: 10 10 10 45", "   :header-rows: 1", "",
           "   * - Type", "     - Size", "     - Alignment", "     - Architectures", ""]
    for type_, size, align, arches in rows:
        first, *rest = arches.split("\n")
        out += [f"   * - {type_}", f"     - {size}", f"     - {align}", f"     - {first}",
                *(f"       {r}" for r in rest), ""]
    return "\n".join(out) + "\n"


def _tree(tmp_path: Path, table: str, *headers: str) -> XenTree:
    return make_tree(tmp_path, {h: "" for h in headers},
                     extra={toolchain.PATH: table})


# i386 aligns long long to 4 inside structs; AAPCS32 to 8; every LP64 target has 8-byte long
AGREES = (("long long", "64-bit", "32-bit", "x86_32"),
          ("long long", "64-bit", "64-bit", "ARMv7-A, ARMv8-A\nAArch64"),
          ("long", "64 bits", "64 bits", "x86_64, RV64, PPC64"),
          ("pointer", "32-bit", "32-bit", "x86_32, ARMv8-R AArch32"),
          ("int", "32 bits", "32 bits", "MIPS"))


def test_a_table_that_agrees_with_the_data_models_has_no_finding(tmp_path: Path) -> None:
    tree = _tree(tmp_path, _table(*AGREES), "arch-riscv.h", "arch-ppc.h")
    rows = toolchain.read(tree)
    assert [(r.type, r.arches) for r in rows][1] == ("long long", ("ARMv7-A", "ARMv8-A AArch64"))
    assert list(check_toolchain(tree)) == []


def test_a_size_or_alignment_the_model_does_not_have_is_an_error_at_its_row(tmp_path: Path) -> None:
    table = _table(("long long", "64-bit", "64-bit", "x86_32"),
                   ("long", "32 bits", "32 bits", "x86_64"))
    found = list(check_toolchain(_tree(tmp_path, table)))
    assert [(f.file, f.line, f.arches, f.message) for f in found] == [
        ("docs/misra/C-language-toolchain.rst", 14, ("x86_32",),
         "long long is said to be aligned to 64 bits on x86_32, but xenabi's x86_32 target "
         "aligns it to 32 (src/xenabi/targets.py)"),
        ("docs/misra/C-language-toolchain.rst", 19, ("x86_64",),
         "long is said to be 32 bits on x86_64, but xenabi's x86_64 target makes it 64 "
         "(src/xenabi/targets.py)"),
        ("docs/misra/C-language-toolchain.rst", 19, ("x86_64",),
         "long is said to be aligned to 32 bits on x86_64, but xenabi's x86_64 target "
         "aligns it to 64 (src/xenabi/targets.py)")]


def test_a_port_the_tree_lacks_is_not_judged(tmp_path: Path) -> None:
    table = _table(("long", "32 bits", "32 bits", "RV64"))
    assert list(check_toolchain(_tree(tmp_path / "a", table))) == []
    found = list(check_toolchain(_tree(tmp_path / "b", table, "arch-riscv.h")))
    assert [(f.arches, "on RV64" in f.message) for f in found] == [(("riscv64",), True)] * 2


def test_a_check_run_reports_it_as_doc_semantics(tmp_path: Path) -> None:
    tree = _tree(tmp_path, _table(("long long", "64-bit", "64-bit", "x86_32")))
    found = [f for f in run(tree, rules=["doc-semantics"], use_cache=False).all_findings()
             if f.rule == "doc-semantics"]
    assert [(f.severity.value, f.line) for f in found] == [("error", 14)]
