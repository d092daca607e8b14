"""The GitLab job (ci/xenabi.gitlab-ci.yml): its script lines, run in a repository
with a merge request branch, write the reports its artifacts name and exit as
the gate should."""

from __future__ import annotations

import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.cikit import ENV, PUB, ROOT, git, mini_repo, needs_diff, xenabi_bin

JOB = ROOT / "ci" / "xenabi.gitlab-ci.yml"


def section(name: str) -> list[str]:
    """The items of a job's list ``name`` (``script``...), read without PyYAML, which
    CI may not have: the job keeps its logic in ci/xenabi-gate.sh, so its lists are
    plain one-line items."""
    lines = JOB.read_text().splitlines()
    start = lines.index(f"  {name}:") + 1
    items = []
    for line in lines[start:]:
        m = re.match(r"^    - (.*)$", line)
        if not m:
            break
        items.append(m.group(1).strip().strip("'"))
    return items


def test_the_job_publishes_the_reports_xen_uses() -> None:
    text = JOB.read_text()
    # the artifact keys Xen's own jobs use (analyze.yaml: codequality; test.yaml: junit)
    assert "      codequality: gl-code-quality-report.json" in text
    assert "      junit: tests-junit.xml" in text
    assert "when: always" in text  # a failing gate still publishes its reports
    assert section("script") == ['sh "${XENABI_CI_DIR:-ci}/xenabi-gate.sh"']


def run_job(repo: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**ENV, "PATH": f"{xenabi_bin(tmp_path / 'bin')}{os.pathsep}{os.environ['PATH']}",
           "XENABI_CI_DIR": str(ROOT / "ci"), "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "staging",
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    script = "\n".join(["set -e", *section("script")])
    return subprocess.run(["sh", "-c", script], cwd=repo, env=env, capture_output=True,
                          text=True)


def merge_request(tmp_path: Path, old: str, new: str) -> Path:
    """The mini tree on staging, and a branch whose one commit replaces ``old`` in xen.h."""
    repo = mini_repo(tmp_path / "xen")
    git(repo, "update-ref", "refs/remotes/origin/staging", "HEAD")
    git(repo, "checkout", "-q", "-b", "mr")
    p = repo / PUB / "xen.h"
    p.write_text(p.read_text().replace(old, new))
    git(repo, "commit", "-qam", "the change")
    return repo


def gate(tmp_path: Path, new: str) -> tuple[subprocess.CompletedProcess[str],
                                            list[dict[str, object]], list[str]]:
    """The job on a merge request whose one commit replaces MINI_FLAG_B's line with ``new``:
    the process, the Code Quality entries, the names of the failing JUnit tests."""
    needs_diff()
    repo = merge_request(tmp_path, "#define MINI_FLAG_B (1U << 1)", new)
    proc = run_job(repo, tmp_path)
    quality = json.loads((repo / "gl-code-quality-report.json").read_text())
    suite = ET.parse(repo / "tests-junit.xml").getroot()
    failing = [c.get("name") or "" for c in suite.iter("testcase") if c.find("failure") is not None]
    return proc, quality, failing


def test_a_harmless_merge_request_passes(tmp_path: Path) -> None:
    proc, quality, failing = gate(tmp_path, "#define MINI_FLAG_B (1U << 1)\n"
                                            "#define MINI_FLAG_C (1U << 2)")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # an addition is compatible: at most a note for the reviewer, nothing to mend
    assert all(q["severity"] in ("info", "minor") for q in quality)
    assert failing == []


def test_a_breaking_merge_request_fails_and_names_the_change(tmp_path: Path) -> None:
    proc, quality, failing = gate(tmp_path, "#define MINI_FLAG_B (1U << 2)")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "MINI_FLAG_B" in proc.stdout
    assert any("MINI_FLAG_B" in str(q["description"]) and isinstance(q["location"], dict)
               and q["location"].get("path") == PUB + "xen.h" for q in quality)
    assert any("MINI_FLAG_B" in name for name in failing)


def test_junit_from_a_report(tmp_path: Path) -> None:
    """The converter alone, on a report written from the schema (DESIGN.md)."""
    report = {"schema": "xenabi-findings/1", "changes": [
        {"kind": "constant-value-changed", "class": "breaking", "symbol": "SIF_PM_MASK",
         "message": "SIF_PM_MASK: 0xff00 -> 0xfff0", "file": PUB + "xen.h", "line": 876},
        {"kind": "constant-added", "class": "compatible", "symbol": "SIF_HVM_GHCB",
         "message": "new constant SIF_HVM_GHCB", "file": PUB + "xen.h", "line": 875}],
        "findings": [{"rule": "flags", "severity": "error", "message": "m", "file": None,
                      "line": None, "symbols": ["A"], "waived": True}]}
    src = tmp_path / "r.json"
    src.write_text(json.dumps(report))
    out = tmp_path / "j.xml"
    subprocess.run(["python3", str(ROOT / "ci" / "xenabi-junit.py"), str(src), str(out)],
                   check=True)
    suite = ET.parse(out).getroot()
    assert (suite.get("tests"), suite.get("failures")) == ("3", "1")
    (failed,) = [c for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failed.get("name") == "constant-value-changed SIF_PM_MASK"
    assert failed.find("failure").text == f"{PUB}xen.h:876: breaking: SIF_PM_MASK: 0xff00 -> 0xfff0"  # type: ignore[union-attr]


@pytest.mark.parametrize("bad", ["", "not json"])
def test_junit_refuses_a_bad_report(tmp_path: Path, bad: str) -> None:
    src = tmp_path / "r.json"
    src.write_text(bad)
    proc = subprocess.run(["python3", str(ROOT / "ci" / "xenabi-junit.py"), str(src),
                           str(tmp_path / "j.xml")], capture_output=True, text=True)
    assert proc.returncode == 2 and str(src) in proc.stderr
    assert not (tmp_path / "j.xml").exists()
