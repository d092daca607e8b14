"""Rule ``doc-layout``: the offset tables drawn in header comments agree with the computed layout.

arch-x86/hvm/start_info.h draws the layout of its structs, and calls the
drawing canonical::

     *  0 +----------------+
     *    | magic          | Contains the magic value ...
     *  4 +----------------+
     *    | version        | Version of this structure.
     ...
     * 56 +----------------+

A table is a run of comment lines, each an offset rule (``NN +---+``, a
closing ``|`` instead of ``+`` tolerated) or a cell row (``| name | text``;
the first row after a rule names the field). It describes the record of the
same header whose field names it shares most; each drawn offset, each
field's drawn size (the next rule minus its own) and the final rule (the
size) must equal the computed ones on every target that has the record.
A difference is an **error**: the header says the drawing is canonical.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from posixpath import normpath

from xenabi.analysis.context import Context
from xenabi.analysis.headertext import COMMENT, header_text, text_of
from xenabi.model import Finding, RecordLayout, Severity, Snapshot
from xenabi.rules.registry import rule
from xenabi.targets import TARGETS
from xenabi.tree import XenTree

RULE = "doc-layout"

_RULE_ROW = re.compile(r"^\s*\*?\s*(\d+)\s*\+-{3,}[-+|]*\s*$")
_CELL_ROW = re.compile(r"^\s*\*?\s*\|\s*(\w*)[^|]*\|")


@dataclass(frozen=True, slots=True)
class Drawn:
    name: str
    offset: int  #: bytes, as drawn
    size: int  #: the next rule's offset minus this one
    line: int  #: of the field's offset rule


@dataclass(frozen=True, slots=True)
class Table:
    header: str
    line: int  #: of the first rule
    fields: tuple[Drawn, ...]
    size: int  #: the last rule's offset
    end_line: int  #: of the last rule

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]


def tables(header: str, lines: Sequence[str], kinds: str) -> list[Table]:
    """Every offset table drawn in the comments of one header."""
    out: list[Table] = []
    rules: list[tuple[int, int]] = []  # (offset, line)
    names: dict[int, str] = {}  # index of a rule -> the field named under it

    def flush() -> None:
        if len(rules) >= 2 and names:
            fields = tuple(Drawn(names.get(i, ""), off, rules[i + 1][0] - off, ln)
                           for i, (off, ln) in enumerate(rules[:-1]))
            out.append(Table(header, rules[0][1], fields, rules[-1][0], rules[-1][1]))
        rules.clear()
        names.clear()

    for no, (text, kind) in enumerate(zip(lines, kinds), 1):
        m = _RULE_ROW.match(text) if kind == COMMENT else None
        c = _CELL_ROW.match(text) if kind == COMMENT and not m else None
        if m:
            rules.append((int(m.group(1)), no))
        elif c and rules:
            if c.group(1) and len(rules) - 1 not in names:
                names[len(rules) - 1] = c.group(1)
        else:
            flush()
    flush()
    return out


def match(table: Table, records: Mapping[str, RecordLayout]) -> str | None:
    """The record of the table's header whose top-level fields share most names with it."""
    best, score = None, 0
    for key, rec in sorted(records.items()):
        if normpath(rec.header) != table.header:
            continue
        top = {f.name for f in rec.fields if "." not in f.name and "[" not in f.name}
        n = sum(name in top for name in table.names)
        if n > score:
            best, score = key, n
    return best if score * 2 >= len(table.fields) else None


def compare(table: Table, key: str, rec: RecordLayout) -> Iterator[tuple[int, str]]:
    """(line, message) for each way the drawing and the computed layout differ."""
    for d in table.fields:
        f = rec.field(d.name)
        if f is None:
            yield d.line, f"the table draws `{d.name}`, which {key} does not have"
            continue
        off, size = f.offset_bits // 8, f.size_bits // 8
        if off != d.offset:
            yield d.line, (f"the table draws {key} field `{d.name}` at offset {d.offset}, "
                           f"it is at {off}")
        elif size != d.size:
            yield d.line, (f"the table draws {key} field `{d.name}` {d.size} bytes wide, "
                           f"it is {size}")
    if rec.size != table.size:
        yield table.end_line, f"the table ends {key} at {table.size} bytes, its size is {rec.size}"


#: (arch, view, records) of each snapshot that declares records in a header
Users = Sequence[tuple[str, str, Mapping[str, RecordLayout]]]


def check_header(tree: XenTree, header: str, snaps: Sequence[tuple[str, str, Snapshot]]
                 ) -> Iterator[Finding]:
    text = header_text(tree, header)
    users = [(arch, view, snap.records) for arch, view, snap in snaps]
    yield from check_tables(tree, header, tables(header, text.lines, text.kinds), users)


def check_tables(tree: XenTree, header: str, drawn: Sequence[Table], snaps: Users
                 ) -> Iterator[Finding]:
    """The findings of the tables drawn in ``header`` against the snapshots that declare
    records in it."""
    for table in drawn:
        matched = False
        for arch, view, records in snaps:
            key = match(table, records)
            if key is None:
                continue
            matched = True
            for line, message in compare(table, key, records[key]):
                yield Finding(RULE, Severity.ERROR, message, tree.finding_path(header), line,
                              (key,), (arch,), (view,))
        if not matched and snaps:
            yield Finding(RULE, Severity.WARNING,
                          f"an offset table ({', '.join(table.names[:3])}, ...) that no record "
                          f"of {header} matches", tree.finding_path(header), table.line,
                          (), tuple(a for a in TARGETS if any(s[0] == a for s in snaps)),
                          tuple(sorted({s[1] for s in snaps})))


def _candidates(ctx: Context, snaps: Sequence[tuple[str, str, Snapshot]]) -> list[str]:
    """Headers that draw a table: those with a ``+---`` rule in them."""
    headers = sorted({h for _, _, s in snaps for h in s.headers})
    return [h for h in headers if (ctx.tree.public / h).is_file()
            and any("+---" in line for line in text_of(ctx, h).lines)]


def _by_header(snap: Snapshot) -> dict[str, dict[str, RecordLayout]]:
    """A snapshot's records by the header that declares them, as tables name it."""
    norm = {h: normpath(h) for h in {r.header for r in snap.records.values()}}
    out: dict[str, dict[str, RecordLayout]] = defaultdict(dict)
    for key, rec in snap.records.items():
        out[norm[rec.header]][key] = rec
    return out


@rule(RULE, "offset tables drawn in header comments agree with the computed layouts",
      severities=(Severity.ERROR, Severity.WARNING))
def check_doc_layout(ctx: Context) -> Iterator[Finding]:
    snaps = list(ctx.each())
    candidates = _candidates(ctx, snaps)
    if not candidates:
        return
    declared = [_by_header(snap) for _, _, snap in snaps]
    for header in candidates:
        users = [(arch, view, d[header]) for (arch, view, _), d in zip(snaps, declared)
                 if header in d]
        text = text_of(ctx, header)
        yield from check_tables(ctx.tree, header, tables(header, text.lines, text.kinds), users)
