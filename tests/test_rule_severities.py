"""Every rule reports only the severities it declares (``severities=`` at registration,
and :data:`xenabi.check.RUN_CHECKS` for what a run reports itself), here on a fixture
tree made to trip most rules; abi_tests/test_declared_severities.py does the same on the
real trees."""

from __future__ import annotations

from pathlib import Path

from tests.minitree import copy_mini
from tests.ruleskit import undeclared_severities
from xenabi.model import Finding, Severity
from xenabi.run import run
from xenabi.tree import open_tree
from xenabi.waivers import parse

#: a shared bit (flags), a repeated number (unique), and a header that does not parse
TRIPS = """\
#ifndef MINI_TRIPS_H
#define MINI_TRIPS_H
/* Notify flags */
#define MINI_NOTIFY_ONE   (1U << 0)
#define MINI_NOTIFY_TWO   (1U << 1)
#define MINI_NOTIFY_AGAIN (1U << 1)
#define MINI_OP_first  1
#define MINI_OP_second 2
#define MINI_OP_third  2
#endif
"""

EXTRA = {
    "xen/include/public/trips.h": TRIPS,
    "xen/include/public/broken.h": "struct broken { no_such_type x; };\n",
    # mini_info differs between x86_32 and x86_64: `?` is a compat error; mini_gone is
    # defined nowhere: a warning
    "xen/include/xlat.lst": "?\tmini_info\t\txen.h\n?\tmini_gone\t\txen.h\n",
    # mini_info is 24 bytes on x86_64, 20 on x86_32 (xen.h, read by hand)
    "tools/include/xen-foreign/reference.size":
        "\nstructs                   |   arm32   arm64  x86_32  x86_64\n\n"
        "mini_info                 |      24      24      20      32\n",
    "docs/misc/mini.pandoc": "# Mini\n\nA guest sets `MINI_FLAG_C` in `struct mini_info`.\n"
                             "`MINI_FLAG_A` has the value 2.\n"
                             "See `xen/include/public/io/gone.h`.\n",
}

#: a waiver that matches nothing and one without a reason: both are errors of a user's file
WAIVERS = """\
[[waiver]]
rule = "flags"
symbol = "MINI_NOTHING"
arches = ["x86_64"]
views = ["tools"]
reason = "nothing is there"
evidence = "this test"

[[waiver]]
rule = "arch"
symbol = "struct mini_info"
arches = ["x86_64"]
views = ["tools"]
reason = ""
evidence = "this test"
"""


def _tripped_tree(tmp_path: Path) -> Path:
    root = copy_mini(tmp_path / "tree")
    for rel, text in EXTRA.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_every_rule_reports_only_the_severities_it_declares(tmp_path: Path) -> None:
    tree = open_tree(_tripped_tree(tmp_path))
    report = run(tree, waivers=parse(WAIVERS, "waivers.toml"), use_cache=False)
    found = report.all_findings()
    assert undeclared_severities(found) == []
    # the fixture must keep tripping what it was written to trip, or the test proves little
    tripped = {(f.rule, f.severity.value) for f in found}
    assert tripped >= {("flags", "error"), ("unique", "error"), ("arch", "warning"),
                       ("compat", "error"), ("compat", "warning"), ("holes", "warning"),
                       ("refsize", "error"), ("doc-refs", "error"),
                       ("doc-semantics", "error"), ("doc-coverage", "info"),
                       ("headers", "error"), ("waivers", "error")}, sorted(tripped)


def test_a_severity_a_rule_did_not_declare_is_reported() -> None:
    holes_error = Finding("holes", Severity.ERROR, "struct x has a hole", "xen.h", 3)
    unknown = Finding("no-such-rule", Severity.INFO, "something", "xen.h", 4)
    fine = Finding("holes", Severity.WARNING, "struct y has a hole", "xen.h", 5)
    assert undeclared_severities([holes_error, unknown, fine]) == [
        "holes declares warning, info but reported: xen.h:3: error: struct x has a hole [holes]",
        "no-such-rule declares nothing but reported: xen.h:4: info: something [no-such-rule]",
    ]
