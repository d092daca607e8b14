"""``xenabi history`` over a repository built at test time from the real 4.17 tree.

The repository's first commit is the 4.17 tree (the files the rules read);
then come commits that touch no header (which must not be listed), harmless
header edits, edits the rules reject, and documentation changes. Expected
verdicts are written from each edit's meaning. A commit's state is made from
its parent's (only what it can have changed is computed again): the test
computes every state afresh beside it and requires the same snapshots and
findings.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from xenabi.check import findings
from xenabi.cli import main
from xenabi.gitwalk import Commit, Git, held
from xenabi.history import Evaluator, State, Verdict, Walk, judge_findings, walk
from xenabi.snapshot import compute
from xenabi.tree import XenTree

pytestmark = pytest.mark.needs("checkout")

ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
       "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
PUB = "xen/include/public/"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True, env=ENV).stdout


def edit(repo: Path, path: str, old: str, new: str) -> None:
    p = repo / path
    text = p.read_text()
    assert text.count(old) == 1, (path, old)
    p.write_text(text.replace(old, new))


@dataclass
class Edit:
    subject: str
    change: Callable[[Path], None]
    listed: bool = True  #: touches what the rules read
    exit: int = 0  #: the verdict written from the edit's meaning
    rule: str | None = None  #: the rule of the one new error finding expected
    #: compare the state made from the parent's with one computed afresh (the edits that
    #: exercise what is kept or derived: the others recompute every target-view they can
    #: touch)
    verify: bool = False
    #: the views or arches whose every target-view must be the parent's, not computed again
    keeps: tuple[str, ...] = ()


def _append(path: str, text: str) -> Callable[[Path], None]:
    def change(repo: Path) -> None:
        with (repo / path).open("a") as f:
            f.write(text)
    return change


def _edit(path: str, old: str, new: str) -> Callable[[Path], None]:
    return lambda repo: edit(repo, path, old, new)


def _write(path: str, text: str) -> Callable[[Path], None]:
    def change(repo: Path) -> None:
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    return change


EDITS = [
    Edit("README: a note", _write("README", "notes\n"), listed=False),
    Edit("xen.h: a comment after SIF_PM_MASK",
         _edit(PUB + "xen.h", "#define SIF_PM_MASK", "/* pm options */\n#define SIF_PM_MASK")),
    Edit("tools: a script", _write("tools/misc/a.sh", "echo\n"), listed=False),
    Edit("xen.h: SIF_HVM_GHCB at bit 5 (free)",
         _edit(PUB + "xen.h", "#define SIF_PM_MASK",
               "#define SIF_HVM_GHCB      (1<<5)\n#define SIF_PM_MASK"), verify=True),
    Edit("domctl.h: a comment below the tools-only guard",
         _edit(PUB + "domctl.h", "/* XEN_DOMCTL_getdomaininfo */",
               "/* XEN_DOMCTL_getdomaininfo: what a domain is */"), verify=True),
    Edit("docs: a sentence in pvh.pandoc", _append("docs/misc/pvh.pandoc",
                                                   "\nA sentence naming nothing.\n"), verify=True),
    Edit("xen.h: SIF_X_BAD on a used bit (that of SIF_MULTIBOOT_MOD)",
         _edit(PUB + "xen.h", "#define SIF_PM_MASK",
               "#define SIF_X_BAD         (1<<2)\n#define SIF_PM_MASK"),
         exit=1, rule="flags", verify=True),
    Edit("xen.h: SIF_X_BAD removed again (a removal breaks)",
         _edit(PUB + "xen.h", "#define SIF_X_BAD         (1<<2)\n", ""), exit=1),
    Edit("arch-arm.h: a comment (the x86 units cannot see it)",
         _edit(PUB + "arch-arm.h", "/* Thumb Mode enable */", "/* Thumb mode enable */"), verify=True),
    Edit("docs: name an identifier the headers lack",
         _append("docs/misc/pvh.pandoc", "\nGuests set `SIF_NO_SUCH_FLAG` first.\n"),
         exit=1, rule="doc-refs", verify=True),
    Edit("docs: fix the name", _edit("docs/misc/pvh.pandoc", "`SIF_NO_SUCH_FLAG`",
                                     "`SIF_HVM_GHCB`")),
    Edit("Makefile at the top", _write("Makefile.extra", "all:\n"), listed=False),
    Edit("domctl.h: lines above the #error (its line moves)",
         _edit(PUB + "domctl.h", "#error", "/* a note */\n/* and one more */\n#error"), verify=True),
    Edit("xen.h: a new header included by nothing",
         _write(PUB + "io/xenabi-test.h",
                "#ifndef XENABI_TEST_H\n#define XENABI_TEST_H\n#define XENABI_TEST_A 1\n"
                "#define XENABI_TEST_B 2\n#endif\n")),
    Edit("xen.h: a guard spelled otherwise (every unit is what the commit before computed)",
         _edit(PUB + "xen.h", "#endif\n\n#ifndef __ASSEMBLY__\n/* Guest handles for primitive",
               "#endif\n\n#if !defined(__ASSEMBLY__)\n/* Guest handles for primitive"),
         verify=True, keeps=("tools", "guest")),
    Edit("io/xenabi-test.h: XENABI_TEST_B renumbered onto XENABI_TEST_A's value", _edit(
        PUB + "io/xenabi-test.h", "XENABI_TEST_B 2", "XENABI_TEST_B 1"), exit=1, rule="unique",
        verify=True),
    Edit("arch-x86: a new header for x86 only",
         _write(PUB + "arch-x86/xenabi-test.h", "#define XENABI_X86_ONLY 3\n"), verify=True),
    Edit("docs: a non-pandoc file", _write("docs/misc/notes.txt", "x\n"), listed=False),
    Edit("trace.h: whitespace", _edit(PUB + "trace.h", "#define TRC_SCHED    0x0002f000",
                                      "#define TRC_SCHED 0x0002f000")),
    Edit("xen.h: SIF_PM_MASK widened over SIF_HVM_GHCB",
         _edit(PUB + "xen.h", "(0xFF<<8)", "(0xFFF<<4)"), exit=1, rule="flags"),
    Edit("domctl.h: a new struct below the tools-only guard (the guest views stop at the "
         "#error)", _edit(PUB + "domctl.h", "/* XEN_DOMCTL_getdomaininfo: what a domain is */",
                          "struct xen_domctl_xenabi_test { uint32_t a; };\n"
                          "/* XEN_DOMCTL_getdomaininfo: what a domain is */"), verify=True,
         keeps=("guest",)),
]


@dataclass
class Built:
    repo: Path
    base: str  #: the 4.17 commit
    ids: list[str]  #: each edit's commit, in order


@pytest.fixture(scope="module")
def built(xen_tree: XenTree, tmp_path_factory: pytest.TempPathFactory) -> Built:
    repo = tmp_path_factory.mktemp("xen")
    for src in sorted(xen_tree.root.rglob("*")):
        rel = src.relative_to(xen_tree.root).as_posix()
        if src.is_file() and held(rel):
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, repo / rel)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "Xen 4.17")
    git(repo, "tag", "RELEASE-4.17.0")
    ids = []
    for e in EDITS:
        e.change(repo)
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", e.subject)
        ids.append(git(repo, "rev-parse", "HEAD").strip())
    return Built(repo, git(repo, "rev-parse", "RELEASE-4.17.0").strip(), ids)


@dataclass
class Walked:
    result: Walk[Verdict]
    mismatches: list[str]  #: where a state made from its parent's differs from one afresh
    #: commit -> each target-view: whether its records are the parent's very objects
    kept: dict[str, dict[tuple[str, str], bool]]


@pytest.fixture(scope="module")
def walked(built: Built) -> Walked:
    """The walk over every edit; the states of the edits marked ``verify`` are compared
    with states computed afresh: every snapshot kept from the parent's, and the findings."""
    judge = judge_findings(lambda tree: ())
    mismatches: list[str] = []
    verify = {i for i, e in zip(built.ids, EDITS) if e.verify}
    kept: dict[str, dict[tuple[str, str], bool]] = {}

    def checked(tree: XenTree, base: State, head: State) -> Verdict:
        commit = current[0]
        kept[commit] = {key: snap.records is base.snapshots[key].records
                        for key, snap in head.snapshots.items()}
        if commit in verify:
            for key, snap in head.snapshots.items():
                # kept from the parent's, derived from it (a macro edit), or computed
                if compute(tree, *key) != snap:
                    mismatches.append(f"{commit}: {key}: the snapshot made differs")
            if list(findings(tree, head.snapshots, head.rules)) != list(head.findings):
                mismatches.append(f"{commit}: the findings differ")
        return judge(tree, base, head)

    current = [""]

    def progress(i: int, n: int, c: Commit, elapsed: float) -> None:
        current[0] = c.id

    result = walk(Git(built.repo), "RELEASE-4.17.0..main", Evaluator(), checked,
                  progress=progress)
    verified = sum(sum(kept[i].values()) for i in verify)
    assert verified >= 20, verified  # the verified edits kept at least that many snapshots
    return Walked(result, mismatches, kept)


def test_lists_only_the_commits_touching_headers_or_pandoc_docs(
        built: Built, walked: Walked) -> None:
    result = walked.result
    want = [i for i, e in zip(built.ids, EDITS) if e.listed]
    assert [c.id for c in result.listed] == want
    assert [s.commit.id for s in result.steps] == want
    assert [s.commit.subject for s in result.steps] == [e.subject for e in EDITS if e.listed]


def test_each_state_made_from_its_parent_equals_one_computed_afresh(walked: Walked) -> None:
    assert walked.mismatches == []


@pytest.mark.parametrize("e", [e for e in EDITS if e.keeps], ids=lambda e: e.subject)
def test_a_commit_keeps_the_target_views_it_cannot_change(
        built: Built, walked: Walked, e: Edit) -> None:
    kept = walked.kept[built.ids[EDITS.index(e)]]
    cannot = {key for key in kept if key[0] in e.keeps or key[1] in e.keeps}
    assert cannot
    assert sorted(key for key in cannot if not kept[key]) == [], "computed again"


def test_verdicts_follow_the_edits(walked: Walked) -> None:
    result = walked.result
    for step, e in zip(result.steps, [e for e in EDITS if e.listed]):
        errors = [f for f in step.verdict.findings if f.severity.value == "error"]
        assert step.verdict.exit == e.exit, (e.subject, [str(f) for f in errors])
        assert {f.rule for f in errors} == ({e.rule} if e.rule else set()), e.subject


def test_the_flag_on_a_used_bit_names_both_flags(walked: Walked) -> None:
    step = next(s for s in walked.result.steps if "SIF_X_BAD on" in s.commit.subject)
    (f,) = [f for f in step.verdict.findings if f.rule == "flags"]
    assert {"SIF_X_BAD", "SIF_MULTIBOOT_MOD"} <= set(f.symbols)
    assert f.file == PUB + "xen.h"


def test_changes_are_diffs(walked: Walked) -> None:
    steps = {s.commit.subject: s.verdict for s in walked.result.steps}
    added = steps["xen.h: SIF_HVM_GHCB at bit 5 (free)"].changes
    assert [(c["kind"], c["class"], c["symbol"]) for c in added] == [
        ("constant-added", "compatible", "SIF_HVM_GHCB")]
    removed = steps["xen.h: SIF_X_BAD removed again (a removal breaks)"].changes
    assert [(c["class"], c["symbol"]) for c in removed] == [("breaking", "SIF_X_BAD")]
    assert steps["domctl.h: lines above the #error (its line moves)"].changes == ()


def test_the_repository_is_untouched(built: Built) -> None:
    index = built.repo / ".git" / "index"
    before = (git(built.repo, "status", "--porcelain"), index.stat().st_mtime_ns,
              git(built.repo, "stash", "list"), git(built.repo, "rev-parse", "HEAD"))
    assert main(["history", f"{built.ids[0]}..{built.ids[1]}", "--repo", str(built.repo),
                 "--quiet", "--no-waivers", "-o", os.devnull]) in (0, 1)
    after = (git(built.repo, "status", "--porcelain"), index.stat().st_mtime_ns,
             git(built.repo, "stash", "list"), git(built.repo, "rev-parse", "HEAD"))
    assert before == after
    assert before[0] == ""


def test_json_lists_every_judged_commit_oldest_first(
        built: Built, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["history", f"{built.ids[5]}..{built.ids[9]}", "--repo", str(built.repo),
               "--format", "json", "--no-waivers"])
    out = json.loads(capsys.readouterr().out)
    want = [i for i, e in zip(built.ids[6:10], EDITS[6:10]) if e.listed]
    assert out["schema"] == "xenabi-history/1"
    assert [c["commit"] for c in out["commits"]] == want
    assert [c["exit"] for c in out["commits"]] == [1, 1, 0, 1]
    assert rc == 1
    first = out["commits"][0]
    assert first["subject"] == EDITS[6].subject
    assert any(f["rule"] == "flags" and "SIF_X_BAD" in f["symbols"] for f in first["findings"])


def test_first_breaking_stops_at_the_first_rejected_commit(
        built: Built, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["history", f"{built.ids[4]}..main", "--repo", str(built.repo), "--first-breaking",
               "--format", "json", "--no-waivers"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 1
    assert [c["commit"] for c in out["commits"]] == [built.ids[6]]


def test_markdown_is_release_notes(built: Built, capsys: pytest.CaptureFixture[str]) -> None:
    main(["history", f"{built.ids[8]}..{built.ids[9]}", "--repo", str(built.repo),
          "--format", "markdown", "--title", "ABI changes in 4.18", "--no-waivers"])
    out = capsys.readouterr().out
    assert out.startswith("# ABI changes in 4.18\n")
    assert "## New findings" in out
    assert "SIF\\_NO\\_SUCH\\_FLAG" in out and built.ids[9][:12] in out


def test_ctrl_c_prints_what_was_judged_and_exits_130(
        built: Built, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = Evaluator.state

    def interrupted(self: Evaluator, *args: object, **kw: object) -> State:
        calls.append(1)
        if len(calls) == 4:  # the base, then three commits
            raise KeyboardInterrupt
        return real(self, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Evaluator, "state", interrupted)
    rc = main(["history", "RELEASE-4.17.0..main", "--repo", str(built.repo), "--format", "json",
               "--no-waivers"])
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert rc == 130
    assert out["interrupted"] is True
    assert [c["commit"] for c in out["commits"]] == [built.ids[1], built.ids[3]]
    assert "interrupted: 2 of" in captured.err


def test_no_progress_bar_when_stderr_is_not_a_terminal(
        built: Built, capsys: pytest.CaptureFixture[str]) -> None:
    main(["history", f"{built.ids[0]}..{built.ids[1]}", "--repo", str(built.repo)])
    assert capsys.readouterr().err == ""
