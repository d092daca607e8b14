"""Every rule reports only the severities it declares, on the real trees: the tree
under test, the installed 4.17.7 layout and 4.20 (riscv64 and ppc64, whose port gaps
are warnings). tests/test_rule_severities.py does the same on a fixture tree (a test
module's name must differ from every other's in tests/ and abi_tests/: pytest imports
them by base name)."""

from __future__ import annotations

import pytest

from tests.ruleskit import undeclared_severities
from xenabi.run import run


@pytest.mark.parametrize("tree", ["xen_tree", "installed_tree", "xen_420_tree"])
def test_every_rule_reports_only_the_severities_it_declares(
        request: pytest.FixtureRequest, tree: str) -> None:
    # the shipped waivers too: what they take is still reported, and an idle one is a
    # finding of the waivers check itself
    report = run(request.getfixturevalue(tree))
    found = report.all_findings()
    assert found, "a real tree with no finding at all: the run did not happen"
    assert undeclared_severities(found) == []
