"""One record compared across targets: what differs, field by field, in words.

The arch and compat rules judge records with it (``4 (x86_32) vs 8 (x86_64, arm32,
arm64)``); a record's *signature* is what two layouts must share to be the same.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from xenabi.model import CType, FieldLayout, RecordLayout, RecordRef, Snapshot, TypedefRef, element_type
from xenabi.targets import TARGETS


def record_of(t: CType, snap: Snapshot) -> str | None:
    """The record key a field's type names, through typedefs (``xen_mc_fetch_t``) and
    arrays."""
    for _ in range(16):
        match element_type(t):
            case RecordRef(key) if key in snap.records:
                return key
            case TypedefRef(name) if name in snap.records:
                return name  # the typedef that names a record without a tag
            case TypedefRef(name) if name in snap.typedefs:
                t = snap.typedefs[name].ctype
            case _:
                return None
    return None


def containers(rec: RecordLayout) -> frozenset[str]:
    """Entries whose members are listed after them (``console`` of ``console.domU``)."""
    names = [f.name for f in rec.fields]
    return frozenset(n for n, after in zip(names, names[1:])
                     if after.startswith(n) and after[len(n):len(n) + 1] in (".", "["))


def leaves(rec: RecordLayout) -> tuple[FieldLayout, ...]:
    """The entries that are not containers of other entries."""
    skip = containers(rec)
    return tuple(f for f in rec.fields if f.name not in skip) if skip else rec.fields



def _at(bits: int) -> str:
    return str(bits // 8) if bits % 8 == 0 else f"bit {bits}"


def versus(by_arch: Mapping[str, object]) -> str:
    """``4 (x86_32) vs 8 (x86_64, arm32, arm64)``, targets in table order."""
    groups: dict[object, list[str]] = {}
    for a in TARGETS:
        if a in by_arch:
            groups.setdefault(by_arch[a], []).append(a)
    return " vs ".join(f"{'none' if v is None else v} ({', '.join(g)})"
                       for v, g in groups.items())


def differences(recs: Mapping[str, RecordLayout], limit: int = 4,
                skip: frozenset[str] = frozenset()) -> list[str]:
    """What differs between the layouts of one record on several targets, field by field
    (leaving out the fields named in ``skip``)."""
    names: list[str] = []
    fields: dict[str, dict[str, FieldLayout]] = defaultdict(dict)
    for arch, rec in recs.items():
        for f in rec.fields:
            if f.name in skip:
                continue
            if f.name not in fields:
                names.append(f.name)
            fields[f.name][arch] = f
    out: list[str] = []
    for name in names:
        by = fields[name]
        offs = {a: (_at(by[a].offset_bits) if a in by else None) for a in recs}
        sizes = {a: (by[a].size_bits // 8 if a in by else None) for a in recs}
        if len(set(offs.values())) > 1:
            out.append(f"`{name}` offset {versus(offs)}")
        elif len(set(sizes.values())) > 1:
            out.append(f"`{name}` size {versus(sizes)}")
    shown = out[:limit] + ([f"and {len(out) - limit} more fields"] if len(out) > limit else [])
    sizes = {a: r.size for a, r in recs.items()}
    if len(set(sizes.values())) > 1:
        shown.append(f"size {versus(sizes)}")
    return shown


def signature(rec: RecordLayout, skip: frozenset[str] = frozenset()) -> tuple[object, ...]:
    return (rec.size, tuple((f.name, f.offset_bits, f.size_bits) for f in rec.fields
                            if f.name not in skip))


def architectures_differ(recs: Mapping[str, RecordLayout]) -> set[str]:
    """The architectures (``x86``, ``arm``) whose own targets disagree on the layout."""
    sigs: dict[str, set[tuple[object, ...]]] = defaultdict(set)
    for arch, rec in recs.items():
        sigs[TARGETS[arch].arch_family].add(signature(rec))
    return {fam for fam, s in sigs.items() if len(s) > 1}


