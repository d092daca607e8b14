"""The one run path: tree -> snapshots -> rules -> waivers -> a frozen :class:`Report`.

The CLI, the pytest plugin and the conformance suite all call :func:`run`
(and :func:`snapshots` for the commands that stop at the snapshots), so what
users run is what the tests test. A warm run reads the merged findings from
:mod:`xenabi.cache`; the key is xenabi's code, the tree's public headers and
the rules' other inputs (:func:`xenabi.check.inputs_digest`), the targets,
views and rules, and the files read outside the tree; waivers are applied
afresh every run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from xenabi import cache as _cache
from xenabi.check import (Report, default_waivers, finding_from_json, findings, inputs_digest,
                          judge)
from xenabi.errors import UsageError
from xenabi.model import Finding, Snapshot
from xenabi.rules import REGISTRY, read_docs_early, runnable
from xenabi.snapshot import take_all, take_all_texts
from xenabi.targets import TARGETS, VIEWS, choose, tree_arches
from xenabi.tree import XenTree
from xenabi.waivers import Waiver

if TYPE_CHECKING:  # the docs package loads only when a docs rule runs
    from xenabi.docs import Reading

Snapshots = Mapping[tuple[str, str], Snapshot]


def snapshots(tree: XenTree, arches: Iterable[str] | None = None,
              views: Iterable[str] | None = None, *, interface_version: int | None = None,
              use_cache: bool = True, reads: set[str] | None = None
              ) -> dict[tuple[str, str], Snapshot]:
    """The snapshots of ``tree`` for every target and view asked for (default: all)."""
    return take_all(tree, arches, views, interface_version=interface_version,
                    use_cache=use_cache, reads=reads)


def snapshot_texts(tree: XenTree, arches: Iterable[str] | None = None,
                   views: Iterable[str] | None = None, *, use_cache: bool = True
                   ) -> dict[tuple[str, str], str]:
    """Like :func:`snapshots`, each as its body's sorted JSON (what ``xenabi snapshot``
    writes): a cached body's text is used as it is, never decoded."""
    return take_all_texts(tree, arches, views, use_cache=use_cache)


def choose_waivers(tree: XenTree, file: str | None = None, none: bool = False,
                   release: str | None = None) -> tuple[Waiver, ...]:
    """``--waivers FILE``, ``--no-waivers`` or ``--xen-release X.Y``: at most one of them."""
    if none and file:
        raise UsageError("--waivers and --no-waivers exclude each other")
    if release and (file or none):
        raise UsageError("--xen-release picks the shipped waivers: it excludes --waivers "
                         "and --no-waivers")
    return () if none else default_waivers(tree, file, release)


def _valid_findings(data: object) -> list[Finding] | None:
    if not isinstance(data, list):
        return None
    out = [finding_from_json(d) for d in data]
    return out if all(_cache.conforms(f) for f in out) else None


def findings_key(tree: XenTree, arches: Iterable[str], views: Iterable[str],
                 rules: Iterable[str]) -> str:
    """The findings cache's key of the rules that ran on ``tree``'s targets and views."""
    chosen = set(arches)
    return _cache.key("findings", inputs_digest(tree), ",".join(a for a in TARGETS if a in chosen),
                      ",".join(sorted(set(views))), ",".join(rules))


def cached_findings(tree: XenTree, arches: Iterable[str], views: Iterable[str],
                    rules: Iterable[str], use_cache: bool = True) -> list[Finding] | None:
    """The merged findings of ``rules`` (those that ran) on ``tree``'s targets and views,
    when the findings cache has them."""
    return _cache.Cache(use_cache).get("findings", findings_key(tree, arches, views, rules),
                                       _valid_findings)


def run(tree: XenTree, *, arches: Iterable[str] | None = None,
        views: Iterable[str] | None = None, rules: Iterable[str] | None = None,
        waivers: Sequence[Waiver] | None = None, use_cache: bool = True,
        given: Snapshots | None = None, reads: Iterable[str] | None = None,
        docs: Reading | None = None, found: Sequence[Finding] | None = None) -> Report:
    """Check ``tree``: the rules asked for (default: all) that it has the inputs of, on
    the targets and views asked for (default: all), with ``waivers`` (default: the
    tree's, :func:`xenabi.check.default_waivers`).

    ``given`` are snapshots already taken (their targets and views are the run's); the
    findings cache is used for them only with ``reads``, the files outside the tree they
    were computed from, which vouch that they are the tree's own (not made up by a
    test). ``found``: their findings, already made (carried over from another run,
    :mod:`xenabi.carry`), stored as the findings cache stores those it computes.
    ``docs``: the tree's docs, already being read (:func:`read_docs_early`)."""
    report = _run(tree, arches, views, rules, waivers, use_cache, given, reads, docs, found,
                  compute=True)
    assert report is not None
    return report


def cached_report(tree: XenTree, given: Snapshots, reads: Iterable[str],
                  use_cache: bool = True) -> Report | None:
    """What :func:`run` gives for ``given`` (the tree's snapshots, computed from ``reads``)
    when the findings cache has their findings; None when it does not (nothing is
    computed)."""
    return _run(tree, None, None, None, None, use_cache, given, reads, None, None,
                compute=False)


def _run(tree: XenTree, arches: Iterable[str] | None, views: Iterable[str] | None,
         rules: Iterable[str] | None, waivers: Sequence[Waiver] | None, use_cache: bool,
         given: Snapshots | None, reads: Iterable[str] | None, docs: Reading | None,
         found: Sequence[Finding] | None, compute: bool) -> Report | None:
    asked = tuple(rules) if rules is not None else tuple(REGISTRY)
    unknown = [r for r in asked if r not in REGISTRY]
    if unknown:
        raise UsageError(f"--rule {unknown[0]}: unknown (known: {', '.join(REGISTRY)})")
    if given is not None:
        arch_list = tuple(a for a in TARGETS if any(a == x for x, _ in given))
        view_list = tuple(sorted({v for _, v in given}))
        # the cache holds a product of targets and views
        cacheable = reads is not None and len(given) == len(arch_list) * len(view_list)
    else:
        arch_list, view_list, cacheable = choose(tree.headers, arches), tuple(views or VIEWS), True
    ran, not_run = runnable(tree, asked, arch_list, view_list)
    store = _cache.Cache(use_cache and cacheable)
    k = findings_key(tree, arch_list, view_list, ran)
    hit = store.get("findings", k, _valid_findings) if found is None else None
    if hit is None:
        if not compute:
            return None
        outside = set(reads or ())
        if found is not None:
            hit = list(found)
        else:
            if given is None:
                # pandoc reads the docs while the snapshots are computed
                docs = docs or read_docs_early(tree, ran, use_cache=use_cache)
                given = snapshots(tree, arch_list, view_list, use_cache=use_cache,
                                  reads=outside)
            hit = findings(tree, given, ran, use_cache=use_cache, docs=docs)
        store.put("findings", k, [f.to_json() for f in hit], _cache.dependencies(outside))
    chosen = tuple(waivers) if waivers is not None else default_waivers(tree)
    return judge(hit, chosen, arch_list, view_list, ran, not_run, tree_arches(tree.headers))
