"""Snapshots packed into one cache entry (xenabi.snapshotset), the entries that use it (a
tree's snapshots together, a parsed snapshot file), and the shortcuts of a warm diff:
each gives what the values computed afresh give, and a damaged entry is a miss."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.minitree import MINI, copy_mini
from tests.test_cache import CORRUPTIONS, xenabi_cli
from xenabi.diff import compare
from xenabi.model import Snapshot
from xenabi.sides import constant_families
from xenabi.snapshot import compute
from xenabi.snapshotset import pack, unpack
from xenabi.targets import VIEWS
from xenabi.tree import open_tree

PAIRS = [(a, v) for a in ("x86_32", "x86_64", "arm32") for v in VIEWS]


@pytest.fixture(scope="module")
def mini() -> dict[tuple[str, str], Snapshot]:
    tree = open_tree(MINI)
    return {p: compute(tree, *p) for p in PAIRS}


def _roundtrip(snaps: dict[tuple[str, str], Snapshot], sort: bool = False
               ) -> dict[tuple[str, str], Snapshot]:
    return unpack(json.loads(json.dumps(pack(snaps, sort))))


def test_unpack_gives_back_what_was_packed_in_its_order(
        mini: dict[tuple[str, str], Snapshot]) -> None:
    back = _roundtrip(mini)
    assert back == mini and list(back) == list(mini)
    for p, snap in mini.items():
        assert [list(t) for t in (back[p].records, back[p].constants, back[p].typedefs)] == [
            list(t) for t in (snap.records, snap.constants, snap.typedefs)]
        assert back[p].body() == snap.body()
    ordered = _roundtrip(mini, sort=True)
    assert ordered == mini
    assert all(list(s.constants) == sorted(s.constants) for s in ordered.values())


def test_a_value_the_target_views_share_is_decoded_once(
        mini: dict[tuple[str, str], Snapshot]) -> None:
    back = _roundtrip(mini)
    # the guest and tools views of x86_64 lay struct mini_info out alike
    rec = "struct mini_info"
    assert mini["x86_64", "guest"].records[rec] == mini["x86_64", "tools"].records[rec]
    assert back["x86_64", "guest"].records[rec] is back["x86_64", "tools"].records[rec]


def _packed(mini: dict[tuple[str, str], Snapshot]) -> dict:
    return json.loads(json.dumps(pack(mini)))


def _bad_index(d: dict) -> None:
    d["snapshots"][0]["records"][1][0] = len(d["values"]["records"])


def _negative_index(d: dict) -> None:
    d["snapshots"][0]["constants"][1][0] = -1


def _name_not_text(d: dict) -> None:
    d["snapshots"][0]["typedefs"][0][0] = 7


def _short_names(d: dict) -> None:
    d["snapshots"][0]["records"][0].pop()


def _size_as_text(d: dict) -> None:
    d["values"]["records"][0]["size"] = str(d["values"]["records"][0]["size"])


def _field_index_outside(d: dict) -> None:
    rec = next(r for r in d["values"]["records"] if r["fields"])
    rec["fields"][0] = len(d["values"]["fields"])


def _version_as_text(d: dict) -> None:
    d["snapshots"][0]["interface_version"] = "0x00040e00"


@pytest.mark.parametrize("damage", [_bad_index, _negative_index, _name_not_text, _short_names,
                                    _size_as_text, _field_index_outside, _version_as_text],
                         ids=lambda f: f.__name__.strip("_"))
def test_unpack_refuses_a_value_of_another_shape(mini: dict[tuple[str, str], Snapshot],
                                                 damage) -> None:  # type: ignore[no-untyped-def]
    d = _packed(mini)
    damage(d)
    with pytest.raises((KeyError, TypeError, ValueError)):
        unpack(d)


# --------------------------------------------------------------------------
# The entries, through the command line


def _mini_pair(tmp_path: Path) -> tuple[Path, Path]:
    base, head = copy_mini(tmp_path / "base"), copy_mini(tmp_path / "head")
    xen_h = head / "xen/include/public/xen.h"
    xen_h.write_text(xen_h.read_text().replace(
        "    uint32_t magic;", "    uint64_t magic;").replace(
        "#define MINI_MASK", "#define MINI_FLAG_C (1U << 1)\n#define MINI_MASK"))
    return base, head


@pytest.fixture(scope="module")
def sides(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Each kind of diff and its sides: two trees, and their snapshot files."""
    work = tmp_path_factory.mktemp("sides")
    base, head = _mini_pair(work)
    files = []
    for tree in (base, head):
        out = work / f"{tree.name}.json"
        run = xenabi_cli(work / "no-cache", "snapshot", "--no-cache", "--xen-root", str(tree),
                         "-o", str(out))
        assert run.returncode == 0, run.stderr
        files.append(str(out))
    return {"trees": [str(base), str(head)], "files": files}


#: the entry each kind of diff reads its sides from
ENTRY = {"trees": "snapshot-set-*.json", "files": "snapshot-file-*.json"}


@pytest.mark.parametrize("kind", list(CORRUPTIONS))
@pytest.mark.parametrize("diffed", list(ENTRY))
def test_a_damaged_entry_gives_the_result_of_no_cache(
        tmp_path: Path, sides: dict[str, list[str]], diffed: str, kind: str) -> None:
    args = ["diff", *sides[diffed], "--format", "json"]
    cold = xenabi_cli(tmp_path / "cold", *args, "--no-cache")
    assert cold.returncode == 1 and b"MINI_FLAG_C" in cold.stdout, cold.stderr
    assert not list((tmp_path / "cold").glob("*.json")), "--no-cache wrote an entry"
    where = tmp_path / "cache"
    first = xenabi_cli(where, *args)
    assert (first.returncode, first.stdout) == (cold.returncode, cold.stdout)
    # a tree's set is packed by the run that reads its snapshots' own entries: the second
    assert xenabi_cli(where, *args).stdout == cold.stdout
    entries = sorted(where.glob(ENTRY[diffed]))
    assert entries, f"no {ENTRY[diffed]} entry was written"
    assert (xenabi_cli(where, *args).stdout) == cold.stdout  # a hit
    for p in entries:
        CORRUPTIONS[kind](p)
    warm = xenabi_cli(where, *args)
    assert (warm.returncode, warm.stdout, warm.stderr) == (cold.returncode, cold.stdout, b"")


def test_an_edited_snapshot_file_is_read_again(tmp_path: Path,
                                               sides: dict[str, list[str]]) -> None:
    base, head = (Path(f) for f in sides["files"])
    mine = tmp_path / "head.json"
    mine.write_text(head.read_text())
    where = tmp_path / "cache"
    args = ["diff", str(base), str(mine), "--format", "json"]
    assert b"struct mini_info" in xenabi_cli(where, *args).stdout
    # the same file name, another content: the copy's edit is undone on every target
    data = json.loads(mine.read_text())
    data["targets"] = json.loads(base.read_text())["targets"]
    mine.write_text(json.dumps(data, sort_keys=True) + "\n")
    again = xenabi_cli(where, *args)
    assert again.returncode == 0 and json.loads(again.stdout)["changes"] == []


# --------------------------------------------------------------------------
# The families a diff looks up


@pytest.mark.parametrize("new", ["#define MINI_FLAG_C (1U << 1)", "#define MINI_FLAG_C (1U << 9)",
                                 "#define MINI_FLAG_C (1U << 2)",
                                 "#define MINI_OTHER 3\n#define MINI_FLAG_C (1U << 3)"])
def test_the_families_of_added_macros_judge_as_all_the_families_do(
        tmp_path: Path, mini: dict[tuple[str, str], Snapshot], new: str) -> None:
    head_root = copy_mini(tmp_path / "head")
    xen_h = head_root / "xen/include/public/xen.h"
    xen_h.write_text(xen_h.read_text().replace("#define MINI_MASK", f"{new}\n#define MINI_MASK"))
    tree = open_tree(head_root)
    head = {p: compute(tree, *p) for p in PAIRS}
    every = constant_families(tree, head)
    added = constant_families(tree, head, mini)
    for p in PAIRS:
        new_names = head[p].constants.keys() - mini[p].constants.keys()
        assert new_names and {n: added[p][n] for n in new_names if n in added[p]} == {
            n: every[p][n] for n in new_names if n in every[p]}
    assert compare(mini, head, families=added) == compare(mini, head, families=every)


def test_two_cached_trees_share_their_equal_values(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from xenabi.snapshot import take_trees

    monkeypatch.setenv("XENABI_CACHE_DIR", str(tmp_path / "cache"))
    base, head = (open_tree(p) for p in _mini_pair(tmp_path))
    cold = take_trees([base, head], ["x86_64"], use_cache=False)
    take_trees([base, head], ["x86_64"])  # computes: each snapshot's own entry
    assert not list((tmp_path / "cache").glob("snapshot-set-*.json"))
    assert take_trees([base, head], ["x86_64"]) == cold  # reads them, and packs each tree
    assert len(list((tmp_path / "cache").glob("snapshot-set-*.json"))) == 2
    warm = take_trees([base, head], ["x86_64"])
    assert warm == cold
    b, h = (w["x86_64", "tools"] for w in warm)
    # a record of a header the edit left alone, and the record it widened
    assert b.records["struct mini_ring"] is h.records["struct mini_ring"]
    assert b.constants["MINI_RING_ORDER"] is h.constants["MINI_RING_ORDER"]
    assert b.records["struct mini_info"] != h.records["struct mini_info"]


@pytest.mark.parametrize("use_cache", [False, True])
def test_two_snapshot_files_share_their_equal_values(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sides: dict[str, list[str]],
        use_cache: bool) -> None:
    from xenabi.snapshotfile import load_snapshot

    monkeypatch.setenv("XENABI_CACHE_DIR", str(tmp_path / "cache"))
    for path in sides["files"]:
        load_snapshot(path, use_cache)  # fills the cache, when there is one
    shared: dict[object, object] = {}
    b, h = (load_snapshot(p, use_cache, shared).snapshots["x86_64", "tools"]
            for p in sides["files"])
    assert b.records["struct mini_ring"] is h.records["struct mini_ring"]
    assert b.records["struct mini_info"] != h.records["struct mini_info"]
    assert [load_snapshot(p, False).snapshots for p in sides["files"]] == [
        load_snapshot(p, use_cache, {}).snapshots for p in sides["files"]]
