"""Statements a document makes about the interface, recognised by sentence shape.

Each form below ties a C name (always a code span, or a C declaration in a
code block) to a claim the headers can confirm or refute:

===========  ==============================================================
form         shapes recognised (``X`` a code span; ``S`` a structure)
===========  ==============================================================
flag-in      must set `X` in S / `X` is set in S / set `X` in the F field of S
field-of     ... from the S structure ... (field `f`) / `f` field of S
value        `X`: N (a whole list item or cell) / `X` has the value N /
             the value of `X` is N / ``#define X N`` in a code block
bit          bit N (`X`) / `X` (bit N) / `X` is bit N
size         the size of `struct s` is N bytes [on 64-bit|x86_32|...] /
             `struct s` is N bytes [long]
offset       `s.f` is at offset N / `f` is at offset N in `struct s`
type-of      ... of (the) type `t` / of type name_with_underscore
members      ``struct s { ... };`` in a code block: its member names
===========  ==============================================================

S is a code span (`start_info`, `struct hvm_start_info`), a C name with an
underscore (start_info), or words before "structure" (the start info
structure); which record it means is decided against the headers. Near
misses, which must not match, are in ``tests/data/docs``: a register's bit
(``cr0: bit 0 (PE)``: PE is no code span), a number with a unit
(`X`: 8 bytes), a flag set "in motion" (no structure), ...
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from xenabi.docs.facts import CodeBlock, Document, Text
from xenabi.docs.refs import classify
from xenabi.targets import TARGETS


class Form(str, enum.Enum):
    FLAG_IN = "flag-in"
    FIELD_OF = "field-of"
    VALUE = "value"
    BIT = "bit"
    SIZE = "size"
    OFFSET = "offset"
    TYPE_OF = "type-of"
    MEMBERS = "members"


@dataclass(frozen=True, slots=True)
class Statement:
    """One claim of a document: ``SIF_HVM_GHCB`` is set in ``start_info``."""

    form: Form
    doc: str
    line: int
    subject: str  #: the C name the claim is about, as written (backticks dropped)
    container: str | None = None  #: the structure as written: ``start_info``, ``start info``
    field: str | None = None  #: a field the container phrase names (``flags`` of start_info)
    number: int | None = None  #: value, bit, size or offset the doc gives
    arches: tuple[str, ...] = ()  #: the targets a size is given for; () for all
    members: tuple[str, ...] = ()  #: member names of a struct a code block declares
    quote: str = ""  #: the sentence (or code line) it was read from
    #: (line, name) of the code spans whose very existence doc-semantics judges here (in
    #: its own words: "defines no such flag"), named as doc-refs names them
    spans: tuple[tuple[int, str], ...] = ()


# -- pattern pieces -------------------------------------------------------------

_SYM = r"`(?P<sym>[A-Za-z_]\w*)`"
_NUM = r"`?(?P<num>0[xX][0-9a-fA-F]+|\d+)[uUlL]*`?"
#: a structure: a code span, a C name with an underscore, or words ending in "structure"
_STRUCT = (r"(?P<cont>`[^`]+`|[A-Za-z]\w*_\w+"
           r"|(?:[A-Za-z][\w-]*\s+){1,3}?(?:structure|struct)\b)")
_FIELD_OF_STRUCT = rf"(?:(?P<fld>\w+)\s+field\s+of\s+(?:the\s+)?)?{_STRUCT}"
_UNIT = r"(?!\s*(?:bytes?|bits?|pages?|[KMGT]i?B|[kKMG]\b|%|-bit))"
_QUAL = (r"(?:\s+on\s+(?P<qual>x86_64|x86_32|arm32|arm64|x86|[Aa]rm|ARM|64-bit|32-bit)\b"
         r"(?:\s+(?:hypervisors?|guests?|targets?|platforms?|systems?|builds?))?)?")
#: where a size statement must end: "is 56 bytes away from" is not a size
_END = r"(?=\s*(?:[.,;:)]|$))"
_REC = r"`(?P<rec>(?:struct|union)\s+\w+|\w+)`"
_BE = r"(?:is|are|must\s+be|should\s+be|shall\s+be|will\s+be|may\s+be|can\s+be|gets?)"

#: each form's sentence shapes, with words of which a sentence holds one when it matches:
#: a cheap test that spares most sentences most patterns (size, which ignores case, tests
#: for its code span)
_SENTENCE_PATTERNS: tuple[tuple[Form, tuple[str, ...], re.Pattern[str]], ...] = tuple(
    (form, words, re.compile(p, re.I if form is Form.SIZE else 0)) for form, words, p in (
        (Form.FLAG_IN, ("set", "clear", "raise"),
         rf"\b(?:set|sets|setting|clear|clears|clearing|raise|raises)\s+(?:the\s+)?"
         rf"(?:flag\s+)?{_SYM}(?:\s+flag)?\s+in\s+(?:the\s+)?{_FIELD_OF_STRUCT}"),
        (Form.FLAG_IN, ("set", "cleared", "raised", "passed"),
         rf"{_SYM}(?:\s+flag)?\s+{_BE}\s+(?:set|cleared|raised|passed)\s+in\s+"
         rf"(?:the\s+)?{_FIELD_OF_STRUCT}"),
        (Form.FIELD_OF, ("field",),
         r"(?:\b(?:from|in|of|into|inside)\s+(?:the\s+)?|\bthe\s+)"
         r"(?P<cont>(?:[A-Za-z][\w-]*\s+){1,3}?)(?:structure|struct)\b"
         r"[^.;]*?\bfield\s+`(?P<sym>[A-Za-z_]\w*)`"),
        (Form.FIELD_OF, ("field",), rf"{_SYM}\s+field\s+(?:of|in)\s+(?:the\s+)?{_STRUCT}"),
        (Form.FIELD_OF, ("field",), rf"\bfield\s+{_SYM}\s+(?:of|in)\s+(?:the\s+)?{_STRUCT}"),
        (Form.VALUE, ("value", "defined", "equal"),
         rf"{_SYM}\s+(?:has\s+(?:the\s+)?value(?:\s+of)?|is\s+defined\s+as|equals"
         rf"|is\s+equal\s+to)\s+{_NUM}\b{_UNIT}"),
        (Form.VALUE, ("value",), rf"\bvalue\s+of\s+{_SYM}\s+is\s+{_NUM}\b{_UNIT}"),
        (Form.BIT, ("bit",), rf"\bbit\s+{_NUM}\s*\(\s*{_SYM}\s*\)"),
        (Form.BIT, ("bit",), rf"{_SYM}\s*\(\s*bit\s+{_NUM}\s*\)"),
        (Form.BIT, ("bit",), rf"{_SYM}\s+is\s+bit\s+{_NUM}\b"),
        (Form.SIZE, ("`",),
         rf"\bsize\s+of\s+(?:the\s+)?{_REC}\s+is\s+{_NUM}\s+bytes\b{_QUAL}{_END}"),
        (Form.SIZE, ("`",),
         rf"{_REC}\s+is\s+{_NUM}\s+bytes\b(?:\s+long|\s+in\s+size)?{_QUAL}{_END}"),
        (Form.OFFSET, ("offset",),
         r"`(?P<sym>[A-Za-z_]\w*(?:\.\w+)*)`\s+(?:is\s+)?at\s+offset\s+"
         rf"{_NUM}\b(?:\s+(?:of|in)\s+(?:the\s+)?{_REC})?"),
        (Form.TYPE_OF, ("type",),
         r"\bof\s+(?:the\s+)?type\s+(?:`(?P<sym>[^`]+)`|(?P<word>(?:struct\s+)?"
         r"[A-Za-z]\w*_\w+))"),
    ))

#: every word a sentence pattern asks for
_WORDS = frozenset(w for _, words, _ in _SENTENCE_PATTERNS for w in words)

#: the pattern groups of each form whose names doc-semantics reports as missing itself
_JUDGED: dict[Form, tuple[str, ...]] = {
    Form.FLAG_IN: ("sym", "cont"), Form.VALUE: ("sym",), Form.BIT: ("sym",),
    Form.OFFSET: ("sym",), Form.TYPE_OF: ("sym",)}

#: a whole list item or table cell that pairs a name with a number: `PVCALLS_SOCKET`: 0
_VALUE_ITEM = re.compile(rf"\s*{_SYM}\s*(?::|=|==)\s*{_NUM}\s*[.,;]?\s*")
#: an object-like ``#define`` line (comments are blanked out first)
_DEFINE = re.compile(
    r"^[ \t]*#[ \t]*define[ \t]+(?P<sym>[A-Za-z_]\w*)[ \t]+(?P<expr>\S[^\n]*?)[ \t]*$", re.M)
_STRUCT_DEF = re.compile(r"\b(?:struct|union)\s+(?P<tag>\w+)\s*\{")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`(\"])")
_LIT = r"(0[xX][0-9a-fA-F]+|\d+)[uUlL]*"
_LITERAL = re.compile(_LIT)
_SHIFT = re.compile(rf"{_LIT}\s*<<\s*{_LIT}")
_C_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
_NOT_NEWLINE = re.compile(r"[^\n]")
_DIRECTIVE = re.compile(r"^[ \t]*#.*$", re.M)
#: the member a nested record declares: ``struct { ... } u;``, ``union { ... } x[2];``
_RECORD_MEMBER = re.compile(r"(\w+)\s*(?:\[[^]]*\])?\s*$")
_FUNCTION_POINTER = re.compile(r"\(\s*\*\s*(\w+)\s*\)")
_DECLARATOR = re.compile(r"(\w+)\s*(?:\[[^]]*\]\s*)*(?::\s*\w+\s*)?$")


@functools.lru_cache(maxsize=256)  # three rules ask about the same documents
def statements(doc: Document) -> tuple[Statement, ...]:
    """Every statement of a document: its runs of text first, then its code blocks."""
    found = [st for text in doc.texts for st in _text_statements(doc.path, text)]
    found += [st for block in doc.code_blocks for st in _block_statements(doc.path, block)]
    return tuple(dict.fromkeys(found))  # two shapes may read the same claim


def sentences(text: str) -> Iterator[tuple[int, str]]:
    """(offset, sentence) for each sentence of a run of text."""
    start = 0
    for m in _SENTENCE_END.finditer(text):
        yield start, text[start:m.start()]
        start = m.end()
    yield start, text[start:]


def _text_statements(path: str, text: Text) -> Iterator[Statement]:
    m = _VALUE_ITEM.fullmatch(text.text)
    if m:
        yield _statement(Form.VALUE, path, text, 0, m, m.string)
        return
    if "`" not in text.text and " type " not in text.text:
        return  # every form but type-of names its subject in a code span
    for base, sentence in sentences(text.text):
        held = {w for w in _WORDS if w in sentence}
        for form, words, pattern in _SENTENCE_PATTERNS:
            if not held.isdisjoint(words):
                for m in pattern.finditer(sentence):
                    yield _statement(form, path, text, base, m, sentence)


def _statement(form: Form, path: str, text: Text, base: int, m: re.Match[str],
               sentence: str) -> Statement:
    groups = {k: v for k, v in m.groupdict().items() if v is not None}
    subject = groups.get("sym") or groups.get("word") or groups.get("rec", "")
    anchor = m.start("sym") if "sym" in groups else m.start()
    container = groups.get("cont") or (groups.get("rec") if "sym" in groups else None)
    field = groups.get("fld")
    spans = tuple((text.line_at(base + m.start(g)), classify(m.group(g).strip("`"))[1])
                  for g in _JUDGED.get(form, ()) if g in groups and _in_code(sentence, m, g))
    if container and not field:
        # `start_info.flags` names the structure and its field at once
        container, _, field = container.strip("`").replace("->", ".").partition(".")
    return Statement(
        form, path, text.line_at(base + anchor), " ".join(subject.split()),
        container=" ".join(container.strip("`").split()) if container else None,
        field=field or None,
        number=int(groups["num"], 0) if "num" in groups else None,
        arches=_arches(groups.get("qual")),
        quote=" ".join(sentence.split()), spans=spans)


def _in_code(sentence: str, m: re.Match[str], group: str) -> bool:
    """Whether a group of a match is (or is all of) a code span."""
    start = m.start(group)
    return m.group(group).startswith("`") or (start > 0 and sentence[start - 1] == "`")


def _arches(qualifier: str | None) -> tuple[str, ...]:
    """The targets "on 64-bit", "on x86", "on arm32" mean (all for no qualifier)."""
    if qualifier is None:
        return ()
    q = qualifier.lower()
    pick: Callable[[str], bool]
    if q.endswith("-bit"):
        pick = lambda name: TARGETS[name].pointer.size * 8 == int(q[:2])  # noqa: E731
    elif q in ("x86", "arm"):
        pick = lambda name: TARGETS[name].arch_family == q  # noqa: E731
    else:
        pick = lambda name: name == q  # noqa: E731
    return tuple(name for name in TARGETS if pick(name))


# -- code blocks ----------------------------------------------------------------


def _block_statements(path: str, block: CodeBlock) -> Iterator[Statement]:
    text = _strip_comments(block.text)
    for m in _DEFINE.finditer(text):
        value = c_int(m.group("expr"))
        if value is not None:
            line = block.line + text.count("\n", 0, m.start())
            yield Statement(Form.VALUE, path, line, m.group("sym"), number=value,
                            quote=m.group(0).strip())
    for m in _STRUCT_DEF.finditer(text) if "{" in text else ():  # few blocks define one
        if _depth(text, m.start()) != 0:
            continue  # a nested record: its members belong to the outer one
        body = _body(text, m.end() - 1)
        line = block.line + text.count("\n", 0, m.start())
        yield Statement(Form.MEMBERS, path, line, f"{m.group(0).split()[0]} {m.group('tag')}",
                        members=tuple(_members(body)), quote=m.group(0).rstrip("{ "))


def c_int(expr: str) -> int | None:
    """The value of a C integer literal or a shift of literals (``(1U<<5)``), else None."""
    e = expr.strip()
    while e.startswith("(") and e.endswith(")"):
        e = e[1:-1].strip()
    m = _LITERAL.fullmatch(e)
    if m:
        return int(m.group(1), 0)
    m = _SHIFT.fullmatch(e)
    if m:
        return int(m.group(1), 0) << int(m.group(2), 0)
    return None


def _strip_comments(text: str) -> str:
    """C comments blanked out, lines kept (so line numbers still count)."""
    return _C_COMMENT.sub(lambda m: _NOT_NEWLINE.sub(" ", m.group(0)), text)


def _depth(text: str, pos: int) -> int:
    return text.count("{", 0, pos) - text.count("}", 0, pos)


def _body(text: str, brace: int) -> str:
    """The text between the brace at ``brace`` and its match (to the end if unmatched)."""
    depth = 0
    for i in range(brace, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[brace + 1:i]
    return text[brace + 1:]


def _members(body: str) -> Iterator[str]:
    """Member names of a struct body: nested named records by their member name,
    anonymous ones flattened, preprocessor lines and ``...`` left out."""
    body = _DIRECTIVE.sub("", body)
    i = 0
    while i < len(body):
        brace, semi = body.find("{", i), body.find(";", i)
        if semi < 0:
            return
        if 0 <= brace < semi:
            inner = _body(body, brace)
            close = brace + len(inner) + 1
            end = body.find(";", close)
            end = len(body) if end < 0 else end
            name = _RECORD_MEMBER.search(body[close + 1:end])
            if name:
                yield name.group(1)
            else:
                yield from _members(inner)
            i = end + 1
            continue
        decl = body[i:semi]
        i = semi + 1
        if "..." not in decl:
            yield from _declarators(decl)


def _declarators(decl: str) -> Iterator[str]:
    """The names one declaration declares: ``uint32_t a, b[2];`` gives a and b;
    ``void (*fn)(void);`` gives fn."""
    pointer = _FUNCTION_POINTER.search(decl)
    if pointer:
        yield pointer.group(1)
        return
    for part in decl.split(","):
        name = _DECLARATOR.search(part)
        if name:
            yield name.group(1)
