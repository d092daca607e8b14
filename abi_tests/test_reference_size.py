"""xenabi's struct sizes against Xen's own table, ``tools/include/xen-foreign/reference.size``.

Xen's build prints that table from the foreign headers it generates for
every arch (tools view). Each cell must equal the size in xenabi's tools
snapshot of that arch; a ``-`` cell says the arch has no such struct, so
the snapshot must not have it either. An installed layout carries no such
table: the test says so and skips.
"""

from __future__ import annotations

import pytest

from tests.oracle import read_reference_size
from xenabi.model import Snapshot
from xenabi.targets import TARGETS
from xenabi.tree import XenTree


@pytest.mark.needs("reference.size")
@pytest.mark.parametrize("arch", TARGETS)
def test_reference_size(arch: str, xen_tree: XenTree, xen_arches: tuple[str, ...],
                        request: pytest.FixtureRequest) -> None:
    path = xen_tree.reference_size
    assert path is not None, "deselected where the tree has none (needs)"
    if arch not in xen_arches:
        pytest.skip(f"{arch} not chosen with --xen-arch")
    table = read_reference_size(path)
    columns = {a for row in table.values() for a in row}
    unknown = columns - set(TARGETS)
    assert not unknown, f"{path}: arch columns that are no xenabi target: {sorted(unknown)}"
    if arch not in columns:
        pytest.skip(f"{path} has no column for {arch}")
    # asked for only now: a tree without the table needs no snapshots
    snapshots: dict[tuple[str, str], Snapshot] = request.getfixturevalue("xen_snapshots")
    snapshot = snapshots[arch, "tools"]
    problems = []
    for struct, row in table.items():
        rec = snapshot.records.get(f"struct {struct}")
        ours = None if rec is None else rec.size
        if ours != row[arch]:
            problems.append(f"{arch}: struct {struct}: "
                            f"{'absent' if ours is None else ours} (xenabi) vs "
                            f"{'absent' if row[arch] is None else row[arch]} (reference.size)")
    print(f"{arch}: {len(table)} structs of reference.size compared")
    assert not problems, "\n".join(problems)
