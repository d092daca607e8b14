"""A side of a diff: a tree directory, a snapshot file, or a git revision.

An existing path is a path (a directory is a tree, a file a snapshot file);
anything else is a git revision of ``repo``, read with ``git archive`` into a
temporary directory: the work tree, the index and the stash are never touched.
"""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, cast

from xenabi import lifetime, patchsnap
from xenabi.carry import TABLES, Carry, carry
from xenabi.diff import DiffReport, compare, interface_versions, new_findings, target_order
from xenabi.errors import UsageError
from xenabi.model import ChangeClass, Finding, IntConstant, Snapshot
from xenabi.snapshotfile import load_snapshot
from xenabi.tree import PUBLIC, XenTree, open_tree

# the rules are loaded when findings are asked for: a diff of snapshot files needs none
if TYPE_CHECKING:
    from xenabi.check import Report
    from xenabi.docs import Reading

Snapshots = Mapping[tuple[str, str], Snapshot]
_R = TypeVar("_R")

#: what the rules read besides the public headers; archived when the revision has them
_EXTRA = ("docs", "xen/include/xlat.lst", "tools/include/xen-foreign/reference.size",
          "xen/Makefile")


@dataclass(frozen=True)
class Side:
    """One side: its name for the report header, and its tree or its snapshots."""

    name: str  #: ``tree DIR``, ``snapshot FILE``, ``revision REV (commit)``, ``work tree DIR``
    tree: XenTree | None  #: None for a snapshot file
    snapshots: dict[tuple[str, str], Snapshot] | None = None  #: a snapshot file's


def _git(repo: Path, *args: str, ok: tuple[int, ...] = (0,)) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    except OSError as e:
        raise UsageError(f"git: {e.strerror or e}") from None
    if done.returncode not in ok:
        msg = done.stderr.decode(errors="replace").strip().splitlines()
        raise UsageError(f"git {args[0]}: {msg[-1] if msg else 'failed'}")
    return done.stdout


def repository(repo: str | None) -> Path:
    """The repository ``--repo`` names (default: the one around the working directory);
    a bare one will do for revisions."""
    where = Path(repo or ".")
    if not where.is_dir():
        raise UsageError(f"--repo {where}: no such directory")
    _git(where, "rev-parse", "--git-dir")
    return where


def toplevel(repo: str | None) -> Path:
    """The work tree of the repository around ``repo`` (default: the working directory)."""
    return Path(_git(repository(repo), "rev-parse", "--show-toplevel").decode().strip())


@contextlib.contextmanager
def open_side(spec: str, repo: str | None, use_cache: bool = True,
              shared: dict[object, object] | None = None) -> Iterator[Side]:
    """The side ``spec`` names; a revision's files live while the context is open. The
    values of a snapshot file read from the cache are one object with their equals in
    ``shared`` (the other side's, once it is read)."""
    path = Path(spec)
    if path.is_dir():
        yield Side(f"tree {spec}", open_tree(path))
    elif path.exists():
        yield Side(f"snapshot {spec}", None,
                   dict(load_snapshot(path, use_cache, shared).snapshots))
    else:
        with revision(spec, repo) as side:
            yield side


def work_tree(repo: str | None) -> Side:
    """HEAD omitted: the repository's work tree as it is, uncommitted edits included."""
    top = toplevel(repo)
    return Side(f"work tree {top}", open_tree(top))


def _commit(top: Path, rev: str) -> str:
    try:
        return _git(top, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").decode().strip()
    except UsageError:
        raise UsageError(f"{rev}: neither a path nor a revision of {top}") from None


def _paths(top: Path, commit: str, wanted: Iterable[str]) -> list[str]:
    listed = _git(top, "ls-tree", "--name-only", commit, "--", *wanted).decode().split("\n")
    return [p for p in listed if p]


@contextlib.contextmanager
def revision(rev: str, repo: str | None) -> Iterator[Side]:
    """A revision's public headers (and the rules' other inputs) in a temporary directory."""
    top = repository(repo)
    commit = _commit(top, rev)
    paths = _paths(top, commit, (PUBLIC.as_posix(), *_EXTRA))
    if PUBLIC.as_posix() not in paths:
        raise UsageError(f"{rev}: revision {commit[:12]} of {top} has no {PUBLIC}")
    data = _git(top, "archive", "--format=tar", commit, "--", *paths)
    with tempfile.TemporaryDirectory(prefix="xenabi-rev-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(tmp, filter="data")
        yield Side(f"revision {rev} ({commit[:12]})", open_tree(tmp))


def is_release_tag(rev: str, repo: str | None) -> bool:
    """Whether ``rev`` names a release tag (``RELEASE-4.22.0``)."""
    if Path(rev).exists():
        return False
    try:
        _git(repository(repo), "rev-parse", "--verify", "--quiet", f"refs/tags/{rev}")
    except UsageError:
        return False
    return rev.startswith("RELEASE-")


_VERSION_LINE = re.compile(rb"^#define[ \t]+([A-Z]\w*_INTERFACE_VERSION)[ \t]+(0[xX][0-9a-fA-F]+|\d+)",
                           re.M)


def _versions_in(texts: Iterable[tuple[str, bytes]]) -> dict[str, tuple[str, int]]:
    out: dict[str, tuple[str, int]] = {}
    for header, text in texts:
        for m in _VERSION_LINE.finditer(text):
            out.setdefault(m.group(1).decode(), (header, int(m.group(2), 0)))
    return out


def release_versions(spec: str, repo: str | None) -> dict[str, tuple[str, int]]:
    """The interface versions of the release ``--since-release`` names, read from its
    headers' ``#define`` lines (a version is a literal): no snapshot is computed."""
    path = Path(spec)
    if path.is_dir():
        tree = open_tree(path)
        return _versions_in((h, (tree.public / h).read_bytes()) for h in tree.headers)
    if path.exists():
        return interface_versions(load_snapshot(path).snapshots)
    top = repository(repo)
    commit = _commit(top, spec)
    listed = _git(top, "grep", "-I", "-l", "-E", "_INTERFACE_VERSION", commit, "--",
                  PUBLIC.as_posix(), ok=(0, 1)).decode().splitlines()
    return _versions_in((name.partition(":")[2][len(PUBLIC.as_posix()) + 1:],
                         _git(top, "show", name)) for name in listed)


def constant_families(tree: XenTree, snaps: Mapping[tuple[str, str], Snapshot],
                      base: Mapping[tuple[str, str], Snapshot] | None = None
                      ) -> dict[tuple[str, str], dict[str, frozenset[str]]]:
    """HEAD's constant families, by (arch, view) and member name, as the flags rule reads
    them from the header text (a family that starts its values over, a second set of
    flags over the same bits, is two families). With ``base``, only the families in the
    headers of the macros HEAD adds to it: the only ones :func:`xenabi.diff.compare`
    looks up, and most often one header of eighty."""
    from xenabi.analysis.context import Context
    from xenabi.analysis.families import header_families, in_headers, split_restarts

    wanted = None if base is None else {
        pair: {c.header for n, c in snap.constants.items()
               if n not in base[pair].constants and isinstance(c, IntConstant) and c.enum is None}
        for pair, snap in snaps.items() if pair in base and base[pair] is not snap}
    out: dict[tuple[str, str], dict[str, frozenset[str]]] = {pair: {} for pair in snaps}
    if wanted is not None:
        # a target-view that adds nothing needs no families (BASE's very snapshot, most often)
        snaps = {pair: in_headers(snap, wanted[pair]) for pair, snap in snaps.items()
                 if wanted.get(pair)}
    ctx = Context(tree, dict(snaps))
    for pair, snap in snaps.items():
        names: dict[str, frozenset[str]] = {}
        for hf in header_families(ctx, snap):
            if wanted is not None and hf.header not in wanted.get(pair, ()):
                continue
            for fam in hf.families:
                for part in split_restarts(fam, hf.text):
                    members = frozenset(m.name for m in part.members)
                    for m in members:
                        names[m] = members
        out[pair] = names
    return out


def side_snapshots(sides: Sequence[Side], arches: Iterable[str] | None = None,
                   views: Iterable[str] | None = None, use_cache: bool = True,
                   reads: set[str] | None = None) -> list[dict[tuple[str, str], Snapshot]]:
    """The snapshots of each side, of the targets and views asked for (default: all); the
    trees' are computed together, so what their headers share is parsed once. The files
    outside the trees they were computed from are added to ``reads``."""
    from xenabi.snapshot import take_trees

    trees = [side.tree for side in sides if side.snapshots is None and side.tree is not None]
    computed = iter(take_trees(trees, arches, views, use_cache=use_cache, reads=reads))
    a, v = set(arches or ()), set(views or ())
    return [next(computed) if side.snapshots is None else
            {p: s for p, s in side.snapshots.items()
             if (not a or p[0] in a) and (not v or p[1] in v)} for side in sides]


@dataclass(frozen=True)
class Computed:
    """Both sides' snapshots, and how they were made."""

    base: dict[tuple[str, str], Snapshot]
    head: dict[tuple[str, str], Snapshot]
    reads: frozenset[str]  #: the files outside the trees they were computed from
    #: when HEAD changes only macros of BASE's headers: how (HEAD's snapshots were derived)
    plan: patchsnap.Plan | None = None


def diff_snapshots(base: Side, head: Side, arches: Iterable[str] | None = None,
                   views: Iterable[str] | None = None, use_cache: bool = True) -> Computed:
    """Both sides' snapshots (:func:`side_snapshots`); when both are trees and HEAD
    changes only macros of BASE's headers, HEAD's are derived from BASE's, as
    ``check-patch`` derives a patched tree's (a pre-commit diff, a CI diff of one patch)."""
    reads: set[str] = set()
    plan = (patchsnap.plan(*({h: t.read(h) for h in t.headers} for t in (base.tree, head.tree)))
            if base.tree is not None and head.tree is not None
            and base.snapshots is None and head.snapshots is None else None)
    if plan is not None:
        assert head.tree is not None  # a plan is made of two trees
        (b,) = side_snapshots((base,), arches, views, use_cache, reads)
        h = patchsnap.derive(plan, b, head.tree)
        if h is not None:
            return Computed(b, h, frozenset(reads), plan)
        (h,) = side_snapshots((head,), arches, views, use_cache, reads)
    else:
        b, h = side_snapshots((base, head), arches, views, use_cache, reads)
    return Computed(b, h, frozenset(reads))


def _carry(base: XenTree, head: XenTree, c: Computed, pairs: Sequence[tuple[str, str]]
           ) -> Carry | None:
    """What of BASE's findings HEAD's run keeps (None when the trees name files differently:
    a checkout and a headers directory)."""
    if base.prefix != head.prefix:
        return None
    lines = ({head.finding_path(x.name): x.line_map for x in c.plan.headers}
             if c.plan is not None else None)
    texts = ([x.name for x in c.plan.headers] if c.plan is not None else
             [h for h in {*base.headers, *head.headers}
              if h not in base.headers or h not in head.headers or base.read(h) != head.read(h)])
    tables = any(_read(base.root / t) != _read(head.root / t) for t in TABLES)
    return carry(head, {p: c.base[p] for p in pairs}, {p: c.head[p] for p in pairs},
                 _ran(base, pairs), _ran(head, pairs), texts, lines, tables)


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def _ran(tree: XenTree, pairs: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    """The rules that run on ``tree``'s ``pairs``."""
    from xenabi.rules import REGISTRY, runnable

    return runnable(tree, tuple(REGISTRY), [a for a, _ in pairs], [v for _, v in pairs])[0]


def _checked(tree: XenTree, snaps: Snapshots, pairs: Sequence[tuple[str, str]],
             use_cache: bool, reads: Iterable[str], docs: Reading | None = None,
             found: Sequence[Finding] | None = None) -> Report:
    """The rules' report on ``tree``'s ``pairs`` of ``snaps`` (computed from ``reads``
    outside the tree), with the findings cache as ``check`` keeps it; ``docs``: the
    tree's docs, already read; ``found``: the findings, already made."""
    from xenabi.run import run

    return run(tree, given={p: snaps[p] for p in pairs}, reads=reads, use_cache=use_cache,
               docs=docs, found=found)


def _call(thunk: Callable[[], _R]) -> _R:
    return thunk()


def _read_docs(sides: Sequence[Side], use_cache: bool) -> list[Reading | None]:
    """Start pandoc on each side's docs, so that it reads them while the snapshots are
    computed (as ``check`` does); sides whose documents are the same text share one
    reading (a change to the headers alone leaves docs/ as it was)."""
    from xenabi.docs import Reading, document_texts

    out: list[Reading | None] = []
    for side in sides:
        texts = document_texts(side.tree) if side.tree is not None else None
        same = next((r for r in out if r is not None and r.texts == texts), None)
        out.append(None if texts is None else same or Reading(texts, cache=use_cache))
    return out


def diff_sides(base: Side, head: Side, *, arches: Iterable[str] | None = None,
               views: Iterable[str] | None = None, use_cache: bool = True,
               since: Mapping[str, tuple[str, int]] | None = None, all_findings: bool = False,
               findings: bool = True, fail_on: Iterable[str] = ("breaking", "suspicious")
               ) -> DiffReport:
    """Compare two sides on every target and view both have (of those asked for); the
    rules run on HEAD (and BASE, for the identities it had) when both are trees."""
    both = findings and head.tree is not None and base.tree is not None
    # BASE's docs are read only for BASE's findings, which --all does not compare
    readings = ([None, *_read_docs((head,), use_cache)] if both and all_findings else
                _read_docs((base, head), use_cache) if both else [None, None])
    c = diff_snapshots(base, head, arches, views, use_cache)
    b, h = c.base, c.head
    prefix = head.tree.prefix if head.tree else (base.tree.prefix if base.tree else "")
    families = constant_families(head.tree, h, b) if head.tree is not None else None
    changes = compare(b, h, prefix=prefix, since=since, families=families)
    pairs = sorted(b.keys() & h.keys())
    new: list[Finding] = []
    not_run: list[tuple[str, str]] = []
    if both:
        from xenabi.run import cached_report

        assert head.tree is not None and base.tree is not None
        checked = [partial(_checked, t, s, pairs, use_cache, c.reads, r)
                   for t, s, r in ((base.tree, b, readings[0]), (head.tree, h, readings[1]))]
        if all_findings:
            head_report = checked[1]()
            new = list(head_report.findings)
        else:
            for r in readings:  # done before the fork: a worker has no threads
                if r is not None:
                    r.wait()
            cached = cached_report(head.tree, {p: h[p] for p in pairs}, c.reads, use_cache)
            how = None if cached is not None else _carry(base.tree, head.tree, c, pairs)
            if cached is not None:  # a second diff: a worker would cost more than BASE's entry
                base_report, head_report = checked[0](), cached
            elif how is None:
                # the two sides' rules are independent: BASE's run in a worker beside HEAD's
                base_report, head_report = lifetime.fork_map(_call, checked)
            else:
                # HEAD finds again what BASE's findings do not carry over, beside BASE's run
                jobs: list[Callable[[], Report | list[Finding]]] = [checked[0], partial(
                    how.fresh, head.tree, {p: h[p] for p in pairs}, _ran(head.tree, pairs),
                    use_cache=use_cache, docs=readings[1])]
                done, fresh = lifetime.fork_map(_call, jobs)
                base_report = cast("Report", done)
                head_report = checked[1](found=how.combined(cast("list[Finding]", fresh),
                                                            base_report.all_findings()))
            new = new_findings(base_report.all_findings(), head_report.findings)
        not_run = list(head_report.not_run)
    elif findings:
        not_run = [("findings", "a side is a snapshot file")]
    return DiffReport(base.name, head.name, tuple(changes), tuple(new),
                      target_order(a for a, _ in pairs), tuple(sorted({v for _, v in pairs})),
                      tuple(not_run), tuple(ChangeClass(c) for c in fail_on))
