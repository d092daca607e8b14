"""Rule doc-refs: the C names and public header paths the pandoc docs use exist.

A code span is held to the headers when its shape makes it C (see
:mod:`xenabi.docs.refs`) and it claims a family the headers define (see
:mod:`xenabi.docs.symbols`); the subject of a recognised statement is left
to doc-semantics, which says more about it. Also home of
:func:`context_index`, the symbol index the three docs rules share.
"""

from __future__ import annotations

from collections.abc import Iterator
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
    match ref.kind:
        case Kind.HEADER:
            return _header_problem(tree, ref)
        case Kind.RECORD:
            return _record_problem(index, tree, ref.name)
        case Kind.CONSTANT:
            if index.exists(ref.name) or not index.constant_family(ref.name):
                return None
            return f"{ref.name} is not defined by the public headers{_did_you_mean(index, tree, ref.name)}"
        case Kind.TYPEDEF:
            if index.exists(ref.name) or not index.type_family(ref.name):
                return None
            return f"{ref.name} is not a type of the public headers{_did_you_mean(index, tree, ref.name)}"
        case Kind.HYPERCALL:
            if index.hypercall(ref.name):
                return None
            return f"{ref.text}: the public headers define no __HYPERVISOR_{ref.name}"
        case Kind.DESIGNATOR:
            return _designator_problem(index, tree, ref.name)
    return None


def _header_problem(tree: XenTree, ref: Ref) -> str | None:
    if (tree.public / ref.name).is_file():
        return None
    close = closest(ref.name, tree.headers)
    hint = f" (did you mean {tree.finding_path(close)}?)" if close else ""
    return f"{ref.text} does not exist{hint}"


def _record_problem(index: SymbolIndex, tree: XenTree, name: str) -> str | None:
    kind, tag = name.split(" ", 1)
    if name in index.records:
        return None
    other = index.record(tag)
    if other is not None and kind != "enum":  # a struct that is a union, or the reverse
        site = index.record_site(other)
        return (f"{name} is not defined by the public headers; {other} is "
                f"({tree.finding_path(site.header)}:{site.line})")
    if name in index.declared or not index.type_family(tag):
        return None
    close = closest(name, [k for k in index.records if k.startswith(kind + " ")])
    hint = ""
    if close:
        site = index.record_site(close)
        hint = f" (did you mean {close}, {tree.finding_path(site.header)}:{site.line}?)"
    return f"{name} is not defined by the public headers{hint}"


def _designator_problem(index: SymbolIndex, tree: XenTree, name: str) -> str | None:
    base, path = name.split(".", 1)
    key = index.record(base)
    if key is None:
        return None  # `d->argo`: a variable of the hypervisor, not a record of the ABI
    fields = index.fields(key)
    if path in fields:
        return None
    site = index.record_site(key)
    hint = closest(path, fields)
    return (f"{name}: {key} ({tree.finding_path(site.header)}:{site.line}) has no field {path}"
            + (f" (did you mean {hint}?)" if hint else ""))


def _did_you_mean(index: SymbolIndex, tree: XenTree, name: str) -> str:
    pool = index.type_names() if name[:1].islower() else index.members(
        index.constant_family(name) or name[:1])
    close = closest(name, pool)
    if close is None:
        return ""
    site = index.site(close)
    where = f", {tree.finding_path(site.header)}:{site.line}" if site else ""
    return f" (did you mean {close}{where}?)"


def _finding(index: SymbolIndex, ref: Ref, message: str) -> Finding:
    wheres = sorted(index.snapshots)
    return Finding("doc-refs", Severity.ERROR, message, ref.doc, ref.line, symbols=(ref.name,),
                   arches=tuple(sorted({a for a, _ in wheres})),
                   views=tuple(sorted({v for _, v in wheres})))
