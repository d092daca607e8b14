"""The layout engine against clang on random records, for every target.

Hypothesis writes C: structs and unions of every scalar kind, nested and
anonymous records, arrays, bitfields (zero-width and unnamed ones of every
integer type), members with ``aligned(N)`` or ``packed`` in each of GNU C's
three places, typedefs with ``aligned(N)``, packed (by attribute or by
``#pragma pack``) and over-aligned records, flexible array members. xenabi
lays the text out (:func:`tests.sourcekit.layout_source`) and so does clang
(:func:`tests.oracle.clang.record_layouts`); every record, size, alignment
and ``offsetof()`` designator must agree on all four targets. A failure
prints the C text (shrunk) and the target.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from tests.oracle.clang import record_layouts
from tests.sourcekit import layout_source
from xenabi.targets import TARGETS

# When a test fails, hypothesis's pytest plugin imports libcst to write a patch
# of the failing example; libcst's import warns (mypy_extensions.TypedDict), and
# the project's filterwarnings=error would turn the report into an INTERNALERROR
pytestmark = pytest.mark.filterwarnings(
    "ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning")

PRELUDE = "#include <stdint.h>\nenum e { E0, E1 = 300 };\n"

#: integer types with their width in bits (a bitfield of each may be declared)
INTEGERS = {"char": 8, "signed char": 8, "unsigned char": 8, "_Bool": 1,
            "short": 16, "unsigned short": 16, "int": 32, "unsigned int": 32,
            "long": 32, "unsigned long": 32,  # 32 bits is the width every target allows
            "long long": 64, "unsigned long long": 64,
            "uint8_t": 8, "int16_t": 16, "uint32_t": 32, "int64_t": 64, "uint64_t": 64}
SCALARS = [*INTEGERS, "float", "double", "long double", "void *", "char *", "enum e"]
ALIGNS = [1, 2, 4, 8, 16, 32]


class Unit:
    """What a generated unit shares: member names and the typedefs its records use.

    Member names are unique in the whole unit, since anonymous members share
    their parent's scope.
    """

    def __init__(self) -> None:
        self._n = itertools.count()
        self.typedefs: list[str] = []

    def name(self) -> str:
        return f"m{next(self._n)}"

    def aligned_typedef(self, t: str, align: int) -> str:
        """A typedef of ``t`` with ``aligned(align)`` (GNU C lets it lower the alignment too)."""
        name = f"a{len(self.typedefs)}_t"
        self.typedefs.append(f"typedef {t} {name} __attribute__((aligned({align})));")
        return name


#: a member as C text, and whether it names anything (an unnamed bitfield does not)
Member = tuple[str, bool]


@st.composite
def bitfield(draw: st.DrawFn, unit: Unit) -> Member:
    t = draw(st.sampled_from(list(INTEGERS)))
    width = draw(st.integers(0, INTEGERS[t]))
    if width > 0 and draw(st.booleans()):
        return f"{t} {unit.name()} : {width};", True
    return f"{t} : {width};", False


@st.composite
def attributed_member(draw: st.DrawFn, unit: Unit) -> Member:
    """A member with ``aligned(N)`` or ``packed`` of its own, in one of GNU C's three places."""
    t, name = draw(st.sampled_from(SCALARS)), unit.name()
    attr = draw(st.sampled_from([f"aligned({n})" for n in ALIGNS] + ["packed"]))
    attr = f"__attribute__(({attr}))"
    # before the type, between type and declarator (Xen's uint64_aligned_t), after it
    return draw(st.sampled_from([f"{attr} {t} {name};", f"{t} {attr} {name};",
                                 f"{t} {name} {attr};"])), True


@st.composite
def record_attrs(draw: st.DrawFn) -> tuple[str, str]:
    """Attributes of a record, placed after the keyword or after the closing brace."""
    attrs = []
    if draw(st.booleans()):
        attrs.append("packed")
    if draw(st.booleans()):
        attrs.append(f"aligned({draw(st.sampled_from(ALIGNS))})")
    if not attrs:
        return "", ""
    text = f"__attribute__(({', '.join(attrs)}))"
    return (text, "") if draw(st.booleans()) else ("", text)


@st.composite
def member(draw: st.DrawFn, unit: Unit, earlier: tuple[str, ...], depth: int) -> Member:
    kinds = ["scalar", "array", "bitfield", "attributed", "aligned typedef"]
    if earlier:
        kinds.append("earlier")
    if depth > 0:
        kinds += ["anonymous", "unnamed", "unnamed array"]
    kind = draw(st.sampled_from(kinds))
    if kind == "scalar":
        return f"{draw(st.sampled_from(SCALARS))} {unit.name()};", True
    if kind == "array":
        dims = "".join(f"[{n}]" for n in draw(st.lists(st.integers(1, 3), min_size=1,
                                                        max_size=2)))
        return f"{draw(st.sampled_from(SCALARS))} {unit.name()}{dims};", True
    if kind == "bitfield":
        return draw(bitfield(unit))
    if kind == "attributed":
        return draw(attributed_member(unit))
    if kind == "aligned typedef":
        t = unit.aligned_typedef(draw(st.sampled_from(SCALARS)), draw(st.sampled_from(ALIGNS)))
        return f"{t} {unit.name()};", True
    if kind == "earlier":
        dims = draw(st.sampled_from(["", "[2]"]))
        return f"{draw(st.sampled_from(earlier))} {unit.name()}{dims};", True
    keyword = draw(st.sampled_from(["struct", "union"]))
    before, after = draw(record_attrs())
    body = draw(members(unit, earlier, depth - 1))
    inner = f"{keyword} {before} {{ {' '.join(body)} }} {after}"
    if kind == "anonymous":
        return f"{inner};", True
    return f"{inner} {unit.name()}{'[2]' if kind == 'unnamed array' else ''};", True


@st.composite
def members(draw: st.DrawFn, unit: Unit, earlier: tuple[str, ...], depth: int) -> list[str]:
    """A record's body; it names at least one member (GNU C's empty struct is not tested)."""
    body = draw(st.lists(member(unit, earlier, depth), min_size=1, max_size=5))
    texts = [text for text, _ in body]
    if not any(named for _, named in body):
        texts.append(f"int {unit.name()};")
    return texts


@st.composite
def c_unit(draw: st.DrawFn) -> str:
    """A few records; later ones may use earlier ones; a struct may end in a flexible array.

    A record may also sit under ``#pragma pack(N)``, the other way to pack.
    """
    unit = Unit()
    records: list[str] = []
    usable: list[str] = []  # records that may be members (none with a flexible array)
    for i in range(draw(st.integers(1, 3))):
        keyword = draw(st.sampled_from(["struct", "union"]))
        before, after = draw(record_attrs())
        body = draw(members(unit, tuple(usable), depth=2))
        flexible = keyword == "struct" and draw(st.booleans()) and draw(st.booleans())
        if flexible:
            body.append(f"{draw(st.sampled_from(SCALARS))} {unit.name()}[];")
        text = "\n  ".join(body)
        if draw(st.booleans()):
            text, name = f"{keyword} {before} r{i} {{\n  {text}\n}} {after};", f"{keyword} r{i}"
        else:
            text, name = f"typedef {keyword} {before} {{\n  {text}\n}} {after} t{i};", f"t{i}"
        pack = draw(st.sampled_from([None, None, None, 1, 2, 4]))
        if pack is not None:
            text = f"#pragma pack(push, {pack})\n{text}\n#pragma pack(pop)"
        records.append(text)
        if not flexible:
            usable.append(name)
    return PRELUDE + "".join(t + "\n" for t in unit.typedefs + records)


def _facts(layout: dict[str, object]) -> list[tuple[object, ...]]:
    fields = layout["fields"]
    assert isinstance(fields, list)
    return [("size", layout["size"]), ("align", layout["align"]),
            *((f["name"], f["offset_bits"], f["size_bits"], f["bitfield"]) for f in fields)]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(c_unit())
def test_layout_matches_clang(c_text: str) -> None:
    note(c_text)
    for arch, target in TARGETS.items():
        clang = record_layouts(target.clang_triple, c_text)
        ours = layout_source(c_text, arch)
        assert sorted(ours) == sorted(clang), f"{arch}: records differ\n{c_text}"
        for key, rec in clang.items():
            mine = ours[key]
            got = [("size", mine.size), ("align", mine.align),
                   *((f.name, f.offset_bits, f.size_bits, f.bitfield) for f in mine.fields)]
            assert got == _facts(rec), (
                f"{arch}: {key} differs from clang (left: xenabi, right: clang)\n{c_text}")
