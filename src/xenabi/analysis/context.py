"""The context a run's rules share: the tree, its snapshots by (arch, view), its docs
(read lazily, or already being read), and the run's memo."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar, cast

from xenabi.model import Snapshot
from xenabi.tree import XenTree

if TYPE_CHECKING:  # the docs package (and pandoc) load only when a docs rule runs
    from xenabi.docs import DocSet, Reading

T = TypeVar("T")
_MISSING = object()


class Context:
    """What rules read: one tree, its snapshots by (arch, view), and lazily its docs.

    It also holds the run's memo (:meth:`memo`): what several rules, or several
    snapshots, share is computed once per run and dropped with the context.
    """

    def __init__(self, tree: XenTree, snapshots: Mapping[tuple[str, str], Snapshot],
                 use_cache: bool = True, docs: Reading | None = None) -> None:
        self.tree = tree
        self.snapshots = snapshots
        self.use_cache = use_cache  #: False reads the docs afresh (``--no-cache``)
        self._docs = docs  #: the docs already being read (:func:`xenabi.rules.read_docs_early`)
        self._memo: dict[Hashable, object] = {}

    def each(self) -> Iterator[tuple[str, str, Snapshot]]:
        """(arch, view, snapshot) in a stable order."""
        for (name, view), snap in sorted(self.snapshots.items()):
            yield name, view, snap

    def by_view(self) -> dict[str, list[tuple[str, Snapshot]]]:
        """view -> [(arch, snapshot)], in the order of :meth:`each`."""
        out: dict[str, list[tuple[str, Snapshot]]] = defaultdict(list)
        for arch, view, snap in self.each():
            out[view].append((arch, snap))
        return out

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, once per run for ``key``: work that rules, or snapshots, share
        (the families of a header the 8 snapshots see alike, the docs rules' symbol index)."""
        found = self._memo.get(key, _MISSING)  # one lookup: some keys are long to hash
        if found is _MISSING:
            found = self._memo[key] = compute()
        return cast(T, found)

    @cached_property
    def docs(self) -> DocSet | None:
        """The tree's pandoc documents, parsed once per run (None without docs/)."""
        if self._docs is not None:
            return self._docs.result()
        from xenabi.docs import load_docs  # lazy: pandoc runs only when a docs rule asks

        return load_docs(self.tree, cache=self.use_cache)
