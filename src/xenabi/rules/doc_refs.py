"""Rule doc-refs: the C names and public header paths the pandoc docs use exist.

A code span is held to the headers when its shape makes it C (see
:mod:`xenabi.docs.refs`) and it claims a family the headers define (see
:mod:`xenabi.docs.symbols`); the names a recognised statement uses are left
to doc-semantics, which says more about them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial

from xenabi.docs import DocSet, Document
from xenabi.docs.refs import CHECKED, Kind, Ref, refs
from xenabi.docs.statements import statements
from xenabi.analysis.context import Context
from xenabi.analysis.symbols import context_index
from xenabi.docs.symbols import SymbolIndex, closest
from xenabi.model import Finding, Severity
from xenabi.rules.registry import rule
from xenabi.tree import XenTree

@rule("doc-refs", "identifiers and header paths that the pandoc docs name exist",
      severities=(Severity.ERROR,), needs=("docs",), whole=("target", "view"))
def doc_refs(ctx: Context) -> Iterator[Finding]:
    docs: DocSet | None = ctx.docs
    if docs is None:
        return
    yield from check_refs(context_index(ctx), ctx.tree, docs)


def check_refs(index: SymbolIndex, tree: XenTree, docs: DocSet) -> Iterator[Finding]:
    """A finding for each checked name of ``docs`` that the headers do not define."""
    for doc in docs:
        for ref, problem in _checked(index, tree, doc):
            if problem:
                yield _finding(index, ref, problem)


def _checked(index: SymbolIndex, tree: XenTree,
             doc: Document) -> Iterator[tuple[Ref, str | None]]:
    """Each name of a document held to the headers, and why it does not resolve (or None).

    What a recognised statement names is left to doc-semantics, which says more.
    """
    judged = {span for s in statements(doc) for span in s.spans}
    for ref in refs(doc):
        if (ref.line, ref.name) not in judged and claims(index, ref):
            yield ref, _problem(index, tree, ref)


def claims(index: SymbolIndex, ref: Ref) -> bool:
    """Whether a name is held to the headers: every public header path and hypercall; a
    C name that the headers define or whose family they define; a designator on a record."""
    match ref.kind:
        case Kind.HEADER | Kind.HYPERCALL:
            return True
        case Kind.RECORD:
            tag = ref.name.split(" ", 1)[1]
            return (ref.name in index.declared or index.record(tag) is not None
                    or index.type_family(tag) is not None)
        case Kind.CONSTANT:
            return index.claimed(ref.name)
        case Kind.TYPEDEF:
            return index.exists(ref.name) or index.type_family(ref.name) is not None
        case Kind.DESIGNATOR:
            return index.record(ref.name.split(".", 1)[0]) is not None
    return False


def _problem(index: SymbolIndex, tree: XenTree, ref: Ref) -> str | None:
    """Why a claimed name does not resolve, or None when it does."""
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
        case Kind.CONSTANT if not index.exists(ref.name):
            family = index.members(index.constant_family(ref.name) or "")
            return missing + _hint(index, tree, ref.name, family)
        case Kind.TYPEDEF if not index.exists(ref.name):
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
    if name in index.declared:
        return None
    same_kind = [k for k in index.records if k.startswith(kind + " ")]
    return f"{name} is not defined by the public headers{_hint(index, tree, name, same_kind)}"


def _designator_problem(index: SymbolIndex, tree: XenTree, name: str) -> str | None:
    base, path = name.split(".", 1)
    key = index.record(base)
    assert key is not None  # claims() held it: `d->argo` (a hypervisor variable) is not
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


@dataclass(frozen=True)
class Census:
    """What the docs rules read in a tree's documents: the evidence of what they check."""

    documents: int
    spans: Mapping[Kind, int]  #: code spans by shape
    claimed: Mapping[Kind, int]  #: names and paths held to the headers, by shape
    unresolved: int  #: of those, how many do not resolve: the doc-refs findings
    passed_over: int  #: C-shaped names that claim no family of the headers (internals, MSRs)
    statements: Mapping[str, int]  #: statements recognised, by form
    pandoc_seconds: float

    def lines(self) -> list[str]:
        def counts(c: Mapping[Kind, int] | Mapping[str, int]) -> str:
            return ", ".join(f"{getattr(k, 'value', k)} {n}" for k, n in
                             sorted(c.items(), key=lambda kv: -kv[1]))

        return [f"documents: {self.documents} (pandoc {self.pandoc_seconds:.2f} s of CPU)",
                f"code spans: {sum(self.spans.values())} ({counts(self.spans)})",
                f"checked: {sum(self.claimed.values())} ({counts(self.claimed)}); "
                f"{self.unresolved} do not resolve",
                f"C-shaped but no public family, not checked: {self.passed_over}",
                f"statements: {sum(self.statements.values())} ({counts(self.statements)})"]


def census(index: SymbolIndex, tree: XenTree, docs: DocSet) -> Census:
    spans: Counter[Kind] = Counter()
    claimed: Counter[Kind] = Counter()
    unresolved = passed_over = 0
    forms: Counter[str] = Counter()
    for doc in docs:
        forms.update(st.form.value for st in statements(doc))
        spans.update(ref.kind for ref in refs(doc) if ref.in_code)
        passed_over += sum(1 for ref in refs(doc)
                           if ref.kind in CHECKED and not claims(index, ref))
        for ref, problem in _checked(index, tree, doc):
            claimed[ref.kind] += 1
            unresolved += problem is not None
    return Census(len(docs), dict(spans), dict(claimed), unresolved, passed_over, dict(forms),
                  docs.pandoc_seconds)
