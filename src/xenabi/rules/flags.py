"""Rule ``flags``: every flag family is a set of distinct bits that keeps out of its reserved masks.

What a flag family is, and how its members sort into flags and masks, is
:mod:`xenabi.analysis.flagfamilies`. The checks, each a function over one family: :func:`single_bit`,
:func:`disjoint`, :func:`outside_reserved`, :func:`contiguous`. Every
finding is an error: a flag that shares a bit or sits in a reserved range
changes the meaning of values already in use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from xenabi.analysis.context import Context
from xenabi.analysis.families import Member, bit_span, is_contiguous, popcount
from xenabi.analysis.flagfamilies import FlagFamily, flag_families
from xenabi.model import Finding, Severity
from xenabi.rules.registry import rule
from xenabi.tree import XenTree

RULE = "flags"

# --------------------------------------------------------------------------
# The checks

Where = tuple[XenTree, str, str]  #: the tree, the arch and the view a finding is about


def _finding(where: Where, fam: FlagFamily, line: int, message: str, *symbols: str) -> Finding:
    tree, arch, view = where
    return Finding(RULE, Severity.ERROR, message, tree.finding_path(fam.family.header), line,
                   symbols, (arch,), (view,))


def _desc(m: Member) -> str:
    return f"{m.name} ({bit_span(m.value)})"


def single_bit(fam: FlagFamily, where: Where) -> Iterator[Finding]:
    """A flag has one bit, unless it is a value of a declared multi-bit field."""
    for m in fam.flags:
        if popcount(m.value) > 1 and not fam.fields_of(m):
            yield _finding(where, fam, m.line,
                           f"{_desc(m)} is not a single bit and lies in no mask of the "
                           f"{fam.family.prefix}* family", m.name)


def _same_name(a: str, b: str) -> bool:
    """``VGCF_IN_KERNEL`` and ``VGCF_in_kernel``: one flag under two spellings."""
    return a.lower() == b.lower()


def disjoint(fam: FlagFamily, where: Where) -> Iterator[Finding]:
    """No two flags share a bit; no two values of one field are equal."""
    loose = [m for m in fam.flags if not fam.fields_of(m)]
    for i, m in enumerate(loose):
        for prev in loose[:i]:
            shared = m.value & prev.value
            if shared and not _same_name(m.name, prev.name):
                yield _finding(where, fam, m.line,
                               f"{_desc(m)} shares {bit_span(shared)} with {prev.name} "
                               f"(line {prev.line})", m.name, prev.name)
                break
    for k in fam.masks:
        values = [m for m in fam.flags if k in fam.fields_of(m)]
        for i, m in enumerate(values):
            same = next((p for p in values[:i] if p.value == m.value
                         and not _same_name(p.name, m.name)), None)
            if same is not None:
                yield _finding(where, fam, m.line,
                               f"{m.name} ({m.value:#x}) has the value of {same.name} "
                               f"(line {same.line}) in the field {k.member.name}",
                               m.name, same.name)


def outside_reserved(fam: FlagFamily, where: Where) -> Iterator[Finding]:
    """No flag, and no other mask, reaches into a reserved mask of the family."""
    reserved = [k for k in fam.masks if k.reserved]
    others = [*fam.flags, *(k.member for k in fam.masks if not k.reserved)]
    bits = {k.member.name: k.bits for k in fam.masks}
    for r in reserved:
        for m in others:
            v = bits.get(m.name, m.value)
            if v & r.bits:
                how = "lies inside" if v & ~r.bits == 0 else "overlaps"
                yield _finding(where, fam, m.line,
                               f"{m.name} ({bit_span(v)}) {how} {r.member.name} "
                               f"({bit_span(r.bits)}, line {r.member.line})",
                               m.name, r.member.name)


def contiguous(fam: FlagFamily, where: Where) -> Iterator[Finding]:
    """A mask is one run of bits."""
    for k in fam.masks:
        if not is_contiguous(k.bits):
            yield _finding(where, fam, k.member.line,
                           f"{k.member.name} ({k.bits:#x}) is not one run of bits: "
                           f"{bit_span(k.bits)}", k.member.name)


CHECKS: Mapping[str, Callable[[FlagFamily, Where], Iterator[Finding]]] = {
    "single_bit": single_bit, "disjoint": disjoint, "reserved": outside_reserved,
    "contiguous": contiguous,
}


@rule(RULE, "flag families: single bits, no shared bits, nothing inside a reserved mask, "
            "contiguous masks", severities=(Severity.ERROR,), scope="header")
def check_flags(ctx: Context) -> Iterator[Finding]:
    for arch, view, snap in ctx.each():
        for fam in flag_families(ctx, snap):
            for check in CHECKS.values():
                yield from check(fam, (ctx.tree, arch, view))

