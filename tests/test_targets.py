"""Which targets a tree has, and the port gaps of the young ones (riscv64, ppc64).

The port-gap tree is the mini tree plus a RISC-V arch header written here: a
header naming a type only the x86 arch header defines, and one that stops on
an ``#error`` for an arch it does not know, as callback.h and io/protocols.h
do on Xen 4.20.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.minitree import copy_mini
from xenabi.check import HEADERS_RULE, findings
from xenabi.cli import main
from xenabi.errors import UsageError
from xenabi.model import Severity, Status
from xenabi.portgap import RULE as PORT_GAP
from xenabi.snapshot import take_all
from xenabi.targets import TARGETS, choose, tree_arches
from xenabi.tree import open_tree

OLD = ("xen.h", "arch-x86_32.h", "arch-x86_64.h", "arch-arm.h", "arch-x86/xen.h")
NEW = (*OLD, "arch-riscv.h", "arch-ppc.h")


def test_a_tree_has_the_young_ports_only_with_their_headers() -> None:
    assert tree_arches(OLD) == ("x86_32", "x86_64", "arm32", "arm64")
    assert tree_arches(NEW) == ("x86_32", "x86_64", "arm32", "arm64", "riscv64", "ppc64")
    assert tree_arches((*OLD, "arch-ppc.h")) == ("x86_32", "x86_64", "arm32", "arm64", "ppc64")


def test_the_default_is_what_the_tree_has_and_an_absent_port_is_refused() -> None:
    assert choose(OLD, None) == tree_arches(OLD)
    assert choose(NEW, ["ppc64"]) == ("ppc64",)
    with pytest.raises(UsageError, match=r"--arch riscv64: this tree has no arch-riscv\.h"):
        choose(OLD, ["x86_64", "riscv64"])


def test_the_young_ports_are_lp64_with_unsigned_char() -> None:
    for name in ("riscv64", "ppc64"):
        t = TARGETS[name]
        assert (t.int_bits("long"), t.pointer.size, t.char_signed) == (64, 8, False)
        assert t.predefines["__BYTE_ORDER__"] == "__ORDER_LITTLE_ENDIAN__"
        assert t.young


def test_check_with_an_absent_port_is_a_usage_error(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    tree = copy_mini(tmp_path / "mini")
    code = main(["check", "--no-cache", "--xen-root", str(tree), "--arch", "riscv64"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "no arch-riscv.h, so no riscv64 port" in err


RISCV = """#ifndef MINI_ARCH_RISCV_H
#define MINI_ARCH_RISCV_H
typedef unsigned long xen_pfn_t;
#endif
"""
CALLBACK = """#ifndef MINI_CB_H
#define MINI_CB_H
#include "xen.h"
struct mini_cb {
    uint16_t type;
    xen_callback_t address;
};
#endif
"""
PROTOCOLS = """#ifndef MINI_PROTO_H
#define MINI_PROTO_H
#if defined(__i386__) || defined(__x86_64__)
#define MINI_PROTO "x86"
#elif defined(__arm__) || defined(__aarch64__)
#define MINI_PROTO "arm"
#else
#error "arch fixup needed here"
#endif
#endif
"""


@pytest.fixture(scope="module")
def young_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_mini(tmp_path_factory.mktemp("young") / "mini")
    public = root / "xen/include/public"
    (public / "arch-riscv.h").write_text(RISCV)
    xen = (public / "xen.h").read_text()
    (public / "xen.h").write_text(xen.replace(
        '#include "arch-x86/xen.h"\n',
        '#include "arch-x86/xen.h"\ntypedef unsigned long xen_callback_t;\n'
        '#elif defined(__riscv)\n#include "arch-riscv.h"\n'))
    (public / "callback.h").write_text(CALLBACK)
    (public / "protocols.h").write_text(PROTOCOLS)
    return root


def test_a_header_a_young_port_cannot_compile_is_a_port_gap(young_tree: Path) -> None:
    tree = open_tree(young_tree)
    snaps = take_all(tree, ["x86_64", "riscv64"], use_cache=False)
    assert snaps["x86_64", "tools"].headers["callback.h"].status is Status.PARSED
    found = findings(tree, snaps, rules=())
    gaps = {(f.file, f.line): f for f in found if f.rule == PORT_GAP}
    cb = gaps["xen/include/public/callback.h", 6]
    assert "unknown type name 'xen_callback_t'" in cb.message
    assert (cb.severity, cb.arches, cb.views) == (Severity.WARNING, ("riscv64",),
                                                 ("guest", "tools"))
    proto = gaps["xen/include/public/protocols.h", 8]
    assert "#error" in proto.message and "arch fixup needed here" in proto.message
    assert len(gaps) == 2
    # not an error of the headers, and the view guard of tools.h stays a skip
    assert not [f for f in found if f.rule == HEADERS_RULE]
    assert snaps["riscv64", "guest"].headers["tools.h"].status is Status.SKIPPED
