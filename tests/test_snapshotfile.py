"""load_snapshot: snapshot and dump files read back into typed values, byte for byte,
and every file that is not one refused on one line that names it."""

from __future__ import annotations

import json

import pytest

from tests.minitree import MINI
from xenabi.cli import main
from xenabi.errors import UsageError
from xenabi.model import (Array, Coord, IntConstant, Pointer, RecordKey, Scalar, StrConstant,
                          Typedef, TypedefRef, canonical, spell)
from xenabi.snapshotfile import load_snapshot
from xenabi.targets import VIEWS, tree_arches
from xenabi.tree import open_tree


#: the targets the mini tree has (it has no port of riscv64 or ppc64)
MINI_ARCHES = list(tree_arches(open_tree(MINI).headers))


@pytest.fixture(scope="module")
def snapshot_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("snap") / "mini.json"
    assert main(["snapshot", "--no-cache", "--xen-root", str(MINI), "-o", str(out)]) == 0
    return out


def test_snapshot_file_reads_back_byte_for_byte(snapshot_file):
    loaded = load_snapshot(snapshot_file)
    assert set(loaded.snapshots) == {(a, v) for a in MINI_ARCHES for v in VIEWS}
    assert loaded.to_text() == snapshot_file.read_text()


@pytest.mark.parametrize("arch", MINI_ARCHES)
@pytest.mark.parametrize("view", list(VIEWS))
def test_dump_file_reads_back_byte_for_byte(tmp_path, arch, view):
    out = tmp_path / "dump.json"
    assert main(["dump", "--no-cache", "--xen-root", str(MINI), "--arch", arch,
                 "--view", view, "-o", str(out)]) == 0
    loaded = load_snapshot(out)
    assert list(loaded.snapshots) == [(arch, view)] and loaded.tree is None
    assert loaded.to_text() == out.read_text()


def test_values_read_back_typed(snapshot_file):
    snap = load_snapshot(snapshot_file).snapshots["x86_64", "tools"]
    consts = list(snap.constants.values())
    assert consts and all(isinstance(c, IntConstant) and type(c.value) is int
                          or isinstance(c, StrConstant) and type(c.value) is str
                          for c in consts)
    assert all(isinstance(c.coord, Coord) for c in consts)
    assert all(c.enum is not None for c in consts
               if isinstance(c, IntConstant) and c.kind == "enumerator")
    keys = snap.record_keys()
    assert all(str(k) in snap.records for k in keys)


# -- files that are not snapshots


def _mini_dump(tmp_path) -> dict:
    out = tmp_path / "dump.json"
    assert main(["dump", "--xen-root", str(MINI), "--arch", "x86_64", "-o", str(out)]) == 0
    return json.loads(out.read_text())


def _first(d: dict) -> dict:
    return d[sorted(d)[0]]


def _twin_with_false_offset(records: dict) -> dict:
    """``records`` and a copy of one whose first field's offset 0 is written ``false``:
    equal to the original in Python (``False == 0``), and still of the wrong type."""
    rec = next(r for _, r in sorted(records.items()) if r["fields"])
    assert rec["fields"][0]["offset_bits"] == 0
    twin = {**rec, "fields": [{**rec["fields"][0], "offset_bits": False}, *rec["fields"][1:]]}
    return {**records, "struct zz_twin": twin}


BAD = {
    "a list": lambda d: [d],
    "another schema": lambda d: {**d, "schema": "xenabi-findings/1"},
    "another version": lambda d: {**d, "schema": "xenabi-snapshot/2"},
    "no schema": lambda d: {k: v for k, v in d.items() if k != "schema"},
    "no records": lambda d: {k: v for k, v in d.items() if k != "records"},
    "an unknown target": lambda d: {**d, "arch": "vax"},
    "a size that is text": lambda d: {**d, "records": {k: {**v, "size": str(v["size"])}
                                                        for k, v in d["records"].items()}},
    "a key of no schema": lambda d: {**d, "records": {k: {**v, "colour": "red"}
                                                       for k, v in d["records"].items()}},
    "a string constant of kind macro": lambda d: {**d, "constants": {
        "X": {"value": "x", "kind": "macro", "type": "int", "header": "xen.h", "line": 1}}},
    "an integer of kind string": lambda d: {**d, "constants": {
        "X": {"value": 1, "kind": "string", "type": "char[]", "header": "xen.h", "line": 1,
              "expr": "1"}}},
    "a bad interface version": lambda d: {**d, "interface_version": "zz"},
    "a record of kind enum": lambda d: {**d, "records": {k: {**v, "kind": "enum"}
                                                          for k, v in d["records"].items()}},
    "fields not a list": lambda d: {**d, "records": {k: {**v, "fields": 3}
                                                      for k, v in d["records"].items()}},
    "an offset of false beside one of 0": lambda d: {**d, "records": _twin_with_false_offset(
        d["records"])},
}


@pytest.mark.parametrize("what", list(BAD))
def test_a_file_of_another_shape_is_unusable_input(tmp_path, what):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(BAD[what](_mini_dump(tmp_path))))
    with pytest.raises(UsageError) as e:
        load_snapshot(bad)
    assert str(e.value).startswith(f"{bad}:") and "\n" not in str(e.value)


def test_invalid_json_names_the_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "xenabi-snapshot/1",\n"arch": "x86_64",\n"view": }\n')
    with pytest.raises(UsageError, match=rf"^{bad}:3: not a snapshot: invalid JSON"):
        load_snapshot(bad)


@pytest.mark.parametrize("content", [None, b"\xff\xfe not text"])
def test_an_unreadable_file_is_unusable_input(tmp_path, content):
    path = tmp_path / "snap.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UsageError, match=rf"^{path}: cannot read the snapshot"):
        load_snapshot(path)


# -- the typed keys and types


@pytest.mark.parametrize("key", [RecordKey("struct", tag="vcpu_info"),
                                 RecordKey("union", typedef="xen_foo_t"),
                                 RecordKey("struct", position=Coord("xen.h", 12, 5)),
                                 RecordKey("union", position=Coord("io/ring.h", 3))])
def test_record_key_reads_back_from_its_text(key):
    assert RecordKey.parse(str(key), key.kind) == key


def test_record_key_text_is_the_json_key():
    assert [str(RecordKey("struct", tag="vcpu_info")), str(RecordKey("union", typedef="u_t")),
            str(RecordKey("struct", position=Coord("xen.h", 12, 5)))] == [
        "struct vcpu_info", "u_t", "struct <anonymous at xen.h:12:5>"]


def test_canonical_resolves_typedefs_through_pointers_and_arrays():
    at = Coord("xen.h", 1)
    tds = {"uint8_t": Typedef("uint8_t", Scalar("unsigned char"), at),
           "handle_t": Typedef("handle_t", Array(TypedefRef("uint8_t"), 16), at)}
    assert spell(canonical(Pointer(TypedefRef("uint8_t")), tds)) == "unsigned char *"
    assert spell(canonical(TypedefRef("handle_t"), tds)) == "unsigned char[16]"
    assert canonical(TypedefRef("not_known_t"), tds) == TypedefRef("not_known_t")
