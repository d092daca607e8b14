"""Waivers: strict TOML entries, one rule and one symbol each, and what they may hide."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from xenabi.errors import UsageError
from xenabi.model import Finding, Severity
from xenabi.waivers import Waiver, apply, load, parse

ENTRY = """\
[[waiver]]
rule = "flags"
symbol = "PSR_DBG_MASK"
arches = ["arm32", "arm64"]
views = ["tools"]
reason = "two registers' bit 9"
evidence = "arch-arm.h:343-344"
"""


def finding(symbol: str = "PSR_DBG_MASK", rule: str = "flags",
            arches: tuple[str, ...] = ("arm32", "arm64"), views: tuple[str, ...] = ("tools",),
            severity: Severity = Severity.ERROR) -> Finding:
    return Finding(rule, severity, f"{symbol} is wrong", "xen/include/public/arch-arm.h", 344,
                   (symbol, "OTHER"), arches, views)


def run(waivers: tuple[Waiver, ...], findings: list[Finding], *,
        arches: tuple[str, ...] = ("x86_32", "x86_64", "arm32", "arm64"),
        views: tuple[str, ...] = ("guest", "tools"),
        rules: tuple[str, ...] = ("flags", "compat")) -> tuple[list[str], list[str], list[str]]:
    a = apply(findings, waivers, arches=arches, views=views, rules=rules)
    return ([f.message for f in a.kept], [f.message for f, _ in a.waived],
            [str(p) for p in a.problems])


def test_parse_keeps_everything_and_the_line() -> None:
    (w,) = parse("# head\n\n" + ENTRY, "w.toml")
    assert w == Waiver("flags", "PSR_DBG_MASK", ("arm32", "arm64"), ("tools",),
                       "two registers' bit 9", "arch-arm.h:343-344", "w.toml", 3)


def test_a_waiver_hides_exactly_its_finding_and_marks_it() -> None:
    ws = parse(ENTRY, "w.toml")
    a = apply([finding(), finding("PSR_OTHER")], ws, arches=["arm32", "arm64"], views=["tools"],
              rules=["flags"])
    assert [f.message for f in a.kept] == ["PSR_OTHER is wrong"]
    ((f, w),) = a.waived
    assert f.waived and w is ws[0] and a.problems == ()


@pytest.mark.parametrize("f", [
    finding(rule="compat"),                      # another rule
    finding(symbol="OTHER_SYMBOL"),              # another subject
    finding(arches=("arm32", "arm64", "x86_64")),  # a target the waiver does not name
    finding(views=("guest", "tools")),           # a view the waiver does not name
])
def test_a_waiver_hides_nothing_it_does_not_name(f: Finding) -> None:
    kept, waived, problems = run(parse(ENTRY, "w.toml"), [f])
    assert kept == [f.message] and waived == []
    assert problems == ["w.toml:1: error: the waiver of flags PSR_DBG_MASK matches no finding "
                        "[waivers]"]


def test_the_subject_must_be_the_first_symbol() -> None:
    f = Finding("flags", Severity.ERROR, "m", "f", 1, ("OTHER", "PSR_DBG_MASK"), ("arm32",),
                ("tools",))
    kept, waived, _ = run(parse(ENTRY, "w.toml"), [f])
    assert kept == ["m"] and waived == []


def test_a_waiver_without_a_reason_or_evidence_is_an_error_and_hides_nothing() -> None:
    no_reason = ENTRY.replace('reason = "two registers\' bit 9"\n', "")
    kept, waived, problems = run(parse(no_reason, "w.toml"), [finding()])
    assert (kept, waived) == (["PSR_DBG_MASK is wrong"], [])
    assert problems == ["w.toml:1: error: the waiver of flags PSR_DBG_MASK has no reason "
                        "[waivers]"]
    blank = ENTRY.replace('evidence = "arch-arm.h:343-344"', 'evidence = "  "')
    assert run(parse(blank, "w.toml"), [finding()])[2] == [
        "w.toml:1: error: the waiver of flags PSR_DBG_MASK has no evidence [waivers]"]


def test_a_waiver_out_of_scope_is_not_unmatched() -> None:
    ws = parse(ENTRY, "w.toml")
    assert run(ws, [], arches=("x86_64",)) == ([], [], [])
    assert run(ws, [], views=("guest",)) == ([], [], [])
    assert run(ws, [], rules=("unique",)) == ([], [], [])
    # part of its targets or views ran: a narrowed run cannot tell that it is idle
    assert run(ws, [], arches=("arm64",)) == ([], [], [])
    assert run(parse(ENTRY.replace('["tools"]', '["guest", "tools"]'), "w.toml"), [],
               views=("tools",)) == ([], [], [])


def test_the_targets_a_tree_lacks_do_not_keep_a_waiver_from_being_idle() -> None:
    ws = parse(ENTRY.replace('"arm32", "arm64"', '"arm64", "riscv64"'), "w.toml")
    full = ("x86_32", "x86_64", "arm32", "arm64")

    def problems(have: tuple[str, ...] | None) -> list[str]:
        a = apply([], ws, arches=full, views=("tools",), rules=("flags",), have=have)
        return [p.message for p in a.problems]

    assert problems(full) == ["the waiver of flags PSR_DBG_MASK matches no finding"]
    assert problems((*full, "riscv64")) == []  # a target of the tree that did not run
    assert problems(None) == []  # nothing says the tree lacks riscv64


def test_the_release_a_waiver_was_found_in() -> None:
    (w,) = parse(ENTRY + 'found_in = "4.17"\n', "w.toml")
    assert (w.found_in, w.shipped) == ("4.17", False)
    (s,) = parse(ENTRY + 'found_in = "4.19"\n', "s.toml", shipped=True)
    assert (s.found_in, s.shipped) == ("4.19", True)
    with pytest.raises(UsageError, match=r"^s\.toml:1: the waiver has no 'found_in'$"):
        parse(ENTRY, "s.toml", shipped=True)  # the shipped list says where each came from
    with pytest.raises(UsageError, match=r"^w\.toml:1: 'found_in' must be a Xen release"):
        parse(ENTRY + 'found_in = "4.17.5"\n', "w.toml")
    # an idle shipped waiver is information; a user's is an error
    a = apply([], (s,), arches=("arm32", "arm64"), views=("tools",), rules=("flags",))
    assert [(p.severity, p.message) for p in a.problems] == [
        (Severity.INFO, "fixed since Xen 4.19: the flags finding on PSR_DBG_MASK found there "
                        "is not in this tree")]


@pytest.mark.parametrize(("rule", "why"), [("waivers", "no waiver may hide it"),
                                         ("headers", "no waiver may hide it"),
                                         ("flag", "no such rule")])
def test_a_waiver_of_an_unknown_or_unwaivable_rule_is_unusable(rule: str, why: str) -> None:
    text = "# the waivers\n\n" + ENTRY.replace('rule = "flags"', f'rule = "{rule}"')
    with pytest.raises(UsageError) as e:
        parse(text, "w.toml")
    assert str(e.value).startswith(f"w.toml:3: rule '{rule}': {why} (the rules: ")
    assert "flags, " in str(e.value) and "holes, " in str(e.value)


def test_no_waiver_hides_a_failed_header_or_a_waivers_error() -> None:
    for rule in ("waivers", "headers"):
        ws = [replace(parse(ENTRY, "w.toml")[0], rule=rule)]  # as no file may say
        f = finding(rule=rule)
        kept, waived, _ = run(ws, [f], rules=(rule,))
        assert kept == [f.message] and waived == []


@pytest.mark.parametrize(("text", "message"), [
    ("[[waiver]\n", "w.toml: not a waiver file"),
    ("[other]\nx = 1\n", "w.toml: unknown top-level key 'other'"),
    ("waiver = 3\n", "w.toml: 'waiver' must be an array of tables"),
    (ENTRY + "pattern = 'PSR_*'\n", "w.toml:1: unknown key 'pattern'"),
    (ENTRY.replace('symbol = "PSR_DBG_MASK"\n', ""), "w.toml:1: the waiver has no 'symbol'"),
    (ENTRY.replace('["tools"]', '"tools"'), "w.toml:1: 'views' must be a list"),
    (ENTRY.replace('"arm32", ', '"armv7", '), "w.toml:1: 'arches' must list some of"),
    (ENTRY.replace('["tools"]', "[]"), "w.toml:1: 'views' must list some of"),
])
def test_malformed_files_are_unusable_input(text: str, message: str) -> None:
    with pytest.raises(UsageError, match="^" + message.replace("(", r"\(").replace("[", r"\[")):
        parse(text, "w.toml")


def test_load_reads_a_file_and_refuses_non_utf8(tmp_path: Path) -> None:
    p = tmp_path / "w.toml"
    p.write_text(ENTRY + "\n" + ENTRY.replace("PSR_DBG_MASK", "PSR_IT_MASK"))
    assert [(w.symbol, w.line) for w in load(p)] == [("PSR_DBG_MASK", 1), ("PSR_IT_MASK", 9)]
    p.write_bytes(b"\xff\xfe")
    with pytest.raises(UsageError, match="not UTF-8"):
        load(p)
    with pytest.raises(UsageError, match="cannot read"):
        load(tmp_path / "missing.toml")


def test_a_shipped_waiver_of_a_whole_tree_rule_covers_every_target() -> None:
    """A docs finding is about every target the tree has (the rule reads them together),
    so a waiver that names fewer hides nothing on a tree with riscv64 or ppc64 (4.19 on)."""
    from xenabi.check import shipped_waivers
    from xenabi.rules import REGISTRY
    from xenabi.targets import TARGETS

    narrow = [f"{w.rule} {w.symbol} ({w.file}:{w.line}): {', '.join(w.arches)}"
              for w in shipped_waivers()
              if "target" in REGISTRY[w.rule].whole and set(w.arches) != set(TARGETS)]
    assert not narrow, "\n".join(narrow)
