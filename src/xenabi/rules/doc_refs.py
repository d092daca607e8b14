"""Rule doc-refs: the C names and public header paths the pandoc docs use exist.

A code span is held to the headers when its shape makes it C (see
:mod:`xenabi.docs.refs`) and it claims a family the headers define (see
:mod:`xenabi.docs.symbols`); the subject of a recognised statement is left
to doc-semantics, which says more about it. Also home of
:func:`context_index`, the symbol index the three docs rules share.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from weakref import WeakKeyDictionary

from xenabi.docs import DocSet
from xenabi.docs.refs import CHECKED, Kind, Ref, refs
from xenabi.docs.statements import statements
from xenabi.docs.symbols import SymbolIndex, closest, declared_names
from xenabi.model import Finding, Severity
from xenabi.rules import Context, rule
from xenabi.tree import XenTree

_INDEXES: WeakKeyDictionary[Context, SymbolIndex] = WeakKeyDictionary()


def context_index(ctx: Context) -> SymbolIndex:
    """The symbol index of a run's snapshots and header texts, built once per context."""
    if ctx not in _INDEXES:
        texts = {h: ctx.tree.read(h) for h in ctx.tree.headers}
        _INDEXES[ctx] = SymbolIndex(ctx.snapshots, declared_names(texts), texts)
    return _INDEXES[ctx]


@rule("doc-refs", "identifiers and header paths that the pandoc docs name exist")
def doc_refs(ctx: Context) -> Iterator[Finding]:
    docs: DocSet | None = ctx.docs
    if docs is None:
        return
    yield from check_refs(context_index(ctx), ctx.tree, docs)


def check_refs(index: SymbolIndex, tree: XenTree, docs: DocSet) -> Iterator[Finding]:
    """A finding for each checked name of ``docs`` that the headers do not define."""
    for doc in docs:
        judged = {(s.line, s.subject) for s in statements(doc)}
        for ref in refs(doc):
            if ref.kind in CHECKED and (ref.line, ref.name) not in judged:
                problem = _problem(index, tree, ref)
                if problem:
                    yield _finding(index, ref, problem)


def _problem(index: SymbolIndex, tree: XenTree, ref: Ref) -> str | None:
    """Why ``ref`` does not resolve, or None when it does (or claims nothing)."""
    missing = f"{ref.name} is not defined by the public headers"
    match ref.kind:
        case Kind.HEADER:
            if (tree.public / ref.name).is_file():
                return None
            close = closest(ref.name, tree.headers)
            hint = f" (did you mean {tree.finding_path(close)}?)" if close else ""
            return f"{ref.text} does not exist{hint}"
        case Kind.RECORD:
            return _record_problem(index, tree, ref.name)
        case Kind.CONSTANT if not index.exists(ref.name) and index.constant_family(ref.name):
            family = index.members(index.constant_family(ref.name) or "")
            return missing + _hint(index, tree, ref.name, family)
        case Kind.TYPEDEF if not index.exists(ref.name) and index.type_family(ref.name):
            return missing + _hint(index, tree, ref.name, index.type_names())
        case Kind.HYPERCALL if not index.hypercall(ref.name):
            return f"{ref.text}: the public headers define no __HYPERVISOR_{ref.name}"
        case Kind.DESIGNATOR:
            return _designator_problem(index, tree, ref.name)
    return None


def _record_problem(index: SymbolIndex, tree: XenTree, name: str) -> str | None:
    kind, tag = name.split(" ", 1)
    if name in index.records:
        return None
    other = index.record(tag)
    if other is not None and kind != "enum":  # a struct that is a union, or the reverse
        return (f"{name} is not defined by the public headers; {other} is "
                f"({_where(index, tree, other)})")
    if name in index.declared or not index.type_family(tag):
        return None
    same_kind = [k for k in index.records if k.startswith(kind + " ")]
    return f"{name} is not defined by the public headers{_hint(index, tree, name, same_kind)}"


def _designator_problem(index: SymbolIndex, tree: XenTree, name: str) -> str | None:
    base, path = name.split(".", 1)
    key = index.record(base)
    if key is None:
        return None  # `d->argo`: a variable of the hypervisor, not a record of the ABI
    fields = index.fields(key)
    if path in fields:
        return None
    close = closest(path, fields)
    return (f"{name}: {key} ({_where(index, tree, key)}) has no field {path}"
            + (f" (did you mean {close}?)" if close else ""))


def _where(index: SymbolIndex, tree: XenTree, name: str) -> str:
    site = index.site(name)
    return f"{tree.finding_path(site.header)}:{site.line}" if site else "?"


def _hint(index: SymbolIndex, tree: XenTree, name: str, pool: Iterable[str]) -> str:
    """`` (did you mean X, where X is defined?)``, or nothing when no name is close."""
    close = closest(name, pool)
    return f" (did you mean {close}, {_where(index, tree, close)}?)" if close else ""


def _finding(index: SymbolIndex, ref: Ref, message: str) -> Finding:
    return Finding("doc-refs", Severity.ERROR, message, ref.doc, ref.line, symbols=(ref.name,),
                   arches=index.arches, views=index.views)
