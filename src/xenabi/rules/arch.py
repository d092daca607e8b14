"""Rule ``arch``: a record built only from fixed-width types has one layout on every target,
and arm32 and arm64 lay out alike every record they both use.

A record is *fixed-width* on a target when every field is a fixed-width
integer (``uint32_t``, ``uint64_aligned_t``, ``int``, ``char``...), an enum,
a 64-bit guest handle (``XEN_GUEST_HANDLE_64``, declared so on every target;
any handle on arm and x86_64, where a pointer is 64 bits), an array
of those, or a record that is itself fixed-width; ``long``, pointers, a
32-bit handle and ``xen_ulong_t`` on x86 are not. Records are
compared per view between the targets where the same declaration (record
key and header) is fixed-width, field by field.

Severity, per difference:

- arm32 and arm64 differ: an **error** (arm has no compat layer: a 32-bit
  guest on 64-bit Xen uses the 64-bit layout);
- x86_32 and x86_64 differ in a record only the tools view defines: an
  **error** (the tools interfaces have no compat layer either: a 32-bit
  toolstack talks to 64-bit Xen with these very structs);
- x86_32 and x86_64 differ in a guest-visible record: a **warning** (Xen's
  x86 compat layer has to translate it, by an ``!`` entry in xlat.lst, a
  second compat build of the hypercall, or by hand; only ``?`` entries are
  asserted identical, and the ``compat`` rule checks those), **info** when
  xlat.lst marks it ``!`` (translated by design);
- each architecture agrees with itself but x86 differs from arm (or riscv, ppc): a
  **warning** (no guest crosses architectures, but the record is meant to be
  the same everywhere);
- only the alignment differs: a **warning** (the record is fine alone, but a
  record that embeds it may move);
- a ``__``-tagged record (macro machinery such as ``__HVM_SAVE_TYPE_CPU``,
  never exchanged itself): **info**.

Whether a record is tools-only needs the guest view; without one, every
record counts as guest-visible.

An architecture without a compat layer (arm: :data:`NO_COMPAT_LAYER`) must
agree with itself on every record its targets both define, however it is
spelled: a ``uint32_t pad`` that becomes ``unsigned long pad`` is an
**error** there even though the record is no longer fixed-width. Such
records are compared by layout (size, and every field's offset and size),
leaving out the size of native pointers, which mean nothing outside one
address space (a ring's private ``sring *``, a guest handle's ``p``; what a
pointer moves is still seen in the fields after it). The interfaces no Arm
guest or toolstack exchanges with Xen (x86 PV hypercalls, kexec, vTPM v1)
are listed with their reasons and evidence in ``data/arm-unshared.toml``;
a difference in one of them is **info**.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from posixpath import normpath

from xenabi.analysis import xlat
from xenabi.analysis.compare import architectures_differ, differences, leaves, signature, versus
from xenabi.analysis.context import Context
from xenabi.model import (CType, EnumRef, FieldLayout, Finding, Function, Pointer, RecordLayout,
                          RecordRef, Scalar, Severity, Snapshot, TypedefRef, element_type,
                          spelled)
from xenabi.rules.registry import rule
from xenabi.targets import TARGETS
from xenabi.tomlfile import table_lines
from xenabi.tree import XenTree

RULE = "arch"

FIXED_TYPEDEFS = frozenset({f"{s}int{n}_t" for s in ("", "u") for n in (8, 16, 32, 64)}
                           | {"uint64_aligned_t", "int64_aligned_t"})
FIXED_SCALARS = frozenset({"_Bool", "char", "signed char", "unsigned char", "short",
                           "unsigned short", "int", "unsigned int", "long long",
                           "unsigned long long", "float", "double"})

#: the architectures whose 32-bit guests run on 64-bit Xen with no compat layer: their
#: targets must agree on every record both use (x86 translates, by xlat.lst)
NO_COMPAT_LAYER = frozenset({"arm"})

#: the records behind ``XEN_GUEST_HANDLE(T)`` and ``XEN_GUEST_HANDLE_64(T)``
HANDLE = "__guest_handle_"
HANDLE_64 = "__guest_handle_64_"

class FixedWidth:
    """Which types and records of one snapshot are built only from fixed-width types."""

    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap
        self._records: dict[str, bool] = {}
        self._types: dict[str, bool] = {}

    def type(self, spelling: str, depth: int = 0) -> bool:
        """Whether a type, as a field or typedef spells it, is fixed-width (memoized by
        its spelling: a string hashes once, a nested CType on every lookup)."""
        hit = self._types.get(spelling)
        if hit is None:
            hit = self._types[spelling] = self._type(element_type(spelled(spelling)), depth)
        return hit

    def _type(self, t: CType, depth: int) -> bool:
        match t:
            case Scalar(name):
                return name in FIXED_SCALARS
            case EnumRef():
                return True
            case RecordRef(key):
                return self.record(key)
            case TypedefRef(name) if name in FIXED_TYPEDEFS:
                return True
            case TypedefRef(name) if name.startswith(HANDLE):
                return self._handle(name)
            case TypedefRef(name) if name in self.snap.records:
                return self.record(name)  # the typedef that names a record without a tag
            case TypedefRef(name) if depth < 16 and name in self.snap.typedefs:
                return self.type(self.snap.typedefs[name].type, depth + 1)
        return False  # a pointer, a function, an unknown typedef

    def _handle(self, name: str) -> bool:
        """``XEN_GUEST_HANDLE_64`` is declared 64 bits on every target; any other handle is
        fixed-width where it is 64 bits (arm, and x86_64 by pointer size), not on x86_32."""
        if name.startswith(HANDLE_64):
            return True
        rec = self.snap.records.get(name)
        return rec is not None and rec.size == 8

    def record(self, key: str) -> bool:
        if key not in self._records:
            self._records[key] = False  # a record that contains itself is not fixed
            rec = self.snap.records.get(key)
            self._records[key] = rec is not None and all(
                self.type(f.type) for f in leaves(rec))
        return self._records[key]


# --------------------------------------------------------------------------
# Judging one record across targets


@dataclass(frozen=True, slots=True)
class Verdict:
    severity: Severity
    message: str


@dataclass(frozen=True, slots=True)
class Known:
    """What the tree says about a record besides its layout."""

    translated: bool = False  #: ``!`` in xlat.lst
    guest_visible: bool = True  #: some guest view defines it (else: tools only)
    helper: bool = False  #: a ``__``-tagged record of macro machinery (``__HVM_SAVE_TYPE_CPU``)


def judge(key: str, recs: Mapping[str, RecordLayout], known: Known = Known()) -> Verdict | None:
    """The arch rule's verdict on one record over the targets where it is fixed-width."""
    if len({signature(r) for r in recs.values()}) > 1:
        within = architectures_differ(recs)
        what = "; ".join(differences(recs))
        if known.helper:
            return Verdict(Severity.INFO, f"{key} (a helper of the header's macros, not an "
                                          f"interface) differs between targets: {what}")
        shared = within & NO_COMPAT_LAYER
        if shared or ("x86" in within and not known.guest_visible):
            who = (" and ".join(a for a in TARGETS if TARGETS[a].arch_family in shared)
                   if shared else "a 32-bit toolstack and 64-bit Xen")
            return Verdict(Severity.ERROR, f"{key} is built from fixed-width types but its "
                                           f"layout differs ({who} disagree): {what}")
        if within and known.translated:
            return Verdict(Severity.INFO, f"{key} (translated: `!` in xlat.lst) differs "
                                          f"between x86_32 and x86_64: {what}")
        if within:
            return Verdict(Severity.WARNING, f"{key} differs between x86_32 and x86_64, so "
                                             f"Xen's compat layer must translate it: {what}")
        fams = list(dict.fromkeys(TARGETS[a].arch_family for a in TARGETS if a in recs))
        between = ", ".join(fams[:-1]) + f" and {fams[-1]}"
        return Verdict(Severity.WARNING, f"{key} differs between {between}: {what}")
    aligns = {a: r.align for a, r in recs.items()}
    if len(set(aligns.values())) > 1:
        return Verdict(Severity.WARNING, f"{key} has one layout but its alignment differs: "
                                         f"{versus(aligns)}")
    return None


def fixed_records(view: str, snaps: Sequence[tuple[str, Snapshot]]
                  ) -> dict[tuple[str, str], dict[str, RecordLayout]]:
    """(record key, header) -> {arch: layout} for the targets where it is fixed-width."""
    out: dict[tuple[str, str], dict[str, RecordLayout]] = defaultdict(dict)
    for arch, snap in snaps:
        fw = FixedWidth(snap)
        for key, rec in snap.records.items():
            if fw.record(key):
                out[(key, rec.header)][arch] = rec
    return out


# --------------------------------------------------------------------------
# Records an architecture without a compat layer shares, compared by layout


@dataclass(frozen=True, slots=True)
class Unshared:
    """A record no Arm guest or toolstack exchanges with Xen (``data/arm-unshared.toml``)."""

    reason: str
    evidence: str
    line: int


UNSHARED_FILE = "arm-unshared.toml"


@cache
def unshared() -> Mapping[str, Unshared]:
    """The shipped list: record key -> why arm32 and arm64 may differ on it."""
    text = (resources.files("xenabi") / "data" / UNSHARED_FILE).read_text(encoding="utf-8")
    lines = table_lines(text, "record")
    return {e["name"]: Unshared(e["reason"], e["evidence"], line)
            for e, line in zip(tomllib.loads(text)["record"], lines, strict=True)}


def _is_pointer(f: FieldLayout) -> bool:
    """A native pointer, or an array of them."""
    return isinstance(element_type(f.canonical_ctype), Pointer | Function)


def shared_records(snaps: Sequence[tuple[str, Snapshot]], fixed: Mapping[tuple[str, str],
                   Mapping[str, RecordLayout]]) -> dict[tuple[str, str], dict[str, RecordLayout]]:
    """(record key, header) -> {arch: layout} on the targets of an architecture without a
    compat layer, for the records not fixed-width on all of them (``fixed`` judges those)."""
    out: dict[tuple[str, str], dict[str, RecordLayout]] = defaultdict(dict)
    for arch, snap in snaps:
        if TARGETS[arch].arch_family in NO_COMPAT_LAYER:
            for key, rec in snap.records.items():
                out[(key, rec.header)][arch] = rec
    return {k: recs for k, recs in out.items()
            if len(recs) > 1 and not set(recs) <= set(fixed.get(k, {}))}


def judge_layout(key: str, recs: Mapping[str, RecordLayout]) -> Verdict | None:
    """arm32 and arm64 on a record both define: one layout, native pointers' sizes aside."""
    skip = frozenset(f.name for r in recs.values() for f in leaves(r) if _is_pointer(f))
    sigs = {(None if skip else r.size, signature(r, skip)[1]) for r in recs.values()}
    if len(sigs) == 1:
        return None
    what = "; ".join(d for d in differences(recs, skip=skip)
                     if not (skip and d.startswith("size ")))
    who = " and ".join(a for a in TARGETS if a in recs)
    why = unshared().get(key)
    if why is not None:
        return Verdict(Severity.INFO, f"{key} differs between {who}, which Xen on Arm does not "
                                      f"exchange (xenabi/data/{UNSHARED_FILE}:{why.line}): {what}")
    return Verdict(Severity.ERROR, f"{key} differs between {who}, which share one layout (no "
                                   f"compat layer: a 32-bit guest on 64-bit Xen hands over "
                                   f"these very bytes): {what}")


def check_view(tree: XenTree, view: str, snaps: Sequence[tuple[str, Snapshot]],
               guest_keys: frozenset[str] | None) -> Iterator[Finding]:
    """``guest_keys``: the records some guest view defines (None: no guest view computed)."""
    marked = xlat.translated_keys(tree)
    fixed = fixed_records(view, snaps)
    for (key, header), recs in sorted(shared_records(snaps, fixed).items()):
        verdict = None if _is_helper(key) else judge_layout(key, recs)
        if verdict is not None:
            yield _finding(tree, key, header, recs, verdict, view)
    for (key, header), recs in sorted(fixed.items()):
        if len(recs) < 2:
            continue
        known = Known(translated=key in marked,
                      guest_visible=guest_keys is None or key in guest_keys,
                      helper=_is_helper(key))
        verdict = judge(key, recs, known)
        if verdict is not None:
            yield _finding(tree, key, header, recs, verdict, view)


def _is_helper(key: str) -> bool:
    """``struct __guest_handle_...``: a record the header's macros make, not an interface."""
    return key.split(" ")[-1].startswith("__")


def _finding(tree: XenTree, key: str, header: str, recs: Mapping[str, RecordLayout],
             verdict: Verdict, view: str) -> Finding:
    line = next(iter(recs.values())).line
    arches = tuple(a for a in TARGETS if a in recs)
    return Finding(RULE, verdict.severity, verdict.message, tree.finding_path(normpath(header)),
                   line, (key,), arches, (view,))


def guest_keys(ctx: Context) -> frozenset[str] | None:
    guests = [s for _, v, s in ctx.each() if v == "guest"]
    return frozenset(k for s in guests for k in s.records) if guests else None


@rule(RULE, "records of fixed-width types have the same layout on every target",
      severities=(Severity.ERROR, Severity.WARNING, Severity.INFO), scope="records")
def check_arch(ctx: Context) -> Iterator[Finding]:
    guests = guest_keys(ctx)
    for view, snaps in sorted(ctx.by_view().items()):
        yield from check_view(ctx.tree, view, snaps, guests)
