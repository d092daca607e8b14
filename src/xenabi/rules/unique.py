"""Rule ``unique``: the members of a numbering family have distinct values.

A numbering family is a family (see :mod:`xenabi.analysis.families`) that is
not a flag family and whose members are written as plain numbers:
hypercall numbers (``__HYPERVISOR_*``), VIRQs, HVM params, ``XENFEAT_*``,
ELF notes, the sub-operations of each hypercall (``EVTCHNOP_*``,
``XENMEM_*``), the reserved domain ids (``DOMID_*``). Two members with one
value are an error, except what the header declares to be an alias:

- a name defined as another name (``#define __HYPERVISOR_dom0_op
  __HYPERVISOR_platform_op``, ``#define XEN_DOMCTL_CDF_MAX
  XEN_DOMCTL_CDF_vpmu``);
- a bound or sentinel (``*_MAX``, ``NR_*``, ``*_FIRST_RESERVED``) and a mask
  (``DOMID_MASK``), which name a limit, not a member;
- two spellings of one name (``VGCF_IN_KERNEL``, ``VGCF_in_kernel``), or two
  lines with the same comment (``FLAT_RING3_DS32`` and ``FLAT_RING3_SS32``,
  each ``/* GDT index 261 */``);
- a bit of the numbered field (``PSR_MODE_BIT``).

Like flags, a family splits where a paragraph of two or more members
starts its values over (the 64-bit ``PSR_MODE_*`` after the 32-bit ones, the
OUT values of ``xen_mc_fetch.flags`` after the IN values).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache, partial

from xenabi.analysis.context import Context
from xenabi.analysis.families import (
    Family,
    HeaderFamilies,
    Member,
    header_families,
    is_composite,
    is_mask_name,
    is_reserved_name,
    is_sentinel,
    split_restarts,
)
from xenabi.analysis.flagfamilies import header_flag_families
from xenabi.analysis.headertext import HeaderText
from xenabi.model import Finding, Severity, Snapshot
from xenabi.rules.registry import rule
from xenabi.tree import XenTree

RULE = "unique"

#: ``12``, ``0x7FF0U``, ``(-2)``, ``xen_mk_uint(0x7FF0)``, ``(uint16_t)0x7FF0``
_NUMBER = re.compile(r"\(?\s*(?:xen_mk_u?l?l?(?:int|long)\s*\(|\(\s*u?int\d+_t\s*\)\s*)?"
                     r"\s*-?\s*(?:0[xX][0-9a-fA-F]+|\d+)[uUlL]*\s*\)?\s*\)?")


@dataclass(frozen=True, slots=True)
class Numbering:
    family: Family
    members: tuple[Member, ...]  #: the members that take part (aliases and bounds left out)
    text: HeaderText = field(compare=False, repr=False)  #: its header's, for the comments

    @property
    def id(self) -> str:
        return self.family.id


@lru_cache(maxsize=1 << 15)
def is_number(expr: str) -> bool:
    return bool(_NUMBER.fullmatch(expr.strip()))


def _takes_part(m: Member) -> bool:
    return (is_number(m.expr) and not is_sentinel(m.name, lowercase=True)
            and not is_mask_name(m.name) and not is_bit_name(m.name)
            and not is_reserved_name(m.name) and not is_composite(m.expr))


def is_bit_name(name: str) -> bool:
    """``PSR_MODE_BIT``: a bit of the field the family numbers, not a number of it."""
    return "BIT" in name.split("_")


def _header_numberings(ctx: Context, hf: HeaderFamilies) -> list[Numbering]:
    flagged = {m.name for f in header_flag_families(ctx, hf) for m in f.family.members}
    out = []
    for whole in hf.families:
        if any(m.name in flagged for m in whole.members):
            continue
        for fam in split_restarts(whole, hf.text):
            members = tuple(m for m in fam.members if _takes_part(m))
            if len(members) >= 2:
                out.append(Numbering(fam, members, hf.text))
    return out


def numberings(ctx: Context, snap: Snapshot) -> list[Numbering]:
    """The numbering families of a snapshot of the run: every family that is not a flag
    family."""
    return [n for hf in header_families(ctx, snap)
            for n in ctx.memo(("unique", hf), partial(_header_numberings, ctx, hf))]


def _declared_same(a: Member, b: Member, text: HeaderText) -> bool:
    """Two spellings of one name, or two lines whose comments say the same thing."""
    if a.name.lower() == b.name.lower():
        return True
    note = text.trailing_comment(a.line)
    return bool(note) and note == text.trailing_comment(b.line)


def duplicates(num: Numbering, where: tuple[XenTree, str, str]) -> Iterator[Finding]:
    """Each member whose value an earlier member of the family already has."""
    tree, arch, view = where
    first: dict[int, Member] = {}
    for m in num.members:
        prev = first.setdefault(m.value, m)
        if prev is m or _declared_same(prev, m, num.text):
            continue
        yield Finding(RULE, Severity.ERROR,
                      f"{m.name} ({m.value:#x}) has the value of {prev.name} (line {prev.line}) "
                      f"in the {num.family.prefix}* numbering",
                      tree.finding_path(num.family.header), m.line, (m.name, prev.name),
                      (arch,), (view,))


@rule(RULE, "numbering families (hypercalls, VIRQs, HVM params, sub-ops, domain ids...) "
            "have distinct values except declared aliases", severities=(Severity.ERROR,),
      scope="header")
def check_unique(ctx: Context) -> Iterator[Finding]:
    for arch, view, snap in ctx.each():
        for num in numberings(ctx, snap):
            yield from duplicates(num, (ctx.tree, arch, view))
