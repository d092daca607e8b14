"""Rule ``flags``: every flag family is a set of distinct bits that keeps out of its reserved masks.

A flag family is a family (see :mod:`xenabi.rules.families`) whose members
are defined as shifts (``(1<<4)``, ``(1U<<_XEN_DOMCTL_CDF_hvm)``), or whose
name, introducing comment or struct field says it holds flags
(``VM_EVENT_FLAG_*``, "Notify flags", ``uint32_t flags;``). Its members are
sorted into

- *masks*: a name ending in ``mask`` and more than one bit (``SIF_PM_MASK``,
  ``GTF_type_mask``), or one bit in a family that also has a 0 (a one-bit field:
  ``XEN_DOMCTL_GSI_ACTION_MASK``, whose values are ``XEN_DOMCTL_GSI_REVOKE`` 0 and
  ``_GRANT`` 1; ``PSR_IRQ_MASK``, with no 0 beside it, is a flag); a mask whose comment or name says it is reserved
  (``/* reserve 1 byte for xen-pm options */``) is a *reserved* mask, any
  other mask declares a multi-bit field whose values are members too
  (``GTF_permit_access`` inside ``GTF_type_mask``); a mask paired with a
  ``*SHIFT`` constant of the same stem covers its bits shifted;
- *flags*: the rest, except aliases (``#define XEN_DOMCTL_CDF_MAX
  XEN_DOMCTL_CDF_vpmu``), combinations (``MEM_ACCESS_RW``), bounds
  (``*_MAX``, ``*_SHIFT``) and zero.

The checks, each a function over one family: :func:`single_bit`,
:func:`disjoint`, :func:`outside_reserved`, :func:`contiguous`. Every
finding is an error: a flag that shares a bit or sits in a reserved range
changes the meaning of values already in use.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial

from xenabi.model import Constant, Finding, Severity, Snapshot
from xenabi.rules.families import (
    Family,
    HeaderFamilies,
    HeaderText,
    Member,
    alias_of,
    bit_span,
    header_families,
    is_composite,
    is_contiguous,
    is_mask_name,
    is_reserved_name,
    is_sentinel,
    numbered,
    popcount,
    split_restarts,
)
from xenabi.rules.registry import Context, rule
from xenabi.tree import XenTree

RULE = "flags"

_SAYS_FLAGS = re.compile(r"flag|\bFLG\b|_FLG_", re.IGNORECASE)
_SAYS_RESERVED = re.compile(r"\breserve", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Mask:
    member: Member
    bits: int  #: the bits it covers (shifted, when it pairs with a shift constant)
    reserved: bool


@dataclass(frozen=True, slots=True)
class FlagFamily:
    family: Family
    flags: tuple[Member, ...]
    masks: tuple[Mask, ...]

    @property
    def id(self) -> str:
        return self.family.id

    def fields_of(self, m: Member) -> list[Mask]:
        """The multi-bit fields (non-reserved masks) that hold all of ``m``'s bits."""
        return [k for k in self.masks if not k.reserved and m.value & ~k.bits == 0
                and k.member is not m]


# --------------------------------------------------------------------------
# Finding the flag families of a snapshot


def _shift_partner(name: str, value: int, consts: Mapping[str, Constant]) -> int:
    """The shift that goes with a mask: ``X_MASK`` with ``X_SHIFT``, ``Xmask`` with ``Xshift``."""
    if not value & 1:
        return 0  # already shifted into place: (0xfU<<28)
    for a, b in (("_MASK", "_SHIFT"), ("mask", "shift"), ("MASK", "SHIFT")):
        if name.endswith(a):
            c = consts.get(name[: -len(a)] + b)
            if c is not None and isinstance(c.value, int) and 0 <= c.value < 64:
                return c.value
    return 0


def _is_flag_family(fam: Family, values: list[Member], text: HeaderText) -> bool:
    if sum("<<" in m.expr for m in values) >= 2:
        return True
    said = " ".join([fam.prefix, fam.intro, fam.field or ""])
    return bool(_SAYS_FLAGS.search(said)) and all(popcount(m.value) == 1 for m in values)


def _sort(fam: Family, consts: Mapping[str, Constant], text: HeaderText
          ) -> tuple[list[Member], list[Mask]]:
    flags: list[Member] = []
    masks: list[Mask] = []
    # a one-bit field's values are 0 and its bit; without a 0 beside it, a one-bit *_MASK
    # is a flag that masks something (PSR_IRQ_MASK)
    has_zero = any(m.value == 0 and alias_of(m.expr) is None for m in fam.members)
    for m in fam.members:
        if alias_of(m.expr) is not None or is_composite(m.expr):
            continue
        if is_reserved_name(m.name) and m.value:
            masks.append(Mask(m, m.value, True))
        elif is_mask_name(m.name) and (popcount(m.value) > 1 or (m.value and has_zero)):
            bits = m.value << _shift_partner(m.name, m.value, consts)
            reserved = bool(_SAYS_RESERVED.search(fam.comment_of(text, m)))
            masks.append(Mask(m, bits, reserved))
        elif m.value and not is_sentinel(m.name):
            flags.append(m)
    return flags, masks


def _header_flag_families(hf: HeaderFamilies) -> list[FlagFamily]:
    out: list[FlagFamily] = []
    for fam in hf.families:
        for part in split_restarts(fam, hf.text):
            flags, masks = _sort(part, hf.consts, hf.text)
            if len(flags) + len(masks) >= 2 and _is_flag_family(part, flags, hf.text):
                out.append(FlagFamily(part, tuple(flags), tuple(masks)))
    ids = numbered([f.family for f in out])
    return [FlagFamily(fam, f.flags, f.masks) for fam, f in zip(ids, out)]


def header_flag_families(ctx: Context, hf: HeaderFamilies) -> list[FlagFamily]:
    """The flag families of one header, once per run (the unique rule asks too)."""
    return ctx.memo(("flags", hf), partial(_header_flag_families, hf))


def flag_families(ctx: Context, snap: Snapshot) -> list[FlagFamily]:
    """The flag families of a snapshot of the run (a family splits where a paragraph starts
    over)."""
    return [f for hf in header_families(ctx, snap) for f in header_flag_families(ctx, hf)]


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
            "contiguous masks", severities=(Severity.ERROR,))
def check_flags(ctx: Context) -> Iterator[Finding]:
    for arch, view, snap in ctx.each():
        for fam in flag_families(ctx, snap):
            for check in CHECKS.values():
                yield from check(fam, (ctx.tree, arch, view))

