"""``xenabi diff`` on git revisions of a repository built from the real 4.17 tree.

The repository holds 4.17's ``xen/include/public``, tagged ``RELEASE-4.17.0``;
a commit bumps ``XEN_DOMCTL_INTERFACE_VERSION`` (0x15 -> 0x16), the next one
widens ``struct xen_domctl_getdomaininfo``'s ``pad1``. Judged from the meaning:
between the two commits the widening has no bump (breaking); since the
release the bump covers it (Xen's one bump per development cycle). The
revisions are read with git into a temporary directory: the work tree, its
uncommitted edits, the index, the stash and every file's time stay as they were.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from xenabi.cli import main
from xenabi.tree import PUBLIC

REAL = Path(__file__).resolve().parents[1] / "headers" / "xen-4.17"
PAD = "    uint16_t pad1;\n"
VERSION = "#define XEN_DOMCTL_INTERFACE_VERSION 0x00000015\n"
FAST = ("--arch", "x86_64", "--view", "tools", "--no-findings", "--format", "json")


def git(repo: Path, *args: str) -> str:
    # no optional locks: ``git status`` must not refresh the index the test watches
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True, env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"}).stdout


def change_file(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) >= 1, old
    path.write_text(text.replace(old, new, 1))


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (REAL / PUBLIC / "domctl.h").is_file():
        reason = f"{REAL}: no Xen 4.17 tree (scripts/provision)"
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    if shutil.which("git") is None:
        pytest.fail("git is needed to read revisions", pytrace=False)
    root = tmp_path_factory.mktemp("xen")
    shutil.copytree(REAL / PUBLIC, root / PUBLIC)
    git(root, "init", "-q")
    git(root, "config", "user.email", "t@example.org")
    git(root, "config", "user.name", "t")
    git(root, "add", ".")
    git(root, "commit", "-qm", "4.17")
    git(root, "tag", "RELEASE-4.17.0")
    domctl = root / PUBLIC / "domctl.h"
    change_file(domctl, VERSION, VERSION.replace("15", "16"))
    git(root, "commit", "-qam", "bump the domctl version for this cycle")
    git(root, "tag", "bumped")
    change_file(domctl, PAD, PAD.replace("uint16_t", "uint32_t"))
    git(root, "commit", "-qam", "widen getdomaininfo's pad1")
    return root


def diff(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
    status = main(["diff", *args, *FAST])
    return status, json.loads(capsys.readouterr().out)


def kinds(data: dict[str, object]) -> dict[tuple[str, str], str]:
    listed = data["changes"]
    assert isinstance(listed, list)
    return {(c["kind"], c["symbol"]): c["class"] for c in listed}


WIDENED = ("field-size-changed", "struct xen_domctl_getdomaininfo.pad1")


def test_two_revisions_without_a_bump_between_them_break(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, data = diff(capsys, "bumped", "HEAD", "--repo", str(repo))
    assert status == 1 and kinds(data)[WIDENED] == "breaking"
    listed = data["changes"]
    assert isinstance(listed, list)
    (widened,) = [c for c in listed if (c["kind"], c["symbol"]) == WIDENED]
    assert "XEN_DOMCTL_INTERFACE_VERSION" in widened["message"]
    summary = data["summary"]
    assert isinstance(summary, dict)
    head = git(repo, "rev-parse", "HEAD").strip()
    assert summary["base"].startswith("revision bumped (")
    assert summary["head"] == f"revision HEAD ({head[:12]})"


def test_a_bump_since_the_release_covers_the_break(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, data = diff(capsys, "bumped", "HEAD", "--repo", str(repo),
                        "--since-release", "RELEASE-4.17.0")
    assert status == 0 and kinds(data)[WIDENED] == "compatible"
    # a release tag as BASE: the bump is inside the diff
    status, data = diff(capsys, "RELEASE-4.17.0", "HEAD", "--repo", str(repo))
    got = kinds(data)
    assert status == 0 and got[WIDENED] == "compatible"
    assert got["version-bumped", "XEN_DOMCTL_INTERFACE_VERSION"] == "compatible"


def snapshot_of_state(repo: Path) -> tuple[object, ...]:
    """Everything a diff must not touch: the files and their times, the index, the stash."""
    files = sorted((str(p.relative_to(repo)), p.stat().st_mtime_ns, p.read_bytes())
                   for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts)
    index = repo / ".git" / "index"
    return (files, index.read_bytes(), index.stat().st_mtime_ns,
            git(repo, "status", "--porcelain"), git(repo, "stash", "list"),
            git(repo, "rev-parse", "HEAD"))


def test_the_work_tree_with_uncommitted_edits_is_head_and_stays_untouched(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    xen = repo / PUBLIC / "xen.h"
    original = xen.read_text()
    sif = "#define SIF_VIRT_P2M_4TOOLS (1<<4)"
    try:
        change_file(xen, sif, "#define SIF_HVM_GHCB (1<<8)\n" + sif)
        git(repo, "add", str(xen))  # staged, and then edited again: index != work tree
        change_file(xen, sif, "#define SIF_NEW (1<<5)\n" + sif)
        before = snapshot_of_state(repo)
        status, data = diff(capsys, "HEAD", "--repo", str(repo))
        assert snapshot_of_state(repo) == before
        got = kinds(data)
        assert status == 1
        assert got["constant-collides", "SIF_HVM_GHCB"] == "suspicious"
        assert got["constant-added", "SIF_NEW"] == "compatible"
        summary = data["summary"]
        assert isinstance(summary, dict) and summary["head"] == f"work tree {repo}"
        status, data = diff(capsys, "RELEASE-4.17.0", "bumped", "--repo", str(repo))
        assert snapshot_of_state(repo) == before
        assert kinds(data) == {("version-bumped", "XEN_DOMCTL_INTERFACE_VERSION"): "compatible"}
    finally:
        git(repo, "reset", "-q")
        xen.write_text(original)


def test_an_existing_path_is_a_path_and_anything_else_a_revision(
        repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # a directory named like a tag is the directory (a copy of HEAD: no change), not the
    # tag (which would make the widening breaking)
    monkeypatch.chdir(tmp_path)
    shutil.copytree(repo / PUBLIC, tmp_path / "bumped" / PUBLIC)
    status, data = diff(capsys, "bumped", "HEAD", "--repo", str(repo))
    summary = data["summary"]
    assert isinstance(summary, dict) and summary["base"] == "tree bumped"
    assert status == 0 and data["changes"] == []
    assert main(["diff", "no-such-revision", "HEAD", "--repo", str(repo)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("xenabi: error: no-such-revision: neither a path nor a revision")
