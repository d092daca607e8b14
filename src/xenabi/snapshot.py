"""Snapshots: the layouts and constants of one tree, per target and view.

``take`` runs preprocess -> parse -> layout for one target and view; a header
that fails to parse or lay out is marked ``failed`` and the rest are read
again without it. ``take_all`` does every target and view, in parallel
across processes, and both keep their results in :mod:`xenabi.cache` (the
tree's headers, the target, the view, the interface version and xenabi's own
code make the key; files read from outside the tree are checked on each read).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, TypeVar

from xenabi import cache as _cache
from xenabi import gcpause, lifetime, snapshotset
from xenabi.errors import HeaderError, UsageError, XenAbiError
from xenabi.model import (Api, Constant, Coord, Decoder, EnumRef, HeaderStatus, IntConstant,
                          RecordLayout, Scalar, Snapshot, Status, StrConstant, TypedefLayout,
                          TypedefRef, anonymous_key, canonical, spell)
from xenabi.targets import TARGETS, VIEWS, choose
from xenabi.tree import XenTree

# The pipeline's modules (pycparser among them) are imported where a snapshot is
# computed: a warm run reads the cache and needs none of them.
if TYPE_CHECKING:
    from xenabi.cexpr import CInt
    from xenabi.cparse import Converter
    from xenabi.layout import Layouter

_V = TypeVar("_V")
V = TypeVar("V")


def _public(file: str) -> bool:
    return not file.startswith(("/", "<"))


@dataclass(frozen=True)
class Trail:
    """How :func:`compute` made a target-view's snapshot: the digest of each unit it
    preprocessed (:meth:`~xenabi.preprocess.Unit.digest`) with the headers its parse
    found failed, and the snapshot the last unit parsed into."""

    steps: tuple[tuple[str, Mapping[str, HeaderStatus]], ...]
    snapshot: Snapshot


class Batch:
    """What the target-views one process computes share: the parse of their common
    declarations, one copy of each equal layout and constant, and each target-view's
    last :class:`Trail`. Shared values make a worker's snapshots pickle each value once,
    and comparisons across targets find equal values identical before comparing their
    fields; units preprocessed as the last trail's were (the other side of a diff, a
    commit's parent, where an edit left what cpp gives the target-view as it was) have
    its snapshot, and are not parsed."""

    def __init__(self, trails: bool = False) -> None:
        """``trails``: whether to keep them (a unit's digest costs some milliseconds: a run
        of one tree has no use for them)."""
        from xenabi.cparse import ParseMemo

        self.parse = ParseMemo()
        self._values: dict[object, object] = {}
        self.follows = trails
        self.trails: dict[tuple[str, str], Trail] = {}  #: (arch, view) -> the last one

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
            raise HeaderError(rec.coord, f"{name}: {e}") from None
        yield name, keep(RecordLayout(rec.kind, shape.size, shape.align,
                                      _line(rec.coord),
                                      tuple(keep(f) for f in fields)))


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
        # the canonical type of the name, not of what it names: a typedef that
        # names an anonymous record is the record's name, as in clang
        spelled, canon = spell(td.type), spell(canonical(TypedefRef(name), api.typedefs))
        yield name, batch.keep(TypedefLayout(spelled, size, align, _line(td.coord),
                                             None if canon == spelled else canon))


def _constants(conv: Converter, api: Api, headers: dict[str, HeaderStatus],
               batch: Batch) -> dict[str, Constant]:
    from xenabi import cexpr

    keep = batch.keep

    # an anonymous enum is known by the typedef that names it, else by its position
    named = {t.type.key: n for n, t in api.typedefs.items() if isinstance(t.type, EnumRef)}
    enum_of = {e.name: named.get(key, key) if anonymous_key(key) else key
               for key, en in api.enums.items() for e in en.members}
    out: dict[str, Constant] = {}
    for name, en in conv.enumerator_defs.items():
        if _public(en.coord.file):
            out[name] = keep(IntConstant(en.value, "enumerator", _line(en.coord),
                                         enum=enum_of[name]))
    for name, m in api.macros.items():
        if m.params is not None or not _public(m.coord.file):
            continue
        body = m.body.strip()
        string = string_macro(body, _line(m.coord))
        if string is not None:
            out[name] = keep(string)
            continue
        try:
            v = cexpr.evaluate_macro(name, api.macros, conv.target, conv.env, conv.env)
        except cexpr.ExpansionLimit as e:
            headers[m.coord.file] = HeaderStatus(Status.FAILED, str(e), coord=m.coord)
            continue
        except (cexpr.ExprError, XenAbiError):
            continue  # not an integer constant expression: a type, a statement, a guard
        out[name] = keep(int_macro(v, _line(m.coord), body))
    return out


def string_macro(body: str, coord: Coord) -> StrConstant | None:
    """The constant of a macro whose body (stripped) is one string literal, else None."""
    if body.startswith('"') and body.endswith('"') and body.count('"') == 2:
        return StrConstant(body[1:-1], coord, body)
    return None


def int_macro(v: CInt, coord: Coord, body: str) -> IntConstant:
    """The constant of a macro whose body (stripped) evaluated to ``v``."""
    return IntConstant(v.value, "macro", coord, _scalar(v.ctype), body)


def _line(c: Coord) -> Coord:
    """``c`` without its column: a snapshot locates declarations by line."""
    return c if c.column is None else Coord(c.file, c.line)


_scalar = cache(Scalar)


def compute(tree: XenTree, arch: str, view: str, interface_version: int | None = None,
            batch: Batch | None = None, reads: set[str] | None = None) -> Snapshot:
    """One target and view, computed from scratch (what ``batch`` parsed is not parsed again);
    the files cpp read outside the tree are added to ``reads``."""
    from xenabi import pipeline
    from xenabi.preprocess import preprocess

    batch = batch if batch is not None else Batch()
    known: dict[str, HeaderStatus] = {}
    last = batch.trails.get((arch, view))
    steps: list[tuple[str, Mapping[str, HeaderStatus]]] = []
    for attempt in range(len(tree.headers) + 1):
        unit = preprocess(tree, arch, view, interface_version, known)
        if reads is not None:
            reads.update(unit.outside)
        digest = unit.digest() if batch.follows else ""
        if last is not None and attempt < len(last.steps) and last.steps[attempt][0] == digest:
            # the unit the last trail had here parses as it did: into its snapshot, or
            # into the same failures
            if attempt == len(last.steps) - 1:
                return last.snapshot
            steps.append(last.steps[attempt])
            known = dict(last.steps[attempt][1])
            continue
        last = None  # off the trail: each unit from here on is parsed
        try:
            parsed = pipeline.parse(unit, batch.parse)
            api, lay = parsed.api, parsed.layouter
            headers = dict(unit.headers)
            records = dict(record_layouts(api, lay, batch))
            constants = _constants(parsed.conv, api, headers, batch)
        except HeaderError as e:
            if e.coord is None:
                raise UsageError(f"{e}") from None
            # as the header is named, not as it was reached (hvm/../xen.h)
            header = os.path.normpath(e.coord.file)
            if header not in unit.headers:
                raise UsageError(f"{e}") from None
            where = Coord(header, e.coord.line)
            # what cpp left out stays out: finding it again would cost a cpp run each time
            known.update((h, st) for h, st in unit.headers.items() if st.status is not Status.PARSED)
            known[header] = HeaderStatus(Status.FAILED, e.message, coord=where)
            for top in unit.reached_by.get(header, frozenset()) - {header}:
                known[top] = HeaderStatus(Status.FAILED, f"includes {header}: {where}: {e.message}")
            steps.append((digest, dict(known)))
            continue
        snap = Snapshot(arch, view, unit.interface_version, records, constants,
                        dict(_typedef_layouts(api, lay, batch)), headers)
        if batch.follows:
            batch.trails[arch, view] = Trail((*steps, (digest, {})), snap)
        return snap
    raise AssertionError("a header failed twice")


# -- cache (the policy is xenabi.cache's)


def _key(tree: XenTree, arch: str, view: str, version: int | None) -> str:
    return _cache.key("snapshot", tree.fingerprint, arch, view, str(version))


def _entry(snap: Snapshot) -> dict[str, str]:
    """A snapshot as the cache keeps it: its body's text, and that text's digest."""
    return _cache.sealed(body_text(snap))


def _valid(arch: str, view: str, decoder: Decoder | None = None
           ) -> Callable[[object], Snapshot | None]:
    def valid(data: object) -> Snapshot | None:
        text = _cache.opened(data)
        if text is None:
            return None
        # Snapshot.from_json checks the type of every value it reads
        return Snapshot.from_json({**json.loads(text), "arch": arch, "view": view}, decoder)
    return valid


def _set_key(tree: XenTree, pairs: Sequence[tuple[str, str]], version: int | None) -> str:
    return _cache.key("snapshot-set", tree.fingerprint, ",".join(f"{a}/{v}" for a, v in pairs),
                      str(version))


def _valid_set(pairs: Sequence[tuple[str, str]], shared: dict[object, object]
               ) -> Callable[[object], dict[tuple[str, str], Snapshot] | None]:
    def valid(data: object) -> dict[tuple[str, str], Snapshot] | None:
        text = _cache.opened(data)
        snaps = None if text is None else snapshotset.unpack(json.loads(text), shared)
        return snaps if snaps is not None and set(snaps) == set(pairs) else None
    return valid


def _check_names(pairs: Iterable[tuple[str, str]]) -> None:
    for arch, view in pairs:
        if arch not in TARGETS:
            raise UsageError(f"unknown arch '{arch}' (known: {', '.join(TARGETS)})")
        if view not in VIEWS:
            raise UsageError(f"unknown view '{view}' (known: {', '.join(VIEWS)})")


def body_text(snap: Snapshot) -> str:
    """The cached form of a snapshot: its body as sorted JSON (the arch and view are in the key)."""
    return json.dumps(snap.body(), sort_keys=True)


def take(tree: XenTree, arch: str, view: str = "tools", *, interface_version: int | None = None,
         use_cache: bool = True, batch: Batch | None = None,
         reads: set[str] | None = None) -> Snapshot:
    """The snapshot of one target and view, from the cache when it has it; the files it
    was computed from outside the tree are added to ``reads``."""
    _check_names([(arch, view)])
    choose(tree.headers, [arch])
    store = _cache.Cache(use_cache)
    k = _key(tree, arch, view, interface_version)
    hit = store.get("snapshot", k, _valid(arch, view), reads)
    if hit is not None:
        return hit
    outside: set[str] = set()
    snap = compute(tree, arch, view, interface_version, batch, outside)
    store.put("snapshot", k, _entry(snap), _cache.dependencies(outside))
    if reads is not None:
        reads.update(outside)
    return snap


#: one target and view of one tree
_Unit = tuple[XenTree, str, str]


def _take_batch(args: tuple[list[_Unit], int | None, bool]) -> tuple[list[Snapshot], set[str]]:
    """Several target-views (of one tree or more) in one process, parsing the declarations
    they share once; and the files they read outside the trees."""
    units, version, use_cache = args
    # the sides of a diff: a target-view the change leaves as it was is parsed once
    batch = Batch(trails=len({tree.root for tree, _, _ in units}) > 1)
    reads: set[str] = set()
    with gcpause.paused():
        return [take(tree, a, v, interface_version=version, use_cache=use_cache, batch=batch,
                     reads=reads) for tree, a, v in units], reads


def family_batches(units: list[_Unit], jobs: int) -> list[list[_Unit]]:
    """All in one batch for one core; else one per arch family (a family's units share the
    most text, in every tree), halved while cores would be idle, and families together
    where there are more of them than cores."""
    if jobs <= 1:
        return [units]
    families: dict[str, list[_Unit]] = {}
    for u in units:
        families.setdefault(TARGETS[u[1]].arch_family, []).append(u)
    batches = list(families.values())
    while len(batches) < jobs:
        big = max(batches, key=len)
        if len(big) < 2:
            break
        batches.remove(big)
        batches += [big[:len(big) // 2], big[len(big) // 2:]]
    if len(batches) <= jobs:
        return batches
    # no more processes than cores: families share them, the biggest first each to the
    # least loaded, and what their headers share is parsed once in each
    bins: list[list[_Unit]] = [[] for _ in range(jobs)]
    for family in sorted(batches, key=len, reverse=True):
        min(bins, key=len).extend(family)
    return bins


def _pairs(tree: XenTree, arches: Iterable[str] | None,
           views: Iterable[str] | None) -> list[tuple[str, str]]:
    _check_names((a, v) for a in arches or () for v in views or VIEWS)
    pairs = [(a, v) for a in choose(tree.headers, arches) for v in (views or VIEWS)]
    return pairs


def _cached(tree: XenTree, pairs: list[tuple[str, str]], interface_version: int | None,
            use_cache: bool, reads: set[str],
            read: Callable[[str, str], Callable[[object], V | None]]) -> dict[tuple[str, str], V]:
    """What the cache holds of ``pairs``, as ``read(arch, view)`` reads an entry."""
    store = _cache.Cache(use_cache)
    out = {}
    for a, v in pairs:
        hit = store.get("snapshot", _key(tree, a, v, interface_version), read(a, v), reads)
        if hit is not None:
            out[(a, v)] = hit
    return out


def _compute_all(units: list[_Unit], interface_version: int | None, use_cache: bool,
                 jobs: int | None, reads: set[str]) -> list[Snapshot]:
    """Compute ``units`` in parallel batches (and fill the cache when ``use_cache``)."""
    jobs = min(jobs or os.cpu_count() or 1, len(units))
    batches = family_batches(units, jobs) if units else []
    work = [(batch, interface_version, use_cache) for batch in batches]
    if len(work) > 1:
        # imported before the workers fork, so that they inherit the modules rather
        # than import them again
        import xenabi.pipeline  # noqa: F401
    done = lifetime.fork_map(_take_batch, work)
    for _, outside in done:
        reads.update(outside)
    got = {id(u): snap for batch, (snaps, _) in zip(batches, done) for u, snap in zip(batch, snaps)}
    return [got[id(u)] for u in units]


def take_all(tree: XenTree, arches: Iterable[str] | None = None,
             views: Iterable[str] | None = None, *, interface_version: int | None = None,
             use_cache: bool = True, jobs: int | None = None,
             reads: set[str] | None = None) -> dict[tuple[str, str], Snapshot]:
    """Snapshots of every (arch, view) asked for, computed in parallel; the files they
    were computed from outside the tree are added to ``reads``."""
    return take_trees([tree], arches, views, interface_version=interface_version,
                      use_cache=use_cache, jobs=jobs, reads=reads)[0]


def take_trees(trees: Sequence[XenTree], arches: Iterable[str] | None = None,
               views: Iterable[str] | None = None, *, interface_version: int | None = None,
               use_cache: bool = True, jobs: int | None = None,
               reads: set[str] | None = None) -> list[dict[tuple[str, str], Snapshot]]:
    """:func:`take_all` of several trees at once (the sides of a diff): a worker computes
    one arch family of every tree, so the declarations the trees share are parsed once.
    Each tree gets the targets it has (``arches`` narrows them)."""
    arches = None if arches is None else tuple(arches)
    pairs = [_pairs(tree, arches, views) for tree in trees]
    reads = reads if reads is not None else set()
    store = _cache.Cache(use_cache)
    # a tree's snapshots together, each distinct value once: a fraction of what its
    # snapshots' own entries hold
    keys = [_set_key(tree, ps, interface_version) for tree, ps in zip(trees, pairs)]
    shared: dict[object, object] = {}  # the trees' equal values: one object each
    whole = [store.get("snapshot-set", k, _valid_set(ps, shared), reads)
             for k, ps in zip(keys, pairs)]
    # cached ones are read here: a worker pool would cost more than they do
    decoder = Decoder()
    outs = [w if w is not None else
            _cached(tree, ps, interface_version, use_cache, reads,
                    lambda a, v: _valid(a, v, decoder))
            for tree, ps, w in zip(trees, pairs, whole)]
    todo = [(i, a, v) for i, out in enumerate(outs) for a, v in pairs[i] if (a, v) not in out]
    units = [(trees[i], a, v) for i, a, v in todo]
    for (i, a, v), snap in zip(todo, _compute_all(units, interface_version, use_cache, jobs,
                                                   reads)):
        outs[i][(a, v)] = snap
    done = [{p: out[p] for p in ps} for out, ps in zip(outs, pairs)]
    # packed when a tree's snapshots were all read from their own entries (a second run),
    # not when some were computed: a run that computes is often the only one (--no-cache
    # in CI, a check of a tree once), and packing a tree costs about 0.1 s
    computed = {i for i, _, _ in todo}
    deps = _cache.dependencies(reads) if None in whole else {}
    for i, (k, w, snaps) in enumerate(zip(keys, whole, done)):
        if w is None and i not in computed and store.where is not None:
            packed = json.dumps(snapshotset.pack(snaps, sort=True), sort_keys=True)
            store.put("snapshot-set", k, _cache.sealed(packed), deps)
    return done


def take_all_texts(tree: XenTree, arches: Iterable[str] | None = None,
                   views: Iterable[str] | None = None, *, interface_version: int | None = None,
                   use_cache: bool = True, jobs: int | None = None) -> dict[tuple[str, str], str]:
    """Like :func:`take_all`, as :func:`body_text`: a cached body's text is used as it is."""
    pairs = _pairs(tree, arches, views)
    # a cached body's text is output as it is: decoding and encoding it again would cost
    # several times the rest of a warm run
    out = _cached(tree, pairs, interface_version, use_cache, set(),
                  lambda _a, _v: _cache.opened)
    todo = [p for p in pairs if p not in out]
    computed = _compute_all([(tree, a, v) for a, v in todo], interface_version, use_cache,
                            jobs, set())
    out.update({p: body_text(snap) for p, snap in zip(todo, computed)})
    return {p: out[p] for p in pairs}
