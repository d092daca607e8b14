"""The pre-commit hook (.pre-commit-hooks.yaml), run by pre-commit itself from PyPI
in a temporary venv, on a staged edit of a repository: a harmless edit passes, a
breaking one fails naming the change."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.cikit import ENV, PUB, ROOT, git, mini_repo, needs_diff


@pytest.fixture(scope="module")
def pre_commit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pre-commit`` installed from PyPI into a fresh venv."""
    needs_diff()
    env_dir = tmp_path_factory.mktemp("venv")
    venv.create(env_dir, with_pip=True)
    pip = subprocess.run([str(env_dir / "bin" / "pip"), "install", "-q", "pre-commit"],
                         capture_output=True, text=True)
    if pip.returncode != 0:
        reason = f"pre-commit cannot be installed from PyPI: {pip.stderr.strip()[-200:]}"
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)  # CI must run it
        pytest.skip(reason)
    return env_dir / "bin" / "pre-commit"


def hook_repo(tmp_path: Path) -> Path:
    """This checkout as a hook repository: pre-commit installs a repository's
    committed tree, so the working copy's edits are committed into a scratch clone."""
    repo = tmp_path / "hooks"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(repo)], check=True,
                   env=ENV)
    edited = git(ROOT, "ls-files", "-z", "--modified", "--others", "--exclude-standard")
    for rel in filter(None, edited.split("\0")):
        if (ROOT / rel).is_file():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            (repo / rel).write_bytes((ROOT / rel).read_bytes())
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "the hook under test", "--allow-empty")
    return repo


def run_hook(pre_commit: Path, hooks: Path, repo: Path, tmp_path: Path
             ) -> subprocess.CompletedProcess[str]:
    env = {**ENV, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("PYTHONPATH")  # the hook runs the xenabi pre-commit installed, not this one
    return subprocess.run([str(pre_commit), "try-repo", str(hooks), "xenabi-abi"], cwd=repo,
                          env=env, capture_output=True, text=True)


def staged(tmp_path: Path, old: str, new: str) -> Path:
    repo = mini_repo(tmp_path / "xen")
    p = repo / PUB / "xen.h"
    p.write_text(p.read_text().replace(old, new))
    git(repo, "add", PUB + "xen.h")
    return repo


def test_a_harmless_staged_edit_passes(pre_commit: Path, tmp_path: Path) -> None:
    repo = staged(tmp_path, "#define MINI_FLAG_B (1U << 1)",
                  "#define MINI_FLAG_B (1U << 1)\n#define MINI_FLAG_C (1U << 2)")
    proc = run_hook(pre_commit, hook_repo(tmp_path), repo, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Passed" in proc.stdout


def test_a_breaking_staged_edit_fails_with_the_change(pre_commit: Path, tmp_path: Path) -> None:
    repo = staged(tmp_path, "#define MINI_FLAG_B (1U << 1)", "#define MINI_FLAG_B (1U << 2)")
    # an unstaged edit that would undo it: the hook judges the index, not the work tree
    p = repo / PUB / "xen.h"
    p.write_text(p.read_text().replace("(1U << 2)", "(1U << 1)"))
    proc = run_hook(pre_commit, hook_repo(tmp_path), repo, tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Failed" in proc.stdout and "MINI_FLAG_B" in proc.stdout


def test_the_entry_judges_the_index_and_leaves_it_alone(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The entry module in-process: what it hands ``xenabi diff`` is the staged tree."""
    from xenabi import cli, precommit

    repo = staged(tmp_path, "#define MINI_FLAG_B (1U << 1)", "#define MINI_FLAG_B (1U << 2)")
    (repo / PUB / "xen.h").write_text("unstaged garbage\n")
    index = repo / ".git" / "index"
    before = index.stat().st_mtime_ns, git(repo, "diff", "--cached")
    seen: list[str] = []

    def fake(argv: list[str]) -> int:
        assert argv[:2] == ["diff", "HEAD"] and argv[3:5] == ["--repo", str(repo)]
        seen.append((Path(argv[2]) / PUB / "xen.h").read_text())
        return 7

    monkeypatch.setattr(cli, "main", fake)
    monkeypatch.chdir(repo)
    assert precommit.main([]) == 7
    assert "#define MINI_FLAG_B (1U << 2)" in seen[0]
    assert (index.stat().st_mtime_ns, git(repo, "diff", "--cached")) == before
