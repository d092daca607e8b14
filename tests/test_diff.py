"""``xenabi diff`` on the mini fixture tree: sides, classes, exit codes, formats, identities.

Expected values come from the edits' meaning: ``struct mini_info`` is
``uint32_t magic; uint64_t stamp; domid_t owner; uint8_t flags[3];``, 20
bytes on x86_32 (``uint64_t`` 4-aligned in a struct) and 24 elsewhere;
widening ``magic`` to 8 bytes moves nothing on the 8-aligning targets (it
fills the hole after it) but makes the i386 layout 24 bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.minitree import copy_mini
from xenabi.cli import main
from xenabi.diff import new_findings
from xenabi.model import Finding, Severity

HEADER = "xen/include/public/xen.h"


def edit(tree: Path, old: str, new: str, header: str = HEADER) -> Path:
    path = tree / header
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))
    return tree


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return copy_mini(tmp_path / "base")


@pytest.fixture
def head(tmp_path: Path) -> Path:
    return copy_mini(tmp_path / "head")


def diff_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
    status = main(["diff", *args, "--format", "json"])
    return status, json.loads(capsys.readouterr().out)


def changes(data: dict[str, object]) -> dict[tuple[str, str], dict[str, object]]:
    listed = data["changes"]
    assert isinstance(listed, list)
    return {(c["kind"], c["symbol"]): c for c in listed}


def test_a_tree_against_its_copy_lists_nothing_and_exits_0(
        base: Path, head: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(base), str(head)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"xenabi diff: base tree {base}; head tree {head}"
    assert out[-1].startswith("xenabi diff: 0 breaking, 0 suspicious, 0 compatible; "
                              "0 new findings; x86_32 x86_64 arm32 arm64 / guest tools")


def test_a_widened_field_is_breaking_with_both_values_per_target(
        base: Path, head: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(head, "    uint32_t magic;", "    uint64_t magic;")
    status, data = diff_json(capsys, str(base), str(head))
    assert status == 1
    got = changes(data)
    size = got["record-size-changed", "struct mini_info"]
    assert (size["class"], size["arches"], size["before"], size["after"]) == (
        "breaking", ["x86_32"], {"x86_32": "20"}, {"x86_32": "24"})
    assert (size["file"], size["line"]) == (HEADER, 14)
    magic = got["field-size-changed", "struct mini_info.magic"]
    assert magic["arches"] == ["x86_32", "x86_64", "arm32", "arm64"]
    assert magic["views"] == ["guest", "tools"]
    assert set(magic["before"].values()) == {"4"} and set(magic["after"].values()) == {"8"}
    # stamp moves only where uint64_t is 4-aligned inside a struct
    assert got["field-offset-changed", "struct mini_info.stamp"]["arches"] == ["x86_32"]
    summary = data["summary"]
    assert isinstance(summary, dict) and summary["counts"]["breaking"] == len(got)


def test_text_is_one_line_per_change_grouped_breaking_first(
        base: Path, head: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(head, "    uint32_t magic;", "    uint64_t magic;")
    edit(head, "#define MINI_PAGES", "#define MINI_NEW (1U << 4)\n#define MINI_PAGES")
    assert main(["diff", str(base), str(head)]) == 1
    # changes first, then HEAD's new findings (the holes warnings the edit changed)
    lines = [ln for ln in capsys.readouterr().out.splitlines()[1:-1] if not ln.endswith("[new]")]
    classes = [line.split(": ")[1] for line in lines]
    assert classes == sorted(classes, key=["breaking", "suspicious", "compatible"].index)
    assert f"{HEADER}:15: breaking: struct mini_info: size changed (20 -> 24 on x86_32; " \
           "guest tools)" in lines
    assert any(line.startswith(f"{HEADER}:12: compatible: MINI_NEW added") for line in lines)


def test_a_flag_on_a_used_bit_is_suspicious_and_fails_unless_fail_on_breaking(
        base: Path, head: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(head, "#define MINI_MASK", "#define MINI_FLAG_C (1U << 1)\n#define MINI_MASK")
    status, data = diff_json(capsys, str(base), str(head))
    got = changes(data)
    assert status == 1 and got["constant-collides", "MINI_FLAG_C"]["class"] == "suspicious"
    assert "MINI_FLAG_B" in got["constant-collides", "MINI_FLAG_C"]["message"]
    # the flags rule's new error on HEAD fails the diff as well; without findings, the
    # suspicious change alone passes --fail-on breaking
    assert main(["diff", str(base), str(head), "--fail-on", "breaking"]) == 1
    assert main(["diff", str(base), str(head), "--fail-on", "breaking", "--no-findings"]) == 0


def test_an_addition_alone_exits_0(base: Path, head: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    edit(head, "#define MINI_MASK", "#define MINI_FLAG_C (1U << 2)\n#define MINI_MASK")
    status, data = diff_json(capsys, str(base), str(head))
    assert status == 0
    assert changes(data)["constant-added", "MINI_FLAG_C"]["class"] == "compatible"


def test_a_snapshot_file_side_gives_what_the_tree_gives(
        base: Path, head: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(head, "    uint32_t magic;", "    uint64_t magic;")
    lock = tmp_path / "abi.json"
    assert main(["snapshot", "--xen-root", str(base), "-o", str(lock)]) == 0
    _, from_trees = diff_json(capsys, str(base), str(head))
    status, from_file = diff_json(capsys, str(lock), str(head))
    assert status == 1 and from_file["changes"] == from_trees["changes"]
    summary = from_file["summary"]
    assert isinstance(summary, dict) and summary["base"] == f"snapshot {lock}"
    assert {"rule": "findings", "why": "a side is a snapshot file"} in summary["not_run"]


def test_unusable_input_is_one_line_exit_2_and_writes_nothing(
        base: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.json"
    not_a_repo = tmp_path / "plain"
    not_a_repo.mkdir()
    status = main(["diff", "no-such-rev", str(base), "--repo", str(not_a_repo), "-o", str(out)])
    err = capsys.readouterr().err
    assert status == 2 and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema": "xenabi-snapshot/1",\n "targets": ')
    assert main(["diff", str(broken), str(base)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"xenabi: error: {broken}:2:") and len(err.splitlines()) == 1


def test_sarif_and_gitlab_fingerprints_do_not_move_with_lines(
        base: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one = edit(copy_mini(tmp_path / "one"), "    uint32_t magic;", "    uint64_t magic;")
    two = edit(copy_mini(tmp_path / "two"), "    uint32_t magic;", "    uint64_t magic;")
    edit(two, "typedef uint16_t domid_t;", "\n\n/* three lines down */\ntypedef uint16_t domid_t;")

    def run(fmt: str, head: Path) -> object:
        main(["diff", str(base), str(head), "--format", fmt])
        return json.loads(capsys.readouterr().out)

    sarif_one, sarif_two = run("sarif", one), run("sarif", two)
    assert isinstance(sarif_one, dict) and isinstance(sarif_two, dict)
    assert sarif_one["version"] == "2.1.0"
    r1, r2 = ([r for r in sarif["runs"][0]["results"] if r["ruleId"].startswith("diff/")]
              for sarif in (sarif_one, sarif_two))
    assert [r["ruleId"] for r in r1] == [r["ruleId"] for r in r2]
    assert "diff/record-size-changed" in {r["ruleId"] for r in r1}
    assert [r["partialFingerprints"] for r in r1] == [r["partialFingerprints"] for r in r2]
    lines = {r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in r1}
    moved = {r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in r2}
    # the record's line, and MINI_INFO_SIZE's (a sizeof of it): 3 lines down in two
    assert lines == {14, 22} and moved == {17, 25}
    assert r1[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == HEADER
    gl_one, gl_two = ([i for i in run("gitlab", head) if i["check_name"].startswith("diff/")]
                      for head in (one, two))
    assert [i["fingerprint"] for i in gl_one] == [i["fingerprint"] for i in gl_two]
    issue = gl_one[0]
    assert set(issue) == {"description", "check_name", "fingerprint", "severity", "location"}
    assert issue["location"] == {"path": HEADER, "lines": {"begin": 14}}
    assert issue["severity"] == "critical"


def finding(message: str, line: int) -> Finding:
    return Finding("doc-refs", Severity.WARNING, message, "docs/x.pandoc", line, ("XEN_FOO",))


def test_a_findings_identity_has_no_line_numbers_and_no_suggestions() -> None:
    old = finding("docs/x.pandoc:12: XEN_FOO is not in sysctl.h:1096; did you mean XEN_FOE?",
                  12)
    moved = finding("docs/x.pandoc:15: XEN_FOO is not in sysctl.h:1099; did you mean XEN_FO?",
                    15)
    other = finding("docs/x.pandoc:15: XEN_FOO is not in domctl.h:1099", 15)
    assert old.identity() == moved.identity() != other.identity()
    assert new_findings([old], [moved, other]) == [other]


def test_lines_moved_above_old_findings_make_none_new(
        base: Path, head: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(head, "typedef uint16_t domid_t;", "/*\n * moved\n */\ntypedef uint16_t domid_t;")
    status, data = diff_json(capsys, str(base), str(head))
    assert status == 0 and data["changes"] == [] and data["findings"] == []
    # --all: HEAD's findings BASE has too (the mini tree's holes and arch warnings)
    _, every = diff_json(capsys, str(base), str(head), "--all")
    listed = every["findings"]
    assert isinstance(listed, list) and {f["rule"] for f in listed} >= {"holes", "arch"}


def test_a_new_hole_is_a_new_finding(base: Path, head: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    edit(head, "typedef struct { uint8_t a[16]; } mini_uuid_t;",
         "typedef struct { uint8_t a[16]; } mini_uuid_t;\n"
         "struct mini_new { uint8_t kind; uint32_t value; };")
    status, data = diff_json(capsys, str(base), str(head))
    listed = data["findings"]
    assert isinstance(listed, list)
    assert any(f["rule"] == "holes" and "struct mini_new" in f["message"] for f in listed)
    assert status == 0  # new warnings, no new error; the record is an addition


def test_a_change_lists_only_target_and_view_pairs_where_it_holds() -> None:
    """A constant renumbered on x86_32's tools view and x86_64's guest view only is two
    changes, one per view: listed as one, its targets and views would claim four pairs."""
    from xenabi.diff import compare
    from xenabi.model import Coord, IntConstant, Snapshot

    def snap(arch: str, view: str, value: int) -> Snapshot:
        c = IntConstant(value, "macro", Coord("xen.h", 3), expr=str(value))
        return Snapshot(arch, view, 0, {}, {"XEN_X": c}, {}, {})

    changed = {("x86_32", "tools"), ("x86_64", "guest")}
    pairs = [(a, v) for a in ("x86_32", "x86_64") for v in ("guest", "tools")]
    base = {p: snap(*p, 1) for p in pairs}
    head = {p: snap(*p, 2 if p in changed else 1) for p in pairs}
    got = [(c.symbol, c.arches, c.views) for c in compare(base, head)]
    assert got == [("XEN_X", ("x86_64",), ("guest",)), ("XEN_X", ("x86_32",), ("tools",))]
    both = {p: snap(*p, 2) for p in pairs}
    assert [(c.arches, c.views) for c in compare(base, both)] == [
        (("x86_32", "x86_64"), ("guest", "tools"))]


def test_sides_share_one_docs_reading_only_when_their_documents_are_the_same(
        tmp_path: Path) -> None:
    """pandoc reads a side's docs while the snapshots are computed; a side whose documents
    are the same text as the other's takes the same reading, one whose docs differ its own
    (its doc findings are its documents')."""
    from xenabi.sides import Side, _read_docs
    from xenabi.tree import open_tree

    trees = []
    for name, text in (("a", "# A\n\n`MINI_FLAG_A`\n"), ("b", "# A\n\n`MINI_FLAG_A`\n"),
                       ("c", "# C\n\n`MINI_FLAG_C`\n")):
        root = copy_mini(tmp_path / name)
        (root / "docs" / "misc").mkdir(parents=True, exist_ok=True)
        (root / "docs" / "misc" / "mini.pandoc").write_text(text)
        trees.append(open_tree(root))
    a, b, c = _read_docs([Side(f"tree {t.root}", t) for t in trees], use_cache=False)
    assert a is not None and a is b and c is not None and c is not a
    assert [d.path for d in c.result()] == ["docs/misc/mini.pandoc"]
    assert any("MINI_FLAG_C" in t.text for t in c.result().documents[0].texts)
