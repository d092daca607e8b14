"""Reading snapshot files back: ``xenabi snapshot`` (every target and view) and
``xenabi dump --format json`` (one) into typed :class:`~xenabi.model.Snapshot` values.

A file is accepted only if writing what was read gives it back: anything
the model does not hold (a key of another schema, a value of the wrong
type) is unusable input, reported on one line that names the file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xenabi.errors import UsageError
from xenabi.model import SNAPSHOT_SCHEMA, Snapshot
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


def load_snapshot(path: str | Path) -> SnapshotFile:
    """The snapshots of a ``xenabi snapshot`` or ``xenabi dump --format json`` file.

    Raises UsageError (one line naming the file) when it cannot be read, is not
    JSON (with the line of the syntax error), or is not ``xenabi-snapshot/1``.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"{path}: cannot read the snapshot: "
                         f"{getattr(e, 'strerror', None) or e}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(f"{path}:{e.lineno}: not a snapshot: invalid JSON ({e.msg})") from None
    schema = data.get("schema") if isinstance(data, dict) else None
    if schema != SNAPSHOT_SCHEMA:
        raise UsageError(f"{path}: not a {SNAPSHOT_SCHEMA} file (schema: {schema!r})")
    try:
        return _read(data)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise UsageError(f"{path}: not a valid {SNAPSHOT_SCHEMA} file "
                         f"({type(e).__name__}: {e})") from None


def _read(data: dict[str, Any]) -> SnapshotFile:
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
    for (arch, view), body in bodies.items():
        if arch not in TARGETS or view not in VIEWS:
            raise ValueError(f"unknown target and view {arch}/{view}")
        snap = Snapshot.from_json({**body, "arch": arch, "view": view})
        # what the model would write back must be what was read: no key or
        # value of another shape gets through
        if snap.body() != body:
            raise ValueError(f"{arch}/{view} holds keys or values the schema does not")
        snapshots[arch, view] = snap
    return SnapshotFile(snapshots, tree)
