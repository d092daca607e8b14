"""The real tree's ``xenabi snapshot`` file and every ``xenabi dump --format json``
read back by load_snapshot and written again byte for byte."""

from __future__ import annotations

import pytest

from xenabi.cli import main
from xenabi.diff import facts
from xenabi.model import Snapshot
from xenabi.snapshotfile import load_snapshot
from xenabi.targets import VIEWS, tree_arches
from xenabi.tree import XenTree


def test_snapshot_file_round_trips(xen_tree: XenTree, tmp_path) -> None:
    out = tmp_path / "snapshot.json"
    assert main(["snapshot", "--xen-root", str(xen_tree.root), "-o", str(out)]) == 0
    loaded = load_snapshot(out)
    assert set(loaded.snapshots) == {(a, v) for a in tree_arches(xen_tree.headers)
                                     for v in VIEWS}
    assert loaded.to_text() == out.read_text()


@pytest.mark.parametrize("view", list(VIEWS))
def test_dump_file_round_trips(xen_tree: XenTree, tmp_path, view: str) -> None:
    for arch in tree_arches(xen_tree.headers):
        out = tmp_path / f"dump-{arch}.json"
        assert main(["dump", "--xen-root", str(xen_tree.root), "--arch", arch, "--view", view,
                     "-o", str(out)]) == 0, arch
        assert load_snapshot(out).to_text() == out.read_text(), arch


def test_a_snapshot_read_back_has_no_change_from_the_one_written(
        xen_snapshots: dict[tuple[str, str], Snapshot]) -> None:
    # diff.compare passes over a target-view whose two sides are one snapshot: an equal
    # copy, compared value by value, must give what that gives, nothing
    for (arch, view), snap in xen_snapshots.items():
        again = Snapshot.from_json(snap.to_json())
        assert again == snap and again.constants is not snap.constants
        assert facts(snap, again) == [], (arch, view)
