"""Reading snapshot files back: ``xenabi snapshot`` (every target and view) and
``xenabi dump --format json`` (one) into typed :class:`~xenabi.model.Snapshot` values.

A file is accepted only if writing what was read gives it back: anything
the model does not hold (a key of another schema, a value of the wrong
type) is unusable input, reported on one line that names the file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from xenabi import cache as _cache
from xenabi import snapshotset
from xenabi.errors import UsageError
from xenabi.model import SNAPSHOT_SCHEMA, Decoder, Snapshot
from xenabi.targets import TARGETS, VIEWS


@dataclass(frozen=True)
class SnapshotFile:
    """What a snapshot file holds."""

    #: (arch, view) -> snapshot, sorted; one entry for a ``dump`` file
    snapshots: Mapping[tuple[str, str], Snapshot]
    #: ``kind``, ``root`` and ``fingerprint`` of the tree; None for a ``dump`` file
    tree: Mapping[str, str] | None

    def to_text(self) -> str:
        """The file as xenabi writes it (the same bytes as the file read)."""
        if self.tree is None:
            (snap,) = self.snapshots.values()
            return json.dumps(snap.to_json(), sort_keys=True) + "\n"
        targets: dict[str, dict[str, object]] = {}
        for (arch, view), snap in self.snapshots.items():
            targets.setdefault(arch, {})[view] = snap.body()
        return json.dumps({"schema": SNAPSHOT_SCHEMA, "targets": targets, "tree": self.tree},
                          sort_keys=True) + "\n"


def load_snapshot(path: str | Path, use_cache: bool = True,
                  shared: dict[object, object] | None = None) -> SnapshotFile:
    """The snapshots of a ``xenabi snapshot`` or ``xenabi dump --format json`` file; what
    was read of a file with the same text before comes from the cache (a lockfile is
    compared again and again), its values one object with their equals in ``shared``
    (:func:`xenabi.snapshotset.unpack`).

    Raises UsageError (one line naming the file) when it cannot be read, is not
    JSON (with the line of the syntax error), or is not ``xenabi-snapshot/1``.
    """
    store = _cache.Cache(use_cache)
    k = None
    if store.where is not None:  # no cache: neither the key's digest nor the packing
        try:
            # the bytes make the key: a hit needs no decoding of the text
            k = _cache.key("snapshot-file", hashlib.sha256(Path(path).read_bytes()).hexdigest())
        except OSError:
            pass  # said below, as by any read of the file
    hit = None if k is None else store.get("snapshot-file", k, partial(_cached, shared=shared))
    if hit is not None:
        return hit
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"{path}: cannot read the snapshot: "
                         f"{getattr(e, 'strerror', None) or e}") from None
    read = _parse(path, text, shared)
    if k is not None:
        store.put("snapshot-file", k, _cache.sealed(json.dumps(
            {"tree": read.tree, "snapshots": snapshotset.pack(read.snapshots)},
            sort_keys=True)))
    return read


def _cached(data: object, shared: dict[object, object] | None) -> SnapshotFile | None:
    """A file as the cache keeps it (its snapshots packed), whole and of its shape."""
    text = _cache.opened(data)
    if text is None:
        return None
    entry = json.loads(text)
    tree = entry["tree"]
    if not (tree is None or isinstance(tree, dict) and all(
            isinstance(v, str) for v in tree.values())):
        return None
    return SnapshotFile(snapshotset.unpack(entry["snapshots"], shared), tree)


def _parse(path: str | Path, text: str, shared: dict[object, object] | None) -> SnapshotFile:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(f"{path}:{e.lineno}: not a snapshot: invalid JSON ({e.msg})") from None
    schema = data.get("schema") if isinstance(data, dict) else None
    if schema != SNAPSHOT_SCHEMA:
        raise UsageError(f"{path}: not a {SNAPSHOT_SCHEMA} file (schema: {schema!r})")
    try:
        return _read(data, shared)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise UsageError(f"{path}: not a valid {SNAPSHOT_SCHEMA} file "
                         f"({type(e).__name__}: {e})") from None


def _read(data: dict[str, Any], shared: dict[object, object] | None) -> SnapshotFile:
    if "targets" in data:
        if set(data) != {"schema", "targets", "tree"}:
            raise ValueError(f"top-level keys {sorted(data)}")
        tree = data["tree"]
        if not (isinstance(tree, dict) and all(isinstance(v, str) for v in tree.values())):
            raise ValueError("'tree' is not a mapping of strings")
        bodies = {(a, v): b for a, views in sorted(data["targets"].items())
                  for v, b in sorted(views.items())}
    else:
        tree = None
        bodies = {(data["arch"], data["view"]): {k: v for k, v in data.items()
                                                 if k not in ("schema", "arch", "view")}}
    snapshots = {}
    decoder = Decoder(shared)
    for (arch, view), body in bodies.items():
        if arch not in TARGETS or view not in VIEWS:
            raise ValueError(f"unknown target and view {arch}/{view}")
        snap = Snapshot.from_json({**body, "arch": arch, "view": view}, decoder)
        # what the model would write back must be what was read: no key or value of
        # another shape gets through. A value decoded before (in this body or another)
        # was checked then; that is most of them.
        if not (_writes_back(snap, body) and all(v.to_json() == d for v, d in decoder.new)):
            raise ValueError(f"{arch}/{view} holds keys or values the schema does not")
        decoder.new.clear()
        snapshots[arch, view] = snap
    return SnapshotFile(snapshots, tree)


def _writes_back(snap: Snapshot, body: Mapping[str, Any]) -> bool:
    """Whether the body's keys and interface version are what :meth:`Snapshot.body`
    writes (its tables' keys are: the snapshot was made from them)."""
    return (body.keys() == {"interface_version", "records", "constants", "typedefs", "headers"}
            and body["interface_version"] == f"0x{snap.interface_version:08x}")
