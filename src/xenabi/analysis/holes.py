"""Implicit padding: the bits of a record that none of its fields take, as pahole shows them.

One computation for the ``holes`` rule, ``xenabi dump``'s ``(hole)`` rows and
the gate's "a field placed in what was padding". A record's fields are
walked in declaration order (:class:`~xenabi.model.FieldLayout` lists every
``offsetof()`` designator, members after the member that holds them); a
member that has members gives way to them, except an array, whose members
are listed for element 0 only and which is taken whole. Each alternative of
a union is walked on its own: bytes one alternative leaves unused are
padding of that alternative even where a longer one covers them
(``evtchn_status.u.interdomain`` has 2 bytes after ``dom`` though ``u.pirq``
spans them), since whoever fills in that alternative leaves them as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from xenabi.model import FieldLayout, RecordLayout, RecordRef


@dataclass(frozen=True, slots=True)
class Hole:
    after: str | None  #: the field the hole follows (None: at the start)
    before: str | None  #: the field that follows it (None: tail padding)
    offset_bits: int
    size_bits: int

    @property
    def tail(self) -> bool:
        """After the last field, up to the record's size."""
        return self.before is None

    @property
    def end_bits(self) -> int:
        return self.offset_bits + self.size_bits


@dataclass(slots=True)
class _Scope:
    """A member whose members are being walked: a struct, or a union whose alternatives
    each start at its start."""

    prefix: str  #: its members' names start with this (``u.``; ``""`` for a union record)
    start: int
    end: int
    union: bool
    entry: str | None  #: the field before it
    reach: int  #: of a union: the furthest an alternative walked so far reaches
    last: str | None  #: the field that reaches there
    first: bool = True  #: of a union: no alternative walked yet

    def alternative(self, reach: int, last: str | None) -> tuple[int, str | None]:
        """Where the next alternative starts from, once the one before reached ``reach``
        (the first goes on from the fields before the union: a hole before it is theirs)."""
        if self.first:
            self.first = False
            return reach, last
        if reach > self.reach:
            self.reach, self.last = reach, last
        return self.start, self.entry

    def close(self, reach: int, last: str | None) -> tuple[int, str | None]:
        """Where its walk ends: for a union, the furthest alternative's end."""
        if self.union and self.reach > reach:
            return self.reach, self.last
        return reach, last


def _is_union(f: FieldLayout) -> bool:
    t = f.canonical_ctype
    return isinstance(t, RecordRef) and t.key.startswith("union ")


def _has_members(fields: tuple[FieldLayout, ...]) -> frozenset[str]:
    """The designators whose members follow as ``name.member``."""
    names = {f.name for f in fields}
    return frozenset(n.rpartition(".")[0] for n in names if "." in n) & names


@lru_cache(maxsize=1 << 16)  # the 8 snapshots of a tree share most records
def holes(rec: RecordLayout) -> tuple[Hole, ...]:
    """Every hole of ``rec``, in declaration order, the tail padding last."""
    if not rec.fields:
        return ()
    inner = _has_members(rec.fields)
    out: list[Hole] = []
    reach, last = 0, None
    #: a member's tail padding, not yet placed: it joins the gap up to the next leaf
    tail: tuple[int, int] | None = None
    scopes = [_Scope("", 0, rec.size * 8, rec.kind == "union", None, 0, None)]

    #: an alternative's tail padding that a longer alternative ends beyond: (after, start, end)
    inside: list[tuple[str | None, int, int]] = []

    def close() -> None:
        nonlocal reach, last, tail
        scope = scopes.pop()
        walked, walked_last = reach, last
        reach, last = scope.close(reach, last)
        if tail and reach > walked:
            inside.append((walked_last, tail[0], tail[1]))
            tail = None
        if reach < scope.end:
            tail = (tail[0] if tail else reach, scope.end)
            reach = scope.end

    def place(before: str | None, upto: int) -> None:
        """The holes before ``before``: tails left inside a union, then the one up to
        ``upto`` (a tail still unplaced, and the gap after it)."""
        nonlocal tail
        out.extend(Hole(after, before, a, b - a) for after, a, b in inside)
        inside.clear()
        start = tail[0] if tail else reach
        if upto > start:
            out.append(Hole(last, before, start, upto - start))
        tail = None

    for f in rec.fields:
        holder = f.name.rpartition(".")[0]
        if "[" in holder and holder not in inner:
            continue  # a member of an array's element 0: the array is taken whole
        while not f.name.startswith(scopes[-1].prefix):
            close()
        scope = scopes[-1]
        if scope.union and "." not in f.name[len(scope.prefix):]:  # a new alternative
            if not scope.first:
                place(f.name, reach)  # what the alternative before left at its end
            reach, last = scope.alternative(reach, last)
        if f.name in inner:  # its members follow and take its bytes
            scopes.append(_Scope(f.name + ".", f.offset_bits, f.offset_bits + f.size_bits,
                                 _is_union(f), last, reach, last))
            continue
        place(f.name, f.offset_bits)
        end = f.offset_bits + f.size_bits
        if end >= reach:
            reach, last = end, f.name
    while scopes:
        close()
    place(None, reach)
    return tuple(out)
