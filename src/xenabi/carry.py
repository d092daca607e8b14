"""What a run's findings carry over to the run of a tree that follows from its tree.

``check-patch`` judges each step of a series against the step before it,
``history`` each commit against its parent, ``diff`` HEAD against BASE: most
often the second tree differs from the first in a few lines of one header.
Each rule declares what its findings depend on (its ``scope``,
:data:`xenabi.rules.registry.SCOPES`), and :func:`carry` says from that which
of the first run's findings hold for the second, and what must be found again:

- ``header`` rules (flags, unique): their findings about a header whose text
  and integer macros are the same on every target and view are the first
  run's; they run again on the other headers only;
- ``records`` rules (arch, compat, holes, refsize): where the second tree's
  snapshots were derived from the first's (:mod:`xenabi.patchsnap`: the
  records are the first's, lines moved) and the tables are the same, their
  findings are the first run's, lines moved;
- the other rules, and the checks every run makes (failed headers, port
  gaps), run again.

The tests hold the rules to their scopes: a run that carries finds what a
run from scratch finds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from xenabi.model import Finding, Snapshot
from xenabi.tree import XenTree

if TYPE_CHECKING:  # the docs package loads only when a docs rule runs
    from xenabi.docs import Reading

Snapshots = Mapping[tuple[str, str], Snapshot]

#: the files besides the headers that the ``records`` rules read
TABLES = ("xen/include/xlat.lst", "tools/include/xen-foreign/reference.size")


@dataclass(frozen=True)
class Carry:
    """Which findings of a first run a second run keeps, and what it finds again."""

    kept: frozenset[str]  #: rules whose findings are the first run's, lines moved
    per_header: frozenset[str]  #: rules whose findings about the unchanged headers are kept
    changed: frozenset[str]  #: the headers (relative to the public directory) they run on
    files: frozenset[str]  #: the same headers, as findings name them
    #: how the lines of each changed file (as findings name it) moved
    lines: Mapping[str, Mapping[int, int]]

    def fresh(self, tree: XenTree, snaps: Snapshots, rules: Iterable[str], *,
              use_cache: bool = True, docs: Reading | None = None) -> list[Finding]:
        """What the second run finds itself: the rules it does not carry, on the whole tree
        (with the checks every run makes), and the ``per_header`` ones on the changed
        headers."""
        from xenabi.analysis.context import Context
        from xenabi.analysis.families import in_headers
        from xenabi.check import findings
        from xenabi.rules import run_rules

        rules = tuple(rules)
        whole = [r for r in rules if r not in self.kept and r not in self.per_header]
        out = findings(tree, snaps, whole, use_cache=use_cache, docs=docs)
        again = [r for r in rules if r in self.per_header]
        if again and self.changed:
            only = {p: in_headers(s, self.changed) for p, s in snaps.items()}
            # a changed header's macros may bring a macro of another header along (the
            # one a _NAME stands behind): its families are not the whole header's
            out.extend(f for f in run_rules(Context(tree, only, use_cache), only=again)
                       if f.file in self.files)
        return out

    def combined(self, fresh: Iterable[Finding], before: Iterable[Finding]) -> list[Finding]:
        """The second run's findings: ``fresh`` (from :meth:`fresh`) and what it keeps of
        ``before``, the first run's (merged, before waivers)."""
        from xenabi.check import merge

        kept = [moved(f, self.lines) for f in before if f.rule in self.kept
                or (f.rule in self.per_header and f.file not in self.files)]
        return merge([*fresh, *kept])


def carry(tree: XenTree, before: Snapshots, after: Snapshots, before_rules: Iterable[str],
          rules: Iterable[str], texts_changed: Iterable[str],
          lines: Mapping[str, Mapping[int, int]] | None, tables_changed: bool) -> Carry | None:
    """How the run on ``tree`` (snapshots ``after``, rules ``rules``) carries over the run
    before it (``before``, ``before_rules``), or None when it cannot.

    ``texts_changed``: the headers whose text differs; ``lines``: when ``after`` was
    derived from ``before``, how the lines of each changed file (as findings name it)
    moved, else None; ``tables_changed``: whether a file of :data:`TABLES` differs.
    Both runs' findings must name files alike (trees of one layout)."""
    from xenabi.rules import REGISTRY

    if before.keys() != after.keys():
        return None
    both = set(before_rules) & set(rules)
    records = lines is not None and not tables_changed
    kept = {r for r in both if records and REGISTRY[r].scope == "records"}
    per_header = {r for r in both if REGISTRY[r].scope == "header"}
    changed = frozenset(set(texts_changed) | constants_changed(before, after))
    return Carry(frozenset(kept), frozenset(per_header), changed,
                 frozenset(tree.finding_path(h) for h in changed), lines or {})


def constants_changed(before: Snapshots, after: Snapshots) -> set[str]:
    """The headers with a constant that differs, appears or goes between two runs' snapshots
    (of the same targets and views), and those whose ``_NAME`` stands behind a ``NAME``
    that appears or goes (the families leave ``_GTF_readonly`` out when ``GTF_readonly``
    exists)."""
    out: set[str] = set()
    for pair, snap in after.items():
        old, new = before[pair].constants, snap.constants
        for name, c in new.items():
            o = old.get(name)
            if o is not c and o != c:
                out.add(c.header)
                if o is not None:
                    out.add(o.header)
        for name in new.keys() ^ old.keys():
            out.add((new.get(name) or old[name]).header)
            partner = new.get("_" + name) or old.get("_" + name)
            if partner is not None:
                out.add(partner.header)
    return out


def moved(f: Finding, lines: Mapping[str, Mapping[int, int]]) -> Finding:
    """``f`` at the line its file's line map (by file as findings name it) moved it to."""
    m = lines.get(f.file or "")
    line = m.get(f.line) if m is not None and f.line is not None else None
    return replace(f, line=line) if line is not None and line != f.line else f


def carried_findings(tree: XenTree, snaps: Snapshots, rules: Sequence[str], c: Carry | None,
                     before: Iterable[Finding], *, use_cache: bool = True,
                     docs: Reading | None = None) -> list[Finding]:
    """The run's findings, carried over from ``before`` as ``c`` says (from scratch when
    ``c`` is None)."""
    from xenabi.check import findings

    if c is None:
        return findings(tree, snaps, rules, use_cache=use_cache, docs=docs)
    return c.combined(c.fresh(tree, snaps, rules, use_cache=use_cache, docs=docs), before)
