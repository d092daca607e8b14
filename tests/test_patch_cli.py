"""``xenabi check-patch`` on the mini fixture tree: verdicts, series, exit codes, formats,
a git base, and snapshots derived from the base's equal to those computed afresh."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.minitree import MINI
from xenabi import patchsnap
from xenabi.cli import main
from xenabi.patch import Overlay, apply_patch, dir_reader, materialize, read_patches
from xenabi.snapshot import take_all
from xenabi.tree import XenTree, open_tree

XEN_H = "xen/include/public/xen.h"


def hunk(old: str, new: str, name: str = XEN_H, subject: str = "mini: a change") -> str:
    """A git-style patch replacing the line ``old`` of the mini xen.h by ``new`` (lines),
    with the line before and after as context."""
    lines = (MINI / name).read_text().splitlines()
    at = lines.index(old)
    ctx_before, ctx_after = lines[at - 1], lines[at + 1]
    new_lines = new.splitlines()
    body = [f" {ctx_before}", f"-{old}", *(f"+{n}" for n in new_lines), f" {ctx_after}"]
    return (f"From: Dev <dev@example.org>\nSubject: [PATCH] {subject}\n\n"
            f"Why.\n---\ndiff --git a/{name} b/{name}\n--- a/{name}\n+++ b/{name}\n"
            f"@@ -{at},3 +{at},{2 + len(new_lines)} @@\n" + "\n".join(body) + "\n-- \n2.52.0\n")


ADD_C = hunk("#define MINI_FLAG_B (1U << 1)",
             "#define MINI_FLAG_B (1U << 1)\n#define MINI_FLAG_C (1U << 2)", subject="add C")


def digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            st = p.stat()
            h.update(f"{p}{st.st_mtime_ns}".encode() + p.read_bytes())
    return h.hexdigest()


def run(tmp_path: Path, capsys: pytest.CaptureFixture[str], *patches: str,
        args: tuple[str, ...] = ()) -> tuple[int, str, str]:
    files = []
    for i, text in enumerate(patches):
        f = tmp_path / f"p{i}.patch"
        f.write_text(text)
        files.append(str(f))
    code = main(["check-patch", *files, "--xen-root", str(MINI), "--arch", "x86_64",
                 "--arch", "arm32", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_new_flag_is_a_compatible_change(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    before = digest(MINI)
    code, out, _ = run(tmp_path, capsys, ADD_C)
    assert code == 0
    # bits 0 and 1 are taken: bit 2 is free
    assert ("  xen/include/public/xen.h:10: compatible: new flag MINI_FLAG_C (bit 2): free "
            "(4 on x86_64, arm32; guest tools)") in out.splitlines()
    assert digest(MINI) == before  # the base is never written


def test_a_series_step_that_breaks_what_an_earlier_one_added(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = ADD_C
    # the second patch is made against the first's result
    second = ("From: Dev <dev@example.org>\nSubject: [PATCH 2/2] renumber C\n\n---\n"
              f"--- a/{XEN_H}\n+++ b/{XEN_H}\n@@ -9,3 +9,3 @@\n"
              " #define MINI_FLAG_B (1U << 1)\n-#define MINI_FLAG_C (1U << 2)\n"
              "+#define MINI_FLAG_C (1U << 3)\n #define MINI_MASK (0xFF << 8)\n")
    code, out, _ = run(tmp_path, capsys, first, second, args=("--format", "json"))
    data = json.loads(out)
    assert code == 1
    step1, step2 = data["patches"]
    both = {"x86_64": "4", "arm32": "4"}
    assert [(c["class"], c["symbol"], c["after"]) for c in step1["changes"]] == [
        ("compatible", "MINI_FLAG_C", both)]
    assert [(c["class"], c["symbol"], c["before"], c["after"]) for c in step2["changes"]] == [
        ("breaking", "MINI_FLAG_C", both, {"x86_64": "8", "arm32": "8"})]
    assert (step1["exit"], step2["exit"]) == (0, 1)
    # as a whole, the series only adds a flag
    assert [(c["class"], c["symbol"], c["after"]) for c in data["changes"]] == [
        ("compatible", "MINI_FLAG_C", {"x86_64": "8", "arm32": "8"})]


def test_a_hunk_that_cannot_be_placed_is_exit_2_with_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = ADD_C.replace(" #define MINI_FLAG_A (1U << 0)", " #define MINI_FLAG_Z (1U << 0)")
    code, out, err = run(tmp_path, capsys, bad)
    assert code == 2 and out == ""
    assert err == ("xenabi: error: [PATCH] add C: xen/include/public/xen.h: hunk "
                   "@@ -8,3 +8,4 @@ cannot be placed (nearest: line 9, where 2 of its 3 "
                   "context and removed lines match)\n")


def test_the_email_format_is_plain_and_narrow(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    renumber = hunk("#define MINI_FLAG_B (1U << 1)", "#define MINI_FLAG_B (1U << 3)",
                    subject="a much longer subject line that a mailer would have to wrap "
                            "because it goes on and on")
    code, out, _ = run(tmp_path, capsys, renumber, args=("--format", "email"))
    assert code == 1
    assert "\x1b" not in out
    assert all(len(ln) < 76 for ln in out.splitlines()), out
    text = " ".join(out.split())
    assert "Checked: x86_64 arm32; views: guest tools." in text
    # both values, per target
    assert "Breaking: - xen/include/public/xen.h:9: MINI_FLAG_B changed value (2 -> 8 on " \
        "x86_64, arm32; guest tools)" in text


def test_standard_input(monkeypatch: pytest.MonkeyPatch,
                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(ADD_C.encode())))
    assert main(["check-patch", "-", "--xen-root", str(MINI), "--arch", "x86_64"]) == 0
    assert "new flag MINI_FLAG_C (bit 2): free (4 on x86_64" in capsys.readouterr().out


def test_a_git_revision_as_the_base(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    shutil.copytree(MINI, repo)
    git = ["git", "-C", str(repo), "-c", "user.name=T", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    # the work tree has an edit the patch's context lacks: the base must be the commit
    (repo / XEN_H).write_text((repo / XEN_H).read_text().replace("MINI_FLAG_B", "MINI_B"))
    before = digest(repo)
    (tmp_path / "p.patch").write_text(ADD_C)
    code = main(["check-patch", str(tmp_path / "p.patch"), "--repo", str(repo), "--base",
                 "HEAD", "--arch", "x86_64"])
    assert code == 0
    assert "new flag MINI_FLAG_C (bit 2): free (4 on x86_64" in capsys.readouterr().out
    assert digest(repo) == before
    assert main(["check-patch", str(tmp_path / "p.patch"), "--repo", str(repo), "--base",
                 "nope"]) == 2
    assert capsys.readouterr().err.startswith(f"xenabi: error: {repo}: git rev-parse")


# -- derived snapshots equal computed ones


def planned(tmp_path: Path, text: str) -> tuple[XenTree, XenTree, patchsnap.Plan | None]:
    """The mini tree, the tree ``text`` makes of it, and how to derive its snapshots."""
    base = open_tree(MINI)
    ov = Overlay(dir_reader(MINI), MINI)
    for p in read_patches(text.encode(), "p"):
        apply_patch(ov, p)
    head = open_tree(materialize(ov, ["xen"], tmp_path / "head"))
    return base, head, patchsnap.plan({h: base.read(h) for h in base.headers},
                                      {h: head.read(h) for h in head.headers})


EDITS = {
    "a new flag": ADD_C,
    "a changed flag": hunk("#define MINI_FLAG_B (1U << 1)", "#define MINI_FLAG_B (1U << 4)"),
    "a removed mask": hunk("#define MINI_MASK (0xFF << 8)", "/* no mask */"),
    "a flag made of others": hunk("#define MINI_MASK (0xFF << 8)",
                                  "#define MINI_MASK (0xFF << 8)\n"
                                  "#define MINI_AB (MINI_FLAG_A | MINI_FLAG_B)"),
    "a comment beside a field": hunk("    uint32_t magic;",
                                     "    uint32_t magic; /* the first word */"),
    # the guest view leaves tools.h out at its #error, whose line the comments move
    "comments above a tools-only #error": hunk(
        "#define MINI_TOOLS_H", "#define MINI_TOOLS_H\n/* a note */\n/* and one more */",
        name="xen/include/public/tools.h"),
}


@pytest.mark.parametrize("edit", EDITS)
def test_derived_snapshots_equal_the_computed_ones(tmp_path: Path, edit: str) -> None:
    base, head, plan = planned(tmp_path, EDITS[edit])
    assert plan is not None
    derived = patchsnap.derive(plan, take_all(base, use_cache=False), head)
    assert derived is not None
    computed = take_all(head, use_cache=False)
    assert {k: v.body() for k, v in derived.items()} == {
        k: v.body() for k, v in computed.items()}


NOT_DERIVABLE = {
    "a new field": hunk("    domid_t  owner;", "    domid_t  owner;\n    uint8_t extra;"),
    "a macro used in C": hunk("#define MINI_MASK (0xFF << 8)",
                              "#define MINI_MASK (0xFF << 8)\n#define domid_t int"),
    "a function-like macro": hunk("#define MINI_MASK (0xFF << 8)",
                                  "#define MINI_MASK (0xFF << 8)\n#define MINI_F(x) (x)"),
    "a conditional": hunk("#define MINI_MASK (0xFF << 8)",
                          "#ifdef MINI_X\n#define MINI_MASK (0xFF << 8)\n#endif"),
}


@pytest.mark.parametrize("edit", NOT_DERIVABLE)
def test_what_cannot_be_derived_is_computed(tmp_path: Path, edit: str) -> None:
    base, head, plan = planned(tmp_path, NOT_DERIVABLE[edit])
    assert plan is None or patchsnap.derive(plan, take_all(base, use_cache=False), head) is None


def test_a_headers_directory_as_the_base(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    doc = ("diff --git a/docs/misc/x.pandoc b/docs/misc/x.pandoc\nnew file mode 100644\n"
           "--- /dev/null\n+++ b/docs/misc/x.pandoc\n@@ -0,0 +1 @@\n+`MINI_FLAG_C`\n")
    (tmp_path / "p.patch").write_text(ADD_C.replace("-- \n", doc + "-- \n"))
    headers = shutil.copytree(MINI / "xen/include/public", tmp_path / "include")
    code = main(["check-patch", str(tmp_path / "p.patch"), "--xen-root", str(headers),
                 "--arch", "x86_64"])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert "  docs/misc/x.pandoc: not applied (the base is a headers directory)" in out
    assert ("  xen.h:10: compatible: new flag MINI_FLAG_C (bit 2): free (4 on x86_64; "
            "guest tools)") in out


@pytest.mark.parametrize("text, message", [
    ("--- /dev/null\n+++ b/../escape.h\n@@ -0,0 +1 @@\n+x\n",
     "p.patch: ../escape.h: a path with '..' or empty parts leaves the tree; refused"),
    ("diff --git a/xen/include/public/xen.h b/xen/include/public/xen.h\n"
     "Binary files a/xen/include/public/xen.h and b/xen/include/public/xen.h differ\n",
     "p.patch: xen/include/public/xen.h: binary patch; xenabi applies text hunks only, "
     "refused"),
])
def test_refused_patches_are_exit_2_and_write_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str) -> None:
    (tmp_path / "p.patch").write_text(text)
    out = tmp_path / "verdict.txt"
    code = main(["check-patch", str(tmp_path / "p.patch"), "--xen-root", str(MINI),
                 "-o", str(out)])
    assert code == 2
    assert capsys.readouterr().err == f"xenabi: error: {message}\n"
    assert not out.exists()


OPS = hunk("#define MINI_PAGES xen_mk_ulong(4096)",
           "#define MINI_PAGES xen_mk_ulong(4096)\n\n#define MINI_OP_A 1\n#define MINI_OP_B 2",
           subject="two ops")
WAIVE_UNIQUE = ['[[waiver]]', 'rule = "unique"', 'symbol = "MINI_OP_C"',
                'arches = ["x86_64", "arm32"]', 'views = ["guest", "tools"]',
                'reason = "an alias in all but name"', 'evidence = "the test"']
# made against the first patch's result: a third op on the second's value, and the
# tree's waiver of the unique rule's error about it
SAME_VALUE = ("From: Dev <dev@example.org>\nSubject: [PATCH 2/2] a third op\n\n---\n"
              f"--- a/{XEN_H}\n+++ b/{XEN_H}\n@@ -15,2 +15,3 @@\n"
              " #define MINI_OP_A 1\n #define MINI_OP_B 2\n+#define MINI_OP_C 2\n"
              "diff --git a/xenabi-waivers.toml b/xenabi-waivers.toml\nnew file mode 100644\n"
              f"--- /dev/null\n+++ b/xenabi-waivers.toml\n@@ -0,0 +1,{len(WAIVE_UNIQUE)} @@\n"
              + "".join(f"+{ln}\n" for ln in WAIVE_UNIQUE))


def test_a_suspicious_step_fails_unless_fail_on_breaking(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(tmp_path, capsys, OPS, SAME_VALUE, args=("--format", "json"))
    data = json.loads(out)
    step2 = data["patches"][1]
    assert [(c["class"], c["symbol"]) for c in step2["changes"]] == [
        ("suspicious", "MINI_OP_C")]
    assert "MINI_OP_B" in step2["changes"][0]["message"]
    # the head's waiver hides the unique rule's error, as check would
    assert step2["findings"] == []
    assert (code, data["exit"], step2["exit"]) == (1, 1, 1)
    code, out, _ = run(tmp_path, capsys, OPS, SAME_VALUE, args=("--fail-on", "breaking"))
    assert code == 0 and out.splitlines()[-1] == "xenabi check-patch: exit 0"


@pytest.mark.parametrize("fmt", ["sarif", "gitlab"])
def test_sarif_and_gitlab_hold_what_each_step_changed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    """The series as a whole only adds MINI_FLAG_C; its second step's renumbering is
    breaking, and the one-report formats carry it too."""
    renumber = ("From: Dev <dev@example.org>\nSubject: [PATCH 2/2] renumber C\n\n---\n"
                f"--- a/{XEN_H}\n+++ b/{XEN_H}\n@@ -9,3 +9,3 @@\n"
                " #define MINI_FLAG_B (1U << 1)\n-#define MINI_FLAG_C (1U << 2)\n"
                "+#define MINI_FLAG_C (1U << 3)\n #define MINI_MASK (0xFF << 8)\n")
    code, out, _ = run(tmp_path, capsys, ADD_C, renumber, args=("--format", fmt))
    assert code == 1
    data = json.loads(out)
    if fmt == "sarif":
        got = {(r["ruleId"], r["level"]) for r in data["runs"][0]["results"]}
        assert {("diff/constant-added", "note"), ("diff/constant-value-changed", "error")} <= got
    else:
        got = {(i["check_name"], i["severity"]) for i in data}
        assert {("diff/constant-added", "info"),
                ("diff/constant-value-changed", "critical")} <= got
