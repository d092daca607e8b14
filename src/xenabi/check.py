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
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import TYPE_CHECKING

from xenabi import waivers as waivers_mod
from xenabi.errors import UsageError
from xenabi.model import Finding, Severity, Snapshot, Status
from xenabi.portgap import RULE as PORT_GAP_RULE
from xenabi.portgap import is_gap, port_gaps
from xenabi.analysis.context import Context
from xenabi.rules import REGISTRY, run_rules
from xenabi.targets import TARGETS, VIEWS
from xenabi.tree import XenTree
from xenabi.waivers import Waiver

if TYPE_CHECKING:
    from xenabi.docs import Reading

HEADERS_RULE = "headers"

#: a waiver file a tree may carry at its root
TREE_WAIVERS = "xenabi-waivers.toml"


@dataclass(frozen=True)
class RunCheck:
    """A kind of finding every run makes itself, beside the registered rules: it needs no
    input of its own and cannot be left out with ``--rule``."""

    id: str  #: the rule id its findings carry
    summary: str  #: one line for ``xenabi rules``
    severities: tuple[Severity, ...]  #: what its findings can be, most severe first


RUN_CHECKS: tuple[RunCheck, ...] = (
    RunCheck(HEADERS_RULE, "a public header that cannot be parsed or evaluated for a target "
             "(no waiver hides it)", (Severity.ERROR,)),
    RunCheck(PORT_GAP_RULE, "a header that does not compile for a young port (riscv64, ppc64) "
             "where the established targets read it", (Severity.WARNING,)),
    RunCheck(waivers_mod.RULE, "a waiver without reason or evidence, or one that matches no "
             "finding (information on the list xenabi ships: fixed since)",
             (Severity.ERROR, Severity.INFO)),
)


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
            if st.status is not Status.FAILED or is_gap(arch, st):
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
    raw.extend(port_gaps(tree, snapshots))
    return merge(raw)


def judge(found: Sequence[Finding], waivers: Sequence[Waiver], arches: Iterable[str],
          views: Iterable[str], rules: Iterable[str],
          not_run: Sequence[tuple[str, str]] = (), have: Iterable[str] | None = None) -> Report:
    """Apply ``waivers`` to merged findings of the given targets, views and rules (those
    that ran: a waiver of a rule in ``not_run`` is not idle, nor one whose targets of
    ``have``, the tree's, and views did not all run)."""
    arches, views, chosen = _arch_order(arches), tuple(sorted(set(views))), tuple(rules)
    applied = waivers_mod.apply(found, waivers, arches=arches, views=views, rules=chosen,
                                have=have)
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


#: the waivers xenabi ships: findings of upstream Xen, each with the release it was found in
SHIPPED = "waivers.toml"


def shipped_waivers() -> tuple[Waiver, ...]:
    """The list xenabi ships (``xenabi/data/waivers.toml``), every entry."""
    res = resources.files("xenabi") / "data" / SHIPPED
    return waivers_mod.parse(res.read_text(encoding="utf-8"), f"xenabi/data/{SHIPPED}",
                             shipped=True)


def default_waivers(tree: XenTree, explicit: str | None = None,
                    release: str | None = None) -> tuple[Waiver, ...]:
    """``--waivers FILE``; else the tree's own ``xenabi-waivers.toml``; else the shipped
    list, less what was found after the tree's release (``release``, or what a checkout's
    xen/Makefile says; a tree that says nothing, such as an installed layout, gets it
    all). A ``release`` that the tree contradicts is unusable input."""
    if explicit:
        return waivers_mod.load(explicit)
    own = tree.root / TREE_WAIVERS
    if own.is_file():
        return waivers_mod.load(own, TREE_WAIVERS)
    says = xen_version(tree)
    if release is not None:
        if not waivers_mod.is_release(release):
            raise UsageError(f"--xen-release {release}: not a Xen release (X.Y, such as 4.17)")
        if says is not None and says != release:
            raise UsageError(f"--xen-release {release}: {tree.root}/xen/Makefile says "
                             f"this tree is Xen {says}")
    version = release or says
    return tuple(w for w in shipped_waivers() if version is None
                 or waivers_mod.release_key(w.found_in) <= waivers_mod.release_key(version))


__all__ = ["HEADERS_RULE", "VIEWS", "Report", "default_waivers", "judge", "merge"]
