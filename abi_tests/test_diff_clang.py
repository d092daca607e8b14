"""A real diff checked against clang: Debian's installed 4.17 headers against Xen 4.20's.

Both sides are what libxen-dev installs (``/usr/include/xen``, 4.17; and
``headers/xen-4.20``, Debian 13's, provisioned by ``scripts/provision``). On
every target and view, clang (:func:`tests.oracle.clang.tree_oracle`) says
which records and integer constants changed between the two; the test holds
xenabi's diff to it both ways:

- every record whose size, alignment or a field's offset, size or bitfield
  width clang sees change, every record and constant clang sees removed, added
  or changed in value or C type, is a change xenabi reports (of that symbol);
- every breaking change xenabi reports is one clang confirms: the same size,
  alignment, offset, size, width, canonical type, value or type differs in
  clang's view too, or the symbol is gone from it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.oracle.clang import Oracle, tree_oracle
from xenabi.diff import Fact, facts
from xenabi.model import ChangeClass, Snapshot
from xenabi.targets import TARGETS, VIEWS
from xenabi.tree import XenTree, open_tree

#: what libxen-dev installs beside the public headers
NOT_PUBLIC = ("evtchn.h", "gntalloc.h", "gntdev.h", "privcmd.h", "sys/", "foreign/")
NEW = Path(__file__).resolve().parents[1] / "headers" / "xen-4.20"
#: the targets both sides have (every tree has those without a marker header; 4.17 has no
#: riscv64 or ppc64), under a name of its own: this test is not about the tree under test
PAIRS = [(a, v) for a, t in TARGETS.items() if t.marker is None for v in VIEWS]


@pytest.fixture(scope="module")
def new_tree() -> XenTree:
    if not (NEW / "xen.h").is_file():
        reason = f"{NEW}: no Xen 4.20 headers (scripts/provision unpacks Debian 13's libxen-dev)"
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return open_tree(NEW)


@pytest.fixture(scope="module")
def sides(installed_tree: XenTree, new_tree: XenTree
          ) -> tuple[dict[tuple[str, str], Snapshot], dict[tuple[str, str], Snapshot]]:
    from xenabi.snapshot import take_trees

    old, new = take_trees([installed_tree, new_tree])
    return old, new


def oracle(tree: XenTree, arch: str, view: str) -> Oracle:
    exclude = NOT_PUBLIC if tree.kind == "installed" else ()
    return tree_oracle(tree.public, TARGETS[arch].clang_triple, view, exclude=exclude)


def _fields(rec: Mapping[str, object]) -> dict[str, Mapping[str, object]]:
    listed = rec["fields"]
    assert isinstance(listed, list)
    return {f["name"]: f for f in listed}


def clang_changes(a: Oracle, b: Oracle) -> set[str]:
    """The symbols whose layout or value clang sees change from ``a`` to ``b``."""
    out: set[str] = set()
    for key in a.records.keys() | b.records.keys():
        ra, rb = a.records.get(key), b.records.get(key)
        if ra is None or rb is None:
            out.add(key)
            continue
        if (ra["size"], ra["align"]) != (rb["size"], rb["align"]):
            out.add(key)
        fa, fb = _fields(ra), _fields(rb)
        for name in fa.keys() | fb.keys():
            x, y = fa.get(name), fb.get(name)
            if x is None or y is None or any(x[k] != y[k] for k in
                                             ("offset_bits", "size_bits", "bitfield")):
                out.add(f"{key}.{name}")
    for name in a.constants.keys() | b.constants.keys():
        ca, cb = a.constants.get(name), b.constants.get(name)
        if ca is None or cb is None or (ca["value"], ca["type"]) != (cb["value"], cb["type"]):
            out.add(name)
    return out


def confirmed(f: Fact, a: Oracle, b: Oracle) -> bool:
    """Whether clang sees the breaking change ``f`` too."""
    if f.kind.startswith("typedef-"):
        ta, tb = a.typedefs.get(f.symbol), b.typedefs.get(f.symbol)
        if ta is None or tb is None:
            return (ta is None) != (tb is None)
        if ta["canonical"] != tb["canonical"]:
            return True
        # a typedef of a record whose size or alignment changed
        ra, rb = a.records.get(str(ta["canonical"])), b.records.get(str(tb["canonical"]))
        return ra is not None and rb is not None and \
            (ra["size"], ra["align"]) != (rb["size"], rb["align"])
    if f.kind.startswith("constant-") or f.kind == "version-bumped":
        ca, cb = a.constants.get(f.symbol), b.constants.get(f.symbol)
        if ca is None or cb is None:
            return ca is not None and cb is None
        return (ca["value"], ca["type"]) != (cb["value"], cb["type"])
    if f.kind == "header-failed":
        return f.symbol in b.failed
    key, _, name = f.symbol.partition(".")  # no record key has a dot; designators do
    ra, rb = a.records.get(key), b.records.get(key)
    if ra is None or rb is None:
        return ra is not None and rb is None
    if not name:
        what = {"record-size-changed": "size", "record-align-changed": "align"}[f.kind]
        return ra[what] != rb[what]
    fa, fb = _fields(ra).get(name), _fields(rb).get(name)
    if fa is None or fb is None:
        return fa is not None
    what = {"field-offset-changed": ("offset_bits",), "field-size-changed": ("size_bits",),
            "field-width-changed": ("size_bits", "bitfield"),
            "field-type-changed": ("canonical",)}[f.kind]
    return any(fa[k] != fb[k] for k in what)


def covered(symbol: str, reported: set[str]) -> bool:
    """Whether the diff reports ``symbol`` or a member holding it (a new member ``u.s``
    is one change, its own members with it)."""
    parts = symbol.split(".")
    return any(".".join(parts[:n]) in reported for n in range(min(2, len(parts)), len(parts) + 1))


@pytest.mark.parametrize(("target", "view"), PAIRS, ids=["-".join(p) for p in PAIRS])
def test_the_diff_reports_what_clang_sees_change_and_only_breaks_what_clang_confirms(
        installed_tree: XenTree, new_tree: XenTree, sides: tuple[dict[tuple[str, str], Snapshot],
                                                                 dict[tuple[str, str], Snapshot]],
        target: str, view: str) -> None:
    old, new = sides
    a, b = oracle(installed_tree, target, view), oracle(new_tree, target, view)
    found = facts(old[target, view], new[target, view])
    reported = {f.symbol for f in found} | {
        f"{f.symbol.partition('.')[0]}.{f.after}" for f in found if f.kind == "field-renamed"}
    missed = sorted(s for s in clang_changes(a, b) if not covered(s, reported))
    assert not missed, f"{target} {view}: clang sees these change, the diff does not: {missed}"
    breaking = [f for f in found if f.cls is ChangeClass.BREAKING]
    wrong = [f"{f.symbol}: {f.kind} {f.before} -> {f.after}" for f in breaking
             if not confirmed(f, a, b)]
    assert not wrong, f"{target} {view}: breaking changes clang does not confirm: {wrong}"
    assert breaking, f"{target} {view}: 4.17 -> 4.20 breaks something on every target"
    print(f"{target} {view}: {len(found)} changes, {len(breaking)} breaking, all confirmed")
