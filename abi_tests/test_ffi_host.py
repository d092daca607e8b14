"""The host target, laid out by cffi itself, against the engine: every record of the tree.

For each view, the plain FFI (the headers' declarations handed to cffi,
``sizeof`` answered by cffi) must give every record the engine's size and
alignment and every ``offsetof()`` designator the engine's offset and size;
then every record, filled with the same random bits through the plain FFI
and through the explicit FFI (the engine's layout spelled for cffi), must
come out as the same bytes. Each test prints its counts.

cffi cannot express GNU C's empty struct (it makes it one byte, GNU C zero):
records that are or hold one are listed, not compared.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import pytest

from tests.ffikit import cffi_field, fill, is_empty, pack, rebind
from xenabi.ffi import explicit_ffi, host_arch, load, plain_ffi, types_of
from xenabi.model import Snapshot
from xenabi.snapshot import take
from xenabi.targets import VIEWS
from xenabi.tree import XenTree


@dataclass(frozen=True)
class Host:
    view: str
    snapshot: Snapshot
    plain: Any  #: cffi.FFI of the declarations
    explicit: Any  #: cffi.FFI of the engine's layout
    types: dict[str, Any]  #: record name -> the plain FFI's type
    empty: tuple[str, ...]  #: records cffi cannot lay out as GNU C does

    def comparable(self) -> list[str]:
        return [n for n in sorted(self.snapshot.records) if n not in self.empty]


@pytest.fixture(scope="module", params=VIEWS)
def host(request: pytest.FixtureRequest, xen_tree: XenTree) -> Host:
    arch = host_arch()
    if arch is None:
        pytest.skip("this host is no Xen target: cffi's layout is no target's")
    unit, api = load(xen_tree, arch, request.param)
    snap = take(xen_tree, arch, request.param)
    plain = plain_ffi(unit)
    types = types_of(plain, snap.records)
    empty = tuple(n for n in sorted(types) if is_empty(types[n]))
    return Host(request.param, snap, plain, explicit_ffi(api), types, empty)


def test_host_layout_matches_cffi(host: Host) -> None:
    problems, fields = [], 0
    for name in host.comparable():
        rec, t = host.snapshot.records[name], host.types[name]
        cffi_says = (host.plain.sizeof(t), host.plain.alignof(t))
        if cffi_says != (rec.size, rec.align):
            problems.append(f"{name}: size, align {cffi_says} in cffi, "
                            f"{(rec.size, rec.align)} in the engine")
        for f in rec.fields:
            fields += 1
            got = cffi_field(host.plain, t, f.name)
            if got != (f.offset_bits, f.size_bits, f.bitfield):
                problems.append(f"{name} {f.name}: (offset_bits, size_bits, bitfield) {got} in "
                                f"cffi, {(f.offset_bits, f.size_bits, f.bitfield)} in the engine")
    print(f"{host.snapshot.arch} {host.view}: {len(host.comparable())} records and {fields} "
          f"fields checked with cffi, {len(problems)} disagreements; not comparable "
          f"(GNU empty structs): {', '.join(host.empty) or 'none'}")
    assert not problems, "\n".join(problems)


def test_plain_and_explicit_ffi_pack_the_same_bytes(host: Host) -> None:
    names = host.comparable()
    explicit = types_of(host.explicit, names)
    differ = []
    for name in names:
        values = fill(host.plain, host.types[name], random.Random(name))
        mine = rebind(host.explicit, explicit[name], values)
        if pack(host.plain, host.types[name], values) != pack(host.explicit, explicit[name], mine):
            differ.append(name)
    print(f"{host.snapshot.arch} {host.view}: {len(names)} records packed through both FFIs, "
          f"{len(differ)} differ")
    assert not differ, f"bytes differ between the plain and the explicit FFI: {differ}"
