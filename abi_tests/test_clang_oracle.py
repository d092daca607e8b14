"""xenabi's snapshots against clang: every record, field, constant and header clang sees.

For every target and view, on the tree under test (``xen_tree``: the source
tree by default) and on Debian's installed layout (``/usr/include/xen``),
the snapshot is compared with :func:`tests.oracle.clang.tree_oracle`, which
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

import pytest

from tests.oracle.clang import Oracle, tree_oracle
from xenabi.model import RecordLayout, Snapshot, Status, spell
from xenabi.targets import TARGETS, VIEWS
from xenabi.tree import XenTree

#: what libxen-dev installs beside the public headers (DESIGN.md, "Real Xen
#: trees"): Linux driver and libxc interfaces, no part of the public ABI
NOT_PUBLIC = ("evtchn.h", "gntalloc.h", "gntdev.h", "privcmd.h", "sys/", "foreign/")

LAYOUTS = ("tree", "installed")
CASES = [(layout, arch, view) for layout in LAYOUTS for arch in TARGETS for view in VIEWS]


@dataclass(frozen=True)
class Case:
    layout: str  #: ``tree`` (the tree under test) or ``installed``
    arch: str
    view: str
    snapshot: Snapshot
    oracle: Oracle

    @property
    def where(self) -> str:
        return f"{self.arch} {self.view}"


@pytest.fixture(scope="session")
def installed_snapshots(installed_tree: XenTree, xen_arches: tuple[str, ...]
                        ) -> dict[tuple[str, str], Snapshot]:
    from xenabi.snapshot import take_all

    return take_all(installed_tree, xen_arches)


@pytest.fixture(params=CASES, ids=["-".join(c) for c in CASES])
def case(request: pytest.FixtureRequest, xen_arches: tuple[str, ...]) -> Case:
    layout, arch, view = request.param
    if arch not in xen_arches:
        pytest.skip(f"{arch} not chosen with --xen-arch")
    if layout == "tree":
        tree: XenTree = request.getfixturevalue("xen_tree")
        snapshots = request.getfixturevalue("xen_snapshots")
    else:
        tree = request.getfixturevalue("installed_tree")
        snapshots = request.getfixturevalue("installed_snapshots")
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
