"""Rule doc-coverage: members of documented families that no pandoc document mentions.

A family is *documented* when a document mentions one of its members
(``VCPUOP_up`` documents ``VCPUOP_*``) or describes a structure whose field
carries it (pvh.pandoc names ``arch-x86/hvm/start_info.h``, whose
``hvm_start_info.flags`` carries ``SIF_xxx flags``: that documents ``SIF_*``).
For a whole tree this is information. :func:`coverage` answers the same
question for any set of symbols, so that a diff gate can ask it about the
symbols a patch adds (a new ``SIF_*`` flag no document mentions is a warning
there).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from xenabi.analysis.context import Context
from xenabi.analysis.symbols import context_index
from xenabi.docs import DocSet
from xenabi.docs.refs import Kind, headers_named, refs
from xenabi.docs.statements import Form, statements
from xenabi.docs.symbols import SymbolIndex
from xenabi.model import Finding, Severity
from xenabi.rules.registry import rule
from xenabi.tree import XenTree


@dataclass(frozen=True, slots=True)
class Gap:
    """A symbol of the headers that no document mentions."""

    symbol: str
    family: str | None  #: its narrowest family (``SIF_``), if it has one
    documented: bool  #: whether a document documents that family
    header: str  #: where the symbol is defined (relative to the public dir)
    line: int


#: a family as coverage counts it: its prefix and the header that defines its members
Family = tuple[str, str]


def documented_families(index: SymbolIndex, docs: DocSet) -> dict[Family, str]:
    """Each documented family, with why it counts as documented (for the message).

    A family is a prefix within one header: ``XEN_E2BIG`` documents the
    ``XEN_*`` errors of errno.h, not every ``XEN_*`` name of the headers.
    """
    out: dict[Family, str] = {}
    for name in sorted(docs.words & index.constants.keys()):
        fam = _family(index, name)
        if fam:
            out.setdefault(fam, f"the docs mention {name}")
    for key, why in sorted(_described_records(index, docs).items()):
        for field in sorted(index.fields(key)):
            prefix = index.carrier(key, field)
            for member in index.members(prefix) if prefix else ():
                fam = _family(index, member)
                if fam and fam[0] == prefix:
                    out.setdefault(fam, f"the {field} field of {key} carries it, and {why}")
    return out


def coverage(index: SymbolIndex, docs: DocSet, symbols: Iterable[str] | None = None) -> list[Gap]:
    """The symbols no document mentions, sorted by name.

    ``symbols`` None asks about every member of every documented family (the
    whole-tree report); a diff gate passes the constants a patch adds. A
    symbol that is no constant of the headers is not asked about.
    """
    return _gaps(index, docs, documented_families(index, docs), symbols)


def _gaps(index: SymbolIndex, docs: DocSet, families: Mapping[Family, str],
          symbols: Iterable[str] | None) -> list[Gap]:
    if symbols is None:
        symbols = {m for prefix, _ in families for m in index.members(prefix)
                   if _family(index, m) in families}
    gaps = []
    for name in sorted(set(symbols) - docs.words):
        c = index.constant(name)
        if c is not None:
            gaps.append(Gap(name, index.narrow_family(name), _family(index, name) in families,
                            c.header, c.line))
    return gaps


def _family(index: SymbolIndex, name: str) -> Family | None:
    fam, c = index.narrow_family(name), index.constant(name)
    return (fam, c.header) if fam and c else None


@rule("doc-coverage", "members of documented families that no doc mentions (information)",
      severities=(Severity.INFO,), needs=("docs",))
def doc_coverage(ctx: Context) -> Iterator[Finding]:
    docs: DocSet | None = ctx.docs
    if docs is None:
        return
    yield from coverage_findings(context_index(ctx), ctx.tree, docs, Severity.INFO)


def coverage_findings(index: SymbolIndex, tree: XenTree, docs: DocSet, severity: Severity,
                      symbols: Iterable[str] | None = None) -> Iterator[Finding]:
    """One finding per family with unmentioned members, at the first such member's line."""
    families = documented_families(index, docs)
    by_family: dict[tuple[str, str], list[Gap]] = defaultdict(list)
    for gap in _gaps(index, docs, families, symbols):
        by_family[gap.family or gap.symbol, gap.header].append(gap)
    for (prefix, header), gaps in sorted(by_family.items()):
        first = gaps[0]
        names = ", ".join(g.symbol for g in gaps)
        why = families.get((prefix, header))
        why = f"documented: {why}" if why else "a family no doc documents"
        label = f"{prefix}*" if first.family else first.symbol
        yield Finding("doc-coverage", severity,
                      f"{label} ({why}): no document mentions {names}",
                      tree.finding_path(first.header), first.line,
                      tuple(g.symbol for g in gaps), arches=index.arches, views=index.views)


def _described_records(index: SymbolIndex, docs: DocSet) -> dict[str, str]:
    """Records a document describes: named as `struct X`, as the structure of a
    statement, or defined in a header the document names."""
    out: dict[str, str] = {}
    by_header: dict[str, list[str]] = defaultdict(list)
    for key in sorted(index.records):
        by_header[index.record_site(key).header].append(key)
    for doc in docs:
        named = headers_named(doc)
        for ref in refs(doc):
            rec = index.record(ref.name) if ref.kind is Kind.RECORD else None
            if rec:
                out.setdefault(rec, f"{doc.path} names it")
        for st in statements(doc):
            if st.form in (Form.FLAG_IN, Form.FIELD_OF) and st.container:
                for key in index.structures(st.container, named)[:1]:
                    out.setdefault(key, f"{doc.path}:{st.line} describes it")
        for header in sorted(named):
            for key in by_header.get(header, ()):
                out.setdefault(key, f"{doc.path} names {header}")
    return out
