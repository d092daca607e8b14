"""docs/rules.md lists every rule the registry has, with its summary and what it needs,
and gives each severity a rule declares, and only those, a description.
(abi_tests/test_rules_doc_counts.py keeps its counts equal to a run on Xen 4.17.)"""

from __future__ import annotations

from tests.doctables import table
from xenabi.check import RUN_CHECKS
from xenabi.rules import INPUTS, REGISTRY

#: Rule.whole, as the table says it
WHOLE = {("target", "view"): "every target and view", ("view",): "both views of a target"}


def test_the_rule_table_is_the_registry():
    rows = table("| rule | what it checks | needs besides the public headers |")
    assert [r[0] for r in rows] == list(REGISTRY), "docs/rules.md lists other rules"
    for rule_id, summary, needs in rows:
        r = REGISTRY[rule_id]
        assert summary == r.summary, rule_id
        said = [INPUTS[k][1] for k in r.needs] + ([WHOLE[r.whole]] if r.whole else [])
        assert needs == "; ".join(said), rule_id


def test_the_table_of_what_every_run_reports_is_run_checks():
    rows = table("| rule | what it reports |")
    assert [(r[0], r[1]) for r in rows] == [(c.id, c.summary) for c in RUN_CHECKS]


def test_each_declared_severity_and_only_those_is_described():
    rows = table("| rule | error | warning | info |")
    declared = {**{r.id: r.severities for r in REGISTRY.values()},
                **{c.id: c.severities for c in RUN_CHECKS}}
    assert [r[0] for r in rows] == list(declared)
    for rule_id, *cells in rows:
        described = [sev for sev, cell in zip(("error", "warning", "info"), cells) if cell]
        assert described == [s.value for s in declared[rule_id]], rule_id
