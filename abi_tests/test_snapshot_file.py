"""The real tree's ``xenabi snapshot`` file and every ``xenabi dump --format json``
read back by load_snapshot and written again byte for byte."""

from __future__ import annotations

import pytest

from xenabi.cli import main
from xenabi.snapshotfile import load_snapshot
from xenabi.targets import TARGETS, VIEWS
from xenabi.tree import XenTree


def test_snapshot_file_round_trips(xen_tree: XenTree, tmp_path) -> None:
    out = tmp_path / "snapshot.json"
    assert main(["snapshot", "--xen-root", str(xen_tree.root), "-o", str(out)]) == 0
    loaded = load_snapshot(out)
    assert set(loaded.snapshots) == {(a, v) for a in TARGETS for v in VIEWS}
    assert loaded.to_text() == out.read_text()


@pytest.mark.parametrize("arch", list(TARGETS))
@pytest.mark.parametrize("view", list(VIEWS))
def test_dump_file_round_trips(xen_tree: XenTree, tmp_path, arch: str, view: str) -> None:
    out = tmp_path / "dump.json"
    assert main(["dump", "--xen-root", str(xen_tree.root), "--arch", arch, "--view", view,
                 "-o", str(out)]) == 0
    assert load_snapshot(out).to_text() == out.read_text()
