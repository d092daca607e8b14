"""The snapshot contract (DESIGN.md) on the mini fixture tree: keys, designators,
file:line of every declaration, constants in their own C type, stable output."""

from __future__ import annotations

import json

import pytest

from tests.minitree import MINI, copy_mini
from tests.oracle.clang import evaluate_exprs
from xenabi.cli import main
from xenabi.model import spell
from xenabi.snapshot import take
from xenabi.targets import TARGETS
from xenabi.tree import open_tree

XEN_H = (MINI / "xen/include/public/xen.h").read_text().splitlines()


def line_of(text: str) -> int:
    """The fixture's line that contains ``text`` (1-based), read from the file itself."""
    return next(i for i, ln in enumerate(XEN_H, 1) if text in ln)


@pytest.fixture(scope="module")
def mini():
    return open_tree(MINI)


def test_macro_constant_carries_file_line_and_expression(mini):
    c = take(mini, "x86_64", use_cache=False).constants["MINI_MASK"]
    assert (c.header, c.line, c.expr, c.kind) == ("xen.h", line_of("#define MINI_MASK"),
                                                  "(0xFF << 8)", "macro")


@pytest.mark.parametrize("arch", list(TARGETS))
def test_constants_have_their_own_c_type_on_each_target(mini, arch):
    snap = take(mini, arch, use_cache=False)
    names = ["MINI_ALL_ONES", "MINI_PAGES", "MINI_INFO_SIZE", "MINI_FLAG_B", "MINI_AFTER"]
    prelude = (MINI / "xen/include/public/xen.h").read_text()
    clang = evaluate_exprs(TARGETS[arch].clang_triple, "#include <stdint.h>\n" + prelude, names)
    for name, want in zip(names, clang):
        got = snap.constants[name]
        assert want is not None, name
        assert (got.value, spell(got.ctype)) == want, f"{arch} {name}"


def test_enumerators_are_constants(mini):
    snap = take(mini, "arm32", use_cache=False)
    assert [snap.constants[n].value for n in ("MINI_OFF", "MINI_ON", "MINI_AFTER")] == [0, 4, 5]
    assert snap.constants["MINI_ON"].kind == "enumerator"


def test_typedef_of_anonymous_struct_is_keyed_by_its_name(mini):
    snap = take(mini, "x86_32", use_cache=False)
    assert "mini_uuid_t" in snap.records
    assert [f.name for f in snap.records["mini_uuid_t"].fields] == ["a"]
    assert snap.typedefs["domid_t"].type == "uint16_t"
    assert (snap.typedefs["domid_t"].size, snap.typedefs["domid_t"].align) == (2, 2)


def test_record_header_and_line(mini):
    rec = take(mini, "x86_64", use_cache=False).records["struct mini_info"]
    assert (rec.header, rec.line) == ("xen.h", line_of("struct mini_info {"))


def test_designators_name_what_offsetof_takes():
    from xenabi.layout import layout_source

    recs = layout_source("""
        struct inner { int z; };
        struct s {
            union { int pending_vector; long w; };
            struct { struct { unsigned long mfn; } domU; int evtchn; } console;
            struct { int config; } timers[2];
            struct inner named;
        };""", "x86_64")
    assert [f.name for f in recs["struct s"].fields] == [
        "pending_vector", "w", "console", "console.domU", "console.domU.mfn",
        "console.evtchn", "timers", "timers[0].config", "named"]


def test_interface_version_of_each_view(mini):
    assert take(mini, "x86_64", "guest", use_cache=False).interface_version == 0x00040e00
    older = take(mini, "x86_64", "guest", interface_version=0x00030205, use_cache=False)
    assert older.interface_version == 0x00030205


def test_dump_is_byte_identical_cold_and_warm(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    tree = copy_mini(tmp_path / "tree")
    outs = []
    for extra in (["--no-cache"], [], []):  # cold, then filling the cache, then from it
        assert main(["dump", "--xen-root", str(tree), "--arch", "arm64", *extra]) == 0
        outs.append(capsys.readouterr().out)
    assert outs[0] == outs[1] == outs[2]
    assert json.loads(outs[0])["schema"] == "xenabi-snapshot/1"
    assert list((tmp_path / "cache/xenabi").glob("snapshot-*.json"))


def test_snapshot_file_is_canonical_json_of_every_target(tmp_path, capsys, monkeypatch):
    # xenabi snapshot composes its output from cached texts: it must still be exactly
    # the sorted JSON of the document, with each target equal to its own dump.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for _ in range(2):  # cold, then warm from the cache
        assert main(["snapshot", "--xen-root", str(MINI), "--arch", "x86_32",
                     "--arch", "arm64"]) == 0
        out = capsys.readouterr().out
        doc = json.loads(out)
        assert out == json.dumps(doc, sort_keys=True) + "\n"
        assert sorted(doc["targets"]) == ["arm64", "x86_32"]
        assert main(["dump", "--xen-root", str(MINI), "--arch", "arm64", "--view", "guest"]) == 0
        dumped = json.loads(capsys.readouterr().out)
        assert dumped == {"schema": "xenabi-snapshot/1", "arch": "arm64", "view": "guest",
                          **doc["targets"]["arm64"]["guest"]}
