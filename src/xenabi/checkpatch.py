"""``check-patch``'s library: apply a series to a base tree step by step, and judge each step.

The base is a tree directory (``--xen-root``) or a git revision. Patches are
applied to an :class:`~xenabi.patch.Overlay` of it, one after another; after
each, the files ABI judging reads (the public headers, the docs, xlat.lst,
reference.size, xen/Makefile, a tree's own waivers) are written into a
temporary directory, never into the base. Each step's snapshots come from
the step before it (:mod:`xenabi.patchsnap`) when the patch only touches
macros, else from the pipeline.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from xenabi import patchsnap
from xenabi.carry import TABLES, Carry, carried_findings, carry
from xenabi.check import Report
from xenabi.diff import DiffReport, compare, new_findings, target_order
from xenabi.model import Change, ChangeClass, Finding, Severity, Snapshot
from xenabi.patch import FilePatch, Overlay, Patch, Placement, apply_patch, materialize
from xenabi.sides import constant_families
from xenabi.targets import choose
from xenabi.tree import PUBLIC, XenTree, open_tree

#: what judging reads of a checkout (of docs/, the pandoc documents the docs rules read):
#: copied into each step's tree
CHECKOUT_INPUTS = (PUBLIC.as_posix(), "docs/**/*.pandoc", "xen/include/xlat.lst",
                   "tools/include/xen-foreign/reference.size", "xen/Makefile",
                   "xenabi-waivers.toml")


@dataclass(frozen=True)
class Step:
    """One patch of a series, applied: where its hunks went and the tree it made."""

    patch: Patch
    placements: tuple[Placement, ...]
    #: files of the patch this base cannot hold (a headers directory has no docs/)
    not_applied: tuple[str, ...]
    tree: XenTree
    snapshots: Mapping[tuple[str, str], Snapshot]
    derived: bool  #: the snapshots came from the previous step's, not the pipeline
    #: what of the previous step's findings carries over (None: found again)
    carried: Carry | None = None


def _for_headers_dir(patch: Patch) -> tuple[Patch, tuple[str, ...]]:
    """A patch for a tree whose root is the public directory: paths under
    xen/include/public/ lose that prefix; other files cannot be applied."""
    prefix = PUBLIC.as_posix() + "/"
    kept: list[FilePatch] = []
    dropped: list[str] = []

    def strip(p: str | None) -> str | None:
        return p[len(prefix):] if p is not None and p.startswith(prefix) else None

    for fp in patch.files:
        old, new = strip(fp.old_path), strip(fp.new_path)
        if (fp.old_path is None or old) and (fp.new_path is None or new):
            kept.append(replace(fp, old_path=old, new_path=new))
        else:
            dropped.append(fp.path)
    return replace(patch, files=tuple(kept)), tuple(dropped)


def _header_texts(tree: XenTree) -> dict[str, str]:
    return {h: tree.read(h) for h in tree.headers}


def apply_series(base: XenTree, overlay: Overlay, patches: Sequence[Patch], workdir: Path,
                 base_snapshots: Mapping[tuple[str, str], Snapshot],
                 take: Callable[[XenTree], Mapping[tuple[str, str], Snapshot]]
                 ) -> list[Step]:
    """Apply ``patches`` in order to ``overlay`` (over ``base``), each step's tree under
    ``workdir``; ``take`` computes the snapshots of a tree when they cannot be derived."""
    steps: list[Step] = []
    texts = _header_texts(base)
    snaps, prev_tree = base_snapshots, base
    inputs = CHECKOUT_INPUTS if base.kind == "checkout" else ("",)
    for n, patch in enumerate(patches, 1):
        dropped: tuple[str, ...] = ()
        if base.kind != "checkout":
            patch, dropped = _for_headers_dir(patch)
        before = dict(overlay.changes)
        placed = apply_patch(overlay, patch)
        tree = open_tree(materialize(overlay, inputs, workdir / f"step-{n}"))
        new_texts = _updated_texts(texts, overlay.changes, before, base, tree)
        plan = patchsnap.plan(texts, new_texts)
        derived = patchsnap.derive(plan, snaps, tree) if plan is not None else None
        prev, snaps = snaps, derived if derived is not None else take(tree)
        lines = ({tree.finding_path(h.name): h.line_map for h in plan.headers}
                 if derived is not None and plan is not None else None)
        carried = carry(tree, prev, snaps, rules_of(prev_tree), rules_of(tree),
                        [h for h in new_texts if texts.get(h) != new_texts[h]]
                        + [h for h in texts if h not in new_texts], lines,
                        any(overlay.changes.get(t, b"") != before.get(t, b"") for t in TABLES))
        steps.append(Step(patch, tuple(placed), dropped, tree, snaps, derived is not None,
                          carried))
        texts, prev_tree = new_texts, tree
    return steps


def _updated_texts(texts: Mapping[str, str], changes: Mapping[str, bytes | None],
                   before: Mapping[str, bytes | None], base: XenTree,
                   tree: XenTree) -> dict[str, str]:
    """The public headers' texts after a step: only the files it changed are read."""
    prefix = base.prefix
    touched = [p for p in changes if changes[p] != before.get(p, b"\0")
               or p not in before]
    if not any(p.startswith(prefix) for p in touched):
        return dict(texts)
    out = dict(texts)
    for path in touched:
        if not path.startswith(prefix) or not path.endswith(".h"):
            continue
        header = path[len(prefix):]
        if changes[path] is None:
            out.pop(header, None)
        else:
            out[header] = tree.read(header)
    return out


def workdir() -> tempfile.TemporaryDirectory[str]:
    """Where the steps' trees are written: removed when the run ends."""
    return tempfile.TemporaryDirectory(prefix="xenabi-check-patch-")


def extract_revision(repo: str, rev: str, dest: Path) -> XenTree:
    """The judged inputs of ``rev`` in ``repo``, read with ``git archive`` into ``dest``
    (the repository's work tree, index and stash are never touched)."""
    import io
    import subprocess
    import tarfile

    from xenabi.errors import UsageError

    def git(*a: str) -> bytes:
        r = subprocess.run(["git", "-C", repo, *a], capture_output=True)
        if r.returncode:
            why = r.stderr.decode(errors="replace").strip().splitlines()
            raise UsageError(f"{repo}: git {a[0]}: {why[-1] if why else 'failed'}")
        return r.stdout

    commit = git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").decode().strip()
    wanted = [p.split("/**/")[0] for p in CHECKOUT_INPUTS]
    present = git("ls-tree", "--name-only", commit, "--", *wanted).decode().split()
    if PUBLIC.as_posix() not in present:
        raise UsageError(f"{repo}: {rev} has no {PUBLIC.as_posix()}: not a Xen tree")
    data = git("archive", "--format=tar", commit, "--", *present)
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(dest, filter="data")
    return open_tree(dest)


# --------------------------------------------------------------------------
# Judging a step: as ``xenabi diff`` judges two trees


def judge(base_name: str, base: Mapping[tuple[str, str], Snapshot], base_found: Report,
          head_name: str, head_tree: XenTree, head: Mapping[tuple[str, str], Snapshot],
          head_found: Report, *, since: Mapping[str, tuple[str, int]] | None = None,
          fail_on: Sequence[ChangeClass] = (ChangeClass.BREAKING, ChangeClass.SUSPICIOUS)
          ) -> DiffReport:
    """A step (or the series) as ``diff`` reports it: :func:`xenabi.diff.compare` with
    HEAD's constant families, and HEAD's unwaived findings BASE had none of (waived or
    not), with the doc-coverage note of the constants it adds."""
    changes = compare(base, head, prefix=head_tree.prefix, since=since,
                      families=constant_families(head_tree, head, base))
    new = new_findings(base_found.all_findings(), head_found.findings)
    added = {c.symbol: c for c in changes if c.kind == "constant-added"}
    new.extend(_coverage(head_found.findings, added))
    pairs = sorted(base.keys() & head.keys())
    return DiffReport(base_name, head_name, tuple(changes), tuple(new),
                      target_order(a for a, _ in pairs), tuple(sorted({v for _, v in pairs})),
                      head_found.not_run, tuple(fail_on))


def _coverage(head_findings: Sequence[Finding], added: Mapping[str, Change]) -> list[Finding]:
    """The head's doc-coverage information narrowed to the constants a step adds, as a
    warning: a new member of a documented family that no document mentions. (Read off the
    whole-tree finding, which lists every unmentioned member: no second index of the docs.)"""
    out = []
    marker = ": no document mentions "
    for f in head_findings:
        if f.rule != "doc-coverage" or marker not in f.message:
            continue
        mine = [s for s in f.symbols if s in added]
        if mine:
            first = added[mine[0]]
            out.append(replace(f, severity=Severity.WARNING, symbols=tuple(mine),
                               message=f.message.split(marker)[0] + marker + ", ".join(mine),
                               file=first.file, line=first.line))
    return out


def rules_of(tree: XenTree) -> tuple[str, ...]:
    """The rules that run on ``tree`` (those it has the inputs of)."""
    from xenabi.rules import REGISTRY, runnable

    return runnable(tree, tuple(REGISTRY))[0]


def _findings(tree: XenTree, snaps: Mapping[tuple[str, str], Snapshot], use_cache: bool,
              before: Sequence[Finding] = (), carried: Carry | None = None) -> list[Finding]:
    """The tree's findings (from the cache when it has them); with ``carried``, what it
    keeps of ``before``'s (the previous step's) and what the rules find again."""
    from xenabi import cache
    from xenabi.run import cached_findings, findings_key

    rules = rules_of(tree)
    pairs = ([a for a, _ in snaps], [v for _, v in snaps])
    # the key xenabi.run gives the same findings: a base ``xenabi check`` ran on is a hit
    found = cached_findings(tree, *pairs, rules, use_cache)
    if found is None:
        found = carried_findings(tree, snaps, rules, carried, before, use_cache=use_cache)
        cache.Cache(use_cache).put("findings", findings_key(tree, *pairs, rules),
                                   [f.to_json() for f in found])
    return found


def _waived(tree: XenTree, snaps: Mapping[tuple[str, str], Snapshot],
            found: Sequence[Finding]) -> Report:
    """The tree's findings with its waivers applied, as ``check`` applies them."""
    from xenabi.check import default_waivers
    from xenabi.check import judge as apply_waivers
    from xenabi.rules import REGISTRY, runnable

    rules, not_run = runnable(tree, tuple(REGISTRY))
    return apply_waivers(found, default_waivers(tree), (a for a, _ in snaps),
                         (v for _, v in snaps), rules, not_run)


@dataclass(frozen=True)
class Result:
    """A checked series: each step, its report, and the report of the whole."""

    base: str
    steps: tuple[Step, ...]
    reports: tuple[DiffReport, ...]  #: one per step, against the step before
    whole: DiffReport | None  #: the series as one change (None for a single patch)
    arches: tuple[str, ...]
    views: tuple[str, ...]

    def exit_status(self) -> int:
        return max([r.exit_status() for r in self.reports]
                   + ([self.whole.exit_status()] if self.whole else []))


def run(patches: Sequence[Patch], base: XenTree | None, *, repo: str | None = None,
        rev: str | None = None, arches: Sequence[str] | None, views: Sequence[str],
        use_cache: bool = True, since: Mapping[str, tuple[str, int]] | None = None,
        fail_on: Sequence[ChangeClass] = (ChangeClass.BREAKING, ChangeClass.SUSPICIOUS)
        ) -> Result:
    """Apply ``patches`` in order to ``base`` (or ``rev`` of ``repo``) and judge each, on
    ``arches`` (default: every target the base has)."""
    from xenabi.patch import dir_reader
    from xenabi.snapshot import take_all

    with workdir() as tmp:
        work = Path(tmp)
        if base is None:
            assert repo is not None and rev is not None
            base = extract_revision(repo, rev, work / "base")
            label = f"{rev} of {repo}"
        else:
            label = str(base.root)
        chosen = choose(base.headers, arches)
        overlay = Overlay(dir_reader(base.root), base.root)

        def take(tree: XenTree) -> Mapping[tuple[str, str], Snapshot]:
            return take_all(tree, chosen, views, use_cache=use_cache)

        base_snaps = take(base)
        steps = apply_series(base, overlay, patches, work, base_snaps, take)
        raw = _findings(base, base_snaps, use_cache)
        base_found = _waived(base, base_snaps, raw)
        reports = []
        prev_name, prev_snaps, prev_found = label, base_snaps, base_found
        n = len(steps)
        for i, s in enumerate(steps, 1):
            raw = _findings(s.tree, s.snapshots, use_cache, raw, s.carried)
            found = _waived(s.tree, s.snapshots, raw)
            name = f"patch {i}/{n} {s.patch.name}"
            reports.append(judge(prev_name, prev_snaps, prev_found, name, s.tree, s.snapshots,
                                 found, since=since, fail_on=fail_on))
            prev_name, prev_snaps, prev_found = name, s.snapshots, found
        whole = (judge(label, base_snaps, base_found, f"the series ({n} patches)",
                       steps[-1].tree, prev_snaps, prev_found, since=since, fail_on=fail_on)
                 if n > 1 else None)
        return Result(label, tuple(steps), tuple(reports), whole, chosen,
                      tuple(sorted(views)))
