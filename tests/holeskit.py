"""A plain reference for the holes of a record without unions (xenabi/analysis/holes.py,
where each alternative of a union is walked on its own; clang's -Wpadded checks those in
abi_tests/test_clang_oracle.py): the runs of the record's bits that no field covers,
where a field counts if it is a leaf (no member of it is listed) or an array (its
elements' members are listed for element 0 only, so the array stands for all of them),
and nothing inside an array counts; a run ends where a field starts, even a field of no
size (a flexible array member), since a hole is named by what it follows. A bitmap, one
bit at a time: slow and obviously right."""

from __future__ import annotations

from xenabi.model import RecordLayout


def reference_holes(rec: RecordLayout) -> list[tuple[int, int, bool]]:
    """(offset in bits, size in bits, tail) of every hole, in offset order."""
    if not rec.fields:
        return []
    names = [f.name for f in rec.fields]
    arrays = {f.name for f in rec.fields if f.type.endswith("]")}

    def has_members(name: str) -> bool:
        return any(n.startswith((name + ".", name + "[")) for n in names)

    def inside_array(name: str) -> bool:
        return any(name.startswith((a + ".", a + "[")) for a in arrays)

    covered = [False] * (rec.size * 8)
    starts: set[int] = set()
    last_end = 0
    for f in rec.fields:
        if inside_array(f.name) or (has_members(f.name) and f.name not in arrays):
            continue
        starts.add(f.offset_bits)
        for bit in range(f.offset_bits, min(f.offset_bits + f.size_bits, len(covered))):
            covered[bit] = True
        last_end = max(last_end, f.offset_bits + f.size_bits)
    out: list[tuple[int, int, bool]] = []
    bit = 0
    while bit < len(covered):
        if covered[bit]:
            bit += 1
            continue
        start = bit
        bit += 1
        while bit < len(covered) and not covered[bit] and bit not in starts:
            bit += 1
        out.append((start, bit - start, start >= last_end))
    return out
