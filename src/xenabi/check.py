"""``check``: run the rules over a tree's snapshots, merge, waive, and judge the result.

:func:`judge` applies the waivers to merged findings and returns a frozen
:class:`Report`, which knows its exit status (:func:`xenabi.run.run` is the
path from a tree to it). Findings the
rules make per target and view are merged when they say the same thing
about the same line: one finding then lists every target and view it holds
for. A header that failed to parse is an error finding of its own (rule
``headers``) that no waiver can hide.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from xenabi import waivers as waivers_mod
from xenabi.errors import UsageError
from xenabi.model import Finding, Severity, Snapshot, Status
from xenabi.rules import REGISTRY, Context, run_rules, runnable
from xenabi.targets import TARGETS, VIEWS
from xenabi.tree import XenTree
from xenabi.waivers import Waiver

if TYPE_CHECKING:
    from xenabi.docs import Reading

HEADERS_RULE = "headers"

#: a waiver file a tree may carry at its root
TREE_WAIVERS = "xenabi-waivers.toml"


def _arch_order(arches: Iterable[str]) -> tuple[str, ...]:
    s = set(arches)
    return tuple(a for a in TARGETS if a in s) + tuple(sorted(s - set(TARGETS)))


def merge(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per (rule, severity, message, place, symbols), its targets and views united."""
    merged: dict[tuple[object, ...], Finding] = {}
    for f in findings:
        key = (f.rule, f.severity, f.message, f.file, f.line, f.symbols)
        prev = merged.get(key)
        if prev is None:
            merged[key] = replace(f, arches=_arch_order(f.arches), views=tuple(sorted(f.views)))
        else:
            merged[key] = replace(prev, arches=_arch_order((*prev.arches, *f.arches)),
                                  views=tuple(sorted({*prev.views, *f.views})))
    return sorted(merged.values(), key=sort_key)


def sort_key(f: Finding) -> tuple[object, ...]:
    return (f.file or "", f.line or 0, f.rule, f.message)


def header_failures(tree: XenTree, snapshots: Mapping[tuple[str, str], Snapshot]
                    ) -> list[Finding]:
    """Every header a snapshot lists as failed, as an error at the line the reason names."""
    out = []
    for (arch, view), snap in snapshots.items():
        for header, st in snap.headers.items():
            if st.status is not Status.FAILED:
                continue
            why = st.why or "cannot be read"
            line, message = (st.coord.line, why) if st.coord and st.coord.file == header else (
                None, f"{st.coord}: {why}" if st.coord else why)
            out.append(Finding(HEADERS_RULE, Severity.ERROR, f"{header}: {message}",
                               tree.finding_path(header), line, (header,), (arch,), (view,)))
    return out


@dataclass(frozen=True)
class Report:
    """What ``xenabi check`` found in one tree."""

    findings: tuple[Finding, ...]  #: not waived, sorted by place
    waived: tuple[tuple[Finding, Waiver], ...]  #: each waived finding and the waiver that took it
    arches: tuple[str, ...]
    views: tuple[str, ...]
    rules: tuple[str, ...]  #: the rules that ran
    waiver_files: tuple[str, ...] = field(default=())
    #: rules asked for that the tree cannot feed, and what it lacks (no docs/, no xlat.lst)
    not_run: tuple[tuple[str, str], ...] = field(default=())

    def exit_status(self) -> int:
        """1 when an error is left unwaived, else 0 (usage errors are raised, exit 2)."""
        return int(any(f.severity is Severity.ERROR for f in self.findings))

    def count(self, severity: Severity) -> int:
        return sum(f.severity is severity for f in self.findings)

    def all_findings(self) -> list[Finding]:
        """Unwaived and waived findings together, in place order."""
        return sorted([*self.findings, *(f for f, _ in self.waived)], key=sort_key)


def findings(tree: XenTree, snapshots: Mapping[tuple[str, str], Snapshot],
             rules: Iterable[str] | None = None, *, use_cache: bool = True,
             docs: Reading | None = None) -> list[Finding]:
    """What ``rules`` (default: every registered rule) find, merged; failed headers included.
    ``use_cache`` False has the rules read everything afresh (the docs too); ``docs``
    are the docs already being read (:func:`xenabi.rules.read_docs_early`)."""
    chosen = tuple(rules) if rules is not None else tuple(REGISTRY)
    raw = run_rules(Context(tree, snapshots, use_cache, docs), only=chosen)
    raw.extend(header_failures(tree, snapshots))
    return merge(raw)


def judge(found: Sequence[Finding], waivers: Sequence[Waiver], arches: Iterable[str],
          views: Iterable[str], rules: Iterable[str],
          not_run: Sequence[tuple[str, str]] = ()) -> Report:
    """Apply ``waivers`` to merged findings of the given targets, views and rules (those
    that ran: a waiver of a rule in ``not_run`` is not idle)."""
    arches, views, chosen = _arch_order(arches), tuple(sorted(set(views))), tuple(rules)
    applied = waivers_mod.apply(found, waivers, arches=arches, views=views, rules=chosen)
    return Report(tuple(sorted([*applied.kept, *applied.problems], key=sort_key)),
                  applied.waived, arches, views, chosen,
                  tuple(sorted({w.file for w in waivers})), tuple(not_run))


# --------------------------------------------------------------------------
# The findings cache's part (xenabi.run keeps it): the inputs and the entries' form


def inputs_digest(tree: XenTree) -> str:
    """Every file the rules read besides the public headers (which ``tree.fingerprint``
    covers): xlat.lst, reference.size, xen/Makefile and the documents under docs/."""
    h = hashlib.sha256(tree.fingerprint.encode())
    extra = [p for p in (tree.xlat, tree.reference_size, tree.root / "xen" / "Makefile")
             if p is not None and p.is_file()]
    if tree.docs is not None:
        extra.extend(sorted(p for p in tree.docs.rglob("*") if p.is_file()))
    for p in extra:
        h.update(str(p.relative_to(tree.root)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def finding_from_json(d: Mapping[str, object]) -> Finding:
    """A finding from its JSON form; the values keep their types (the cache checks them)."""
    def strs(key: str) -> tuple[str, ...]:
        v = d[key]
        if not isinstance(v, list):
            raise TypeError(f"{key}: not a list")
        return tuple(v)

    return Finding(d["rule"], Severity(d["severity"]), d["message"],  # type: ignore[arg-type]
                   d["file"], d["line"], strs("symbols"), strs("arches"),  # type: ignore[arg-type]
                   strs("views"), d.get("waived", False))  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# Which waivers apply to a tree


def xen_version(tree: XenTree) -> str | None:
    """``4.17`` from a checkout's xen/Makefile; None for a headers-only tree."""
    path = tree.root / "xen" / "Makefile"
    if tree.kind != "checkout" or not path.is_file():
        return None
    text = path.read_text(encoding="utf-8", errors="replace")
    major = re.search(r"^export XEN_VERSION\s*=\s*(\d+)", text, re.MULTILINE)
    minor = re.search(r"^export XEN_SUBVERSION\s*=\s*(\d+)", text, re.MULTILINE)
    return f"{major.group(1)}.{minor.group(1)}" if major and minor else None


def shipped_waivers(version: str) -> Path | None:
    """The waivers xenabi ships for a Xen release, if any."""
    res = resources.files("xenabi") / "data" / f"waivers-xen-{version}.toml"
    return Path(str(res)) if res.is_file() else None


def default_waivers(tree: XenTree, explicit: str | None = None,
                    release: str | None = None) -> tuple[Waiver, ...]:
    """``--waivers FILE``; else the tree's own ``xenabi-waivers.toml``; else the shipped file
    for the tree's Xen release (``release``, for a tree that does not say: an installed
    layout); else none."""
    if explicit:
        return waivers_mod.load(explicit)
    own = tree.root / TREE_WAIVERS
    if own.is_file():
        return waivers_mod.load(own, TREE_WAIVERS)
    version = release or xen_version(tree)
    shipped = shipped_waivers(version) if version else None
    if shipped is not None:
        return waivers_mod.load(shipped, f"xenabi/data/{shipped.name}")
    if release:
        raise UsageError(f"--xen-release {release}: xenabi ships no waivers for it "
                         f"(it has: {', '.join(shipped_releases()) or 'none'})")
    return ()


def shipped_releases() -> list[str]:
    """The Xen releases xenabi ships waivers for: ``4.17``..."""
    names = (p.name for p in resources.files("xenabi").joinpath("data").iterdir())
    return sorted(m.group(1) for n in names if (m := re.match(r"waivers-xen-(.+)\.toml$", n)))


__all__ = ["HEADERS_RULE", "VIEWS", "Report", "default_waivers", "judge", "merge"]
