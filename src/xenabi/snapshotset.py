"""Several snapshots as one JSON value that writes each distinct value once.

The eight target-views of a tree repeat most of their records, fields,
constants and typedefs (4.17's eight hold 7,900 records, 2,300 of them
distinct), so reading them back from eight whole bodies decodes the same
values eight times. :func:`pack` lists each distinct value once, in tables,
and each snapshot as its names and their values' indexes; :func:`unpack`
decodes every table entry once (each with the type checks of its
``from_json``) and shares it among the snapshots. This is the form in which
:mod:`xenabi.snapshot` caches a tree's snapshots together and
:mod:`xenabi.snapshotfile` caches a parsed snapshot file.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, TypeVar

from xenabi.model import (FieldLayout, HeaderStatus, RecordLayout, Snapshot, TypedefLayout,
                          constant_from_json)

_V = TypeVar("_V")

#: the tables a snapshot's values are listed in, in the order :class:`Snapshot` has them
TABLES = ("records", "constants", "typedefs", "headers")


class _Tables:
    """The distinct values seen so far, each with its index in its table."""

    def __init__(self) -> None:
        self.index: dict[tuple[str, Hashable], int] = {}
        self.json: dict[str, list[object]] = {t: [] for t in ("fields", *TABLES)}

    def ref(self, table: str, value: Hashable, encode: Callable[[], object]) -> int:
        i = self.index.get((table, value))
        if i is None:
            i = self.index[table, value] = len(self.json[table])
            self.json[table].append(encode())
        return i

    def record(self, r: RecordLayout) -> dict[str, object]:
        out = r.to_json()
        out["fields"] = [self.ref("fields", f, f.to_json) for f in r.fields]
        return out


def pack(snaps: Mapping[tuple[str, str], Snapshot], sort: bool = False) -> dict[str, object]:
    """``snaps`` as one JSON value; :func:`unpack` gives each snapshot's names in the order
    they have, or with ``sort`` in sorted order (as a snapshot read from its own cache
    entry has them, so that either entry gives the same)."""
    t = _Tables()
    packed = []
    for (arch, view), s in snaps.items():
        entry: dict[str, object] = {"arch": arch, "view": view,
                                    "interface_version": s.interface_version}
        for table, items in (("records", s.records), ("constants", s.constants),
                             ("typedefs", s.typedefs), ("headers", s.headers)):
            names = sorted(items) if sort else list(items)
            encode = t.record if table == "records" else _to_json
            entry[table] = [names, [t.ref(table, items[n], _bound(encode, items[n]))
                                    for n in names]]
        packed.append(entry)
    return {"values": t.json, "snapshots": packed}


def _to_json(v: Any) -> object:
    return v.to_json()


def _bound(encode: Callable[[Any], object], value: object) -> Callable[[], object]:
    return lambda: encode(value)


def unpack(data: object, shared: dict[object, object] | None = None
           ) -> dict[tuple[str, str], Snapshot]:
    """The snapshots :func:`pack` gave ``data`` for; a value equal to one of ``shared``
    is that one (which a comparison of the two sides of a diff then finds identical, where
    comparing two equal values field by field costs a Python call each), and the others
    are added to it. Raises KeyError, TypeError or ValueError when ``data`` has another
    shape (an index out of its table included)."""
    if not isinstance(data, dict):
        raise TypeError("not a JSON object")
    values = data["values"]
    keep = shared  # within one entry, each value is there once already
    fields = _decoded(values["fields"], FieldLayout.from_json, keep)
    decoded: dict[str, list[Any]] = {
        "records": _decoded(values["records"],
                            lambda d: RecordLayout.from_json(d, lambda i: _at(fields, i)), keep),
        "constants": _decoded(values["constants"], constant_from_json, keep),
        "typedefs": _decoded(values["typedefs"], TypedefLayout.from_json, keep),
        "headers": _decoded(values["headers"], HeaderStatus.from_json, keep),
    }
    out = {}
    for entry in data["snapshots"]:
        arch, view, version = entry["arch"], entry["view"], entry["interface_version"]
        if not (type(arch) is str and type(view) is str and type(version) is int):
            raise TypeError(f"a snapshot named {arch!r}/{view!r}")
        tables = [_named(entry[t], decoded[t]) for t in TABLES]
        out[arch, view] = Snapshot(arch, view, version, *tables)
    return out


def _decoded(items: Iterable[Any], decode: Callable[[Any], _V],
             shared: dict[object, object] | None) -> list[_V]:
    if shared is None:
        return list(map(decode, items))
    keep = shared.setdefault
    return [keep(v, v) for v in map(decode, items)]  # type: ignore[misc]


def _at(table: list[_V], i: object) -> _V:
    if type(i) is not int or not 0 <= i < len(table):
        raise ValueError(f"index {i!r} outside a table of {len(table)}")
    return table[i]


def _named(pair: object, table: list[_V]) -> dict[str, _V]:
    """A snapshot's table from its names and their values' indexes."""
    if not (isinstance(pair, list) and len(pair) == 2):
        raise TypeError("a table is not [names, indexes]")
    names, indexes = pair
    # checked a list at a time: a snapshot has thousands of names
    if not (isinstance(names, list) and isinstance(indexes, list)
            and len(names) == len(indexes) and set(map(type, names)) <= {str}
            and set(map(type, indexes)) <= {int}):
        raise TypeError("a table's names and indexes do not pair up")
    if indexes and not (min(indexes) >= 0 and max(indexes) < len(table)):
        raise ValueError(f"an index outside a table of {len(table)}")
    return dict(zip(names, map(table.__getitem__, indexes)))
