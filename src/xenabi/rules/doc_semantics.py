"""Rule doc-semantics: what the pandoc docs state about a symbol fits what the headers define.

Statements are recognised by :mod:`xenabi.docs.statements`; this module
judges each against the snapshots. A statement whose subject claims no
family of the headers (``#define PKEY_ALGO_DSA 0``, a module-signing
constant) or whose structure words name no record (``set `X` in motion``)
says nothing about the ABI and is passed over.

The table of type sizes and alignments in docs/misra/C-language-toolchain.rst
(:mod:`xenabi.docs.toolchain`, from Xen 4.19 on) is held to the targets'
data models (:data:`xenabi.targets.TARGETS`): a row that disagrees with the
model xenabi lays out records with is an error, whichever of the two is wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

from xenabi.analysis.context import Context
from xenabi.analysis.symbols import context_index
from xenabi.docs import DocSet, Document, toolchain
from xenabi.docs.refs import headers_named
from xenabi.docs.statements import Form, Statement, statements
from xenabi.docs.symbols import SymbolIndex, Where, closest
from xenabi.model import Finding, Severity
from xenabi.rules.registry import rule
from xenabi.targets import TARGETS, VIEWS, tree_arches
from xenabi.tree import XenTree


@rule("doc-semantics", "what a doc states about a symbol fits what the header defines",
      severities=(Severity.ERROR,), needs=("docs",), whole=("target", "view"))
def doc_semantics(ctx: Context) -> Iterator[Finding]:
    yield from check_toolchain(ctx.tree)
    docs: DocSet | None = ctx.docs
    if docs is None:
        return
    yield from check_statements(context_index(ctx), ctx.tree, docs)


def check_toolchain(tree: XenTree) -> Iterator[Finding]:
    """A finding for each size or alignment the toolchain table gives a target of the tree
    that its data model does not have."""
    by_name = {n: t for t in TARGETS.values() for n in t.toolchain_names}
    have = tree_arches(tree.headers)
    for row in toolchain.read(tree):
        for name in row.arches:
            target = by_name.get(name)
            if target is None or target.name not in have or row.type not in target.scalars:
                continue
            model = target.scalars[row.type]
            for said, is_, words in (
                    (row.size_bits, model.size * 8, ("to be {} bits", "makes it {}")),
                    (row.align_bits, model.align * 8, ("to be aligned to {} bits",
                                                       "aligns it to {}"))):
                if said != is_:
                    yield Finding(
                        "doc-semantics", Severity.ERROR,
                        f"{row.type} is said {words[0].format(said)} on {name}, but xenabi's "
                        f"{target.name} target {words[1].format(is_)} (src/xenabi/targets.py)",
                        toolchain.PATH, row.line, (row.type,), (target.name,), VIEWS)


def check_statements(index: SymbolIndex, tree: XenTree, docs: DocSet) -> Iterator[Finding]:
    """A finding for each statement of ``docs`` that the headers contradict."""
    for doc in docs:
        judge = _Judge(index, tree, doc)
        for st in statements(doc):
            yield from judge(st)


class _Judge:
    """Judges the statements of one document (which headers it names guides the words)."""

    def __init__(self, index: SymbolIndex, tree: XenTree, doc: Document) -> None:
        self.index = index
        self.tree = tree
        self.named = headers_named(doc)
        self.forms: dict[Form, Callable[[Statement], Iterator[Finding]]] = {
            Form.FLAG_IN: self.flag_in, Form.FIELD_OF: self.field_of, Form.VALUE: self.value,
            Form.BIT: self.bit, Form.SIZE: self.size, Form.OFFSET: self.offset,
            Form.TYPE_OF: self.type_of, Form.MEMBERS: self.members}

    def __call__(self, st: Statement) -> Iterator[Finding]:
        return self.forms[st.form](st)

    # -- helpers ----------------------------------------------------------------

    def at(self, name: str) -> str:
        """Where a constant or record is defined: ``xen/include/public/xen.h:871``."""
        site = self.index.site(name)
        assert site is not None, name
        return f"{self.tree.finding_path(site.header)}:{site.line}"

    def finding(self, st: Statement, message: str, symbols: tuple[str, ...],
                wheres: list[Where] | None = None) -> Finding:
        """A finding at the statement; ``wheres`` the targets and views it holds on (all)."""
        if wheres is None:
            return Finding("doc-semantics", Severity.ERROR, message, st.doc, st.line, symbols,
                           arches=self.index.arches, views=self.index.views)
        return Finding("doc-semantics", Severity.ERROR, message, st.doc, st.line, symbols,
                       arches=tuple(sorted({a for a, _ in wheres})),
                       views=tuple(sorted({v for _, v in wheres})))

    # -- forms ------------------------------------------------------------------

    def flag_in(self, st: Statement) -> Iterator[Finding]:
        place = f"the {st.field} field of {st.container}" if st.field else st.container
        flag, said = st.subject, f"{st.subject} is said to be set in {place}"
        if not self.index.claimed(flag):
            return
        records = self.index.structures(st.container or "", self.named)
        if not records:
            if "_" in (st.container or ""):  # a C name, not words: it must exist
                yield self.finding(st, f"{said}, but the public headers define no such structure",
                                   (flag,))
            return
        carriers = [(key, f, self.index.carrier(key, f)) for key in records
                    for f in ([st.field] if st.field else _flag_fields(self.index, key))
                    if f in self.index.fields(key)]
        if not carriers:
            what = f"no {st.field} field" if st.field else "no flags field"
            yield self.finding(st, f"{said}, but {records[0]} ({self.at(records[0])}) "
                                   f"has {what}", (flag,))
            return
        known = [(key, f, fam) for key, f, fam in carriers if fam is not None]
        if not self.index.exists(flag):
            yield self.finding(st, f"{said}, but {self.family_header(known, records[0])} "
                                   f"defines no such flag{self.hint(flag, self.family_pool(flag))}",
                               (flag,))
            return
        if not known or any(flag.startswith(fam) for _, _, fam in known):
            return  # it is of the family carried there (or no comment names one)
        key, fld, fam = known[0]
        own = self.index.constant_family(flag) or flag
        yield self.finding(st, f"{said}, but the {fld} field of {key} ({self.at(key)}) carries "
                               f"{fam}* flags, and {flag} is a {own}* value ({self.at(flag)})",
                           (flag,))

    def family_header(self, known: list[tuple[str, str, str]], key: str) -> str:
        """The header that defines the family a flags field carries (else the record's)."""
        members = self.index.members(known[0][2]) if known else ()
        site = self.index.site(members[0]) if members else None
        return self.tree.finding_path(site.header if site else self.index.record_site(key).header)

    def field_of(self, st: Statement) -> Iterator[Finding]:
        records = self.index.structures(st.container or "", self.named)
        if not records:
            return
        name = st.subject
        fields = {f for k in records for f in self.index.fields(k)}
        if name in fields or any(f.endswith("." + name) for f in fields):
            return
        which = " and ".join(f"{k} ({self.at(k)})" for k in records)
        yield self.finding(st, f"{name} is said to be a field of the {st.container} structure, "
                               f"but {which} {'has' if len(records) == 1 else 'have'} no such "
                               f"field{self.hint(name, fields)}", (name,))

    def value(self, st: Statement) -> Iterator[Finding]:
        said = st.number
        yield from self.number(st, f"{said}", lambda v: v == said, _show)

    def bit(self, st: Statement) -> Iterator[Finding]:
        bit = st.number or 0
        # a mask is 1 << bit; a bit number (``_NETTXF_csum_blank``) is the bit itself
        index_like = st.subject.startswith("_") or "BIT" in st.subject.upper().split("_")
        yield from self.number(st, f"bit {bit}",
                               lambda v: v == 1 << bit or (index_like and v == bit),
                               lambda v: _show(v) + _bits(v))

    def number(self, st: Statement, said: str, fits: Callable[[int], bool],
               show: Callable[[int], str]) -> Iterator[Finding]:
        """Judge a constant the doc gives a number for: it must exist and its value fit."""
        name = st.subject
        if not self.index.claimed(name):
            return
        defs = self.index.constants.get(name)
        if not defs:
            yield self.finding(st, f"{name} is said to be {said}, but the public headers define "
                                   f"no {name}{self.hint(name, self.family_pool(name))}", (name,))
            return
        wrong = {w: c for w, c in defs.items() if isinstance(c.value, int) and not fits(c.value)}
        if wrong:
            c = next(iter(wrong.values()))
            assert isinstance(c.value, int)
            yield self.finding(st, f"{name} is said to be {said}, but "
                                   f"{self.tree.finding_path(c.header)}:{c.line} defines it as "
                                   f"{show(c.value)}{_on(wrong, defs)}", (name,), list(wrong))

    def size(self, st: Statement) -> Iterator[Finding]:
        key = self.index.record(st.subject)
        if key is None:
            return  # doc-refs judges the name
        sizes = {w: r.size for w, r in self.index.records[key].items()
                 if not st.arches or w[0] in st.arches}
        wrong = {w: size for w, size in sizes.items() if size != st.number}
        if wrong:
            on = f" on {', '.join(st.arches)}" if st.arches else ""
            told = _per_arch(wrong, sizes, " bytes")
            yield self.finding(st, f"{key} is said to be {st.number} bytes{on}, but it is "
                                   f"{told} ({self.at(key)})", (key,), list(wrong))

    def offset(self, st: Statement) -> Iterator[Finding]:
        base, _, path = st.subject.partition(".")
        key = self.index.record(st.container) if st.container else self.index.record(base)
        name = st.subject if st.container else path
        if key is None or not name:
            return
        if name not in self.index.fields(key):
            yield self.finding(st, f"{name} is said to be at offset {st.number} of {key}, but "
                                   f"{key} ({self.at(key)}) has no such field"
                                   f"{self.hint(name, self.index.fields(key))}", (f"{key}.{name}",))
            return
        offsets = {w: fl.offset_bits // 8 for w, r in self.index.records[key].items()
                   for fl in r.fields if fl.name == name}
        wrong = {w: o for w, o in offsets.items() if o != st.number}
        if wrong:
            told = _per_arch(wrong, offsets)
            yield self.finding(st, f"{key} field {name} is said to be at offset {st.number}, "
                                   f"but it is at {told} ({self.at(key)})",
                               (f"{key}.{name}",), list(wrong))

    def type_of(self, st: Statement) -> Iterator[Finding]:
        name = st.subject.removeprefix("struct ").removeprefix("union ")
        ix = self.index
        if ix.record(st.subject) or ix.exists(name) or f"{name}_t" in ix.typedefs:
            return
        if not ix.type_family(name):
            return
        yield self.finding(st, f"{st.subject} is said to be a type, but the public headers "
                               f"define no such type{self.hint(name, ix.type_names())}", (name,))

    def members(self, st: Statement) -> Iterator[Finding]:
        key = self.index.record(st.subject)
        if key is None:
            return  # a structure of the hypervisor or of libc: doc-refs judges names
        fields = self.index.fields(key)
        tag = key.split(" ", 1)[-1]
        for m in dict.fromkeys(st.members):  # a doc may repeat a name (two `pad`s)
            if m not in fields:
                yield self.finding(st, f"the {st.subject} shown here has a member {m}, but "
                                       f"{key} ({self.at(key)}) has no such field"
                                       f"{self.hint(m, fields)}", (f"{tag}.{m}",))

    # -- messages ---------------------------------------------------------------

    def family_pool(self, name: str) -> tuple[str, ...]:
        fam = self.index.constant_family(name)
        return self.index.members(fam) if fam else ()

    def hint(self, name: str, pool: Iterable[str]) -> str:
        close = closest(name, pool)
        return f" (did you mean {close}?)" if close else ""


def _flag_fields(index: SymbolIndex, key: str) -> list[str]:
    """The fields of a record that can carry flags: those whose comment names a family,
    else those named ``flags``."""
    fields = sorted(index.fields(key))
    described = [f for f in fields if index.carrier(key, f)]
    return described or [f for f in fields if f.rsplit(".", 1)[-1] == "flags"]


def _show(value: int) -> str:
    """A header's value as a reader would write it: small numbers in decimal."""
    return str(value) if value < 0x100 else hex(value)


def _bits(value: int) -> str:
    return f" (bit {value.bit_length() - 1})" if value > 0 and value & (value - 1) == 0 else ""


def _on(wrong: Mapping[Where, object], every: Mapping[Where, object]) -> str:
    """" on x86_32" when only some targets disagree; nothing when all do."""
    if len(wrong) == len(every):
        return ""
    return " on " + ", ".join(sorted({a for a, _ in wrong}))


def _per_arch(wrong: Mapping[Where, int], every: Mapping[Where, int], unit: str = "") -> str:
    """``40 bytes on x86_32`` or, when it differs everywhere alike, ``40 bytes``."""
    values = sorted(set(wrong.values()))
    if len(values) == 1:
        return f"{values[0]}{unit}{_on(wrong, every)}"
    arches = {v: sorted({a for (a, _), x in wrong.items() if x == v}) for v in values}
    return ", ".join(f"{v}{unit} on {', '.join(arches[v])}" for v in values)
