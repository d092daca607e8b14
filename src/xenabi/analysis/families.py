"""Constant families: the groups of related ``#define``s that the flags and unique rules check.

A header defines its flags and numbers in runs: ``SIF_PRIVILEGED`` ...
``SIF_PM_MASK`` in xen.h, the ``XENMEM_*`` operations spread over memory.h.
This module finds those runs from the snapshot's constants and the header
text around them, with no list of known families:

- a *block* is a run of constants of one header with no C code between them
  (comments, blank lines and preprocessor lines do not break it; a struct
  field does);
- inside a block a constant's *prefix* is the longest ``_``-boundary prefix
  it shares with a neighbour (a neighbour whose name merely extends its own,
  like ``XENMEM_paging_op_nominate`` after ``XENMEM_paging_op``, is its
  sub-family, not a sibling); a constant with no such neighbour takes its
  name up to its last component, or up to its lowercase part for an
  operation name (``XENMEM_exchange`` -> ``XENMEM_``);
- a *family* is the constants of a block that share a prefix; operation
  families (the part after the prefix is lowercase, the values plain
  numbers) are joined across the blocks of a header, since Xen defines each
  operation next to its argument struct;
- :func:`split_restarts` (used for flags) splits a family where a paragraph
  starts its values over: that is how headers define a second set over the
  same bits (``GTF_*`` subflags of another grant type, the IN and OUT values
  of one field).

Each family keeps the comment that introduces it and the struct field it
sits next to, which the flags rule uses to tell flag families apart.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache, partial

from xenabi.analysis.context import Context
from xenabi.analysis.headertext import HeaderText, text_of
from xenabi.model import Constant, Snapshot

# --------------------------------------------------------------------------
# Names


@lru_cache(maxsize=1 << 15)
def components(name: str) -> tuple[str, ...]:
    """``XEN_DOMCTL_CDF_hvm`` -> ``("XEN", "DOMCTL", "CDF", "hvm")`` (leading ``_`` kept)."""
    lead = len(name) - len(name.lstrip("_"))
    parts = name[lead:].split("_")
    parts[0] = name[:lead] + parts[0]
    return tuple(parts)


def _common_prefix(a: Sequence[str], b: Sequence[str]) -> int:
    n = 0
    for x, y in zip(a[:-1], b[:-1]):
        if x != y:
            break
        n += 1
    return n


def _op_stem(parts: Sequence[str]) -> int:
    """Components before an operation name's lowercase part (``XEN_ARGO_OP_register_ring``:
    3); 0 for an all-uppercase name. Such a name shares no shorter prefix with a neighbour."""
    for i, p in enumerate(parts):
        if i and p[:1].islower():
            return i
    return 0


def _default_prefix(parts: Sequence[str]) -> int:
    """Components of a lone constant's prefix: up to the lowercase part, else all but one."""
    for i, p in enumerate(parts):
        if i and p[:1].islower():
            return i
    return max(len(parts) - 1, 1) if len(parts) > 1 else 0


def join(parts: Sequence[str], n: int) -> str:
    return "_".join(parts[:n]) + "_" if n else ""


def is_operation_name(name: str, prefix: str) -> bool:
    """``XENMEM_exchange``: what follows the prefix is lowercase (Xen's name for operations)."""
    rest = name[len(prefix):]
    return rest[:1].islower()


# --------------------------------------------------------------------------
# Families


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    value: int  #: as an unsigned bit pattern when the constant's value is negative
    line: int
    expr: str  #: the macro body as written


@dataclass(frozen=True, slots=True)
class Family:
    """Related constants of one header: ``SIF_*`` in xen.h."""

    header: str  #: relative to the public headers directory
    prefix: str  #: ``SIF_``
    members: tuple[Member, ...]  #: in line order
    intro: str  #: the comment that introduces the family (may be empty)
    field: str | None  #: the struct field declared right after (or before) the family
    part: int = 0  #: >0 for the 2nd, 3rd... family of the same prefix in a header

    @property
    def id(self) -> str:
        """What tests and messages call the family: ``SIF``, ``GTF#2`` for the second ``GTF_``."""
        base = self.prefix.rstrip("_") or self.members[0].name
        return f"{base}#{self.part + 1}" if self.part else base

    @property
    def names(self) -> frozenset[str]:
        return frozenset(m.name for m in self.members)

    def comment_of(self, text: HeaderText, member: Member) -> str:
        """A member's own comment: on its line, else the comment right above it."""
        return text.trailing_comment(member.line) or text.comment_before(member.line)


def unsigned(c: Constant) -> int:
    """A constant's value as a bit pattern (``1 << 31`` is INT_MIN in C: bit 31)."""
    v = c.value
    assert isinstance(v, int)
    if v >= 0:
        return v
    return v & (0xFFFFFFFF if v >= -(1 << 31) else (1 << 64) - 1)


_FIELD = re.compile(r"([A-Za-z_]\w*)\s*(?:\[[^\]]*\])?\s*(?::\s*\d+\s*)?;")


@lru_cache(maxsize=1 << 12)  # the snapshots' variants of a header share its lines
def _field_name(code: str | None) -> str | None:
    if code is None or "(" in code or code.strip().startswith(("typedef", "}", "struct {")):
        return None
    m = _FIELD.search(code)
    return m.group(1) if m else None


def _blocks(items: list[tuple[str, Constant]], text: HeaderText
            ) -> Iterator[list[tuple[str, Constant]]]:
    block: list[tuple[str, Constant]] = []
    for name, c in items:
        if block and text.code_between(block[-1][1].line, c.line):
            yield block
            block = []
        block.append((name, c))
    if block:
        yield block


def _prefixes(block: list[tuple[str, Constant]], names: Mapping[str, object]) -> list[str]:
    parts = [components(n) for n, _ in block]
    out = []
    for i, p in enumerate(parts):
        best = 0
        for j in (i - 1, i + 1):
            if not 0 <= j < len(parts):
                continue
            q = parts[j]
            if len(q) > len(p) and q[:len(p)] == p:
                continue  # q extends p: q is in p's sub-family, not p's sibling
            best = max(best, _common_prefix(p, q))
        if best:
            out.append(join(p, max(best, _op_stem(p))))
        else:
            out.append(join(p, _parent(p, names) or _default_prefix(p)))
    return out


def _parent(parts: Sequence[str], names: Mapping[str, object]) -> int:
    """A lone constant whose name extends another constant's is in that one's sub-family."""
    for n in range(len(parts) - 1, 0, -1):
        if "_".join(parts[:n]) in names:
            return n
    return 0


def _paragraphs(members: Sequence[Member], text: HeaderText) -> list[list[Member]]:
    paras: list[list[Member]] = [[]]
    for m in members:
        if paras[-1] and text.blank_between(paras[-1][-1].line, m.line):
            paras.append([])
        paras[-1].append(m)
    return paras


def _first_value(members: Sequence[Member]) -> int:
    return next((m.value for m in members if m.value), 0)


def split_restarts(fam: Family, text: HeaderText) -> list[Family]:
    """Split a family where a paragraph starts its values over: a second set on the same bits.

    ``GTF_transfer_committed`` (bit 2) after ``GTF_readonly`` (bit 2), in a
    paragraph of its own: subflags of another grant type. A paragraph starts
    over when it has two members or more and its first non-zero value is not
    above the previous paragraph's.
    """
    groups: list[list[Member]] = [[]]
    prev = 0
    for para in _paragraphs(fam.members, text):
        first = _first_value(para)
        if groups[-1] and len(para) > 1 and first and prev and first <= prev:
            groups.append([])
        groups[-1].extend(para)
        prev = first or prev
    if len(groups) == 1:
        return [fam]
    out = []
    for i, g in enumerate(groups):
        out.append(Family(fam.header, fam.prefix, tuple(g),
                          text.comment_before(g[0].line) if i else fam.intro,
                          fam.field, fam.part + i))
    return out


@dataclass(frozen=True, eq=False)
class HeaderFamilies:
    """The families of one header as some snapshots see it: one object per run for all the
    snapshots that see the header alike (it hashes by identity, a cheap memo key)."""

    header: str
    text: HeaderText
    consts: Mapping[str, Constant]  #: the header's integer macros
    families: tuple[Family, ...]


def header_families(ctx: Context, snap: Snapshot) -> list[HeaderFamilies]:
    """Every header's families (of two or more constants) in ``snap``, in header order."""
    assert ctx.snapshots.get((snap.arch, snap.view)) is snap, "a snapshot of the run"
    return ctx.memo(("header families", snap.arch, snap.view),
                    partial(_header_families_of, ctx, snap))


def in_headers(snap: Snapshot, headers: Iterable[str]) -> Snapshot:
    """``snap`` with the constants of ``headers`` only, and the macros their ``_NAME``s
    stand behind (the families leave out ``_GTF_readonly`` when ``GTF_readonly``
    exists): what the families of those headers are found from."""
    keep = set(headers)
    consts = {n: c for n, c in snap.constants.items() if c.header in keep}
    consts.update((n[1:], c) for n in list(consts)
                  if n.startswith("_") and (c := snap.constants.get(n[1:])) is not None)
    return replace(snap, constants=consts)


def _header_families_of(ctx: Context, snap: Snapshot) -> list[HeaderFamilies]:
    # per header, what families read of a constant: the 8 snapshots mostly agree on it
    by_header: dict[str, list[tuple[int, str, int, str]]] = defaultdict(list)
    consts = snap.constants
    for name, c in consts.items():
        if c.kind != "macro" or not isinstance(c.value, int) or c.expr is None:
            continue
        if name.startswith("_") and name[1:] in consts:
            continue  # _GTF_readonly: the bit number behind GTF_readonly
        by_header[c.header].append((c.line, name, c.value, c.expr))
    out: list[HeaderFamilies] = []
    for header in sorted(by_header):
        seen = tuple(sorted(by_header[header]))  # in line order
        out.append(ctx.memo(("families", header, seen),
                            partial(_families_of_header, ctx, header, seen, consts)))
    return out


def _families_of_header(ctx: Context, header: str, seen: Sequence[tuple[int, str, int, str]],
                        consts: Mapping[str, Constant]) -> HeaderFamilies:
    items = [(name, consts[name]) for _, name, _, _ in seen]
    text, mine = text_of(ctx, header), dict(items)
    return HeaderFamilies(header, text, mine, tuple(_header_families(header, items, text, mine)))


def _header_families(header: str, items: list[tuple[str, Constant]], text: HeaderText,
                     names: Mapping[str, object]) -> list[Family]:
    groups: dict[tuple[str, int], list[Member]] = {}
    for b, block in enumerate(_blocks(items, text)):
        for (name, c), prefix in zip(block, _prefixes(block, names)):
            if prefix:
                groups.setdefault((prefix, b), []).append(
                    Member(name, unsigned(c), c.line, c.expr or ""))
    # operations are defined next to their argument structs: join them across blocks
    merged: dict[tuple[str, int], list[Member]] = {}
    for (prefix, b), members in groups.items():
        for m in members:
            op = is_operation_name(m.name, prefix) and "<<" not in m.expr
            merged.setdefault((prefix, -1 if op else b), []).append(m)
    out: list[Family] = []
    for (prefix, _), members in merged.items():
        if len(members) < 2:
            continue
        members.sort(key=lambda m: m.line)
        first, last = members[0].line, members[-1].line
        out.append(Family(header, prefix, tuple(members), text.comment_before(first),
                          _field_name(text.code_line_near(first, last))))
    out.sort(key=lambda f: f.members[0].line)
    return numbered(out)


def numbered(fams: Sequence[Family]) -> list[Family]:
    """The same families with ``part`` set so that ids are unique within each header."""
    seen: dict[tuple[str, str], int] = defaultdict(int)
    out = []
    for f in fams:
        key = (f.header, f.prefix)
        out.append(f if f.part == seen[key] else replace(f, part=seen[key]))
        seen[key] += 1
    return out


# --------------------------------------------------------------------------
# What a member is: a value of the family, or something beside it

#: name components that mark a bound, a size or a shift rather than a member
SENTINELS = frozenset({"MAX", "MIN", "NR", "NUM", "COUNT", "SHIFT", "SIZE", "SZ", "WIDTH", "LEN",
                       "VERSION", "FIRST", "LAST", "END", "BASE", "START", "BITS", "OFFSET",
                       "LIMIT", "MAGIC"})
RESERVED = frozenset({"RESERVED", "RSVD", "RESV"})

_IDENT = re.compile(r"\b[A-Za-z_]\w*\b")
_NAME = re.compile(r"[A-Za-z_]\w*")
_FIXED_INT = re.compile(r"u?int\d+_t")
_MAKERS = frozenset({"xen_mk_uint", "xen_mk_ulong", "xen_mk_ullong", "UINT64_C", "UINT32_C"})


#: bounds also spelled in lowercase, in operation names (``XENOPROF_last_op``)
LOWER_SENTINELS = frozenset({"last", "max", "nr", "count", "num"})


@lru_cache(maxsize=1 << 15)
def is_sentinel(name: str, *, lowercase: bool = False) -> bool:
    """``XEN_DOMCTL_CDF_MAX``, ``NR_VIRQS``, ``PG_OFFLINE_OWNER_SHIFT``: a bound, not a member.

    ``lowercase`` also takes ``XENOPROF_last_op`` for one (not for flags, where
    ``HVMPV_time_ref_count`` is a member).
    """
    return any(p in SENTINELS or p.lower().endswith("shift")
               or (lowercase and p in LOWER_SENTINELS)
               for p in components(name.lstrip("_")))


@lru_cache(maxsize=1 << 15)
def is_reserved_name(name: str) -> bool:
    return any(p.upper() in RESERVED for p in components(name))


@lru_cache(maxsize=1 << 15)
def is_mask_name(name: str) -> bool:
    return any(p.lower().endswith("mask") for p in components(name))


@lru_cache(maxsize=1 << 15)
def alias_of(expr: str) -> str | None:
    """The name a macro is defined as (``#define XEN_DOMCTL_CDF_MAX XEN_DOMCTL_CDF_vpmu``)."""
    e = expr.strip()
    while e.startswith("(") and e.endswith(")"):
        e = e[1:-1].strip()
    return e if _NAME.fullmatch(e) else None


@lru_cache(maxsize=1 << 15)
def is_composite(expr: str) -> bool:
    """``(MEM_ACCESS_R | MEM_ACCESS_W)``: a combination of other constants."""
    return ("|" in expr or "&" in expr) and any(
        i not in _MAKERS and not _FIXED_INT.fullmatch(i) for i in _IDENT.findall(expr))


def popcount(v: int) -> int:
    return v.bit_count()


def bit_span(v: int) -> str:
    """``bit 8``, ``bits 8-15``, ``bits 10-15, 25-26``."""
    runs: list[tuple[int, int]] = []
    i = 0
    while v >> i:
        if (v >> i) & 1:
            j = i
            while (v >> (j + 1)) & 1:
                j += 1
            runs.append((i, j))
            i = j + 1
        else:
            i += 1
    if not runs:
        return "no bits"
    if len(runs) == 1 and runs[0][0] == runs[0][1]:
        return f"bit {runs[0][0]}"
    return "bits " + ", ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in runs)


def is_contiguous(v: int) -> bool:
    if v == 0:
        return True
    low = v & -v
    return (v + low) & v == 0
