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

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.oracle.clang import Oracle, tree_oracle
from xenabi.model import RecordLayout, Snapshot, Status
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
    from xenabi.snapshot import take_all

    return take_all(installed_tree, request.config.getoption("--arch"))


@pytest.fixture(scope="session")
def xen_420_snapshots(xen_420_tree: XenTree, request: pytest.FixtureRequest
                      ) -> dict[tuple[str, str], Snapshot]:
    from xenabi.snapshot import take_all

    chosen = request.config.getoption("--arch")
    return take_all(xen_420_tree, [a for a in chosen or () if a in
                                   tree_arches(xen_420_tree.headers)] or None)


@pytest.fixture
def case(request: pytest.FixtureRequest) -> Case:
    layout, arch, view = request.param
    chosen = request.config.getoption("--arch")
    if chosen and arch not in chosen:
        pytest.skip(f"{arch} not chosen with --arch")
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
        if ours.ctype != c["type"]:
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
