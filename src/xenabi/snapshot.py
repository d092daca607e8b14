"""Snapshots: the layouts and constants of one tree, per target and view.

``take`` runs preprocess -> parse -> layout for one target and view; a header
that fails to parse or lay out is marked ``failed`` and the rest are read
again without it. ``take_all`` does every target and view, in parallel
across processes, and both keep a content-addressed cache (the tree's
headers, the target, the view and xenabi's own code make the key).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from xenabi import gcpause
from xenabi.errors import HeaderError, UsageError, XenAbiError
from xenabi.model import (Api, Constant, HeaderStatus, RecordLayout, Snapshot, Status,
                          TypedefLayout, spell)
from xenabi.targets import TARGETS, VIEWS
from xenabi.tree import XenTree

# The pipeline's modules (pycparser among them) are imported where a snapshot is
# computed: a warm run reads the cache and needs none of them.
if TYPE_CHECKING:
    from xenabi.cparse import Converter
    from xenabi.layout import Layouter

_V = TypeVar("_V")


def _public(file: str) -> bool:
    return not file.startswith(("/", "<"))


class Batch:
    """What the target-views one process computes share: the parse of their common
    declarations, and one copy of each equal layout and constant. Shared values make
    a worker's snapshots pickle each value once, and comparisons across targets find
    equal values identical before comparing their fields."""

    def __init__(self) -> None:
        from xenabi.cparse import ParseMemo

        self.parse = ParseMemo()
        self._values: dict[object, object] = {}

    def keep(self, value: _V) -> _V:
        """``value``, or the equal value kept before."""
        return self._values.setdefault(value, value)  # type: ignore[return-value]


def record_layouts(api: Api, lay: Layouter, batch: Batch | None = None
                   ) -> Iterator[tuple[str, RecordLayout]]:
    """Every record a snapshot lists, keyed as DESIGN.md says, with its layout."""
    keep = (batch if batch is not None else Batch()).keep
    for key, rec in api.records.items():
        if not _public(rec.coord.file):
            continue
        name = key if rec.tag else api.typedef_names.get(key)
        if name is None:
            continue  # an anonymous member's type: its fields are in its parent
        try:
            shape = lay.record(key)
            fields = lay.designators(key)
        except XenAbiError as e:
            raise HeaderError(str(rec.coord), f"{name}: {e}") from None
        yield name, keep(RecordLayout(rec.kind, shape.size, shape.align, rec.coord.file,
                                      rec.coord.line, tuple(keep(f) for f in fields)))


def _typedef_layouts(api: Api, lay: Layouter, batch: Batch
                     ) -> Iterator[tuple[str, TypedefLayout]]:
    for name, td in api.typedefs.items():
        if not _public(td.coord.file):
            continue
        size: int | None
        align: int | None
        try:
            shape = lay.shape(td.type)
            size, align = shape.size, shape.align
        except XenAbiError:
            size = align = None
        yield name, batch.keep(TypedefLayout(spell(td.type), size, align, td.coord.file,
                                       td.coord.line))


def _constants(conv: Converter, api: Api, headers: dict[str, HeaderStatus],
               batch: Batch) -> dict[str, Constant]:
    from xenabi import cexpr

    keep = batch.keep

    out: dict[str, Constant] = {}
    for name, en in conv.enumerator_defs.items():
        if _public(en.coord.file):
            out[name] = keep(Constant(en.value, "enumerator", en.coord.file, en.coord.line,
                                      "int"))
    for name, m in api.macros.items():
        if m.params is not None or not _public(m.coord.file):
            continue
        body = m.body.strip()
        if body.startswith('"') and body.endswith('"') and body.count('"') == 2:
            out[name] = keep(Constant(body[1:-1], "string", m.coord.file, m.coord.line,
                                      "char[]", body))
            continue
        try:
            v = cexpr.evaluate_macro(name, api.macros, conv.target, conv.env, conv.env)
        except cexpr.ExpansionLimit as e:
            headers[m.coord.file] = HeaderStatus(Status.FAILED, f"{m.coord}: {e}")
            continue
        except (cexpr.ExprError, XenAbiError):
            continue  # not an integer constant expression: a type, a statement, a guard
        out[name] = keep(Constant(v.value, "macro", m.coord.file, m.coord.line, v.ctype, body))
    return out


def compute(tree: XenTree, arch: str, view: str, interface_version: int | None = None,
            batch: Batch | None = None) -> Snapshot:
    """One target and view, computed from scratch (what ``batch`` parsed is not parsed again)."""
    from xenabi import pipeline
    from xenabi.preprocess import preprocess

    batch = batch if batch is not None else Batch()
    known: dict[str, HeaderStatus] = {}
    for _ in range(len(tree.headers) + 1):
        unit = preprocess(tree, arch, view, interface_version, known)
        try:
            parsed = pipeline.parse(unit, batch.parse)
            api, lay = parsed.api, parsed.layouter
            headers = dict(unit.headers)
            records = dict(record_layouts(api, lay, batch))
            constants = _constants(parsed.conv, api, headers, batch)
        except HeaderError as e:
            header = e.where.split(":")[0]
            if header not in unit.headers:
                raise UsageError(f"{e}") from None
            top = unit.tops.get(header, header)
            known[top] = HeaderStatus(Status.FAILED, str(e))
            if header != top:
                known[header] = HeaderStatus(Status.FAILED, str(e))
            continue
        return Snapshot(arch, view, unit.interface_version, records, constants,
                        dict(_typedef_layouts(api, lay, batch)), headers)
    raise AssertionError("a header failed twice")


# -- cache


#: the modules a snapshot depends on: a change to any of them invalidates the cache
_PIPELINE = ("tree.py", "preprocess.py", "cparse.py", "pycparser_ext.py", "cexpr.py", "layout.py",
             "pipeline.py", "model.py", "targets.py", "snapshot.py")


@cache
def _code_hash() -> str:
    h = hashlib.sha256()
    here = Path(__file__).parent
    for p in sorted([*(here / m for m in _PIPELINE), *here.glob("sysinclude/**/*.h")]):
        h.update(p.relative_to(here).as_posix().encode() + p.read_bytes())
    return h.hexdigest()


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "xenabi"


def _cache_path(tree: XenTree, arch: str, view: str, version: int | None) -> Path:
    key = hashlib.sha256(f"{_code_hash()}|{tree.fingerprint}|{arch}|{view}|{version}".encode())
    return cache_dir() / f"snapshot-{key.hexdigest()[:32]}.json"


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def _check_names(pairs: Iterable[tuple[str, str]]) -> None:
    for arch, view in pairs:
        if arch not in TARGETS:
            raise UsageError(f"unknown arch '{arch}' (known: {', '.join(TARGETS)})")
        if view not in VIEWS:
            raise UsageError(f"unknown view '{view}' (known: {', '.join(VIEWS)})")


def body_text(snap: Snapshot) -> str:
    """The cached form of a snapshot: its body as sorted JSON (the arch and view are in the key)."""
    return json.dumps(snap.body(), sort_keys=True)


def _from_body(text: str, arch: str, view: str) -> Snapshot:
    return Snapshot.from_json({**json.loads(text), "arch": arch, "view": view})


def take(tree: XenTree, arch: str, view: str = "tools", *, interface_version: int | None = None,
         use_cache: bool = True, batch: Batch | None = None) -> Snapshot:
    """The snapshot of one target and view, from the cache when it has it."""
    _check_names([(arch, view)])
    path = _cache_path(tree, arch, view, interface_version) if use_cache else None
    if path is not None and path.is_file():
        return _from_body(path.read_text(), arch, view)
    snap = compute(tree, arch, view, interface_version, batch)
    if path is not None:
        _write_atomic(path, body_text(snap))
    return snap


def _take_batch(args: tuple[XenTree, list[tuple[str, str]], int | None, bool]) -> list[Snapshot]:
    """Several target-views in one process, parsing the declarations they share once."""
    tree, pairs, version, use_cache = args
    batch = Batch()
    with gcpause.paused():
        return [take(tree, a, v, interface_version=version, use_cache=use_cache, batch=batch)
                for a, v in pairs]


def _batches(pairs: list[tuple[str, str]], jobs: int) -> list[list[tuple[str, str]]]:
    """All in one batch for one core; else one per arch family (a family's units share the
    most text), halved while cores would be idle."""
    if jobs <= 1:
        return [pairs]
    families: dict[str, list[tuple[str, str]]] = {}
    for a, v in pairs:
        families.setdefault(TARGETS[a].arch_family, []).append((a, v))
    batches = list(families.values())
    while len(batches) < jobs:
        big = max(batches, key=len)
        if len(big) < 2:
            break
        batches.remove(big)
        batches += [big[:len(big) // 2], big[len(big) // 2:]]
    return batches


def _pairs(arches: Iterable[str] | None, views: Iterable[str] | None) -> list[tuple[str, str]]:
    pairs = [(a, v) for a in (arches or TARGETS) for v in (views or VIEWS)]
    _check_names(pairs)
    return pairs


def _cached_texts(tree: XenTree, pairs: list[tuple[str, str]],
                  interface_version: int | None) -> dict[tuple[str, str], str]:
    out = {}
    for a, v in pairs:
        path = _cache_path(tree, a, v, interface_version)
        if path.is_file():
            out[(a, v)] = path.read_text()
    return out


def _compute_all(tree: XenTree, pairs: list[tuple[str, str]], interface_version: int | None,
                 use_cache: bool, jobs: int | None) -> dict[tuple[str, str], Snapshot]:
    """Compute ``pairs`` in parallel batches (and fill the cache when ``use_cache``)."""
    batches = _batches(pairs, min(jobs or os.cpu_count() or 1, len(pairs))) if pairs else []
    work = [(tree, batch, interface_version, use_cache) for batch in batches]
    if len(work) <= 1:
        done = [_take_batch(w) for w in work]
    else:
        # imported before the workers fork, so that they inherit the modules rather
        # than import them again
        import xenabi.pipeline  # noqa: F401

        # the last batch is computed here rather than pickled back from a worker
        with ProcessPoolExecutor(len(work) - 1) as pool:
            others = pool.map(_take_batch, work[:-1])
            last = _take_batch(work[-1])
            done = [*others, last]
    return {p: snap for batch, snaps in zip(batches, done) for p, snap in zip(batch, snaps)}


def take_all(tree: XenTree, arches: Iterable[str] | None = None,
             views: Iterable[str] | None = None, *, interface_version: int | None = None,
             use_cache: bool = True, jobs: int | None = None) -> dict[tuple[str, str], Snapshot]:
    """Snapshots of every (arch, view) asked for, computed in parallel."""
    pairs = _pairs(arches, views)
    # cached ones are read here: a worker pool would cost more than they do
    cached = _cached_texts(tree, pairs, interface_version) if use_cache else {}
    out = {p: _from_body(text, *p) for p, text in cached.items()}
    out.update(_compute_all(tree, [p for p in pairs if p not in out], interface_version,
                            use_cache, jobs))
    return {p: out[p] for p in pairs}


def take_all_texts(tree: XenTree, arches: Iterable[str] | None = None,
                   views: Iterable[str] | None = None, *, interface_version: int | None = None,
                   use_cache: bool = True, jobs: int | None = None) -> dict[tuple[str, str], str]:
    """Like :func:`take_all`, as :func:`body_text`: cached snapshots are never decoded."""
    pairs = _pairs(arches, views)
    out = _cached_texts(tree, pairs, interface_version) if use_cache else {}
    computed = _compute_all(tree, [p for p in pairs if p not in out], interface_version,
                            use_cache, jobs)
    out.update({p: body_text(snap) for p, snap in computed.items()})
    return {p: out[p] for p in pairs}
