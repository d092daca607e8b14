"""pycparser's AST of a preprocessed unit, turned into the model (the only pycparser user).

GNU attributes that change layout are rewritten first into what pycparser
keeps: ``aligned(N)`` on a member becomes ``_Alignas(N)``; ``packed`` and
``aligned`` on a record become a marker member that :func:`_record` turns
back into ``Record.packed`` / ``Record.align``. Every other attribute is
dropped. Array dimensions and enumerator values are evaluated for the target
by :mod:`xenabi.cexpr`, with ``sizeof`` answered by the layout engine.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

from pycparser import c_ast, c_generator, c_parser

from xenabi import cexpr
from xenabi.errors import HeaderError, XenAbiError
from xenabi.model import (Api, Array, Coord, CType, Enum, Enumerator, EnumRef, Field, Function,
                          HeaderStatus, Pointer, Record, RecordRef, Scalar, Typedef, TypedefRef,
                          anonymous_key)
from xenabi.pycparser_ext import ChunkParser, CParser
from xenabi.targets import Target

_MARK_PACKED = "__xenabi_packed__"
_MARK_ALIGNED = "__xenabi_aligned__"
_MARK_PACK = "__xenabi_pack__"

_ATTR = re.compile(r"__attribute__\s*\(\(")
_ALIGNED = re.compile(r"^\s*(?:__)?aligned(?:__)?\s*(?:\((.*)\))?\s*$", re.S)
_PACKED = re.compile(r"^\s*(?:__)?packed(?:__)?\s*$")
_KEYWORD_BEFORE = re.compile(r"\b(struct|union)\s*$")


def _match_paren(text: str, i: int, open_: str = "(", close: str = ")", step: int = 1) -> int:
    """Index of the bracket matching the one at ``i`` (forwards, or backwards with step -1)."""
    depth = 0
    while 0 <= i < len(text):
        c = text[i]
        if c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return i
        i += step
    raise ValueError("unbalanced brackets")


def _split_top(s: str) -> list[str]:
    out: list[str] = []
    cur: list[str] = []
    depth = 0
    for c in s:
        if c == "," and depth == 0:
            out.append("".join(cur))
            cur = []
            continue
        depth += c == "("
        depth -= c == ")"
        cur.append(c)
    out.append("".join(cur))
    return out


def _declaration_start(text: str, i: int) -> int:
    """Where the declaration around ``i`` begins: after the ``;``, ``{`` or ``}`` before it."""
    depth = 0
    while i > 0:
        i -= 1
        c = text[i]
        if c in ")]":
            depth += 1
        elif c in "([":
            depth -= 1
        elif depth == 0 and c in ";{}":
            return i + 1
    return 0


_IDENT = re.compile(r"[A-Za-z_]\w*")
_LINEMARKERS = re.compile(r"^#.*$", re.M)


def _declarator_name(declaration: str) -> str | None:
    """The name a simple declaration declares: its last identifier."""
    names = _IDENT.findall(declaration)
    return names[-1] if names else None


_PACK_OR_RECORD = re.compile(
    r"^#pragma\s+pack\s*\(([^)]*)\)[^\n]*$|\b(?:struct|union)\b[^;{}=]*?\{", re.M)


def _pragma_pack_edits(text: str) -> Iterator[tuple[int, int, str]]:
    """``#pragma pack`` lines removed, and a marker member in each record defined under one."""
    stack: list[int | None] = []
    current: int | None = None
    for m in _PACK_OR_RECORD.finditer(text):
        if m.group(0).startswith("#"):
            args = [a.strip() for a in m.group(1).split(",") if a.strip()]
            if args[:1] == ["push"]:
                stack.append(current)
                args = args[1:]
            elif args[:1] == ["pop"]:
                current = stack.pop() if stack else None
                args = []
            if args or m.group(1).strip() == "":
                current = int(args[0], 0) if args else None
            yield m.start(), m.end(), ""
        elif current is not None:
            yield m.end(), m.end(), f"char {_MARK_PACK}[{current}];"


def rewrite_attributes(text: str) -> tuple[str, dict[str, str]]:
    """Replace GNU ``__attribute__`` by what pycparser parses (see the module docstring).

    Returns the text and the ``aligned`` attributes of typedefs (name -> alignment
    expression), which pycparser has no place for.
    """
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement) in ``text``
    typedef_aligns: dict[str, str] = {}
    removed = 0  # end of the last attribute removed
    for m in _ATTR.finditer(text):
        if m.start() < removed:
            continue  # nested in an attribute already removed
        end = removed = _match_paren(text, m.end() - 2) + 1  # past the outer ')'
        align = packed = None
        for spec in _split_top(text[m.end():end - 2]):
            if (a := _ALIGNED.match(spec)) is not None:
                align = a.group(1) or "16"
            elif _PACKED.match(spec):
                packed = True
        edits.append((m.start(), end, ""))
        if align is None and not packed:
            continue
        j = m.start() - 1
        while j >= 0 and text[j].isspace():
            j -= 1
        if _KEYWORD_BEFORE.search(text, max(0, j - 16), j + 1) and \
                text[end:end + 64].lstrip()[:1] != ";":
            # struct __attribute__((packed)) tag { ... }: a marker member says so
            marker = (f"char {_MARK_PACKED};" if packed else "") + (
                f"char {_MARK_ALIGNED}[{align}];" if align is not None else "")
            brace = text.find("{", end)
            if brace != -1:
                edits.append((brace + 1, brace + 1, marker))
            continue
        if j >= 0 and text[j] == "}":
            marker = (f"char {_MARK_PACKED};" if packed else "") + (
                f"char {_MARK_ALIGNED}[{align}];" if align is not None else "")
            brace = _match_paren(text, j, "}", "{", -1) + 1
            edits.append((brace, brace, marker))
            continue
        # an attribute of a declaration: C11's alignment specifier goes first in it
        start = _declaration_start(text, m.start())
        decl = _LINEMARKERS.sub("", text[start:m.start()])
        spec = f" _Alignas({_MARK_PACKED}) " if packed else ""
        spec += f" _Alignas({align}) " if align is not None else ""
        if decl.lstrip().startswith("typedef"):
            stop = text.find(";", end)
            name = _declarator_name(decl + " " + text[end:stop if stop != -1 else end])
            if name is not None and align is not None:
                typedef_aligns[name] = align
            continue
        edits.append((start, start, spec))
    edits.extend(_pragma_pack_edits(text))
    # at one place: marker members first, so an alignment specifier moved to the
    # start of the first member's declaration stays with that member
    edits.sort(key=lambda e: (e[0], e[1], not e[2].startswith("char ")))
    out: list[str] = []
    pos = 0
    for start, stop, rep in edits:
        out.append(text[pos:start])
        out.append(rep)
        pos = max(pos, stop)
    out.append(text[pos:])
    return "".join(out), typedef_aligns


def _coord(node: c_ast.Node, public: str) -> Coord:
    c = node.coord
    if c is None:
        return Coord("<unknown>", 0)
    f = str(c.file)
    if f.startswith(public):
        f = f[len(public):]
    if not f.startswith(("/", "<")):  # a public header, as named, not as reached
        f = os.path.normpath(f)
    return Coord(f, c.line or 0)


class Sizes(Protocol):
    """What conversion asks of the layout of the declarations seen so far (the layout
    engine answers; the converter does not build it: see :mod:`xenabi.pipeline`)."""

    def sizeof(self, t: CType) -> int: ...
    def alignof(self, t: CType) -> int: ...
    def resolve(self, t: CType) -> CType: ...
    def member(self, t: CType, name: str) -> tuple[int, CType]: ...


#: makes the layout of the records and typedefs a converter fills as it goes
SizesFor = Callable[[Mapping[str, Record], Mapping[str, Typedef]], Sizes]


class _Env:
    """What :mod:`xenabi.cexpr` asks of the declarations seen so far."""

    def __init__(self, conv: Converter) -> None:
        self.conv = conv

    def is_typedef(self, name: str) -> bool:
        return name in self.conv.typedefs

    def sizeof(self, t: CType) -> int:
        return self.conv.layouter.sizeof(t)

    def alignof(self, t: CType) -> int:
        return self.conv.layouter.alignof(t)

    def resolve(self, t: CType) -> CType:
        return self.conv.layouter.resolve(t)

    def enumerator(self, name: str) -> cexpr.CInt | None:
        return self.conv.enumerators.get(name)

    def member(self, t: CType, name: str) -> tuple[int, CType]:
        return self.conv.layouter.member(t, name)


class Converter:
    """Walks one pycparser FileAST and builds the model's declarations."""

    def __init__(self, target: Target, public_dir: str, sizes_for: SizesFor) -> None:
        self.target = target
        self.public = public_dir.rstrip("/") + "/"
        self.records: dict[str, Record] = {}
        self.typedefs: dict[str, Typedef] = {}
        self.enums: dict[str, Enum] = {}
        self.enumerators: dict[str, cexpr.CInt] = {}
        self.enumerator_defs: dict[str, Enumerator] = {}
        self.typedef_names: dict[str, str] = {}
        #: ``aligned`` attributes of typedefs, which pycparser drops (see rewrite_attributes)
        self.typedef_aligns: dict[str, str] = {}
        self.layouter = sizes_for(self.records, self.typedefs)
        self.env = _Env(self)
        self._gen = c_generator.CGenerator()

    # -- coordinates and errors

    def coord(self, node: c_ast.Node) -> Coord:
        return _coord(node, self.public)

    def fail(self, node: c_ast.Node, message: str) -> HeaderError:
        return HeaderError(self.coord(node), message)

    # -- expressions

    def evaluate(self, node: c_ast.Node) -> cexpr.CInt:
        text = self._gen.visit(node)
        try:
            return cexpr.evaluate(cexpr.parse(cexpr.tokenize(text), self.env), self.target, self.env)
        except XenAbiError as e:
            raise self.fail(node, f"'{text}' is not an integer constant: {e}") from None
        except cexpr.ExprError as e:
            raise self.fail(node, f"'{text}' is not an integer constant: {e}") from None

    # -- types

    def ctype(self, node: c_ast.Node) -> CType:
        match node:
            case c_ast.TypeDecl(type=inner) | c_ast.Typename(type=inner):
                return self.ctype(inner)
            case c_ast.IdentifierType(names=names):
                if len(names) == 1 and names[0] in self.typedefs:
                    return TypedefRef(names[0])
                return Scalar(cexpr.canonical_scalar(names))
            case c_ast.Struct() | c_ast.Union():
                return RecordRef(self.record_key(node))
            case c_ast.Enum():
                return EnumRef(self.enum_key(node))
            case c_ast.PtrDecl(type=inner):
                return Pointer(self.ctype(inner))
            case c_ast.ArrayDecl(type=inner, dim=dim):
                length = None if dim is None else self.evaluate(dim).value
                return Array(self.ctype(inner), length)
            case c_ast.FuncDecl(type=result, args=args):
                params = []
                variadic = False
                for p in (args.params if args else []):
                    if isinstance(p, c_ast.EllipsisParam):
                        variadic = True
                    elif isinstance(p, (c_ast.Decl, c_ast.Typename)):
                        params.append(self.ctype(p.type))
                return Function(self.ctype(result), tuple(params), variadic)
        raise self.fail(node, f"unsupported declarator {type(node).__name__}")

    def record_key(self, node: c_ast.Struct | c_ast.Union) -> str:
        kind = "struct" if isinstance(node, c_ast.Struct) else "union"
        if node.name:
            key = f"{kind} {node.name}"
        else:
            key = f"{kind} <anonymous at {self.coord(node)}:{node.coord.column}>"
        if node.decls is not None and key not in self.records:
            self.records[key] = self._record(node, kind, key)
        return key

    def enum_key(self, node: c_ast.Enum) -> str:
        key = f"enum {node.name}" if node.name else f"enum <anonymous at {self.coord(node)}>"
        if node.values is not None and key not in self.enums:
            self.enums[key] = self._enum(node, key)
        return key

    def _record(self, node: c_ast.Struct | c_ast.Union, kind: str, key: str) -> Record:
        fields, packed, align, pack = [], False, None, None
        for d in node.decls:
            if d.name == _MARK_PACKED:
                packed = True
                continue
            if d.name == _MARK_ALIGNED:
                align = self.evaluate(d.type.dim).value
                continue
            if d.name == _MARK_PACK:
                pack = self.evaluate(d.type.dim).value
                continue
            member_packed = any(isinstance(a.alignment, c_ast.ID) and a.alignment.name == _MARK_PACKED
                                for a in d.align)
            member_align = max((self.alignment(a.alignment) for a in d.align
                                if not (isinstance(a.alignment, c_ast.ID)
                                        and a.alignment.name == _MARK_PACKED)), default=None)
            bits = None if d.bitsize is None else self.evaluate(d.bitsize).value
            fields.append(Field(d.name, self.ctype(d.type), self.coord(d), bits, member_align,
                                member_packed))
        return Record(kind, key, node.name, tuple(fields), self.coord(node),  # type: ignore[arg-type]
                      packed, align, pack)

    def _align_value(self, text: str, node: c_ast.Node) -> int:
        try:
            return cexpr.evaluate(cexpr.parse(cexpr.tokenize(text), self.env), self.target,
                                  self.env).value
        except (cexpr.ExprError, XenAbiError) as e:
            raise self.fail(node, f"aligned({text}): {e}") from None

    def alignment(self, node: c_ast.Node) -> int:
        """The value of ``_Alignas(N)`` or ``_Alignas(type)``."""
        if isinstance(node, c_ast.Typename):
            return self.layouter.alignof(self.ctype(node))
        return self.evaluate(node).value

    def _enum(self, node: c_ast.Enum, key: str) -> Enum:
        members = []
        nxt = cexpr.CInt(0, "int")
        for e in node.values.enumerators:
            val = self.evaluate(e.value) if e.value is not None else nxt
            self.enumerators[e.name] = cexpr.CInt(val.value, "int")
            en = Enumerator(e.name, val.value, self.coord(e))
            self.enumerator_defs[e.name] = en
            members.append(en)
            nxt = cexpr.CInt(val.value + 1, "int")
        return Enum(key, tuple(members), self.coord(node))

    # -- top level

    def visit(self, ast: c_ast.FileAST) -> None:
        for ext in ast.ext:
            if isinstance(ext, c_ast.Typedef):
                t = self.ctype(ext.type)
                align = self.typedef_aligns.get(ext.name)
                self.typedefs[ext.name] = Typedef(
                    ext.name, t, self.coord(ext),
                    None if align is None else self._align_value(align, ext))
                if isinstance(t, RecordRef) and anonymous_key(t.key):
                    self.typedef_names.setdefault(t.key, ext.name)
            elif isinstance(ext, c_ast.Decl):
                self.ctype(ext.type)  # defines any struct, union or enum it carries
            # function definitions declare no ABI


_ERROR_AT = re.compile(r"^(.*?):(\d+)(?::\d+)?: (.*)$", re.S)


class _TooDeep(HeaderError):
    """A declaration nests deeper than pycparser's recursion can read."""


def _parse(text: str, public_dir: str, outer: frozenset[str] = frozenset()) -> c_ast.FileAST:
    try:
        return (ChunkParser(outer) if outer else CParser()).parse(text, "<unit>")
    except RecursionError:
        # where the declaration starts: the line marker right before its first line (each
        # declaration the memo parses has its own)
        body = re.search(r"^[^#\n]", text, re.M)
        m = None
        for m in _MARKER.finditer(text, 0, body.start() if body else len(text)):
            pass
        where: Coord | str = "<unit>"
        if m is not None:
            file = m.group(2)[1:-1]
            prefix = public_dir.rstrip("/") + "/"
            where = Coord(file[len(prefix):] if file.startswith(prefix) else file,
                          int(m.group(1)) + text.count("\n", text.index("\n", m.end()) + 1,
                                                       body.start() if body else m.end()))
        raise _TooDeep(where, "a declaration nests deeper than xenabi parses "
                       "(Python's recursion limit)") from None
    except c_parser.ParseError as e:
        m = _ERROR_AT.match(str(e))
        if m is None:
            raise HeaderError("<unit>", f"syntax error: {e}") from None
        file = m.group(1)
        prefix = public_dir.rstrip("/") + "/"
        file = file[len(prefix):] if file.startswith(prefix) else file
        raise HeaderError(Coord(file, int(m.group(2))), f"syntax error: {m.group(3)}") from None


# -- sharing the parse between units: most declarations are the same text in every
#    target and view, and parsing is most of a cold run's time


#: what ends a top-level declaration, and what may hide a brace or semicolon
_TOP = re.compile(r"""[{}();]|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|^#[^\n]*""", re.M)
_MARKER = re.compile(r'^# (\d+) ("(?:[^"\\]|\\.)*")', re.M)
_IDENT = re.compile(r"[A-Za-z_]\w*")
_LINEMARKERS = re.compile(r"^#.*$", re.M)


def _declarations(text: str) -> Iterator[tuple[int, int]]:
    """Spans of the top-level declarations of preprocessed text: each ends at a ``;`` or at
    the ``}`` of a function body, outside any brace."""
    depth, start, prev, body = 0, 0, "", False
    for m in _TOP.finditer(text):
        tok = m.group()
        if tok[0] in "\"'#":
            continue
        if tok == "{":
            body = body if depth else prev == ")"
            depth += 1
        elif tok == "}":
            depth -= 1
            if depth == 0 and body:
                yield start, m.end()
                start = m.end()
        elif tok == ";" and depth == 0:
            yield start, m.end()
            start = m.end()
        prev = tok
    if text[start:].strip():
        yield start, len(text)


def located(text: str) -> Iterator[str]:
    """Each top-level declaration as text of its own that parses to the same nodes, at the
    same file, line and column: a line marker, and spaces up to its column."""
    markers = [(m.start(), m.group(1), m.group(2)) for m in _MARKER.finditer(text)]
    at, line, file, k = 0, 1, '"<unit>"', 0
    for start, end in _declarations(text):
        begin = len(text[start:end]) - len(text[start:end].lstrip()) + start
        if begin == end:
            continue
        while k < len(markers) and markers[k][0] < begin:
            pos, number, file = markers[k]
            at, line = text.index("\n", pos) + 1, int(number)
            k += 1
        line += text.count("\n", at, begin)
        at = begin
        column = begin - (text.rfind("\n", 0, begin) + 1)
        yield f"# {line} {file}\n{' ' * column}{text[begin:end]}\n"


class ParseMemo:
    """Top-level declarations already parsed, for the units one process reads.

    A declaration parses the same wherever the same text stands at the same
    place after the same typedef names: the key is that text (located) and
    the typedef names of it that are declared before it. Nodes are shared
    between units; nothing changes a node after parsing.
    """

    def __init__(self) -> None:
        self._nodes: dict[tuple[str, frozenset[str]], list[c_ast.Node]] = {}

    def __len__(self) -> int:
        """How many distinct declarations it has parsed."""
        return len(self._nodes)

    def since(self, count: int) -> dict[tuple[str, frozenset[str]], list[c_ast.Node]]:
        """What it parsed after its first ``count`` declarations (a worker's, for
        :meth:`add` in its parent)."""
        return dict(itertools.islice(self._nodes.items(), count, None))

    def add(self, parsed: Mapping[tuple[str, frozenset[str]], list[c_ast.Node]]) -> None:
        """Declarations another process parsed (:meth:`since`)."""
        self._nodes.update(parsed)

    def parse(self, text: str, public_dir: str) -> c_ast.FileAST:
        typedefs: set[str] = set()
        ext: list[c_ast.Node] = []
        # public headers named relative to the tree: the same text parses once for
        # every tree of a run (the two sides of a diff)
        public = f'"{public_dir.rstrip("/")}/'
        for decl in located(text):
            decl = decl.replace(public, '"')
            known = frozenset(typedefs.intersection(_IDENT.findall(decl)))
            nodes = self._nodes.get((decl, known))
            if nodes is None:
                nodes = self._nodes[decl, known] = _parse(decl, public_dir, known).ext
            ext.extend(nodes)
            typedefs.update(n.name for n in nodes if isinstance(n, c_ast.Typedef))
        return c_ast.FileAST(ext)


def parse_unit(text: str, target: Target, public_dir: str, sizes_for: SizesFor,
               memo: ParseMemo | None = None) -> Converter:
    """Parse preprocessed text into a converter holding its declarations.

    With a ``memo``, declarations it has seen (in another target or view)
    are not parsed again; a unit the memo cannot split cleanly is parsed whole.
    """
    conv = Converter(target, public_dir, sizes_for)
    text, conv.typedef_aligns = rewrite_attributes(text)
    try:
        ast = memo.parse(text, public_dir) if memo is not None else _parse(text, public_dir)
    except HeaderError as e:
        if memo is None or isinstance(e, _TooDeep):
            raise
        ast = _parse(text, public_dir)  # the error, as the whole unit shows it
    conv.visit(ast)
    return conv


def build_api(conv: Converter, arch: str, view: str, version: int, macros: Mapping[str, object],
              headers: Mapping[str, HeaderStatus]) -> Api:
    return Api(arch, view, version, dict(conv.records), dict(conv.typedefs), dict(conv.enums),
               dict(macros), dict(headers), dict(conv.typedef_names))  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# Type declarations as C text again (cffi lays them out itself on the host)

_OPERAND = "__xenabi_operand_{}__"


@dataclass(frozen=True, slots=True)
class Operand:
    """A ``sizeof(T)`` or ``_Alignof(T)`` of a declaration, for the consumer to answer."""

    placeholder: str  #: what stands for it in :attr:`PlainDecl.text`
    op: str  #: ``sizeof`` or ``_Alignof``
    type: str  #: the C spelling of ``T``


@dataclass(frozen=True, slots=True)
class PlainDecl:
    """One top-level type declaration of a unit, as C text without attributes."""

    text: str  #: ``struct foo { ... };`` with each operand replaced by its placeholder
    coord: Coord
    public: bool  #: declared in a public header (not in xenabi's libc stand-ins)
    packed: bool = False  #: a record it defines was ``__attribute__((packed))``
    operands: tuple[Operand, ...] = ()


class _Cleaner(c_ast.NodeVisitor):  # type: ignore[misc]
    """Makes a fresh AST plain C: takes out what :func:`rewrite_attributes` put in
    (noting ``packed``), and defines each record or enum once.

    pycparser shares one definition node among the declarators of
    ``struct p { ... } source, dest;``: printed as is, it would be defined
    twice. A tag defined again keeps its first definition, as in the model.
    """

    def __init__(self) -> None:
        self.packed = False
        self.tags: set[str] = set()  #: ``struct foo`` for every definition printed so far

    @staticmethod
    def tag(node: c_ast.Node) -> str | None:
        """``struct foo`` for a definition of a tagged record or enum, else None."""
        if isinstance(node, (c_ast.Struct, c_ast.Union)) and node.name and node.decls is not None:
            return f"{type(node).__name__.lower()} {node.name}"
        if isinstance(node, c_ast.Enum) and node.name and node.values is not None:
            return f"enum {node.name}"
        return None

    def visit_Struct(self, node: c_ast.Struct | c_ast.Union) -> None:
        if node.decls is not None:
            self.packed |= any(d.name == _MARK_PACKED for d in node.decls)
            node.decls = [d for d in node.decls if d.name not in (_MARK_PACKED, _MARK_ALIGNED)]
        self.generic_visit(node)
        if (tag := self.tag(node)) is not None:
            self.tags.add(tag)

    visit_Union = visit_Struct

    def visit_Enum(self, node: c_ast.Enum) -> None:
        if (tag := self.tag(node)) is not None:
            self.tags.add(tag)

    def visit_Decl(self, node: c_ast.Decl) -> None:
        node.align = []
        self.generic_visit(node)

    def visit_TypeDecl(self, node: c_ast.TypeDecl) -> None:
        node.align = None
        if self.tag(node.type) in self.tags:
            node.type = type(node.type)(node.type.name, None)  # defined before: refer to it
            return
        self.generic_visit(node)


class _PlainGenerator(c_generator.CGenerator):  # type: ignore[misc]
    """C text in which each ``sizeof(T)``/``_Alignof(T)`` is a placeholder."""

    def __init__(self) -> None:
        super().__init__()
        self.operands: list[Operand] = []

    def visit_UnaryOp(self, n: c_ast.UnaryOp) -> str:
        if n.op in ("sizeof", "_Alignof") and isinstance(n.expr, c_ast.Typename):
            name = _OPERAND.format(len(self.operands))
            self.operands.append(Operand(name, n.op, self.visit(n.expr)))
            return name
        return str(super().visit_UnaryOp(n))


def _type_definition(ext: c_ast.Node) -> c_ast.Node | None:
    """What of a top-level declaration declares a type: a typedef, or a record or enum it defines."""
    if isinstance(ext, c_ast.Typedef):
        return ext
    if not isinstance(ext, c_ast.Decl):
        return None  # a function definition: its inline body declares no ABI
    t = ext.type.type if isinstance(ext.type, c_ast.TypeDecl) else ext.type
    if isinstance(t, (c_ast.Struct, c_ast.Union)) and t.decls is not None:
        return t
    if isinstance(t, c_ast.Enum) and t.values is not None:
        return t
    return None  # a prototype, a variable, a forward declaration


def plain_declarations(text: str, target: Target, public_dir: str) -> Iterator[PlainDecl]:
    """Every type declaration of preprocessed text, in order, regenerated as C.

    Attributes are gone (a ``packed`` record says so); ``sizeof(T)`` and
    ``_Alignof(T)`` are left to the caller as :class:`Operand` placeholders,
    so that whoever lays the declarations out answers them itself.
    """
    public = public_dir.rstrip("/") + "/"
    cleaner = _Cleaner()
    for ext in _parse(rewrite_attributes(text)[0], public_dir).ext:
        node = _type_definition(ext)
        if node is None or cleaner.tag(node) in cleaner.tags:
            continue
        cleaner.packed = False
        cleaner.visit(node)
        gen = _PlainGenerator()
        decl = gen.visit(node) + ";"
        coord = _coord(ext, public)
        yield PlainDecl(decl, coord, not coord.file.startswith(("/", "<")), cleaner.packed,
                        tuple(gen.operands))
