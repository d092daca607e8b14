"""``history``: the ABI changelog of a range of commits, each judged against its parent.

The commits come from :mod:`xenabi.gitwalk`, oldest first, their trees held one
at a time in one temporary directory. Each tree's :class:`State` (snapshots and
findings) is made from its parent's: when the commit changes only macros of
the headers, the snapshots are derived from the parent's as ``check-patch``
derives a step (:mod:`xenabi.patchsnap`); otherwise a target and view whose
preprocessed unit the commit cannot have changed keeps its parent's
snapshot, the others are computed again in one
:class:`~xenabi.snapshot.Batch` (so only the declarations whose text changed
are parsed again). The findings the rules' scopes let carry over are the
parent's (:mod:`xenabi.carry`: the flags of a header the commit left alone,
the record rules' after a macro edit), and when no header changed only the
rules that read a changed input (the docs, ``xlat.lst``, ``reference.size``)
run again. A commit's state is then its child's base.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Generic, TypeVar

from xenabi import lifetime, patchsnap
from xenabi.carry import TABLES, carried_findings, carry
from xenabi.check import HEADERS_RULE, Report, findings, merge, sort_key
from xenabi.errors import UsageError
from xenabi.check import judge as check_judge
from xenabi.gitwalk import Commit, Git, TreeDir, commits, document_versions
from xenabi.model import Finding, HeaderStatus, Severity, Snapshot, Status
from xenabi.preprocess import applicable
from xenabi.rules import REGISTRY, runnable
from xenabi.snapshot import Batch, Trail, compute, family_batches
from xenabi.targets import TARGETS, VIEWS
from xenabi.tree import PUBLIC, XenTree, open_tree
from xenabi.waivers import Waiver

if TYPE_CHECKING:
    from pycparser import c_ast

    from xenabi.docs import Reading

_PUBLIC = PUBLIC.as_posix() + "/"

#: a file the rules read besides the headers -> the rule input (rules.INPUTS) it feeds
_INPUT_OF = {"xen/include/xlat.lst": "xlat",
             "tools/include/xen-foreign/reference.size": "reference.size"}


@dataclass(frozen=True)
class State:
    """One tree's results: what a commit is judged on, and what its child starts from."""

    snapshots: Mapping[tuple[str, str], Snapshot]
    findings: tuple[Finding, ...]  #: merged, before waivers
    rules: tuple[str, ...]  #: the rules that ran
    not_run: tuple[tuple[str, str], ...]  #: the rules that could not, and why


#: what a worker of :meth:`Evaluator._snapshots` sends back
_Computed = tuple[list[Snapshot | None], dict[tuple[str, str], Trail],
                  dict[tuple[str, frozenset[str]], list["c_ast.Node"]]]


def _input(path: str) -> str | None:
    """The rule input a changed file feeds (None for a public header or xen/Makefile)."""
    if path.startswith("docs/"):
        return "docs"
    return _INPUT_OF.get(path)


def _declared_in(snap: Snapshot) -> set[str]:
    """The headers something of ``snap`` is declared in."""
    return {v.header for table in (snap.records, snap.constants, snap.typedefs)
            for v in table.values()}


def _same_prefix(old: bytes, new: bytes, lines: int) -> bool:
    return old.split(b"\n", lines)[:lines] == new.split(b"\n", lines)[:lines]


class Evaluator:
    """Makes each tree's :class:`State` from its parent's, computing only what changed."""

    def __init__(self, arches: Iterable[str] | None = None, views: Iterable[str] | None = None,
                 rules: Iterable[str] | None = None) -> None:
        self.arches = tuple(arches or TARGETS)
        self.views = tuple(views or VIEWS)
        self.rules = tuple(rules) if rules is not None else tuple(REGISTRY)
        self.batch = Batch(trails=True)
        self.recomputed = 0  #: target-views computed so far (the rest were kept)
        #: of those, the ones preprocessed only: their unit was the last one's again
        self.same_unit = 0
        self._ahead: Reading | None = None

    def read_ahead(self, texts: Mapping[str, str]) -> None:
        """Start pandoc on every version of the documents the walk will read, in one
        process beside the first commit's snapshots, what it reads going to the docs
        cache (one process per commit costs more than the reading); without the cache,
        nothing."""
        from xenabi.docs import Reading
        from xenabi.docs.cache import cache_dir

        if texts and cache_dir() is not None:
            # no thread: the snapshots' workers fork meanwhile
            self._ahead = Reading(texts, background=False)

    def state(self, tree: XenTree, prev: State | None,
              changed: Mapping[str, bytes | None]) -> State:
        """``tree``'s state; ``changed`` maps each path (from the tree root) that differs
        from ``prev``'s tree to its content there (None where it did not exist)."""
        headers = {p[len(_PUBLIC):]: old for p, old in changed.items() if p.startswith(_PUBLIC)}
        plan = _plan(tree, headers) if prev is not None and headers else None
        derived = (patchsnap.derive(plan, prev.snapshots, tree)
                   if plan is not None and prev is not None else None)
        snaps = dict(derived) if derived is not None else self._snapshots(tree, prev, headers)
        if self._ahead is not None:  # before the rules read the docs
            self._ahead.wait()
            self._ahead = None
        ran, not_run = runnable(tree, self.rules)
        found: Sequence[Finding]
        if prev is None:
            found = findings(tree, snaps, ran)
        elif headers or set(ran) != set(prev.rules):
            # what the parent's findings carry over: for a macro edit (snapshots derived)
            # the record rules' too, lines moved
            lines = ({tree.finding_path(h.name): h.line_map for h in plan.headers}
                     if derived is not None and plan is not None else None)
            how = carry(tree, prev.snapshots, snaps, prev.rules, ran, headers, lines,
                        any(p in changed for p in TABLES))
            found = carried_findings(tree, snaps, ran, how, prev.findings)
        else:
            # the snapshots are the parent's: only the rules that read a changed input
            # can find something else
            inputs = {i for p in changed if (i := _input(p)) is not None}
            again = [r for r in ran if inputs & set(REGISTRY[r].needs)]
            found = prev.findings if not again else merge(
                [*(f for f in prev.findings if f.rule not in again and f.rule != HEADERS_RULE),
                 *findings(tree, snaps, again)])
        return State(snaps, tuple(found), ran, not_run)

    def _snapshots(self, tree: XenTree, prev: State | None,
                   headers: Mapping[str, bytes | None]) -> dict[tuple[str, str], Snapshot]:
        """Each target and view: the parent's where the commit cannot have changed its
        unit, else computed."""
        snaps: dict[tuple[str, str], Snapshot | None] = {}
        for arch in self.arches:
            by_name = applicable(tree, TARGETS[arch])[1] if prev is not None else {}
            for view in self.views:
                snaps[arch, view] = None if prev is None else self._kept(
                    tree, prev.snapshots[arch, view], headers, by_name)
        todo = [(tree, a, v) for (a, v), s in snaps.items() if s is None]
        # one arch family per process, the biggest here: this process's parse memo is the
        # one the next commits reuse
        batches = sorted(family_batches(todo, os.cpu_count() or 1), key=len) if todo else []
        if len(batches) > 1:
            import xenabi.pipeline  # noqa: F401  (before the fork: the workers inherit it)
        for batch, (made, trails, parsed) in zip(batches,
                                                 lifetime.fork_map(self._compute, batches)):
            for (_, a, v), snap in zip(batch, made):
                snaps[a, v] = snap if snap is not None else self.batch.trails[a, v].snapshot
                self.same_unit += snap is None
            # a worker's, for the next commit's workers: each family's declarations are
            # parsed once in the walk, not once per commit in a worker of its own
            self.batch.trails.update(trails)
            self.batch.parse.add(parsed)
        self.recomputed += len(todo)
        return {p: s for p, s in snaps.items() if s is not None}

    def _compute(self, units: Sequence[tuple[XenTree, str, str]]) -> _Computed:
        """The snapshots of ``units`` (None for the last trail's again, which this process
        had from its parent: sent back, it would be a copy, not that very object), the new
        trails (see :class:`~xenabi.snapshot.Batch`) and the declarations parsed."""
        had = {key: t.snapshot for key, t in self.batch.trails.items()}
        known = len(self.batch.parse)
        made = [compute(tree, a, v, batch=self.batch) for tree, a, v in units]
        new = {key: t for key, t in self.batch.trails.items() if t.snapshot is not had.get(key)}
        return ([None if s is had.get((a, v)) else s for s, (_, a, v) in zip(made, units)],
                new, self.batch.parse.since(known))

    @staticmethod
    def _kept(tree: XenTree, prev: Snapshot, headers: Mapping[str, bytes | None],
              by_name: Mapping[str, HeaderStatus]) -> Snapshot | None:
        """``prev`` again (its header list brought up to date) when no header in ``headers``
        can have changed this target and view's unit; else None."""
        if not headers:
            return prev
        declared = _declared_in(prev)
        statuses = dict(prev.headers)
        for h, old in headers.items():
            if h in declared:
                return None
            exists = h in tree.headers
            if exists and h in by_name:
                # left out by its name alone (another arch's header, an installed extra)
                statuses[h] = by_name[h]
                continue
            st = prev.headers.get(h)
            if not (exists and old is not None and st is not None and _same_error(
                    tree, h, old, st, prev.headers)):
                return None
        return prev if statuses == prev.headers else replace(prev, headers=statuses)


def _plan(tree: XenTree, headers: Mapping[str, bytes | None]) -> patchsnap.Plan | None:
    """How the snapshots of ``tree`` follow from its parent's, whose headers differ in
    ``headers`` (each one's old content), when only macros changed; else None."""
    if any(old is None or h not in tree.headers for h, old in headers.items()):
        return None  # a header added or removed: the units themselves change
    try:
        new = {h: tree.read(h) for h in tree.headers}
        old = {**new, **{h: text.decode("utf-8") for h, text in headers.items()
                         if text is not None}}
    except (UsageError, UnicodeDecodeError):
        return None  # left to the pipeline, which says what is wrong
    return patchsnap.plan(old, new)


def _same_error(tree: XenTree, h: str, old: bytes, st: HeaderStatus,
                statuses: Mapping[str, HeaderStatus]) -> bool:
    """True when ``h`` stops at the same ``#error`` as before (a tools-only header in the
    guest view): its text up to that line is unchanged and no other header includes it,
    so the unit, which leaves it out, is the same."""
    if (st.status is not Status.SKIPPED or st.coord is None or st.coord.file != h
            or not (st.why or "").startswith("#error")):
        return False
    if any((o.why or "").startswith(f"includes {h}:") for o in statuses.values()):
        return False
    return _same_prefix(old, (tree.public / h).read_bytes(), st.coord.line)


# --------------------------------------------------------------------------
# The walk


V = TypeVar("V")


@dataclass(frozen=True)
class Step(Generic[V]):
    """One commit, judged against its parent."""

    commit: Commit
    verdict: V
    seconds: float  #: the time its judging took (its base's too, when that had to be made)


@dataclass(frozen=True)
class Walk(Generic[V]):
    """What a walk over a range judged."""

    revrange: str
    listed: tuple[Commit, ...]  #: every commit of the range that touches what the rules read
    steps: tuple[Step[V], ...]
    #: commits not judged, and why (a root commit; a parent with no public headers)
    skipped: tuple[tuple[Commit, str], ...] = field(default=())
    interrupted: bool = False  #: stopped by Ctrl-C


#: called before each commit is judged: (index, count, commit, seconds so far)
Progress = Callable[[int, int, Commit, float], None]

#: judges a commit: (its tree, its parent's state, its state) -> a verdict. The tree is
#: valid during the call only: the directory moves on to the next commit.
Judge = Callable[[XenTree, State, State], V]


def walk(git: Git, revrange: str, evaluator: Evaluator, judge: Judge[V], *,
         progress: Progress | None = None, stop: Callable[[V], bool] | None = None) -> Walk[V]:
    """Judge every commit of ``revrange`` that touches what the rules read, oldest first;
    stop after the first verdict for which ``stop`` is true. Ctrl-C stops it too: what was
    judged until then is returned, marked interrupted."""
    listed = commits(git, revrange)
    evaluator.read_ahead(document_versions(git, listed))
    steps: list[Step[V]] = []
    skipped: list[tuple[Commit, str]] = []
    last: tuple[str, State] | None = None  # the commit the directory holds, and its state
    start = time.perf_counter()
    interrupted = False
    with TreeDir(git) as td:
        try:
            for i, c in enumerate(listed):
                if progress is not None:
                    progress(i, len(listed), c, time.perf_counter() - start)
                began = time.perf_counter()
                if c.parent is None:
                    skipped.append((c, "a root commit: no parent to compare with"))
                    continue
                base = _state_at(td, c.parent, evaluator, last)
                if base is None:
                    skipped.append((c, "its parent has no xen/include/public/xen.h"))
                    last = None
                    continue
                head = _state_at(td, c.id, evaluator, (c.parent, base))
                if head is None:
                    skipped.append((c, "it has no xen/include/public/xen.h"))
                    last = None
                    continue
                last = (c.id, head)
                verdict = judge(open_tree(td.root), base, head)
                steps.append(Step(c, verdict, time.perf_counter() - began))
                if stop is not None and stop(verdict):
                    break
        except KeyboardInterrupt:
            interrupted = True
    return Walk(revrange, tuple(listed), tuple(steps), tuple(skipped), interrupted)


def _state_at(td: TreeDir, commit: str, evaluator: Evaluator,
              last: tuple[str, State] | None) -> State | None:
    """``commit``'s state, made from ``last`` (the state of the commit ``td`` holds);
    None when the commit is no Xen tree."""
    if last is not None and last[0] == commit:
        return last[1]
    prev = last[1] if last is not None and last[0] == td.commit else None
    changed = td.move(commit)
    if not (td.root / PUBLIC / "xen.h").is_file():
        return None
    if prev is not None and not changed:
        return prev
    return evaluator.state(open_tree(td.root), prev, changed)


# --------------------------------------------------------------------------
# Judging a commit


@dataclass(frozen=True)
class Verdict:
    """What a commit changed, as ``diff`` of its parent and it would say."""

    exit: int  #: 0 or 1, as ``xenabi diff`` would exit
    #: the changes, in ``diff``'s JSON form (kind, class, symbol, message, file, line...)
    changes: tuple[Mapping[str, object], ...]
    findings: tuple[Finding, ...]  #: the findings it adds (unwaived ones and waived ones)

    def count(self, cls: str) -> int:
        return sum(c.get("class") == cls for c in self.changes)


def judge_findings(waivers: Callable[[XenTree], Sequence[Waiver]]) -> Judge[Verdict]:
    """A judge as ``diff`` judges: its comparison of the parent's snapshots with the
    commit's, and the findings the commit adds; ``waivers(tree)`` are those that apply
    to a tree, applied to the parent's findings and the commit's alike (so that a waiver
    neither hides a new finding nor reports itself idle as something new)."""
    from xenabi.diff import compare
    from xenabi.model import ChangeClass
    from xenabi.sides import constant_families

    failing = (ChangeClass.BREAKING, ChangeClass.SUSPICIOUS)

    def judged(tree: XenTree, state: State) -> Report:
        return check_judge(state.findings, waivers(tree), {a for a, _ in state.snapshots},
                           {v for _, v in state.snapshots}, state.rules, state.not_run)

    def judge(tree: XenTree, base: State, head: State) -> Verdict:
        snaps = dict(head.snapshots)
        changes = compare(dict(base.snapshots), snaps, prefix=tree.prefix,
                          families=constant_families(tree, snaps, base.snapshots))
        before = judged(tree, base)
        known = {f.identity() for f in (*before.findings, *(f for f, _ in before.waived))}
        after = judged(tree, head)
        new = [f for f in after.findings if f.identity() not in known]
        waived = [f for f, _ in after.waived if f.identity() not in known]
        rejected = any(c.cls in failing for c in changes) or any(
            f.severity is Severity.ERROR for f in new)
        return Verdict(int(rejected), tuple(c.to_json() for c in changes),
                       tuple(sorted([*new, *waived], key=sort_key)))

    return judge
