"""The symbol index the three docs rules share: every name the tree's headers declare, and
what each snapshot defines (:class:`xenabi.docs.symbols.SymbolIndex`)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from xenabi.analysis.context import Context
from xenabi.docs.symbols import SymbolIndex, declared_names
from xenabi.model import Snapshot
from xenabi.tree import XenTree


def tree_index(tree: XenTree, snapshots: Mapping[tuple[str, str], Snapshot]) -> SymbolIndex:
    """The symbol index of a tree's snapshots and header texts."""
    texts = {h: tree.read(h) for h in tree.headers}
    return SymbolIndex(snapshots, declared_names(texts), texts)


def context_index(ctx: Context) -> SymbolIndex:
    """:func:`tree_index` of a run, built once for the three docs rules."""
    return ctx.memo("symbol index", partial(tree_index, ctx.tree, ctx.snapshots))
