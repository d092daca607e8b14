"""run(), its report (text, JSON, SARIF) and the ``xenabi check`` command with its exit codes."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from tests.ruleskit import make_tree, snapshot
from xenabi import report
from xenabi.check import default_waivers, header_failures, merge, shipped_waivers, xen_version
from xenabi.errors import UsageError
from xenabi.cli import main
from xenabi.model import Coord, Finding, HeaderStatus, Severity, Status
from xenabi.run import run
from xenabi.tree import XenTree
from xenabi.waivers import parse

COLLIDING = """\
#ifndef XEN_H
#define XEN_H
/* These flags are passed in the 'flags' field. */
#define SF_ONE   (1<<0)
#define SF_TWO   (1<<1)
#define SF_AGAIN (1<<1)
#endif
"""

WAIVER = """\
[[waiver]]
rule = "flags"
symbol = "SF_AGAIN"
arches = ["x86_32", "x86_64", "arm32", "arm64"]
views = ["guest", "tools"]
reason = "a test says so"
evidence = "tests/test_check_cli.py"
"""


#: snapshots of every target and view of a tree without riscv64 and ppc64 (an empty one)
WHOLE = {(a, v): snapshot(a, v) for a in ("x86_32", "x86_64", "arm32", "arm64")
         for v in ("guest", "tools")}


def f(arch: str, view: str, message: str = "m", severity: Severity = Severity.ERROR) -> Finding:
    return Finding("flags", severity, message, "xen/include/public/xen.h", 4, ("SF",),
                   (arch,), (view,))


def test_merge_unites_targets_and_views_of_one_finding() -> None:
    merged = merge([f("arm64", "tools"), f("x86_32", "guest"), f("x86_32", "tools"),
                    f("x86_64", "tools", "other")])
    assert [(m.message, m.arches, m.views) for m in merged] == [
        ("m", ("x86_32", "arm64"), ("guest", "tools")), ("other", ("x86_64",), ("tools",))]


def test_failed_headers_are_errors_at_the_line_they_name(tmp_path: Path) -> None:
    tree = make_tree(tmp_path, {})
    snap = snapshot("x86_64", "tools")
    bad = {**snap.headers, "io/broken.h": HeaderStatus(Status.FAILED, "syntax", coord=Coord("io/broken.h", 12)),
           "skip.h": HeaderStatus(Status.SKIPPED, "tools only")}
    (finding,) = header_failures(tree, {("x86_64", "tools"): replace(snap, headers=bad)})
    assert str(finding) == ("xen/include/public/io/broken.h:12: error: io/broken.h: syntax "
                            "[headers]")


def check_tiny(tmp_path: Path, text: str = COLLIDING, waivers: str | None = None):  # type: ignore[no-untyped-def]
    from tests.ruleskit import scan_constants

    tree = make_tree(tmp_path, {"xen.h": text})
    consts = scan_constants(tree, "xen.h")
    snaps = {(a, v): snapshot(a, v, constants=consts) for a in ("x86_32", "x86_64")
             for v in ("guest", "tools")}
    return run(tree, rules=["flags"], waivers=parse(waivers, "w.toml") if waivers else (),
               given=snaps)


def test_check_merges_judges_and_renders(tmp_path: Path) -> None:
    r = check_tiny(tmp_path)
    assert r.exit_status() == 1
    (finding,) = r.findings
    assert finding.arches == ("x86_32", "x86_64") and finding.views == ("guest", "tools")
    lines = list(report.text_lines(r))
    assert lines == [
        "xen/include/public/xen.h:6: error: SF_AGAIN (bit 1) shares bit 1 with SF_TWO (line 5) "
        "[flags] (x86_32 x86_64 / guest tools)",
        "xenabi check: 1 error, 0 warnings, 0 infos; 0 waived; x86_32 x86_64 / guest tools"]
    data = report.to_json(r)
    assert data["schema"] == "xenabi-findings/1"
    assert data["findings"] == [{
        "rule": "flags", "severity": "error",
        "message": "SF_AGAIN (bit 1) shares bit 1 with SF_TWO (line 5)",
        "file": "xen/include/public/xen.h", "line": 6, "symbols": ["SF_AGAIN", "SF_TWO"],
        "arches": ["x86_32", "x86_64"], "views": ["guest", "tools"], "waived": False}]


def test_a_waived_error_leaves_exit_zero_and_is_said(tmp_path: Path) -> None:
    waiver = WAIVER.replace('"arm32", "arm64"', '"arm32"')
    r = check_tiny(tmp_path, waivers=waiver)
    assert r.exit_status() == 0 and r.findings == ()
    lines = list(report.text_lines(r))
    assert lines[0] == "waived [flags] SF_AGAIN at xen/include/public/xen.h:6 (w.toml:1)"
    full = list(report.text_lines(r, show_waived=True))
    assert full[0].startswith("waived: xen/include/public/xen.h:6: error: SF_AGAIN")
    assert full[0].endswith("by w.toml:1: a test says so (tests/test_check_cli.py)")
    assert report.to_json(r)["findings"][0]["waived"] is True  # type: ignore[index]
    sarif = report.to_sarif(r)
    (result,) = sarif["runs"][0]["results"]  # type: ignore[index]
    assert result["suppressions"][0]["status"] == "accepted"


def test_warnings_and_info_do_not_fail_and_min_severity_hides(tmp_path: Path) -> None:
    r = check_tiny(tmp_path, COLLIDING.replace("(1<<1)\n#endif", "(1<<2)\n#endif"))
    assert r.exit_status() == 0 and r.findings == ()
    fake = type(r)((f("x86_64", "tools", "w", Severity.WARNING),), (), ("x86_64",), ("tools",),
                   ("flags",))
    assert fake.exit_status() == 0
    assert list(report.text_lines(fake, Severity.ERROR)) == [
        "xenabi check: 0 errors, 1 warning, 0 infos (1 below error not shown); 0 waived; "
        "x86_64 / tools"]


def test_xen_version_and_the_waivers_a_tree_gets(tmp_path: Path) -> None:
    tree = make_tree(tmp_path, {}, extra={
        "xen/Makefile": "export XEN_VERSION       = 4\nexport XEN_SUBVERSION    = 17\n"})
    assert xen_version(tree) == "4.17"
    shipped = default_waivers(tree)
    assert shipped and all(w.file == "xenabi/data/waivers.toml" and w.shipped for w in shipped)
    (tmp_path / "xenabi-waivers.toml").write_text(WAIVER)
    assert [w.file for w in default_waivers(tree)] == ["xenabi-waivers.toml"]
    other = tmp_path / "other.toml"
    other.write_text(WAIVER)
    assert [w.file for w in default_waivers(tree, str(other))] == [str(other)]


def test_the_shipped_list_follows_the_release_the_tree_says(tmp_path: Path) -> None:
    def tree_of(release: str | None) -> XenTree:
        major, minor = release.split(".") if release else ("", "")
        extra = {"xen/Makefile": f"export XEN_VERSION = {major}\nexport XEN_SUBVERSION = "
                                 f"{minor}\n"} if release else {}
        return make_tree(tmp_path / (release or "bare"), {}, extra=extra)

    every = shipped_waivers()
    assert {w.found_in for w in every} >= {"4.17"}
    # a release gets what was found in it or before (4.17's findings follow it to 4.20)
    assert default_waivers(tree_of("4.20")) == tuple(
        w for w in every if tuple(map(int, w.found_in.split("."))) <= (4, 20))
    assert default_waivers(tree_of("4.16")) == ()  # older than every entry
    assert default_waivers(tree_of("4.16"), release="4.16") == ()
    # a tree that does not say its release (an installed layout) gets the whole list,
    # and --xen-release narrows it
    bare = tree_of(None)
    assert xen_version(bare) is None and default_waivers(bare) == every
    assert default_waivers(bare, release="4.16") == ()
    with pytest.raises(UsageError, match=r"^--xen-release 4\.17: .*/4\.18/xen/Makefile says "
                                         r"this tree is Xen 4\.18$"):
        default_waivers(tree_of("4.18"), release="4.17")
    with pytest.raises(UsageError, match=r"^--xen-release 4\.x: not a Xen release"):
        default_waivers(bare, release="4.x")


def test_an_idle_shipped_waiver_says_fixed_since_and_a_users_stays_an_error(
        tmp_path: Path) -> None:
    line = WAIVER.replace("[[waiver]]\n", '[[waiver]]\nfound_in = "4.17"\n')
    tree = make_tree(tmp_path, {})
    users = run(tree, rules=["flags"], waivers=parse(line, "w.toml"), given=WHOLE)
    assert [str(f) for f in users.findings] == [
        "w.toml:1: error: the waiver of flags SF_AGAIN matches no finding [waivers]"]
    shipped = run(tree, rules=["flags"], waivers=parse(line, "s.toml", shipped=True),
                  given=WHOLE)
    assert shipped.exit_status() == 0
    assert [str(f) for f in shipped.findings] == [
        "s.toml:1: info: fixed since Xen 4.17: the flags finding on SF_AGAIN found there is "
        "not in this tree [waivers]"]


def test_a_narrowed_run_skips_the_docs_rules_and_judges_no_waiver_it_cannot_see(
        tmp_path: Path) -> None:
    waivers = parse("".join(WAIVER.replace('"flags"', f'"{rule}"')
                            .replace('"SF_AGAIN"', f'"{symbol}"')
                            .replace('["x86_64"]', '["x86_32", "x86_64"]')
                            for rule, symbol in [("flags", "SF_AGAIN"), ("doc-refs", "X")]),
                    "w.toml")
    tree = make_tree(tmp_path, {}, extra={"docs/misc/a.pandoc": "Nothing here.\n"})
    snaps = {("x86_64", "tools"): snapshot("x86_64", "tools")}
    r = run(tree, rules=["flags", "doc-refs"], waivers=waivers, given=snaps)
    assert r.rules == ("flags",)
    assert r.not_run == (("doc-refs", "needs every target: x86_32, arm32, arm64 left out; "
                                      "needs every view: guest left out"),)
    # the flags waiver names x86_32 too, which did not run: it cannot be called idle
    assert r.findings == ()
    r = run(tree, rules=["flags"], waivers=waivers[:1], given=WHOLE)
    assert [f.message for f in r.findings] == ["the waiver of flags SF_AGAIN matches no finding"]


def test_rules_the_tree_cannot_feed_do_not_run_and_their_waivers_are_not_idle(
        tmp_path: Path) -> None:
    waivers = parse("".join(WAIVER.replace('"flags"', f'"{rule}"')
                                  .replace('"SF_AGAIN"', f'"{symbol}"')
                            for rule, symbol in [("compat", "struct mc"),
                                                 ("doc-refs", "XEN_GONE")]), "w.toml")
    snaps = {("x86_64", "tools"): snapshot("x86_64", "tools")}
    bare = run(make_tree(tmp_path / "bare", {}), rules=["flags", "compat", "doc-refs"],
               waivers=waivers, given=snaps)
    assert (bare.rules, bare.not_run) == (("flags",), (("compat", "no xen/include/xlat.lst"),
                                                      ("doc-refs", "no docs/")))
    assert bare.findings == ()  # neither waiver is idle: its rule could not run
    assert report.summary(bare).endswith(
        "; not run: compat (no xen/include/xlat.lst); not run: doc-refs (no docs/)")
    # with xlat.lst the compat rule runs, and its waiver that matches nothing is an error
    fed = run(make_tree(tmp_path / "fed", {}, xlat="?  mc  arch-x86/xen-mca.h\n"),
              rules=["compat", "doc-refs"], waivers=waivers, given=WHOLE)
    assert fed.rules == ("compat",)
    assert [x.message for x in fed.findings if x.rule == "waivers"] == [
        "the waiver of compat struct mc matches no finding"]


# -- the command (real snapshots of a tiny tree)


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    make_tree(tmp_path / "xen", {"xen.h": COLLIDING})
    return tmp_path / "xen"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["check", "--no-cache", "--arch", "x86_64", "--rule", "flags", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_exit_one_on_an_error_and_json_output(tiny: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "--xen-root", str(tiny), "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert [(x["rule"], x["line"], x["arches"]) for x in data["findings"]] == [
        ("flags", 6, ["x86_64"])]


def test_cli_exit_zero_with_a_waiver_file(tiny: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    w = tmp_path / "w.toml"
    w.write_text(WAIVER)
    code, out, _ = cli(capsys, "--xen-root", str(tiny), "--waivers", str(w))
    assert code == 0
    assert "1 waived by" in out.splitlines()[-1]


@pytest.mark.parametrize(("args", "message"), [
    (["--xen-root", "/nonexistent/xen"], "no such directory"),
    (["--rule", "nonsense"], "--rule nonsense: unknown"),
    (["--waivers", "BAD"], "BAD"),
    (["--xen-release", "4.x"], "--xen-release 4.x: not a Xen release (X.Y, such as 4.17)"),
    (["--xen-release", "4.17", "--no-waivers"], "--xen-release picks the shipped waivers"),
])
def test_cli_exit_two_on_unusable_input(tiny: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str], args: list[str],
                                        message: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[waiver]\n")
    args = [str(bad) if a == "BAD" else a for a in args]
    code, out, err = cli(capsys, "--xen-root", str(tiny), *args)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and message.replace("BAD", str(bad)) in err


def test_cli_sarif_and_output_file(tiny: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "out.sarif"
    code, out, _ = cli(capsys, "--xen-root", str(tiny), "--format", "sarif", "-o", str(dest))
    assert code == 1 and out == ""
    sarif = json.loads(dest.read_text())
    assert sarif["version"] == "2.1.0"
    assert sarif["runs"][0]["results"][0]["ruleId"] == "flags"


def test_a_warm_check_reads_the_findings_the_same_inputs_gave(
        tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    args = ["check", "--xen-root", str(tiny), "--arch", "x86_64", "--rule", "flags"]
    assert main(args) == 1
    first = capsys.readouterr().out

    def no_snapshots(*a: object, **k: object) -> None:
        raise AssertionError("a warm check computed snapshots")

    monkeypatch.setattr("xenabi.run.snapshots", no_snapshots)
    assert main(args) == 1
    assert capsys.readouterr().out == first
    # another input (a header edited) is another key: computed again
    (tiny / "xen/include/public/xen.h").write_text(COLLIDING.replace("(1<<1)\n#endif",
                                                                     "(1<<2)\n#endif"))
    with pytest.raises(AssertionError, match="computed snapshots"):
        main(args)
