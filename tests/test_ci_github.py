"""The GitHub Actions example (ci/github/xenabi.yml): its diff step, run in a
repository with a pull request branch, writes the SARIF file the upload step
sends to code scanning."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.cikit import ENV, PUB, ROOT, git, mini_repo, needs_diff, xenabi_bin

WORKFLOW = ROOT / "ci" / "github" / "xenabi.yml"


def diff_step() -> str:
    """The ``run: |`` block of the step named ``xenabi diff`` (read without PyYAML)."""
    lines = WORKFLOW.read_text().splitlines()
    at = lines.index("      - name: xenabi diff")
    assert lines[at + 1] == "        run: |"
    body = []
    for line in lines[at + 2:]:
        if not line.startswith("          "):
            break
        body.append(line[10:])
    return "\n".join(body)


def test_the_workflow_uploads_the_file_the_step_writes() -> None:
    text = WORKFLOW.read_text()
    assert "security-events: write" in text
    assert "github/codeql-action/upload-sarif@" in text and "sarif_file: xenabi.sarif" in text
    assert "--format sarif -o xenabi.sarif" in diff_step()


def test_the_diff_step_writes_sarif_with_the_change(tmp_path: Path) -> None:
    needs_diff()
    repo = mini_repo(tmp_path / "xen")
    git(repo, "update-ref", "refs/remotes/origin/staging", "HEAD")
    git(repo, "checkout", "-q", "-b", "pr")
    p = repo / PUB / "xen.h"
    p.write_text(p.read_text().replace("(1U << 1)", "(1U << 2)"))
    git(repo, "commit", "-qam", "renumber MINI_FLAG_B")
    script = diff_step().replace("${{ github.base_ref }}", "staging")
    env = {**ENV, "PATH": f"{xenabi_bin(tmp_path / 'bin')}{os.pathsep}{os.environ['PATH']}",
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.run(["bash", "-e", "-c", script], cwd=repo, env=env, capture_output=True,
                          text=True)
    assert proc.returncode == 1, proc.stderr
    sarif = json.loads((repo / "xenabi.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    results = sarif["runs"][0]["results"]
    assert any("MINI_FLAG_B" in r["message"]["text"] for r in results)
