"""The explicit FFI of each non-host target against clang's layout for that target.

A domain builder packs a 32-bit guest's ``hvm_start_info`` through
``ffi_for(tree, "x86_32")``; these tests hold those bytes to clang's
(``--target`` triple, freestanding, the raw headers; tests/oracle/clang.py).
For a record, every scalar is set to random bits through the FFI; the bytes
must equal the record clang's offsets imply for the same bits, little-endian;
cffi's size and every ``offsetof()`` designator clang lists must be clang's.

Four records every domain builder meets have tests of their own
(``test_named_record_packs_as_clang[x86_32-struct hvm_start_info]``); every
other record clang sees is checked too, with fresh random values on each run
(``XENABI_SEED`` replays one).
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from typing import Any

import pytest

from tests.ffikit import ClangPlacer, cffi_field, fill, pack
from tests.oracle.clang import tree_oracle
from xenabi.ffi import ffi_for, host_arch, types_of
from xenabi.targets import TARGETS
from xenabi.tree import INSTALLED_EXTRAS, XenTree

VIEW = "tools"  # the superset: guest handles and tools interfaces too
NAMED = ("struct hvm_start_info", "struct start_info", "struct vcpu_info", "struct shared_info")
ARCHES = tuple(a for a in TARGETS if a != host_arch())
SEED = int(os.environ.get("XENABI_SEED") or random.randrange(1 << 32))


@dataclass(frozen=True)
class TargetFFI:
    arch: str
    ffi: Any  #: the explicit cffi.FFI
    records: dict[str, dict[str, Any]]  #: clang's layouts, by record key
    types: dict[str, Any]  #: record key -> the FFI's type for it
    placer: ClangPlacer

    def problems(self, key: str, rng: random.Random) -> list[str]:
        """How the FFI's record ``key`` differs from clang's: size, designators, bytes."""
        rec, t = self.records[key], self.types[key]
        if t.fields is None:
            return [f"{key}: not a record of the explicit FFI"]
        if self.ffi.sizeof(t) != rec["size"]:
            return [f"{key}: {self.ffi.sizeof(t)} bytes in the FFI, {rec['size']} in clang"]
        out = []
        for f in rec["fields"]:
            want = (f["offset_bits"], f["size_bits"], f["bitfield"])
            try:
                got = cffi_field(self.ffi, t, f["name"])
            except KeyError:
                got = None
            if got != want:
                out.append(f"{key} {f['name']}: (offset_bits, size_bits, bitfield) {got} in "
                           f"the FFI, {want} in clang")
        values = fill(self.ffi, t, rng)
        if not out and pack(self.ffi, t, values) != self.placer.bytes(key, t, values):
            out.append(f"{key}: packed bytes differ from clang's")
        return out


@pytest.fixture(scope="module")
def target(arch: str, xen_tree: XenTree, xen_arches: tuple[str, ...]) -> TargetFFI:
    if arch not in xen_arches:
        pytest.skip(f"{arch} not chosen with --xen-arch")
    exclude = INSTALLED_EXTRAS if xen_tree.kind == "installed" else ()
    oracle = tree_oracle(xen_tree.public, TARGETS[arch].clang_triple, VIEW, exclude=exclude)
    # cffi has no empty records (GNU C's are 0 bytes): the FFI leaves them opaque
    records = {k: r for k, r in oracle.records.items() if r["size"]}
    ffi = ffi_for(xen_tree, arch, VIEW)
    types = types_of(ffi, records)
    return TargetFFI(arch, ffi, records, types, ClangPlacer(records, types))


@pytest.mark.parametrize("key", NAMED)
@pytest.mark.parametrize("arch", ARCHES, scope="module")
def test_named_record_packs_as_clang(target: TargetFFI, key: str) -> None:
    if key not in target.records:
        # not a record of this target (start_info on arm): the FFI must agree with clang
        assert key not in target.ffi.list_types()[1], f"{key}: in the FFI, not in clang"
        return
    problems = target.problems(key, random.Random(f"{SEED}-{key}"))
    assert not problems, f"seed {SEED}:\n" + "\n".join(problems)


@pytest.mark.parametrize("arch", ARCHES, scope="module")
def test_every_record_packs_as_clang(target: TargetFFI) -> None:
    rng = random.Random(SEED)
    others = [k for k in target.records if k not in NAMED]
    rng.shuffle(others)
    problems = [p for key in others for p in target.problems(key, rng)]
    named = len(target.records) - len(others)
    print(f"{target.arch} {VIEW}: {len(others)} records (besides {named} named) packed with "
          f"random values (seed {SEED}) and compared with clang's bytes, "
          f"{len(problems)} problems")
    assert not problems, f"seed {SEED}:\n" + "\n".join(problems)
