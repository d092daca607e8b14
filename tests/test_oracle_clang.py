"""The clang oracle itself: checked by hand-known C facts, by other compilers, and by Xen's table.

Whatever the conformance suite says about xenabi rests on this oracle, so it
is held to values that come from elsewhere: the C data models of the targets,
DESIGN.md's worked example, gcc and the clang driver compiling the same
translation unit (static assertions over every record, field and constant the
oracle reports), and Xen's own ``reference.size``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.oracle import read_reference_size
from tests.oracle.clang import Oracle, OracleError, evaluate_exprs, record_layouts, tree_oracle
from xenabi.targets import TARGETS

REPO = Path(__file__).resolve().parents[1]
TRIPLES = {name: t.clang_triple for name, t in TARGETS.items()}


def _source_tree() -> Path:
    """The Xen 4.17 checkout the suite runs on: ``XEN_ROOT`` or the project's ``headers/``."""
    root = Path(os.environ.get("XEN_ROOT") or REPO / "headers" / "xen-4.17")
    if not (root / "xen/include/public/xen.h").is_file():
        msg = f"{root}: no Xen tree (set XEN_ROOT or run scripts/provision)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return root


# --------------------------------------------------------------------------
# evaluate_exprs


@pytest.mark.parametrize("arch", TARGETS)
def test_evaluate_exprs_uses_the_targets_data_model(arch: str) -> None:
    bits = 64 if arch.endswith("64") else 32
    char_signed = arch.startswith("x86")
    got = evaluate_exprs(TRIPLES[arch], "#include <stdint.h>\n",
                         ["~0UL", "sizeof(long)", "(char)200", "(uint64_t)1", "0x80000000",
                          "-1LL", "'a'"])
    assert got == [
        (2**bits - 1, "unsigned long"),
        (bits // 8, "unsigned long" if bits == 64 else "unsigned int"),
        (-56 if char_signed else 200, "char"),
        (1, "unsigned long" if bits == 64 else "unsigned long long"),
        (2**31, "unsigned int"),
        (-1, "long long"),
        (97, "int"),
    ]


def test_evaluate_exprs_rejects_what_is_no_integer_constant() -> None:
    got = evaluate_exprs("x86_64-linux-gnu", "int x; enum e { E1 = 7 };\n",
                         ["x", "1.5", "(void *)0", "1 / 0", "1 << 40", "2147483647 + 1",
                          "undeclared", "E1", "(enum e)3"])
    assert got == [None, None, None, None, None, None, None, (7, "int"), (3, "enum e")]


def test_evaluate_exprs_contains_a_syntax_error_to_its_own_expression() -> None:
    got = evaluate_exprs("x86_64-linux-gnu", "", ["(1", "2", "((3)", "4 +", "5"])
    assert got == [None, (2, "int"), None, None, (5, "int")]


# --------------------------------------------------------------------------
# record_layouts


def _facts(layout: dict[str, object]) -> list[tuple[str, int, int, bool]]:
    fields = layout["fields"]
    assert isinstance(fields, list)
    return [(f["name"], f["offset_bits"], f["size_bits"], f["bitfield"]) for f in fields]


def test_record_layouts_names_fields_by_offsetof_designators() -> None:
    src = """
        typedef struct { int a; } named_t;
        struct s {
            char c;
            union { int u1; short u2; };
            struct { int x; struct { char z; } deep[2]; } pt, arr[3];
            named_t t;
            struct inner { int q; } in;
            int bf : 3;
            int : 0;
            char tail[];
        };
    """
    got = record_layouts("x86_64-linux-gnu", src)
    assert set(got) == {"named_t", "struct s", "struct inner"}
    assert _facts(got["struct s"]) == [
        ("c", 0, 8, False),
        ("u1", 32, 32, False), ("u2", 32, 16, False),
        ("pt", 64, 64, False), ("pt.x", 64, 32, False),
        ("pt.deep", 96, 16, False), ("pt.deep[0].z", 96, 8, False),
        ("arr", 128, 192, False), ("arr[0].x", 128, 32, False),
        ("arr[0].deep", 160, 16, False), ("arr[0].deep[0].z", 160, 8, False),
        ("t", 320, 32, False),
        ("in", 352, 32, False),
        ("bf", 384, 3, True),
        ("tail", 416, 0, False),
    ]
    assert (got["struct s"]["size"], got["struct s"]["align"]) == (52, 4)


@pytest.mark.parametrize(("arch", "size", "align", "offset"), [
    ("x86_32", 12, 4, 32),  # i386 SysV: a 64-bit integer in a struct is 4-aligned
    ("x86_64", 16, 8, 64),
    ("arm32", 16, 8, 64),  # ARM EABI: 8-aligned
    ("arm64", 16, 8, 64),
])
def test_record_layouts_follows_each_targets_alignment(arch: str, size: int, align: int,
                                                      offset: int) -> None:
    got = record_layouts(TRIPLES[arch], "struct s { char c; long long x; };")["struct s"]
    assert (got["size"], got["align"], _facts(got)[1]) == (size, align, ("x", offset, 64, False))


@pytest.mark.parametrize(("arch", "size", "align"), [
    # an unnamed bitfield's type raises the record's alignment under AAPCS only
    ("x86_32", 2, 1), ("x86_64", 2, 1), ("arm32", 4, 4), ("arm64", 4, 4),
])
def test_record_layouts_unnamed_bitfield(arch: str, size: int, align: int) -> None:
    got = record_layouts(TRIPLES[arch], "struct s { char c; int : 4; };")["struct s"]
    assert (got["size"], got["align"], _facts(got)) == (size, align, [("c", 0, 8, False)])


def test_record_layouts_reports_clangs_errors() -> None:
    with pytest.raises(OracleError, match="unknown type name"):
        record_layouts("x86_64-linux-gnu", "struct s { nosuch_t x; };")


# --------------------------------------------------------------------------
# tree_oracle


def _oracle(arch: str, view: str) -> Oracle:
    """The oracle of the 4.17 tree; of headers/xen-4.20 for a port 4.17 lacks."""
    public = _source_tree() / "xen/include/public"
    marker = TARGETS[arch].marker
    if marker is not None and not (public / marker).is_file():
        public = REPO / "headers" / "xen-4.20"
        if not (public / marker).is_file():
            msg = f"{public}: no {marker} (run scripts/provision)"
            if os.environ.get("CI"):
                pytest.fail(msg)
            pytest.skip(msg)
    return tree_oracle(public, TRIPLES[arch], view)


def test_tree_oracle_on_designs_worked_example() -> None:
    o = _oracle("x86_64", "tools")
    start_info = o.records["struct hvm_start_info"]
    assert (start_info["size"], start_info["align"]) == (56, 8)
    assert (start_info["header"], _facts(start_info)[0]) == (
        "arch-x86/hvm/start_info.h", ("magic", 0, 32, False))
    assert o.constants["SIF_PM_MASK"] == {"value": 0xFF00, "type": "int", "kind": "macro",
                                          "header": "xen.h", "line": 876}


@pytest.mark.parametrize("view", ["tools", "guest"])
def test_tree_oracle_skips_the_headers_that_say_so(view: str) -> None:
    o = _oracle("x86_64", view)
    tools_only = {"domctl.h", "sysctl.h"} if view == "guest" else set()
    assert {h for h, why in o.skipped.items() if "#error" in why} == {"dom0_ops.h", *tools_only}
    assert o.failed == {}
    assert "arch-arm.h" in o.skipped and "arch-x86/xen-x86_32.h" in o.skipped
    assert "arch-x86/hvm/save.h" in o.compiled  # through hvm/save.h


def test_tree_oracle_counts_the_enumerators() -> None:
    o = _oracle("x86_64", "tools")
    assert o.constants["XenbusStateClosed"]["kind"] == "enumerator"
    assert o.constants["XenbusStateClosed"]["value"] == 6


def _literal(value: int) -> str:
    return f"{value}ULL" if value >= 0 else f"({value + 1}LL - 1)"


def _static_asserts(o: Oracle) -> str:
    """One static assertion per fact the oracle states that C can check."""
    out = [o.source]
    for key, rec in o.records.items():
        out.append(f'_Static_assert(sizeof({key}) == {rec["size"]}, "sizeof {key}");')
        out.append(f'_Static_assert(_Alignof({key}) == {rec["align"]}, "_Alignof {key}");')
        for name, offset, size, bitfield in _facts(rec):
            if bitfield:  # offsetof and sizeof do not apply to bitfields
                continue
            out.append(f'_Static_assert(__builtin_offsetof({key}, {name}) * 8 == {offset}, '
                       f'"offsetof {key} {name}");')
            if size:  # sizeof does not apply to a flexible array member
                out.append(f'_Static_assert(sizeof((({key} *)0)->{name}) * 8 == {size}, '
                           f'"sizeof {key} {name}");')
    for name, c in o.constants.items():
        out.append(f'_Static_assert(({name}) == {_literal(c["value"])}, "value {name}");')
        out.append(f'_Static_assert(__builtin_types_compatible_p(__typeof__(({name})), '
                   f'{c["type"]}), "type {name}");')
    return "\n".join(out) + "\n"


_COMPILERS = {
    # the clang driver (Debian's clang, not the wheel's libclang) for every target
    **{f"{arch}-clang": ["clang", f"--target={t}", "-nostdlibinc", "-ferror-limit=0"]
       for arch, t in TRIPLES.items()},
    # gcc, a compiler that shares no code with clang, for the host's two x86 targets
    "x86_64-gcc": ["gcc", "-m64", "-fmax-errors=0"],
    "x86_32-gcc": ["gcc", "-m32", "-fmax-errors=0"],
}


@pytest.mark.parametrize("view", ["tools", "guest"])
@pytest.mark.parametrize("compiler", _COMPILERS)
def test_tree_oracle_agrees_with_compiler(compiler: str, view: str) -> None:
    """Every size, alignment, offset, value and type the oracle reports, asserted to a compiler."""
    arch = compiler.split("-")[0]
    cmd = _COMPILERS[compiler]
    if shutil.which(cmd[0]) is None:
        pytest.fail(f"{cmd[0]} not on PATH: the oracle is checked against it")
    o = _oracle(arch, view)
    run = subprocess.run([*cmd, "-std=gnu11", "-ffreestanding", "-fsyntax-only", *o.args,
                          "-x", "c", "-"], input=_static_asserts(o), capture_output=True,
                         text=True)
    failures = re.findall(r"static[_ ]assert(?:ion)? failed[^\"]*\"([^\"]*)\"", run.stderr)
    assert run.returncode == 0 and not failures, (
        f"{len(failures)} facts of the oracle disagree with {compiler}:\n"
        + "\n".join(failures[:40] or run.stderr.splitlines()[:40]))
    # the check checked something (ppc64's guest view on 4.20 stops at arch-ppc.h: 35 records)
    records, constants = (30, 300) if TARGETS[arch].young else (500, 1000)
    assert len(o.records) > records and len(o.constants) > constants


def test_reference_size_agrees_with_oracle() -> None:
    """DESIGN.md: reference.size agrees with clang in all 40 cells (tools view)."""
    root = _source_tree()
    table = read_reference_size(root / "tools/include/xen-foreign/reference.size")
    disagreements = []
    cells = 0
    for arch in {a for row in table.values() for a in row}:
        o = tree_oracle(root / "xen/include/public", TRIPLES[arch], "tools")
        for struct, row in table.items():
            cells += 1
            rec = o.records.get(f"struct {struct}")
            clang = None if rec is None else rec["size"]
            if clang != row[arch]:
                disagreements.append(f"{arch} struct {struct}: {row[arch]} (reference.size) "
                                     f"vs {clang} (clang)")
    assert not disagreements, "\n".join(disagreements)
    assert cells == 40
