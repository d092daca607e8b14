"""``xenabi rules``: every rule, its severities and inputs, and whether it runs on a tree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.minitree import MINI, copy_mini
from xenabi.cli import main

#: the rules DESIGN.md and docs/rules.md name, in the order check runs them, then what
#: every run reports itself
RULES = ["flags", "unique", "arch", "compat", "holes", "refsize", "doc-layout", "doc-refs",
         "doc-semantics", "doc-coverage"]
RUN_ITSELF = ["headers", "port-gap", "waivers"]


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    assert main(["rules", "--format", "json", *argv]) == 0
    data = json.loads(capsys.readouterr().out)
    assert isinstance(data, dict)
    return data


def _by_rule(data: dict[str, object]) -> dict[str, dict[str, object]]:
    rules = data["rules"]
    assert isinstance(rules, list)
    return {r["rule"]: r for r in rules}


def test_json_lists_every_rule_then_what_every_run_reports(capsys: pytest.CaptureFixture[str]):
    data = _json(capsys, "--xen-root", str(MINI))
    assert data["schema"] == "xenabi-rules/1"
    rules = _by_rule(data)
    assert list(rules) == RULES + RUN_ITSELF
    assert [r["kind"] for r in rules.values()] == ["rule"] * len(RULES) + ["run"] * len(RUN_ITSELF)
    assert all(r["summary"] for r in rules.values())


def test_severities_are_those_docs_rules_md_gives(capsys: pytest.CaptureFixture[str]):
    rules = _by_rule(_json(capsys, "--xen-root", str(MINI)))
    # docs/rules.md, "Severity: the judgement per rule", read by hand
    assert rules["flags"]["severities"] == ["error"]
    assert rules["arch"]["severities"] == ["error", "warning", "info"]
    assert rules["holes"]["severities"] == ["warning", "info"]
    assert rules["doc-layout"]["severities"] == ["error", "warning"]
    assert rules["headers"]["severities"] == ["error"]


def test_a_tree_without_docs_xlat_or_reference_size_says_which_rules_cannot_run(
        capsys: pytest.CaptureFixture[str]):
    rules = _by_rule(_json(capsys, "--xen-root", str(MINI)))
    not_run = {r: v["why_not"] for r, v in rules.items() if not v["runs"]}
    assert not_run == {"compat": "no xen/include/xlat.lst",
                       "refsize": "no tools/include/xen-foreign/reference.size",
                       "doc-refs": "no docs/", "doc-semantics": "no docs/",
                       "doc-coverage": "no docs/"}
    assert rules["compat"]["needs"] == ["xen/include/xlat.lst"]
    assert rules["doc-refs"]["whole"] == ["target", "view"]
    assert rules["refsize"]["whole"] == ["view"]


def test_every_rule_runs_on_a_tree_that_has_every_input(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]):
    root = copy_mini(tmp_path / "tree")
    (root / "xen/include/xlat.lst").write_text("?\tmini_info\t\txen.h\n")
    (root / "tools/include/xen-foreign").mkdir(parents=True)
    (root / "tools/include/xen-foreign/reference.size").write_text("")
    (root / "docs").mkdir()
    rules = _by_rule(_json(capsys, "--xen-root", str(root)))
    assert [r for r, v in rules.items() if not v["runs"]] == []


def test_text_names_each_rule_its_severities_and_why_it_does_not_run(
        capsys: pytest.CaptureFixture[str]):
    assert main(["rules", "--xen-root", str(MINI)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert str(MINI) in lines[0]
    compat = next(line for line in lines if line.startswith("compat "))
    assert compat.split() == ["compat", "error,", "warning,", "info", "does", "not", "run:",
                              "no", "xen/include/xlat.lst"]
    flags = next(line for line in lines if line.startswith("flags "))
    assert flags.split() == ["flags", "error", "runs"]
    assert "Every run also reports:" in out
    assert ("    needs docs/; every target and view (a run narrowed by --arch or --view "
            "skips it)") in lines


def test_a_missing_tree_is_one_line_and_exit_2(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]):
    assert main(["rules", "--xen-root", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nowhere" in err
