"""The counts docs/rules.md quotes for Xen 4.17 are those of a run on headers/xen-4.17
(every target and view, the shipped waivers), rule by rule and in total."""

from __future__ import annotations

from collections import Counter

from tests.doctables import table
from xenabi.model import Severity
from xenabi.run import run
from xenabi.tree import XenTree

HEADER = "| rule | errors | of them waived | warnings | infos |"


def test_the_417_counts_are_those_of_a_run(xen_417_tree: XenTree) -> None:
    found = run(xen_417_tree).all_findings()
    counts: Counter[tuple[str, str]] = Counter()
    for f in found:
        for who in (f.rule, "total"):
            counts[who, f.severity.value] += 1
            counts[who, "waived"] += f.waived and f.severity is Severity.ERROR
    rows = table(HEADER)
    assert rows[-1][0] == "total"
    ran = {f.rule for f in found}
    assert ran <= {r[0] for r in rows}, f"docs/rules.md has no row for {ran - {r[0] for r in rows}}"
    for who, *said in rows:
        got = [counts[who, "error"], counts[who, "waived"], counts[who, "warning"],
               counts[who, "info"]]
        assert [int(n) for n in said] == got, (
            f"docs/rules.md says {who}: {' | '.join(said)}; a run on {xen_417_tree.root} gives "
            f"{' | '.join(map(str, got))} (errors | waived | warnings | infos)")
