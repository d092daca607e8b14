"""``xenabi diff`` on edits of the mini fixture tree: each edit's expected changes are
written from what the edit means (a field inserted before another moves it), never
copied from the program's output."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from minitree import MINI, copy_mini
from xenabi.cli import main
from xenabi.sides import Side, diff_sides
from xenabi.tree import open_tree

XEN_H = "xen/include/public/xen.h"
TOOLS_H = "xen/include/public/tools.h"

#: (id, file, old text, new text, expected {(kind, class, symbol)})
EDITS = [
    ("comment", XEN_H, "struct mini_info {", "/* a new comment */\nstruct mini_info {", set()),
    ("whitespace", XEN_H, "    uint32_t magic;", "\tuint32_t   magic ;", set()),
    ("hex-shift", XEN_H, "(1U << 1)", "(0x2U)", set()),
    ("respelled", XEN_H, "    uint32_t magic;", "    unsigned int magic;", set()),
    ("if0", XEN_H, "#endif\n#define xen_mk_ulong",
     "#endif\n#if 0\n#define MINI_DEAD 1\nstruct dead { int x; };\n#endif\n#define xen_mk_ulong",
     set()),
    ("value", XEN_H, "(1U << 1)", "(1U << 3)",
     {("constant-value-changed", "breaking", "MINI_FLAG_B")}),
    ("removed", XEN_H, "#define MINI_FLAG_B (1U << 1)\n", "",
     {("constant-removed", "breaking", "MINI_FLAG_B")}),
    ("added", XEN_H, "#define MINI_FLAG_B (1U << 1)\n",
     "#define MINI_FLAG_B (1U << 1)\n#define MINI_FLAG_C (1U << 2)\n",
     {("constant-added", "compatible", "MINI_FLAG_C")}),
    ("flag-on-used-bit", XEN_H, "#define MINI_FLAG_B (1U << 1)\n",
     "#define MINI_FLAG_B (1U << 1)\n#define MINI_FLAG_C (1U << 1)\n",
     {("constant-collides", "suspicious", "MINI_FLAG_C")}),
    ("flag-in-mask", XEN_H, "#define MINI_FLAG_B (1U << 1)\n",
     "#define MINI_FLAG_B (1U << 1)\n#define MINI_FLAG_C (1U << 9)\n",
     {("constant-collides", "suspicious", "MINI_FLAG_C")}),
    ("enum-renumbered", XEN_H, "MINI_ON = 4", "MINI_ON = 5",
     {("constant-value-changed", "breaking", "MINI_ON"),
      ("constant-value-changed", "breaking", "MINI_AFTER")}),
    ("enum-appended", XEN_H, "MINI_AFTER }", "MINI_AFTER, MINI_LAST }",
     {("constant-added", "compatible", "MINI_LAST")}),
    ("promotes", XEN_H, "#define MINI_FLAG_A (1U << 0)", "#define MINI_FLAG_A (1 << 0)",
     {("constant-type-changed", "breaking", "MINI_FLAG_A")}),
    ("field-retyped", XEN_H, "    uint32_t magic;", "    int32_t magic;",
     {("field-type-changed", "breaking", "struct mini_info.magic")}),
    ("field-renamed", XEN_H, "    uint32_t magic;", "    uint32_t cookie;",
     {("field-renamed", "breaking", "struct mini_info.magic")}),
    ("pad-explicit", XEN_H, "    uint32_t magic;\n",
     "    uint32_t magic;\n    uint32_t _pad;\n",
     # explicit only where there was padding: x86_32 packs stamp at 4
     {("padding-made-explicit", "compatible", "struct mini_info._pad"),
      ("field-added", "compatible", "struct mini_info._pad"),
      ("record-size-changed", "breaking", "struct mini_info"),
      ("field-offset-changed", "breaking", "struct mini_info.stamp"),
      ("field-offset-changed", "breaking", "struct mini_info.owner"),
      ("field-offset-changed", "breaking", "struct mini_info.flags"),
      ("constant-value-changed", "breaking", "MINI_INFO_SIZE")}),
    ("field-in-padding", XEN_H, "    uint8_t  flags[3];\n",
     "    uint8_t  flags[3];\n    uint8_t  extra;\n",
     {("field-in-padding", "suspicious", "struct mini_info.extra")}),
    ("array-length", XEN_H, "flags[3]", "flags[8]",
     {("field-size-changed", "breaking", "struct mini_info.flags"),
      ("field-type-changed", "breaking", "struct mini_info.flags"),
      ("record-size-changed", "breaking", "struct mini_info"),
      ("constant-value-changed", "breaking", "MINI_INFO_SIZE")}),
    ("record-removed", TOOLS_H, "struct mini_tools { uint64_t when; };", "",
     {("record-removed", "breaking", "struct mini_tools")}),
    ("record-added", TOOLS_H, "struct mini_tools { uint64_t when; };",
     "struct mini_tools { uint64_t when; };\nstruct mini_more { uint32_t x; };",
     {("record-added", "compatible", "struct mini_more")}),
    ("typedef-retyped", XEN_H, "typedef uint16_t domid_t;", "typedef uint32_t domid_t;",
     {("typedef-type-changed", "breaking", "domid_t"),
      ("typedef-size-changed", "breaking", "domid_t"),
      ("typedef-align-changed", "breaking", "domid_t"),
      ("field-type-changed", "breaking", "struct mini_info.owner"),
      ("field-size-changed", "breaking", "struct mini_info.owner"),
      # 2 more bytes fill the tail padding: the size stays on every target
      ("field-offset-changed", "breaking", "struct mini_info.flags")}),
]


def _edit(root: Path, file: str, old: str, new: str) -> None:
    p = root / file
    text = p.read_text()
    assert old in text, f"{file}: the edit's text {old!r} is not there"
    p.write_text(text.replace(old, new, 1))


def _kinds(base: Path, head: Path) -> set[tuple[str, str, str]]:
    r = diff_sides(Side("base", open_tree(base)), Side("head", open_tree(head)),
                   findings=False)
    return {(c.kind, c.cls.value, c.symbol) for c in r.changes}


@pytest.mark.parametrize("name,file,old,new,expected", EDITS, ids=[e[0] for e in EDITS])
def test_edit_is_classified(tmp_path, name, file, old, new, expected):
    head = copy_mini(tmp_path / "head")
    _edit(head, file, old, new)
    assert _kinds(MINI, head) == expected


def test_grouping_lists_targets_and_both_values(tmp_path):
    head = copy_mini(tmp_path / "head")
    _edit(head, XEN_H, "flags[3]", "flags[8]")
    r = diff_sides(Side("b", open_tree(MINI)), Side("h", open_tree(head)), findings=False)
    (size,) = [c for c in r.changes if c.kind == "record-size-changed"]
    # x86_32 packs the uint64_t at 4: 20 -> 24; elsewhere 24 -> 32 (8 more bytes, 8-aligned)
    assert dict(size.before) == {"x86_32": "20", "x86_64": "24", "arm32": "24", "arm64": "24"}
    assert dict(size.after) == {"x86_32": "24", "x86_64": "32", "arm32": "32", "arm64": "32"}
    assert size.views == ("guest", "tools") and size.file == XEN_H


def _cli(*args: str, capsys) -> tuple[int, str]:
    rc = main(["diff", *args])
    return rc, capsys.readouterr().out


def test_cli_exit_codes_and_formats(tmp_path, capsys):
    head = copy_mini(tmp_path / "head")
    _edit(head, XEN_H, "#define MINI_FLAG_B (1U << 1)\n",
          "#define MINI_FLAG_B (1U << 1)\n#define MINI_FLAG_C (1U << 1)\n")
    assert _cli(str(MINI), str(MINI), capsys=capsys)[0] == 0
    rc, out = _cli(str(MINI), str(head), capsys=capsys)
    assert rc == 1 and "suspicious: MINI_FLAG_C" in out
    # the flags rule's new error (a shared bit) still fails; the change alone does not
    assert _cli(str(MINI), str(head), "--fail-on", "breaking", capsys=capsys)[0] == 1
    assert _cli(str(MINI), str(head), "--fail-on", "breaking", "--no-findings",
                capsys=capsys)[0] == 0
    rc, out = _cli(str(MINI), str(head), "--format", "json", capsys=capsys)
    data = json.loads(out)
    assert data["schema"] == "xenabi-findings/1"
    assert [c["symbol"] for c in data["changes"]] == ["MINI_FLAG_C"]
    assert data["summary"]["counts"] == {"breaking": 0, "suspicious": 1, "compatible": 0}
    rc, out = _cli(str(MINI), str(head), "--format", "gitlab", capsys=capsys)
    (issue,) = [i for i in json.loads(out) if i["check_name"].startswith("diff/")]
    assert issue["location"] == {"path": XEN_H, "lines": {"begin": 10}}
    assert _cli(str(tmp_path / "nothing-here"), str(head), "--repo", str(tmp_path),
                capsys=capsys)[0] == 2


def test_fingerprints_do_not_move_with_lines(tmp_path, capsys):
    one, two = copy_mini(tmp_path / "one"), copy_mini(tmp_path / "two")
    for t in (one, two):
        _edit(t, XEN_H, "(1U << 1)", "(1U << 3)")
    _edit(two, XEN_H, "#define MINI_FLAG_A", "/* moved */\n\n#define MINI_FLAG_A")
    prints = []
    for t in (one, two):
        rc, out = _cli(str(MINI), str(t), "--format", "sarif", capsys=capsys)
        (res,) = json.loads(out)["runs"][0]["results"]
        prints.append((res["ruleId"], res["partialFingerprints"],
                       res["locations"][0]["physicalLocation"]["region"]["startLine"]))
    assert prints[0][:2] == prints[1][:2] and prints[0][2] != prints[1][2]


def test_snapshot_files_compare(tmp_path, capsys):
    head = copy_mini(tmp_path / "head")
    _edit(head, XEN_H, "(1U << 1)", "(1U << 3)")
    for t, f in ((MINI, "b.json"), (head, "h.json")):
        assert main(["snapshot", "--xen-root", str(t), "-o", str(tmp_path / f)]) == 0
    rc, out = _cli(str(tmp_path / "b.json"), str(tmp_path / "h.json"), capsys=capsys)
    assert rc == 1 and "breaking: MINI_FLAG_B changed value" in out
    assert out.startswith(f"xenabi diff: base snapshot {tmp_path / 'b.json'}; head snapshot")


def _git(repo: Path, *args: str) -> str:
    # GIT_OPTIONAL_LOCKS=0: the test's own ``git status`` must not refresh the index
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True, env=env).stdout


def _state(repo: Path) -> tuple[object, ...]:
    """The work tree's files with their times, the index, the stash and git's status."""
    files = sorted((p.relative_to(repo).as_posix(), p.stat().st_mtime_ns, p.read_bytes())
                   for p in repo.rglob("*")
                   if p.is_file() and (".git" not in p.parts or p.name == "index"))
    return (_git(repo, "status", "--porcelain"), _git(repo, "stash", "list"), files)


def _diff(repo: Path, *args: str, capsys) -> tuple[int, str]:
    """Run ``xenabi diff`` on ``repo`` and prove that it touched nothing of it."""
    before = _state(repo)
    rc, out = _cli(*args, "--repo", str(repo), capsys=capsys)
    assert _state(repo) == before
    return rc, out


def test_git_revisions_work_tree_and_release(tmp_path, capsys):
    repo = copy_mini(tmp_path / "repo")
    _edit(repo, TOOLS_H, "#include \"xen.h\"",
          "#include \"xen.h\"\n#define XEN_MINI_INTERFACE_VERSION 0x1")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    _git(repo, "tag", "RELEASE-4.99.0")
    _edit(repo, XEN_H, "(1U << 1)", "(1U << 3)")
    _git(repo, "commit", "-qam", "renumber")
    rc, out = _diff(repo, "HEAD~1", "HEAD", capsys=capsys)
    assert rc == 1 and "revision HEAD~1 (" in out and "MINI_FLAG_B changed value" in out
    # uncommitted: a tools-interface break without a bump names the version to bump
    _edit(repo, TOOLS_H, "uint64_t when;", "uint32_t when;")
    _git(repo, "add", TOOLS_H)  # staged: the index must stay as it is too
    rc, out = _diff(repo, "HEAD", capsys=capsys)
    assert rc == 1 and "without a bump of XEN_MINI_INTERFACE_VERSION" in out
    assert f"head work tree {repo}" in out
    # bumped in the work tree as well: covered
    _edit(repo, TOOLS_H, "VERSION 0x1", "VERSION 0x2")
    rc, out = _diff(repo, "HEAD", "--format", "json", capsys=capsys)
    kinds = {(c["kind"], c["class"]) for c in json.loads(out)["changes"]}
    assert ("field-size-changed", "compatible") in kinds
    assert ("field-size-changed", "breaking") not in kinds
    # the bump committed, then another break: covered only by the bump since the release
    _git(repo, "commit", "-qam", "bump")
    _edit(repo, TOOLS_H, "uint32_t when;", "uint16_t when;")
    rc, out = _diff(repo, "HEAD", capsys=capsys)
    assert rc == 1 and "without a bump of XEN_MINI_INTERFACE_VERSION" in out
    rc, out = _diff(repo, "HEAD", "--since-release", "RELEASE-4.99.0", capsys=capsys)
    assert "since the release" in out and "breaking:" not in out
    # BASE a release tag: it is the release
    rc, out = _diff(repo, "RELEASE-4.99.0", capsys=capsys)
    assert "breaking: MINI_FLAG_B" in out
