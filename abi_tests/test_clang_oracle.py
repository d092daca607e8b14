"""xenabi's snapshots against clang: every record, field, constant and header clang sees.

For every target and view, on the tree under test (``xen_tree``: the source
tree by default), on Debian's installed layout (``/usr/include/xen``) and on
Debian 13's 4.20 headers (``headers/xen-4.20``, where riscv64 and ppc64 are;
a tree's cases are the targets it has), the snapshot is compared with :func:`tests.oracle.clang.tree_oracle`, which
compiles the raw headers with clang and shares nothing with xenabi. The
count runs over the oracle's enumeration (DESIGN.md, "Oracles"): a record,
field or constant clang has and the snapshot lacks is a disagreement; what
the snapshot has beyond clang (string macros, say) is not compared. Each
failure lists its disagreements one per line; the counts of what was
compared are printed in the terminal summary (see ``conftest.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.oracle.clang import Oracle, padding_bits, tree_oracle
from xenabi.analysis.holes import holes
from xenabi.model import RecordLayout, Snapshot, Status, spell
from xenabi.targets import TARGETS, VIEWS, tree_arches
from xenabi.tree import XenTree

#: what libxen-dev installs beside the public headers (DESIGN.md, "Real Xen
#: trees"): Linux driver and libxc interfaces, no part of the public ABI
NOT_PUBLIC = ("evtchn.h", "gntalloc.h", "gntdev.h", "privcmd.h", "sys/", "foreign/")

#: layout -> the fixture of its tree (and ``<fixture>_snapshots`` of its snapshots)
LAYOUTS = {"tree": "xen_tree", "installed": "installed_tree", "xen-4.20": "xen_420_tree"}


def _layout_arches(config: pytest.Config, layout: str) -> tuple[str, ...]:
    """The targets a layout's tree has; all of them when the tree is not there (its
    fixture then says why)."""
    from xenabi.errors import UsageError
    from xenabi.tree import find_tree, open_tree, project_headers_dir

    try:
        if layout == "tree":
            tree = find_tree(config.getoption("--xen-root"))
        elif layout == "installed":
            tree = open_tree("/usr/include/xen")
        else:
            tree = open_tree((project_headers_dir() or Path("headers")) / "xen-4.20")
    except UsageError:
        return tuple(TARGETS)
    return tree_arches(tree.headers)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" in metafunc.fixturenames:
        cases = [(layout, arch, view) for layout in LAYOUTS
                 for arch in _layout_arches(metafunc.config, layout) for view in VIEWS]
        metafunc.parametrize("case", cases, ids=["-".join(c) for c in cases], indirect=True)


@dataclass(frozen=True)
class Case:
    layout: str  #: ``tree`` (the tree under test), ``installed`` or ``xen-4.20``
    arch: str
    view: str
    snapshot: Snapshot
    oracle: Oracle

    @property
    def where(self) -> str:
        return f"{self.arch} {self.view}"


@pytest.fixture(scope="session")
def installed_snapshots(installed_tree: XenTree, request: pytest.FixtureRequest
                        ) -> dict[tuple[str, str], Snapshot]:
    from xenabi.run import snapshots

    return snapshots(installed_tree, request.config.getoption("xen_arch"))


@pytest.fixture(scope="session")
def xen_420_snapshots(xen_420_tree: XenTree, request: pytest.FixtureRequest
                      ) -> dict[tuple[str, str], Snapshot]:
    from xenabi.run import snapshots

    chosen = request.config.getoption("xen_arch")
    return snapshots(xen_420_tree, [a for a in chosen or () if a in
                                    tree_arches(xen_420_tree.headers)] or None)


@pytest.fixture
def case(request: pytest.FixtureRequest) -> Case:
    layout, arch, view = request.param
    chosen = request.config.getoption("xen_arch")
    if chosen and arch not in chosen:
        pytest.skip(f"{arch} not chosen with --xen-arch")
    tree: XenTree = request.getfixturevalue(LAYOUTS[layout])
    snapshots = request.getfixturevalue("xen_snapshots" if layout == "tree"
                                        else LAYOUTS[layout].replace("_tree", "_snapshots"))
    exclude = NOT_PUBLIC if tree.kind == "installed" else ()
    oracle = tree_oracle(tree.public, TARGETS[arch].clang_triple, view, exclude=exclude)
    return Case(layout, arch, view, snapshots[arch, view], oracle)


def record_disagreements(where: str, clang: Mapping[str, Mapping[str, object]],
                         xenabi: Mapping[str, RecordLayout]) -> tuple[list[str], int, int]:
    """Disagreements over clang's records, and how many records and fields were compared."""
    problems: list[str] = []
    fields = 0
    for key, rec in sorted(clang.items()):
        ours = xenabi.get(key)
        if ours is None:
            problems.append(f"{where}: {key} ({rec['header']}:{rec['line']}) missing in xenabi")
            continue
        for what in ("size", "align"):
            if getattr(ours, what) != rec[what]:
                problems.append(f"{where}: {key}: {what} {getattr(ours, what)} (xenabi) "
                                f"vs {rec[what]} (clang)")
        theirs = rec["fields"]
        assert isinstance(theirs, list)
        ours_by_name = {f.name: f for f in ours.fields}
        for f in theirs:
            fields += 1
            mine = ours_by_name.get(f["name"])
            if mine is None:
                problems.append(f"{where}: {key} field {f['name']}: missing in xenabi")
                continue
            for what, label in (("offset_bits", "offset"), ("size_bits", "size"),
                                ("bitfield", "bitfield")):
                if getattr(mine, what) != f[what]:
                    problems.append(f"{where}: {key} field {f['name']}: {label} "
                                    f"{getattr(mine, what)} (xenabi) vs {f[what]} (clang)")
        names = [f["name"] for f in theirs]
        extra = [f.name for f in ours.fields if f.name not in set(names)]
        if extra:
            problems.append(f"{where}: {key}: fields clang does not have: {', '.join(extra)}")
        elif [f.name for f in ours.fields] != names:
            problems.append(f"{where}: {key}: fields not in declaration order: "
                            f"{[f.name for f in ours.fields]} (xenabi) vs {names} (clang)")
    return problems, len(clang), fields


def test_records_match_clang(case: Case, oracle_counts: dict) -> None:
    problems, records, fields = record_disagreements(case.where, case.oracle.records,
                                                     case.snapshot.records)
    counts = oracle_counts.setdefault((case.layout, case.arch, case.view), {})
    counts.update(records=records, fields=fields)
    print(f"{case.layout} {case.where}: {records} records, {fields} fields compared")
    assert records, "clang found no records: the oracle compiled nothing"
    assert not problems, f"{len(problems)} disagreements with clang:\n" + "\n".join(problems)


#: clang's spelling of a record or enum with no name: ``struct (unnamed at f.h:3:5)``,
#: ``union s::(unnamed at f.h:4:5)``
_UNNAMED = re.compile(r"\b(struct|union|enum) (?:\w+::)*\((?:unnamed|anonymous)[^)]*\)")


def clang_spelling(spelled: str) -> str:
    """clang's canonical spelling as xenabi spells it. The normalisations, both of spelling:
    qualifiers dropped (xenabi's types have none: ``const`` changes no layout), and a
    record or enum with neither tag nor typedef name is ``struct {...}``, not its position."""
    spelled = " ".join(w for w in spelled.split() if w not in ("const", "volatile"))
    spelled = _UNNAMED.sub(lambda m: f"{m.group(1)} {{...}}", spelled)
    return spelled


def test_field_types_match_clang(case: Case, oracle_counts: dict) -> None:
    """Every field's canonical type (typedefs resolved) is the type clang sees."""
    snap = case.snapshot
    problems: list[str] = []
    n = 0
    for key, rec in sorted(case.oracle.records.items()):
        ours = snap.records.get(key)
        if ours is None:
            continue  # test_records_match_clang reports it
        for f in rec["fields"]:
            mine = ours.field(f["name"])
            if mine is None:
                continue
            n += 1
            want = clang_spelling(f["canonical"])
            if mine.canonical_type != want:
                problems.append(f"{case.where}: {key} field {f['name']}: "
                                f"{mine.canonical_type} (xenabi) vs {want} (clang)")
    oracle_counts.setdefault((case.layout, case.arch, case.view), {})["field types"] = n
    assert n, "clang found no fields"
    assert not problems, f"{len(problems)} disagreements with clang:\n" + "\n".join(problems)


def test_typedef_types_match_clang(case: Case, oracle_counts: dict) -> None:
    """Every typedef's canonical type is the type clang sees."""
    problems: list[str] = []
    for name, td in sorted(case.oracle.typedefs.items()):
        ours = case.snapshot.typedefs.get(name)
        if ours is None:
            problems.append(f"{case.where}: typedef {name} ({td['header']}:{td['line']}) "
                            "missing in xenabi")
            continue
        want = clang_spelling(str(td["canonical"]))
        if ours.canonical_type != want:
            problems.append(f"{case.where}: typedef {name}: {ours.canonical_type} (xenabi) "
                            f"vs {want} (clang)")
    n = len(case.oracle.typedefs)
    oracle_counts.setdefault((case.layout, case.arch, case.view), {})["typedefs"] = n
    assert n, "clang found no typedefs"
    assert not problems, f"{len(problems)} disagreements with clang:\n" + "\n".join(problems)


def test_constants_match_clang(case: Case, oracle_counts: dict) -> None:
    problems: list[str] = []
    for name, c in sorted(case.oracle.constants.items()):
        ours = case.snapshot.constants.get(name)
        if ours is None:
            problems.append(f"{case.where}: {name} ({c['header']}:{c['line']}) = {c['value']} "
                            "missing in xenabi")
            continue
        if ours.value != c["value"]:
            problems.append(f"{case.where}: {name}: value {ours.value!r} (xenabi) "
                            f"vs {c['value']} (clang)")
        if spell(ours.ctype) != c["type"]:
            problems.append(f"{case.where}: {name}: type {ours.ctype} (xenabi) "
                            f"vs {c['type']} (clang)")
    n = len(case.oracle.constants)
    oracle_counts.setdefault((case.layout, case.arch, case.view), {})["constants"] = n
    print(f"{case.layout} {case.where}: {n} constants compared")
    assert n, "clang found no constants: the oracle compiled nothing"
    assert not problems, f"{len(problems)} disagreements with clang:\n" + "\n".join(problems)


def test_headers_match_clang(case: Case, oracle_counts: dict) -> None:
    """What clang compiles xenabi parses; what clang rejects by design xenabi skips."""
    want: dict[str, Status] = {h: Status.PARSED for h in case.oracle.compiled}
    want.update({h: Status.SKIPPED for h in case.oracle.skipped})
    want.update({h: Status.FAILED for h in case.oracle.failed})
    problems = []
    for h, status in sorted(want.items()):
        ours = case.snapshot.headers.get(h)
        if ours is None or ours.status != status:
            why = case.oracle.skipped.get(h) or case.oracle.failed.get(h)
            problems.append(f"{case.where}: {h}: {ours.status.value if ours else 'not listed'} "
                            f"(xenabi) vs {status.value} (clang{': ' + why if why else ''})")
    if case.snapshot.interface_version != case.oracle.interface_version:
        problems.append(f"{case.where}: interface version {case.snapshot.interface_version:#x} "
                        f"(xenabi) vs {case.oracle.interface_version:#x} (clang)")
    oracle_counts.setdefault((case.layout, case.arch, case.view), {})["headers"] = len(want)
    assert not problems, f"{len(problems)} disagreements with clang:\n" + "\n".join(problems)


def test_holes_are_the_padding_clang_adds(case: Case) -> None:
    """Every record's holes, counted in bits, are clang's ``-Wpadded`` padding of it: the
    check of :mod:`xenabi.analysis.holes` (each alternative of a union padded on its own,
    as clang pads it; a member of a named record type is that record's business, here
    and in clang). Records with an array of unnamed records are left out: the holes take
    an array whole, clang pads its element type."""
    clang = padding_bits(case.oracle)
    problems, left_out = [], 0
    for key in sorted(case.oracle.records):
        rec = case.snapshot.records[key]
        if any("{...}[" in f.type for f in rec.fields):
            left_out += 1
            continue
        ours = sum(h.size_bits for h in holes(rec))
        theirs = clang.get(key, 0)
        if ours != theirs:
            problems.append(f"{case.where}: {key}: {ours} bits of padding (xenabi holes) vs "
                            f"{theirs} (clang -Wpadded)")
    assert not problems, (f"{len(problems)} of {len(case.oracle.records) - left_out} records:\n"
                          + "\n".join(problems))
