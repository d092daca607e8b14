"""The conformance suite: every rule of ``xenabi check`` as pytest tests over the tree under test.

One test per rule, check and subject, parametrized so that ids say what is
checked (``test_flags_disjoint[x86_64-tools-SIF]``, ``test_arch_layout[tools-struct
xen_domctl_createdomain]``) and ``-k`` selects by target, view or name. A test
fails on an unwaived error only, and its message is the finding line
(``xen/include/public/xen.h:878: error: ... [flags]``); warnings and
information are the CLI's to print. The waivers are those ``xenabi check``
would use for the tree (the shipped file for Xen 4.17).
"""

from __future__ import annotations

import re
import subprocess
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from posixpath import normpath

import pytest

from xenabi import waivers
from xenabi.check import default_waivers
from xenabi.cli import main
from xenabi.errors import UsageError
from xenabi.model import Finding, Severity, Snapshot
from xenabi.analysis import flagfamilies, xlat
from xenabi.analysis.context import Context
from xenabi.analysis.headertext import header_text
from xenabi.rules import compat, flags, refsize, unique
from xenabi.rules import arch as arch_rule
from xenabi.rules.doc_layout import check_header as doc_layout_header
from xenabi.rules.doc_layout import tables
from xenabi import run as run_mod
from xenabi.run import snapshots
from xenabi.targets import TARGETS
from xenabi.tree import XenTree, find_tree

MY_RULES = ("flags", "unique", "arch", "compat", "holes", "refsize", "doc-layout")

Snaps = Mapping[tuple[str, str], Snapshot]


# --------------------------------------------------------------------------
# Collection: the subjects of each test, from the same snapshots the fixtures give


@cache
def _collected(root: str | None, arches: tuple[str, ...]) -> Context | None:
    try:
        tree = find_tree(root)
    except UsageError:
        return None  # the xen_tree fixture says why, when the test runs
    return Context(tree, snapshots(tree, arches or None))


def _subjects(config: pytest.Config) -> Context | None:
    chosen = tuple(config.getoption("xen_arch") or ())
    if any(a not in TARGETS for a in chosen):
        return None  # the xen_arches fixture refuses it
    return _collected(config.getoption("--xen-root"), chosen)


def _flag_params(ctx: Context) -> list[object]:
    return [pytest.param(a, v, f.id, id=f"{a}-{v}-{f.id}")
            for a, v, s in ctx.each() for f in flagfamilies.flag_families(ctx, s)]


def _unique_params(ctx: Context) -> list[object]:
    return [pytest.param(a, v, n.id, id=f"{a}-{v}-{n.id}")
            for a, v, s in ctx.each() for n in unique.numberings(ctx, s)]


def _arch_params(ctx: Context) -> list[object]:
    out = []
    for view in sorted({v for _, v in ctx.snapshots}):
        pairs = [(a, s) for a, v, s in ctx.each() if v == view]
        fixed = arch_rule.fixed_records(view, pairs)
        # and the records arm32 and arm64 share, compared by layout
        for key, header in sorted({*fixed, *arch_rule.shared_records(pairs, fixed)}):
            out.append(pytest.param(view, key, header, id=f"{view}-{key}"))
    return out


def _compat_params(ctx: Context) -> list[object]:
    return [pytest.param(e.name, id=f"{e.mark}{e.name}") for e in xlat.entries(ctx.tree)]


def _refsize_params(ctx: Context) -> list[object]:
    arches = {a for a, _ in ctx.snapshots}
    return [pytest.param(row.name, a, id=f"{a}-{row.name}")
            for row in refsize.read_table(ctx.tree)
            for a in TARGETS if a in arches and row.sizes.get(a) is not None]


def _doc_layout_params(ctx: Context) -> list[object]:
    headers = sorted({h for s in ctx.snapshots.values() for h in s.headers})
    out = []
    for h in headers:
        if not (ctx.tree.public / h).is_file():
            continue
        text = header_text(ctx.tree, h)
        for t in tables(h, text.lines, text.kinds):
            out.append(pytest.param(h, t.line, id=f"{h}:{t.line}"))
    return out


#: a test's distinctive argument -> all its parametrized arguments, and how to list them
_PARAMS: Mapping[str, tuple[str, Callable[[Context], list[object]]]] = {
    "flag_family": ("arch_name,view,flag_family", _flag_params),
    "numbering": ("arch_name,view,numbering", _unique_params),
    "record": ("view,record,header", _arch_params),
    "xlat_entry": ("xlat_entry", _compat_params),
    "refsize_row": ("refsize_row,arch_name", _refsize_params),
    "table_header": ("table_header,table_line", _doc_layout_params),
}


#: the subjects that come from a table a tree may lack, and that table
_READS = {"xlat_entry": "xlat.lst", "refsize_row": "reference.size"}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for arg, (names, make) in _PARAMS.items():
        if arg in metafunc.fixturenames:
            got = _subjects(metafunc.config)
            params = make(got) if got else []
            # without the table the rule reads, the test is not for this tree (conftest)
            empty = (pytest.mark.needs(_READS[arg]) if arg in _READS
                     else pytest.mark.skip(reason="the tree has nothing this test checks"))
            metafunc.parametrize(names, params or [pytest.param(
                *([None] * len(names.split(","))), id="nothing-to-check", marks=empty)])
            return


# --------------------------------------------------------------------------
# Judging: unwaived errors fail, with the finding lines as the message


@pytest.fixture(scope="session")
def tree_waivers(xen_tree: XenTree) -> tuple[waivers.Waiver, ...]:
    return default_waivers(xen_tree)


@pytest.fixture(scope="session")
def run(xen_tree: XenTree, xen_snapshots: Snaps) -> Context:
    """One run of the rules for the whole session: tests share what it works out once
    (each header's families, say), as the rules of one ``xenabi check`` do."""
    return Context(xen_tree, xen_snapshots)


def fail_on_errors(found: Iterable[Finding], ws: Iterable[waivers.Waiver]) -> None:
    __tracebackhide__ = True
    kept = waivers.apply(list(found), tuple(ws), arches=(), views=(), rules=()).kept
    errors = [str(f) for f in kept if f.severity is Severity.ERROR]
    if errors:
        pytest.fail("\n".join(errors), pytrace=False)


def _where(tree: XenTree, arch_name: str, view: str) -> tuple[XenTree, str, str]:
    return (tree, arch_name, view)


def _flag_family(run: Context, arch_name: str, view: str, ident: str) -> flagfamilies.FlagFamily:
    snap = run.snapshots[arch_name, view]
    return next(f for f in flagfamilies.flag_families(run, snap) if f.id == ident)


def _flag_test(check_name: str) -> Callable[..., None]:
    def test(arch_name: str, view: str, flag_family: str, run: Context,
             tree_waivers: tuple[waivers.Waiver, ...]) -> None:
        fam = _flag_family(run, arch_name, view, flag_family)
        fail_on_errors(flags.CHECKS[check_name](fam, _where(run.tree, arch_name, view)),
                       tree_waivers)
    test.__doc__ = flags.CHECKS[check_name].__doc__
    return test


test_flags_single_bit = _flag_test("single_bit")
test_flags_disjoint = _flag_test("disjoint")
test_flags_outside_reserved = _flag_test("reserved")
test_flags_contiguous = _flag_test("contiguous")


def test_unique(arch_name: str, view: str, numbering: str, run: Context,
                tree_waivers: tuple[waivers.Waiver, ...]) -> None:
    """A numbering family has no two members with one value, aliases aside."""
    num = next(n for n in unique.numberings(run, run.snapshots[arch_name, view])
               if n.id == numbering)
    fail_on_errors(unique.duplicates(num, _where(run.tree, arch_name, view)), tree_waivers)


@pytest.fixture(scope="session")
def guest_records(run: Context) -> frozenset[str] | None:
    """The records some guest view defines: the arch rule's test of tools-only."""
    return arch_rule.guest_keys(run)


@pytest.fixture(scope="session")
def arch_findings(xen_tree: XenTree, xen_snapshots: Snaps, guest_records: frozenset[str] | None
                  ) -> dict[tuple[str, str, str], list[Finding]]:
    """The arch rule's findings, once for the session, by view, record and file: each test
    judges its own record (one record's verdict needs the others' layouts anyway)."""
    out: dict[tuple[str, str, str], list[Finding]] = defaultdict(list)
    for view in sorted({v for _, v in xen_snapshots}):
        pairs = [(a, s) for (a, v), s in sorted(xen_snapshots.items()) if v == view]
        for f in arch_rule.check_view(xen_tree, view, pairs, guest_records):
            out[(view, f.symbols[0], f.file or "")].append(f)
    return out


def test_arch_layout(view: str, record: str, header: str, xen_tree: XenTree,
                     arch_findings: dict[tuple[str, str, str], list[Finding]],
                     tree_waivers: tuple[waivers.Waiver, ...]) -> None:
    """A fixed-width record has one layout where it must, and arm32 and arm64 agree on a record
    they share (see the arch rule's severities)."""
    fail_on_errors(arch_findings.get((view, record, xen_tree.finding_path(normpath(header))), []),
                   tree_waivers)


def test_compat(xlat_entry: str, xen_tree: XenTree, xen_snapshots: Snaps,
                tree_waivers: tuple[waivers.Waiver, ...]) -> None:
    """An xlat.lst ``?`` struct has one layout on x86_32 and x86_64."""
    views = {v: {a: s for (a, vv), s in xen_snapshots.items() if vv == v}
             for _, v in xen_snapshots}
    entry = next(e for e in xlat.entries(xen_tree) if e.name == xlat_entry)
    fail_on_errors(compat.check_entry(xen_tree, entry, views), tree_waivers)


def test_refsize(refsize_row: str, arch_name: str, xen_tree: XenTree, xen_snapshots: Snaps,
                 tree_waivers: tuple[waivers.Waiver, ...]) -> None:
    """reference.size's cell for this struct and target equals the computed size."""
    (row,) = [r for r in refsize.read_table(xen_tree) if r.name == refsize_row]
    cell = refsize.Row(row.name, {arch_name: row.sizes[arch_name]}, row.line)
    snaps = {arch_name: {v: s for (a, v), s in xen_snapshots.items() if a == arch_name}}
    fail_on_errors(refsize.check_row(cell, snaps), tree_waivers)


def test_doc_layout(table_header: str, table_line: int, xen_tree: XenTree, xen_snapshots: Snaps,
                    tree_waivers: tuple[waivers.Waiver, ...]) -> None:
    """The offset table drawn at this line agrees with the computed layout."""
    users = [(a, v, s) for (a, v), s in sorted(xen_snapshots.items())
             if any(r.header == table_header for r in s.records.values())]
    found = [f for f in doc_layout_header(xen_tree, table_header, users)
             if f.line is not None and _table_of(xen_tree, table_header, f.line) == table_line]
    fail_on_errors(found, tree_waivers)


def _table_of(tree: XenTree, header: str, line: int) -> int | None:
    text = header_text(tree, header)
    return next((t.line for t in tables(header, text.lines, text.kinds)
                 if t.line <= line <= t.end_line), None)


def _by_subject(findings: Iterable[Finding]) -> set[tuple[str, str, str]]:
    return {(f.rule, f.symbols[0] if f.symbols else "", f.message) for f in findings}


def test_shipped_waivers_suppress_exactly_what_they_list(
        xen_tree: XenTree, xen_snapshots: Snaps, tree_waivers: tuple[waivers.Waiver, ...]) -> None:
    mine = tuple(w for w in tree_waivers if w.rule in MY_RULES)
    if not mine:
        pytest.skip(f"{xen_tree.root}: no shipped waivers for this tree")
    plain = run_mod.run(xen_tree, rules=MY_RULES, waivers=(), given=xen_snapshots)
    waived = run_mod.run(xen_tree, rules=MY_RULES, waivers=mine, given=xen_snapshots)
    # nothing is left unwaived at error severity, and no waiver is idle or incomplete
    assert waived.exit_status() == 0, "\n".join(map(str, waived.findings))
    # what the waivers took is exactly what disappeared, and each one took something
    gone = _by_subject(plain.findings) - _by_subject(waived.findings)
    assert gone == _by_subject(f for f, _ in waived.waived)
    # each waiver whose rule ran took something, or says that its finding is fixed since
    took = {(w.rule, w.symbol) for _, w in waived.waived}
    at = {(w.file, w.line): (w.rule, w.symbol) for w in mine}
    fixed = {at[f.file or "", f.line or 0] for f in waived.findings if f.rule == waivers.RULE}
    assert not took & fixed
    assert took | fixed == {(w.rule, w.symbol) for w in mine if w.rule in waived.rules}
    # each waived finding is the rule and subject of its own waiver, within its targets
    for f, w in waived.waived:
        assert (f.rule, f.symbols[0]) == (w.rule, w.symbol)
        assert set(f.arches) <= set(w.arches) and set(f.views) <= set(w.views)
    # and everything else is untouched, finding for finding
    assert list(waived.findings) == [f for f in plain.findings if (f.rule, f.symbols[0] if
                                     f.symbols else "", f.message) not in gone]


def test_check_on_the_tree_exits_zero_for_these_rules(
        xen_tree: XenTree, xen_snapshots: Snaps, tree_waivers: tuple[waivers.Waiver, ...]) -> None:
    report = run_mod.run(xen_tree, rules=MY_RULES, waivers=tree_waivers, given=xen_snapshots)
    errors = [str(f) for f in report.findings if f.severity is Severity.ERROR]
    if errors:
        pytest.fail("\n".join(errors), pytrace=False)



def test_check_on_the_installed_headers_of_their_release_exits_zero(
        installed_tree: XenTree, capsys: pytest.CaptureFixture[str]) -> None:
    """libxen-dev's /usr/include/xen says no release: --xen-release names it (dpkg knows
    it), the shipped waivers apply, and the rules it has no input for (docs, xlat.lst,
    reference.size) do not run, so their waivers are not idle."""
    dpkg = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libxen-dev"],
                          capture_output=True, text=True, check=False)
    m = re.match(r"(\d+\.\d+)\.", dpkg.stdout)
    if m is None:
        pytest.skip(f"dpkg-query does not know libxen-dev's version: {dpkg.stderr.strip()}")
    code = main(["check", "--xen-root", str(installed_tree.root), "--xen-release", m.group(1)])
    out = capsys.readouterr().out.splitlines()
    assert code == 0, "\n".join(out)
    assert "not run: doc-refs, doc-semantics, doc-coverage (no docs/)" in out[-1]
