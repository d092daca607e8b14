"""gitwalk and the history command's edges, on repositories made from the mini tree."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from tests.cikit import PUB, git, mini_repo
from xenabi.cli import main
from xenabi.cli.history import ProgressBar
from xenabi.gitwalk import Commit, Git, TreeDir, commits, document_versions, held


@pytest.mark.parametrize(("path", "want"), [
    (PUB + "xen.h", True), (PUB + "io/ring.h", True), (PUB + "README", False),
    ("docs/misc/pvh.pandoc", True), ("docs/misc/notes.txt", False),
    ("xen/include/xlat.lst", True), ("tools/include/xen-foreign/reference.size", True),
    ("xen/Makefile", True), ("xen/include/xen/sched.h", False)])
def test_held_is_what_the_rules_read(path: str, want: bool) -> None:
    assert held(path) is want


def test_moving_writes_only_what_changed_and_reports_the_old_content(tmp_path: Path) -> None:
    repo = mini_repo(tmp_path / "xen")
    mini_repo(tmp_path / "mini")  # the first commit's files, for comparison
    first = git(repo, "rev-parse", "HEAD").strip()
    p = repo / PUB / "xen.h"
    old = p.read_bytes()
    p.write_text(p.read_text() + "#define MINI_NEW 1\n")
    good = (repo / PUB / "io" / "good.h").read_bytes()
    (repo / PUB / "io" / "good.h").unlink()
    os.symlink("/etc/passwd", repo / PUB / "link.h")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "edit")
    second = git(repo, "rev-parse", "HEAD").strip()
    with TreeDir(Git(repo)) as td:
        assert set(td.move(first)) == {q.relative_to(tmp_path / "mini").as_posix()
                                       for q in (tmp_path / "mini").rglob("*.h")}
        changed = td.move(second)
        assert set(changed) == {PUB + "xen.h", PUB + "io/good.h", PUB + "link.h"}
        assert changed[PUB + "xen.h"] == old and changed[PUB + "link.h"] is None
        assert changed[PUB + "io/good.h"] == good
        assert not (td.root / PUB / "io" / "good.h").exists()
        assert not (td.root / PUB / "link.h").exists()  # a symlink is never written
        assert (td.root / PUB / "xen.h").read_bytes() == p.read_bytes()
        root = td.root
    assert not root.exists()


def test_commits_are_oldest_first_and_only_those_touching_headers(tmp_path: Path) -> None:
    repo = mini_repo(tmp_path / "xen")
    ids = []
    for name, path in [("a", PUB + "xen.h"), ("b", "README"), ("c", PUB + "io/good.h")]:
        with (repo / path).open("a") as f:
            f.write("/* x */\n")
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", name)
        ids.append(git(repo, "rev-parse", "HEAD").strip())
    got = commits(Git(repo), "HEAD~3..HEAD")
    assert [(c.id, c.subject) for c in got] == [(ids[0], "a"), (ids[2], "c")]
    assert got[1].parent == ids[1]  # the real parent, not the previous one listed


def test_the_documents_read_ahead_are_every_version_the_walk_reads(tmp_path: Path) -> None:
    """The first parent's documents and each version a commit writes: one pandoc reads them
    all before the walk asks. One content is one reading, wherever and however often it is
    written; a text that is not UTF-8 is left to the walk, which says so."""
    repo = mini_repo(tmp_path / "xen")
    docs = repo / "docs" / "misc"
    docs.mkdir(parents=True)
    (docs / "a.pandoc").write_text("first\n")
    (docs / "notes.txt").write_text("not read\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "docs")
    for text in ("second\n", "third\n", "first\n"):
        (docs / "a.pandoc").write_text(text)
        (docs / "b.pandoc").write_bytes(text.encode() if text != "third\n" else b"\xff\n")
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", text.strip())
    got = document_versions(Git(repo), commits(Git(repo), "HEAD~3..HEAD"))
    assert sorted(got.values()) == ["first\n", "second\n", "third\n"]
    assert all(label.endswith(".pandoc") for label in got)


@pytest.mark.parametrize("revrange", ["no-such-rev..HEAD", "--all"])
def test_a_bad_range_is_one_line_and_exit_2(tmp_path: Path, revrange: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    repo = mini_repo(tmp_path / "xen")
    assert main(["history", "--repo", str(repo), "--", revrange]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "xenabi: error:" in err


def test_not_a_repository_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "HEAD~1..HEAD", "--repo", str(tmp_path)]) == 2
    assert "not a git repository" in capsys.readouterr().err


def test_the_progress_bar_shows_the_commit_and_the_time_left() -> None:
    out = io.StringIO()
    bar = ProgressBar(out)
    c = Commit("0123456789abcdef" * 2 + "01234567", None, "xen.h: a flag")
    bar(0, 4, c, 0.0)
    bar(2, 4, c, 30.0)
    lines = out.getvalue().split("\r")
    assert "estimating" in lines[1] and "1/4" in lines[1]
    assert "3/4 0123456789ab xen.h: a flag" in lines[2] and "~30 s left" in lines[2]
    assert "[############............]" in lines[2]
