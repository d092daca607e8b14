"""C integer constant expressions: tokens, macro expansion, parsing and evaluation per target.

The job: give every object-like macro of the Xen headers (and every array
dimension, bitfield width and enumerator value) the value and C type a
compiler for the target would give it, without a compiler. Four stages, each
usable alone:

- :func:`tokenize` splits C text into preprocessing tokens;
- :func:`expand` replaces a macro with full C preprocessor semantics
  (arguments expanded before substitution, ``#`` and ``##``, rescanning, the
  hide sets that stop ``#define A A``), bounded in the tokens it processes;
- :func:`parse` builds an :data:`Expr` tree, with type names (casts,
  ``sizeof``, ``_Alignof``, ``offsetof``) as :mod:`xenabi.model` types;
- :func:`evaluate` computes a :class:`CInt` under C11's rules (literal types,
  promotions, usual arithmetic conversions) with the target's integer sizes
  and ``char`` signedness. Where C leaves signed overflow undefined the value
  wraps as gcc and clang fold it (``1 << 31`` is ``INT_MIN``); what compilers
  refuse to fold (division by zero, a shift count out of range) is an error.
  Sizes, alignments, enumerators and record members come from an :class:`Env`.

Every failure is an :class:`ExprError` whose message names what failed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeAlias, cast, runtime_checkable

from xenabi.errors import XenAbiError
from xenabi.model import (Array, CType, EnumRef, Function, MacroDef, Pointer, RecordRef, Scalar,
                          TypedefRef, spell)
from xenabi.targets import Target


class ExprError(XenAbiError):
    """An expression that is no integer constant expression, or a macro that cannot expand."""


class ExpansionLimit(ExprError):
    """A macro expansion processed more tokens than its bound (``#define X1 (X0+X0)``...)."""


class TooDeep(ExpansionLimit):
    """An expression nests deeper than Python's recursion limit lets xenabi read it."""


# --------------------------------------------------------------------------
# Tokens

TokenKind: TypeAlias = Literal["ident", "number", "char", "string", "punct", "other"]


@dataclass(frozen=True, slots=True)
class Token:
    """One C preprocessing token: ``0x10UL``, ``'\\n'``, ``<<=``, ``##``, ``xen_mk_ulong``."""

    kind: TokenKind
    text: str
    #: white space came before it in its source text; only ``#`` stringizing looks at it
    space: bool = field(default=False, compare=False)


_TOKEN_RE = re.compile(r"""
    (?P<ws>(?:[ \t\r\n\f\v]|\\\n|/\*.*?\*/|//[^\n]*)+)
  | (?P<char>(?:u8|[uUL])?'(?:[^'\\\n]|\\.)*')
  | (?P<string>(?:u8|[uUL])?"(?:[^"\\\n]|\\.)*")
  | (?P<number>\.?[0-9](?:[eEpP][+-]|[0-9A-Za-z_.])*)
  | (?P<ident>[A-Za-z_$][A-Za-z0-9_$]*)
  | (?P<punct>\.\.\.|<<=|>>=|->|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&^|]=|\#\#
              |[][#(){}.&*+\-~!/%<>^|?:;=,])
  | (?P<other>.)
""", re.X | re.S)


@functools.lru_cache(maxsize=16384)
def _lex(text: str) -> tuple[Token, ...]:
    out: list[Token] = []
    space = False
    for m in _TOKEN_RE.finditer(text):
        kind = m.lastgroup
        if kind == "ws":
            space = True
            continue
        out.append(Token(cast(TokenKind, kind), m.group(), space))
        space = False
    return tuple(out)


def tokenize(text: str) -> list[Token]:
    """The preprocessing tokens of ``text``; comments and white space are dropped."""
    return list(_lex(text))


# --------------------------------------------------------------------------
# Macro expansion (Prosser's algorithm: every token carries the hide set of the
# macros whose expansion produced it, and a name in its own hide set stays put)

_Hide: TypeAlias = frozenset[str]
_Item: TypeAlias = tuple[Token, _Hide]
_NO_HIDE: _Hide = frozenset()
_PLACEMARKER = Token("other", "")  # C11 6.10.3.3: an empty argument beside ##


@dataclass(frozen=True, slots=True)
class _Body:
    """A macro's replacement list, tokenized once, with parameters resolved to argument indexes."""

    tokens: tuple[Token, ...]
    params: tuple[int | None, ...]  #: per token: the parameter it names, or None
    nparams: int
    variadic: int | None  #: index of the variadic parameter


@functools.lru_cache(maxsize=8192)
def _compile(name: str, params: tuple[str, ...] | None, body: str) -> _Body:
    tokens = _lex(body)
    names: dict[str, int] = {}
    variadic = None
    for i, p in enumerate(params or ()):
        if p.endswith("..."):  # `...` is __VA_ARGS__; GNU `args...` names it
            variadic = i
            p = p[:-3] or "__VA_ARGS__"
        names[p] = i
    index = tuple(names.get(t.text) if t.kind == "ident" else None for t in tokens)
    for i, t in enumerate(tokens):
        if t.kind != "punct":
            continue
        if t.text == "##" and (i == 0 or i == len(tokens) - 1):
            raise ExprError(f"'##' cannot begin or end the body of macro {name}")
        if t.text == "#" and params is not None and (i + 1 == len(tokens) or index[i + 1] is None):
            raise ExprError(f"'#' is not followed by a parameter in macro {name}")
    return _Body(tokens, index, len(params or ()), variadic)


def _stringize(arg: Sequence[_Item]) -> Token:
    parts = []
    for k, (t, _) in enumerate(arg):
        text = t.text.replace("\\", "\\\\").replace('"', '\\"') if t.kind in ("char", "string") \
            else t.text
        parts.append(" " + text if t.space and k else text)
    return Token("string", '"' + "".join(parts) + '"')


class _Expander:
    """One expansion: the macro table, the token budget, and what is spent of it."""

    __slots__ = ("macros", "limit", "root", "count", "depth")
    #: argument pre-expansion recurses; this keeps it well inside Python's stack
    MAX_DEPTH = 200

    def __init__(self, macros: Mapping[str, MacroDef], limit: int, root: str) -> None:
        self.macros = macros
        self.limit = limit
        self.root = root
        self.count = 0
        self.depth = 0

    def _spend(self, n: int) -> None:
        self.count += n
        if self.count > self.limit:
            raise ExpansionLimit(f"macro {self.root} expands past {self.limit} tokens")

    def run(self, items: list[_Item]) -> list[_Item]:
        """Expand a token list completely (C11 6.10.3.4 rescanning)."""
        self.depth += 1
        if self.depth > self.MAX_DEPTH:
            raise ExprError(f"macro {self.root} nests macro arguments more than "
                            f"{self.MAX_DEPTH} deep")
        stack = items[::-1]  # reversed, so replacing the front is an append
        out: list[_Item] = []
        macros = self.macros
        while stack:
            item = stack.pop()
            self._spend(1)
            tok, hide = item
            if tok.kind != "ident" or tok.text in hide or (m := macros.get(tok.text)) is None:
                out.append(item)
            elif m.params is None:
                stack.extend(reversed(self.subst(m, [], hide | {tok.text})))
            elif not stack or stack[-1][0].text != "(":
                out.append(item)  # a function-like macro's name without arguments is a name
            else:
                args, close = self.collect(m, stack)
                stack.extend(reversed(self.subst(m, args, (hide & close) | {tok.text})))
        self.depth -= 1
        return out

    def collect(self, m: MacroDef, stack: list[_Item]) -> tuple[list[list[_Item]], _Hide]:
        """Take a call's arguments off the stack; also the hide set of its closing ')'."""
        body = _compile(m.name, m.params, m.body)
        stack.pop()
        args: list[list[_Item]] = [[]]
        depth = 0
        while True:
            if not stack:
                raise ExprError(f"unterminated call of macro {m.name}")
            item = stack.pop()
            self._spend(1)
            text = item[0].text if item[0].kind == "punct" else ""
            if text == ")" and depth == 0:
                break
            if text == "," and depth == 0 and len(args) - 1 != body.variadic:
                args.append([])
                continue
            depth += (text == "(") - (text == ")")
            args[-1].append(item)
        if body.nparams == 0 and args == [[]]:
            args = []
        elif body.variadic is not None and len(args) == body.nparams - 1:
            args.append([])  # GNU: the variable arguments may be left out altogether
        if len(args) != body.nparams:
            raise ExprError(f"macro {m.name} takes {body.nparams} arguments, given {len(args)}")
        return args, item[1]

    def subst(self, m: MacroDef, args: list[list[_Item]], hide: _Hide) -> list[_Item]:
        """The replacement list with arguments substituted (C11 6.10.3.1-3), hide set added."""
        body = _compile(m.name, m.params, m.body)
        toks, index = body.tokens, body.params
        function_like = m.params is not None
        expanded: dict[int, list[_Item]] = {}
        out: list[_Item] = []

        def stringized(j: int) -> _Item:
            param = index[j]
            assert param is not None  # _compile checked that a parameter follows '#'
            return _stringize(args[param]), _NO_HIDE

        i, n = 0, len(toks)
        while i < n:
            t, p = toks[i], index[i]
            if t.kind == "punct" and t.text == "#" and function_like:
                out.append(stringized(i + 1))
                i += 2
            elif t.kind == "punct" and t.text == "##":
                rt, rp = toks[i + 1], index[i + 1]
                i += 2
                if rp is not None:
                    rhs = args[rp]
                    if rp == body.variadic and out and out[-1][0].text == ",":
                        # GNU `, ## __VA_ARGS__`: no variable arguments, no comma
                        if not rhs:
                            out.pop()
                        out.extend(rhs)
                        continue
                elif rt.kind == "punct" and rt.text == "#" and function_like:
                    rhs = [stringized(i)]
                    i += 1
                else:
                    rhs = [(rt, _NO_HIDE)]
                left = out.pop()
                if not rhs:
                    out.append(left)
                elif left[0] is _PLACEMARKER:
                    out.extend(rhs)
                else:
                    out.append((self.glue(m, left[0], rhs[0][0]), left[1]))
                    out.extend(rhs[1:])
            elif p is not None:
                if i + 1 < n and toks[i + 1].kind == "punct" and toks[i + 1].text == "##":
                    out.extend(args[p] or [(_PLACEMARKER, _NO_HIDE)])
                else:
                    if p not in expanded:
                        expanded[p] = self.run(args[p])
                    out.extend(expanded[p])
                i += 1
            else:
                out.append((t, _NO_HIDE))
                i += 1
        if len(out) > self.limit:  # a body may multiply its arguments before they are counted
            self._spend(len(out))
        return [(tok, h | hide) if tok.kind == "ident" else (tok, h)
                for tok, h in out if tok is not _PLACEMARKER]

    def glue(self, m: MacroDef, left: Token, right: Token) -> Token:
        pasted = _lex(left.text + right.text)
        if len(pasted) != 1:
            raise ExprError(f"pasting '{left.text}' and '{right.text}' in macro {m.name} "
                            f"does not give one token")
        return Token(pasted[0].kind, pasted[0].text, left.space)


def expand(name: str, macros: Mapping[str, MacroDef], *, limit: int = 20000) -> list[Token]:
    """The tokens the object-like macro ``name`` expands to.

    Raises :class:`ExpansionLimit` once more than ``limit`` tokens have been
    processed, so that exponential definitions fail fast instead of hanging.
    """
    m = macros.get(name)
    if m is None:
        raise ExprError(f"no macro named {name}")
    if m.params is not None:
        raise ExprError(f"macro {name} is function-like, not a constant")
    items = _Expander(macros, limit, name).run([(Token("ident", name), _NO_HIDE)])
    return [t for t, _ in items]


# --------------------------------------------------------------------------
# Expression trees


@dataclass(frozen=True, slots=True)
class IntLit:
    """An integer constant: ``0x10UL`` is value 16, not decimal, unsigned, one ``l``."""

    value: int
    text: str
    decimal: bool  #: C11 6.4.4.1 gives decimal and other constants different type lists
    unsigned: bool
    longs: int  #: 0, 1 (``l``) or 2 (``ll``)


@dataclass(frozen=True, slots=True)
class CharLit:
    """A character constant: ``'a'``, ``'\\xff'``, ``'ab'``, ``u'x'``."""

    text: str
    codes: tuple[int, ...]  #: bytes for a plain constant, code points for ``u`` and ``U``
    prefix: Literal["", "u", "U"]


@dataclass(frozen=True, slots=True)
class Name:
    """An identifier left after expansion: an enumerator, or an error."""

    name: str


@dataclass(frozen=True, slots=True)
class Unary:
    op: Literal["+", "-", "~", "!"]
    operand: Expr


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  #: ``*`` ... ``||``, as written
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Conditional:
    cond: Expr
    then: Expr
    orelse: Expr


@dataclass(frozen=True, slots=True)
class Cast:
    type: CType
    operand: Expr


@dataclass(frozen=True, slots=True)
class SizeofType:
    type: CType


@dataclass(frozen=True, slots=True)
class SizeofExpr:
    operand: Expr


@dataclass(frozen=True, slots=True)
class AlignofType:
    """``_Alignof(T)``, or GNU ``__alignof__(T)`` (``gnu``), which gives the preferred alignment."""

    type: CType
    gnu: bool = False


@dataclass(frozen=True, slots=True)
class Comma:
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Member:
    """``obj.name`` or ``obj->name``: no constant, but ``sizeof`` may ask its type
    (``sizeof(((struct foo *)0)->ring[0])``, as Xen's ``__CONST_RING_SIZE`` does)."""

    obj: Expr
    name: str
    arrow: bool


@dataclass(frozen=True, slots=True)
class Index:
    """``obj[index]``: like :class:`Member`, only its type counts."""

    obj: Expr
    index: Expr


@dataclass(frozen=True, slots=True)
class Offsetof:
    """``offsetof(struct foo, ring[1].b)``, or what ``<stddef.h>`` makes of it,
    ``__builtin_offsetof``."""

    type: CType
    designator: tuple[str | Expr, ...]  #: member names, and the index expressions between them


Expr: TypeAlias = (IntLit | CharLit | Name | Unary | Binary | Conditional | Cast | SizeofType
                   | SizeofExpr | AlignofType | Comma | Member | Index | Offsetof)


def _operand(e: Expr) -> str:
    """A postfix operator's operand, parenthesized unless it binds as tightly."""
    tight = isinstance(e, (Name, IntLit, CharLit, Member, Index))
    return unparse(e) if tight else f"({unparse(e)})"


def unparse(e: Expr) -> str:
    """C text for an expression, fully parenthesized; for messages."""
    match e:
        case IntLit(text=text) | CharLit(text=text) | Name(name=text):
            return text
        case Unary(op, x):
            return f"{op}{unparse(x)}"
        case Binary(op, left, right):
            return f"({unparse(left)} {op} {unparse(right)})"
        case Conditional(c, a, b):
            return f"({unparse(c)} ? {unparse(a)} : {unparse(b)})"
        case Cast(t, x):
            return f"({spell(t)}){unparse(x)}"
        case SizeofType(t):
            return f"sizeof({spell(t)})"
        case SizeofExpr(x):
            return f"sizeof {unparse(x)}"
        case AlignofType(t, gnu):
            return f"{'__alignof__' if gnu else '_Alignof'}({spell(t)})"
        case Comma(left, right):
            return f"({unparse(left)}, {unparse(right)})"
        case Member(obj, name, arrow):
            return f"{_operand(obj)}{'->' if arrow else '.'}{name}"
        case Index(obj, index):
            return f"{_operand(obj)}[{unparse(index)}]"
        case Offsetof(t, designator):
            path = "".join(f".{d}" if isinstance(d, str) else f"[{unparse(d)}]"
                           for d in designator)
            return f"offsetof({spell(t)}, {path[1:]})"
    raise AssertionError(e)


# --------------------------------------------------------------------------
# Parsing


class TypeNames(Protocol):
    """What the parser must know of the declarations: which identifiers name types."""

    def is_typedef(self, name: str) -> bool: ...


def _canonical_table() -> dict[tuple[str, ...], str]:
    table: dict[tuple[str, ...], str] = {}

    def add(name: str, *spellings: str) -> None:
        for s in spellings:
            table[tuple(sorted(s.split()))] = name

    for base in ("short", "long", "long long"):
        for sign, prefix in (("", ""), ("signed ", ""), ("unsigned ", "unsigned ")):
            add(prefix + base, sign + base, sign + base + " int")
    add("int", "int", "signed", "signed int")
    add("unsigned int", "unsigned", "unsigned int")
    add("char", "char")
    add("signed char", "signed char")
    add("unsigned char", "unsigned char")
    for plain in ("void", "_Bool", "float", "double", "long double"):
        add(plain, plain)
    return table


_CANONICAL = _canonical_table()
_SPECIFIER_ALIASES = {"__signed__": "signed", "__signed": "signed"}
_SPECIFIERS = frozenset(w for k in _CANONICAL for w in k) | frozenset(_SPECIFIER_ALIASES)
_QUALIFIERS = frozenset({"const", "volatile", "restrict", "__const", "__const__", "__volatile",
                         "__volatile__", "__restrict", "__restrict__", "_Atomic"})
_TAGS = frozenset({"struct", "union", "enum"})
_ALIGNOF = {"_Alignof": False, "alignof": False, "__alignof__": True, "__alignof": True}


def canonical_scalar(specifiers: Iterable[str]) -> str:
    """The canonical name of C type specifiers: ``long unsigned int`` is ``unsigned long``."""
    words = [_SPECIFIER_ALIASES.get(w, w) for w in specifiers]
    name = _CANONICAL.get(tuple(sorted(words)))
    if name is None:
        raise ExprError(f"'{' '.join(words)}' is not a C scalar type")
    return name


_INT_RE = re.compile(r"(?:0[xX](?P<hex>[0-9a-fA-F]+)|0[bB](?P<bin>[01]+)|(?P<oct>0[0-7]*)"
                     r"|(?P<dec>[1-9][0-9]*))"
                     r"(?P<suffix>(?:[uU](?:ll|LL|[lL])?|(?:ll|LL|[lL])[uU]?)?)")
_FLOAT_RE = re.compile(r"[0-9]*\.|[0-9]+[eE]|0[xX][0-9a-fA-F.]*[pP]")


@functools.lru_cache(maxsize=8192)
def _int_literal(text: str) -> IntLit:
    m = _INT_RE.fullmatch(text)
    if m is None:
        if _FLOAT_RE.match(text):
            raise ExprError(f"floating constant {text} is not an integer constant")
        raise ExprError(f"invalid integer constant {text}")
    digits, base = next((m.group(g), b) for g, b in
                        (("hex", 16), ("bin", 2), ("oct", 8), ("dec", 10)) if m.group(g))
    suffix = m.group("suffix").lower()
    return IntLit(int(digits, base), text, base == 10, "u" in suffix, suffix.count("l"))


_ESCAPES = {"n": 10, "t": 9, "v": 11, "b": 8, "r": 13, "f": 12, "a": 7, "e": 27,
            "\\": 92, "'": 39, '"': 34, "?": 63}
_ESCAPE_RE = re.compile(r"\\(?:([0-7]{1,3})|x([0-9a-fA-F]+)|(.))|([^\\])", re.S)
_CHAR_LIMITS = {"": 0xFF, "u": 0xFFFF, "U": 0xFFFFFFFF}


@functools.lru_cache(maxsize=4096)
def _char_literal(text: str) -> CharLit:
    prefix, _, rest = text.partition("'")
    if prefix not in _CHAR_LIMITS:
        raise ExprError(f"character constant {text}: prefix {prefix} is not supported")
    limit = _CHAR_LIMITS[prefix]
    codes: list[int] = []
    for m in _ESCAPE_RE.finditer(rest[:-1]):
        octal, hexa, esc, plain = m.groups()
        if plain is not None:
            # a source character: as its UTF-8 bytes in a plain constant, else one code point
            codes.extend(plain.encode() if prefix == "" else [ord(plain)])
            if prefix and ord(plain) > limit:
                raise ExprError(f"character constant {text}: {plain!r} does not fit")
            continue
        # an unknown escape stands for its character, as gcc and clang (with a warning) take it
        code = int(octal, 8) if octal else int(hexa, 16) if hexa else _ESCAPES.get(
            str(esc), ord(str(esc)))
        if code > limit:
            raise ExprError(f"character constant {text}: escape value {code:#x} out of range")
        codes.append(code)
    if not codes or len(codes) > (4 if prefix == "" else 1):
        raise ExprError(f"character constant {text} must hold {'1 to 4' if not prefix else '1'} "
                        f"characters, not {len(codes)}")
    return CharLit(text, tuple(codes), cast(Literal["", "u", "U"], prefix))


#: binary operators by precedence, loosest first (C11 6.5.5 to 6.5.14)
_BINARY = {op: prec for prec, ops in enumerate(
    (("||",), ("&&",), ("|",), ("^",), ("&",), ("==", "!="), ("<", ">", "<=", ">="),
     ("<<", ">>"), ("+", "-"), ("*", "/", "%")), start=1) for op in ops}
_END = Token("other", "<end>")
_Declarator: TypeAlias = Callable[[CType], CType]


class _Parser:
    __slots__ = ("toks", "i", "types")

    def __init__(self, toks: Sequence[Token], types: TypeNames) -> None:
        self.toks = toks
        self.i = 0
        self.types = types

    def peek(self, ahead: int = 0) -> Token:
        j = self.i + ahead
        return self.toks[j] if j < len(self.toks) else _END

    def fail(self, what: str) -> ExprError:
        text = " ".join(t.text for t in self.toks)
        return ExprError(f"{what} in '{text}'" if text else what)

    def accept(self, text: str) -> bool:
        t = self.peek()
        if t.kind == "punct" and t.text == text:
            self.i += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            raise self.fail(f"expected '{text}' before '{self.peek().text}'")

    def expression(self) -> Expr:
        e = self.conditional()
        while self.accept(","):
            e = Comma(e, self.conditional())
        return e

    def conditional(self) -> Expr:
        cond = self.binary(1)
        if not self.accept("?"):
            return cond
        then = self.expression()
        self.expect(":")
        return Conditional(cond, then, self.conditional())

    def binary(self, min_prec: int) -> Expr:
        left = self.unary()
        while True:
            t = self.peek()
            prec = _BINARY.get(t.text, 0) if t.kind == "punct" else 0
            if prec < min_prec:
                return left
            self.i += 1
            left = Binary(t.text, left, self.binary(prec + 1))

    def starts_type(self, t: Token) -> bool:
        return t.kind == "ident" and (t.text in _SPECIFIERS or t.text in _QUALIFIERS
                                      or t.text in _TAGS or self.types.is_typedef(t.text))

    def unary(self) -> Expr:
        t = self.peek()
        if t.kind == "punct" and t.text in ("+", "-", "~", "!"):
            self.i += 1
            return Unary(cast(Literal["+", "-", "~", "!"], t.text), self.unary())
        if t.kind == "punct" and t.text == "(" and self.starts_type(self.peek(1)):
            self.i += 1
            ctype = self.type_name()
            self.expect(")")
            if self.peek().text == "{":
                raise self.fail("a compound literal is not an integer constant")
            return Cast(ctype, self.unary())
        if t.kind == "ident" and t.text == "sizeof":
            self.i += 1
            if self.peek().text == "(" and self.starts_type(self.peek(1)):
                self.i += 1
                ctype = self.type_name()
                self.expect(")")
                return SizeofType(ctype)
            return SizeofExpr(self.unary())
        if t.kind == "ident" and t.text in _ALIGNOF:
            self.i += 1
            self.expect("(")
            if not self.starts_type(self.peek()):
                raise self.fail(f"{t.text} of an expression is not supported")
            ctype = self.type_name()
            self.expect(")")
            return AlignofType(ctype, _ALIGNOF[t.text])
        if t.kind == "ident" and t.text == "__extension__":
            self.i += 1
            return self.unary()
        return self.postfix()

    def postfix(self) -> Expr:
        e = self.primary()
        while (t := self.peek()).kind == "punct":
            if t.text in (".", "->"):
                self.i += 1
                e = Member(e, self.identifier(), t.text == "->")
            elif t.text == "[":
                self.i += 1
                e = Index(e, self.expression())
                self.expect("]")
            elif t.text == "(" and isinstance(e, Name):
                raise self.fail(f"call of '{e.name}' is not an integer constant")
            elif t.text in ("(", "++", "--"):
                raise self.fail(f"'{t.text}' is not allowed in an integer constant expression")
            else:
                break
        return e

    def identifier(self) -> str:
        t = self.peek()
        if t.kind != "ident":
            raise self.fail(f"expected a name before '{t.text}'")
        self.i += 1
        return t.text

    def offsetof(self) -> Offsetof:
        """``(type-name, member-designator)`` after ``offsetof`` (C11 7.19)."""
        self.expect("(")
        ctype = self.type_name()
        self.expect(",")
        designator: list[str | Expr] = [self.identifier()]
        while True:
            if self.accept("."):
                designator.append(self.identifier())
            elif self.accept("["):
                designator.append(self.expression())
                self.expect("]")
            else:
                break
        self.expect(")")
        return Offsetof(ctype, tuple(designator))

    def primary(self) -> Expr:
        t = self.peek()
        self.i += 1
        if t.kind == "number":
            return _int_literal(t.text)
        if t.kind == "char":
            return _char_literal(t.text)
        # offsetof is <stddef.h>'s macro; headers that use it without the include
        # still mean it
        if t.kind == "ident" and t.text in ("offsetof", "__builtin_offsetof") \
                and self.peek().text == "(":
            return self.offsetof()
        if t.kind == "ident" and not self.starts_type(t):
            return Name(t.text)
        if t.kind == "punct" and t.text == "(":
            e = self.expression()
            self.expect(")")
            return e
        if t.kind == "string":
            raise self.fail(f"string literal {t.text} is not an integer constant")
        raise self.fail("empty expression" if t is _END and len(self.toks) == 0
                        else f"unexpected '{t.text}'")

    def type_name(self) -> CType:
        """specifier-qualifier-list abstract-declarator? (C11 6.7.7)"""
        words: list[str] = []
        base: CType | None = None
        while (t := self.peek()).kind == "ident":
            if t.text in _QUALIFIERS:
                pass
            elif t.text in _SPECIFIERS and base is None:
                words.append(t.text)
            elif t.text in _TAGS and base is None and not words:
                tag = self.peek(1)
                if tag.kind != "ident":
                    raise self.fail(f"{t.text} without a tag is not supported in a type name")
                self.i += 1
                key = f"{t.text} {tag.text}"
                base = EnumRef(key) if t.text == "enum" else RecordRef(key)
            elif self.types.is_typedef(t.text) and base is None and not words:
                base = TypedefRef(t.text)
            else:
                break
            self.i += 1
        if base is None:
            base = Scalar(canonical_scalar(words))
        elif words:
            raise self.fail(f"'{' '.join(words)}' cannot combine with {spell(base)}")
        return self.abstract_declarator()(base)

    def abstract_declarator(self) -> _Declarator:
        """``* const *``, ``[4][2]``, ``(*)[4]``: a function from the base type to the type."""
        pointers = 0
        while True:
            if self.accept("*"):
                pointers += 1
            elif self.peek().kind == "ident" and self.peek().text in _QUALIFIERS:
                self.i += 1
            else:
                break
        inner: _Declarator = _identity
        if self.peek().text == "(" and self.peek(1).text in ("*", "(", "["):
            self.i += 1
            inner = self.abstract_declarator()
            self.expect(")")
        dims: list[int | None] = []
        while self.accept("["):
            dims.append(None if self.accept("]") else self.array_length())
        if self.peek().text == "(":
            raise self.fail("function types are not supported in a type name")

        def build(base: CType) -> CType:
            t = base
            for _ in range(pointers):
                t = Pointer(t)
            for d in reversed(dims):
                t = Array(t, d)
            return inner(t)
        return build

    def array_length(self) -> int:
        # The model's Array needs its length now, before a target is known: only
        # a literal is the same on every target
        e = self.conditional()
        self.expect("]")
        if not isinstance(e, IntLit):
            raise self.fail(f"array length {unparse(e)} in a type name is not an integer literal")
        return e.value


def _identity(t: CType) -> CType:
    return t


def parse(tokens: Sequence[Token], types: TypeNames) -> Expr:
    """The expression tree of a token list; ``types`` tells a cast from a parenthesized name."""
    p = _Parser(tokens, types)
    try:
        e = p.expression()
    except RecursionError:
        raise TooDeep("the expression nests deeper than xenabi reads") from None
    if p.i != len(tokens):
        raise p.fail(f"unexpected '{tokens[p.i].text}'")
    return e


# --------------------------------------------------------------------------
# Evaluation


@dataclass(frozen=True, slots=True)
class CInt:
    """An integer in its C type: ``~0UL`` on x86_32 is ``CInt(4294967295, 'unsigned long')``."""

    value: int
    ctype: str  #: a canonical integer type name: ``int``, ``unsigned long``, ``char``, ``_Bool``...


class Env(Protocol):
    """What evaluation must know of the declarations. Any method may raise an error
    of :mod:`xenabi.errors` for a type it does not know."""

    def sizeof(self, t: CType) -> int: ...

    def alignof(self, t: CType) -> int: ...

    def resolve(self, t: CType) -> CType:
        """``t`` with typedefs stripped at the top."""
        ...

    def enumerator(self, name: str) -> CInt | None: ...


@runtime_checkable
class Members(Protocol):
    """What an :class:`Env` may also know: the members of records, for ``offsetof``
    and ``sizeof(((T *)0)->member)``. Without it those are errors."""

    def member(self, t: CType, name: str) -> tuple[int, CType]:
        """The offset in bits and the type of member ``name`` of the record type ``t``
        (typedefs already stripped), looking into anonymous struct and union members."""
        ...


_RANKS = {"_Bool": 0, "char": 1, "signed char": 1, "unsigned char": 1, "short": 2,
          "unsigned short": 2, "int": 3, "unsigned int": 3, "long": 4, "unsigned long": 4,
          "long long": 5, "unsigned long long": 5}
INTEGER_TYPES: tuple[str, ...] = tuple(_RANKS)


@dataclass(frozen=True, slots=True)
class _IntType:
    name: str
    bits: int
    signed: bool
    rank: int

    def wrap(self, v: int) -> int:
        """``v`` converted to this type (C11 6.3.1.2-3; signed types wrap as gcc does)."""
        if self.rank == 0:
            return int(v != 0)
        v &= (1 << self.bits) - 1
        if self.signed and v >> (self.bits - 1):
            v -= 1 << self.bits
        return v

    @property
    def max(self) -> int:
        return (1 << (self.bits - self.signed)) - 1


#: C11 6.4.4.1: the types an integer constant may take, by (decimal without ``u``,
#: unsigned, number of ``l``)
_LITERAL_TYPES: dict[tuple[bool, bool, int], tuple[str, ...]] = {
    (True, False, 0): ("int", "long", "long long"),
    (False, False, 0): ("int", "unsigned int", "long", "unsigned long", "long long",
                        "unsigned long long"),
    (True, False, 1): ("long", "long long"),
    (False, False, 1): ("long", "unsigned long", "long long", "unsigned long long"),
    (True, False, 2): ("long long",),
    (False, False, 2): ("long long", "unsigned long long"),
    (False, True, 0): ("unsigned int", "unsigned long", "unsigned long long"),
    (False, True, 1): ("unsigned long", "unsigned long long"),
    (False, True, 2): ("unsigned long long",),
}


class _Types:
    """The integer types of one target, with the conversions between them memoized."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.by_name = {n: _IntType(n, target.int_bits(n),
                                    target.char_signed if n == "char" else
                                    not (n.startswith("unsigned") or n == "_Bool"), r)
                        for n, r in _RANKS.items()}
        int_ = self.by_name["int"]
        #: C11 6.3.1.1: a type ranked below int becomes int if int holds all its values
        self.promoted = {n: t if t.rank >= int_.rank else
                         int_ if t.bits - t.signed < int_.bits else self.by_name["unsigned int"]
                         for n, t in self.by_name.items()}
        self._literals: dict[IntLit, CInt] = {}
        #: size_t: the unsigned type as wide as a pointer (unsigned int on ILP32 Linux)
        self.size_t = next(self.by_name[n] for n in ("unsigned int", "unsigned long",
                                                     "unsigned long long")
                           if self.by_name[n].bits == target.pointer.size * 8)
        self._common: dict[tuple[str, str], _IntType] = {}

    def common(self, a: _IntType, b: _IntType) -> _IntType:
        """The usual arithmetic conversions (C11 6.3.1.8) of two promoted types."""
        key = (a.name, b.name)
        if (t := self._common.get(key)) is None:
            t = self._common[key] = self._compute_common(a, b)
        return t

    def _compute_common(self, a: _IntType, b: _IntType) -> _IntType:
        if a is b:
            return a
        if a.signed == b.signed:
            return a if a.rank >= b.rank else b
        s, u = (a, b) if a.signed else (b, a)
        if u.rank >= s.rank:
            return u
        if s.bits > u.bits:
            return s
        return self.by_name["unsigned " + s.name]

    def literal(self, lit: IntLit) -> CInt:
        if (v := self._literals.get(lit)) is None:
            v = self._literals[lit] = self._compute_literal(lit)
        return v

    def _compute_literal(self, lit: IntLit) -> CInt:
        for name in _LITERAL_TYPES[(lit.decimal and not lit.unsigned, lit.unsigned, lit.longs)]:
            if lit.value <= self.by_name[name].max:
                return CInt(lit.value, name)
        # gcc and clang give a decimal constant too big for long long the type
        # unsigned long long, with a warning
        if lit.value <= self.by_name["unsigned long long"].max:
            return CInt(lit.value, "unsigned long long")
        raise ExprError(f"integer constant {lit.text} is too large for any integer type")


_TYPES: dict[int, tuple[Target, _Types]] = {}  # by id(): a Target holds mappings, so no hash


def _types(target: Target) -> _Types:
    entry = _TYPES.get(id(target))
    if entry is None or entry[0] is not target:
        entry = _TYPES[id(target)] = (target, _Types(target))
    return entry[1]


def _preferred_alignof(t: CType, target: Target, env: Env) -> int:
    """GNU ``__alignof__``: a scalar's (or an array of scalars') preferred alignment, which
    the target's table gives; a record's is its alignment."""
    align = env.alignof(t)
    base = env.resolve(t)
    while isinstance(base, Array):
        base = env.resolve(base.element)
    if isinstance(base, Scalar) and base.name in target.scalars:
        return max(align, target.scalars[base.name].preferred)
    return align


class _Evaluator:
    __slots__ = ("types", "target", "env")

    def __init__(self, target: Target, env: Env) -> None:
        self.types = _types(target)
        self.target = target
        self.env = env

    def int_type(self, v: CInt) -> _IntType:
        t = self.types.by_name.get(v.ctype)
        if t is None:
            raise ExprError(f"{v.ctype} is not an integer type")
        return t

    def promote(self, v: CInt) -> tuple[int, _IntType]:
        t = self.types.promoted[self.int_type(v).name]
        return v.value if t.name == v.ctype else t.wrap(v.value), t

    def cast_type(self, t: CType) -> _IntType:
        target = t if isinstance(t, Scalar) else self.env.resolve(t)
        if isinstance(target, EnumRef):
            # gcc and clang pick unsigned int for an enum without negative members;
            # the Env does not say which, and Xen casts nothing to an enum type
            return self.types.by_name["int"]
        if isinstance(target, Scalar) and target.name in self.types.by_name:
            return self.types.by_name[target.name]
        kind = {Pointer: " (a pointer type)", Function: " (a function type)",
                Array: " (an array type)"}.get(type(target), "")
        raise ExprError(f"a cast to {spell(t)}{kind} is not an integer constant")

    def eval(self, e: Expr, live: bool) -> CInt:
        """The value of ``e``; when not ``live`` (an operand C does not evaluate: the
        skipped side of ``&&``, ``||``, ``?:``, or ``sizeof``) only its type counts."""
        match e:
            case IntLit():
                return self.types.literal(e)
            case Binary(op, left, right):
                return self.binary(e, op, left, right, live)
            case Unary(op, operand):
                value, t = self.promote(self.eval(operand, live))
                if op == "!":
                    return CInt(int(value == 0), "int")
                return CInt(t.wrap(-value if op == "-" else ~value if op == "~" else value),
                            t.name)
            case Name(name):
                v = self.env.enumerator(name)
                if v is None:
                    raise ExprError(f"'{name}' is not an integer constant")
                return v
            case Cast(ctype, operand):
                t = self.cast_type(ctype)
                return CInt(t.wrap(self.eval(operand, live).value), t.name)
            case Conditional(cond, then, orelse):
                chosen = self.eval(cond, live).value != 0
                a, ta = self.promote(self.eval(then, live and chosen))
                b, tb = self.promote(self.eval(orelse, live and not chosen))
                t = self.types.common(ta, tb)
                return CInt(t.wrap(a if chosen else b), t.name)
            case CharLit(codes=codes, prefix=prefix):
                if prefix:
                    return CInt(codes[0], "unsigned short" if prefix == "u" else "unsigned int")
                if len(codes) == 1:
                    return CInt(self.types.by_name["char"].wrap(codes[0]), "int")
                packed = 0
                for c in codes:  # gcc and clang: the first character in the high byte
                    packed = packed << 8 | c
                return CInt(self.types.by_name["int"].wrap(packed), "int")
            case SizeofType(ctype):
                return CInt(self.env.sizeof(ctype), self.types.size_t.name)
            case SizeofExpr(operand):
                return CInt(self.env.sizeof(self.type_of(operand)), self.types.size_t.name)
            case Offsetof(ctype, designator):
                return CInt(self.offsetof(ctype, designator, live), self.types.size_t.name)
            case Member() | Index():
                read = self.env.resolve(self.type_of(e))
                if live or not isinstance(read, Scalar) or read.name not in self.types.by_name:
                    raise ExprError(f"{unparse(e)} reads an object: not an integer constant")
                return CInt(0, read.name)  # under sizeof only the type counts
            case AlignofType(ctype, gnu):
                align = (_preferred_alignof(ctype, self.target, self.env) if gnu
                         else self.env.alignof(ctype))
                return CInt(align, self.types.size_t.name)
            case Comma(left, right):
                # Not an integer constant expression in C11 6.6, but clang folds
                # it without complaint, so the value is the compiler's
                self.eval(left, live)
                return self.eval(right, live)
        raise AssertionError(e)

    def type_of(self, e: Expr) -> CType:
        """The type of an operand of ``sizeof``, which C does not evaluate."""
        match e:
            case Member(obj, name, arrow):
                t = self.env.resolve(self.type_of(obj))
                if arrow:
                    if not isinstance(t, Pointer):
                        raise ExprError(f"{unparse(e)}: {unparse(obj)} is no pointer")
                    t = self.env.resolve(t.target)
                return self.member(t, name)[1]
            case Index(obj, index):
                self.int_type(self.eval(index, False))
                t = self.env.resolve(self.type_of(obj))
                if isinstance(t, Array):
                    return t.element
                if isinstance(t, Pointer):
                    return t.target
                raise ExprError(f"{unparse(e)}: {unparse(obj)} is no array or pointer")
            case Cast(ctype, operand) if isinstance(self.env.resolve(ctype), Pointer):
                self.eval(operand, False)
                return ctype
        return Scalar(self.eval(e, False).ctype)

    def member(self, t: CType, name: str) -> tuple[int, CType]:
        if not isinstance(t, RecordRef):
            raise ExprError(f"member {name} of {spell(t)}, which is no struct or union")
        if not isinstance(self.env, Members):
            raise ExprError(f"member {name} of {spell(t)}: no member layouts to ask")
        return self.env.member(t, name)

    def offsetof(self, ctype: CType, designator: tuple[str | Expr, ...], live: bool) -> int:
        t, bits = ctype, 0
        for d in designator:
            r = self.env.resolve(t)
            if isinstance(d, str):
                offset, t = self.member(r, d)
                bits += offset
            elif isinstance(r, Array):
                t = r.element
                bits += self.eval(d, live).value * self.env.sizeof(t) * 8
            else:
                raise ExprError(f"[{unparse(d)}] in offsetof({spell(ctype)}, ...): "
                                f"{spell(t)} is no array")
        return bits // 8

    def binary(self, e: Binary, op: str, left: Expr, right: Expr, live: bool) -> CInt:
        if op == "&&" or op == "||":
            first = self.eval(left, live).value != 0
            decided = first if op == "||" else not first
            second = self.eval(right, live and not decided).value != 0
            return CInt(int(first or second) if op == "||" else int(first and second), "int")
        a, ta = self.promote(self.eval(left, live))
        b, tb = self.promote(self.eval(right, live))
        if op == "<<" or op == ">>":
            if not 0 <= b < ta.bits:
                if live:
                    raise ExprError(f"shift count {b} is out of range for {ta.name} "
                                    f"in {unparse(e)}")
                return CInt(0, ta.name)
            return CInt(ta.wrap(a << b) if op == "<<" else a >> b, ta.name)
        t = self.types.common(ta, tb)
        a, b = t.wrap(a), t.wrap(b)
        match op:
            case "+":
                r = a + b
            case "-":
                r = a - b
            case "*":
                r = a * b
            case "/" | "%":
                if b == 0:
                    if live:
                        raise ExprError(f"division by zero in {unparse(e)}")
                    return CInt(0, t.name)
                q = abs(a) // abs(b)
                if (a < 0) != (b < 0):
                    q = -q  # C truncates toward zero; Python's // floors
                r = q if op == "/" else a - b * q
            case "&":
                r = a & b
            case "|":
                r = a | b
            case "^":
                r = a ^ b
            case "<":
                return CInt(int(a < b), "int")
            case ">":
                return CInt(int(a > b), "int")
            case "<=":
                return CInt(int(a <= b), "int")
            case ">=":
                return CInt(int(a >= b), "int")
            case "==":
                return CInt(int(a == b), "int")
            case "!=":
                return CInt(int(a != b), "int")
            case _:
                raise AssertionError(op)
        return CInt(t.wrap(r), t.name)


def evaluate(expr: Expr, target: Target, env: Env) -> CInt:
    """The value and type of an integer constant expression on ``target``."""
    try:
        return _Evaluator(target, env).eval(expr, True)
    except RecursionError:
        raise TooDeep("the expression nests deeper than xenabi evaluates") from None


#: the only words an expansion may hold for its value to depend on the target alone
_TARGET_WORDS = frozenset({"char", "short", "int", "long", "signed", "unsigned", "_Bool",
                           "sizeof", "_Alignof", "__alignof__"})

#: (target, expansion) -> value, for expansions of literals, operators and scalar types:
#: most of Xen's macros, the same in every view of a target
_PLAIN_VALUES: dict[tuple[str, tuple[str, ...]], CInt] = {}


def evaluate_macro(name: str, macros: Mapping[str, MacroDef], target: Target, env: Env,
                   types: TypeNames) -> CInt:
    """The value of the object-like macro ``name``: :func:`expand`, :func:`parse`,
    :func:`evaluate`."""
    tokens = expand(name, macros)
    key = None
    if all(t.kind != "ident" or t.text in _TARGET_WORDS for t in tokens):
        key = (target.name, tuple(t.text for t in tokens))
        if key in _PLAIN_VALUES:
            return _PLAIN_VALUES[key]
    try:
        value = evaluate(parse(tokens, types), target, env)
    except ExprError as e:
        raise type(e)(f"macro {name}: {e}") from None  # a bound passed stays one
    if key is not None:
        _PLAIN_VALUES[key] = value
    return value
