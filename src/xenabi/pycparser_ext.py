"""pycparser 3.0's lexer and parser, adapted: the only module that reads pycparser's internals.

pycparser is pinned to 3.0.x (pyproject.toml) because of what this module reads:

- ``c_lexer._fixed_tokens`` and ``c_lexer._keyword_map``, the lexer's tables of
  punctuators and keywords, so that the fast path makes exactly pycparser's tokens;
- ``CLexer``'s state (``_lexdata``, ``_pos``, ``_lineno``, ``_line_start``,
  ``_pending_tok``) and ``c_lexer._Token``, which the fast path reads and advances;
- ``CParser._parse_error``, ``_peek`` and ``_tok_coord``, to name a line in every
  syntax error (pycparser gives only the file for some);
- ``CParser._scope_stack`` and ``_is_type_in_scope``, so that one top-level
  declaration can be parsed alone, knowing the typedef names declared before it.

A new pycparser may rename any of these: abi_tests/test_fast_lexer.py and
tests/test_lexer.py compare the fast lexer with pycparser's own, token for token,
and tests/test_parse_memo.py the declaration-at-a-time parse with a whole parse.
"""

from __future__ import annotations

import re
from typing import Any, NoReturn

from pycparser import c_lexer, c_parser


def _punctuator_pattern() -> str:
    # longest first, so that '>>=' is not read as '>>' then '='; a '.' before a digit
    # starts a number and '/' before '*' or '/' a comment, which pycparser's own path reads
    literals = sorted((t.literal for t in c_lexer._fixed_tokens), key=len, reverse=True)
    return "|".join(r"\.(?!\d)" if lit == "." else r"/(?![*/])" if lit == "/" else re.escape(lit)
                    for lit in literals)


#: the tokens most of a header is made of: identifiers (not a prefix of a literal such as
#: L'x' or u8"s": the possessive *+ keeps u8 from backing off to u) and punctuators, after
#: blanks; a newline is counted
_COMMON_TOKEN = re.compile(r"[ \t]*(?:(?P<nl>\n)|(?P<id>[A-Za-z_$][0-9A-Za-z_$]*+)(?!['\"])|"
                           rf"(?P<punct>{_punctuator_pattern()}))")
_PUNCTUATORS = {t.literal: t.tok_type for t in c_lexer._fixed_tokens}


class Lexer(c_lexer.CLexer):  # type: ignore[misc]
    """pycparser's lexer with a fast path for identifiers and punctuators.

    pycparser tries every token's pattern in turn before it tries an identifier,
    which made lexing half of the parse. Tokens the fast path does not match
    (numbers, strings, characters, line markers) are left to pycparser's own path,
    so every token is what pycparser would make of it.
    """

    # the state of pycparser's lexer that the fast path reads and advances
    _lexdata: str
    _pos: int
    _lineno: int
    _line_start: int

    def token(self) -> Any:
        if self._pending_tok is not None:
            return super().token()
        text = self._lexdata
        while (m := _COMMON_TOKEN.match(text, self._pos)) is not None:
            self._pos = m.end()
            kind = m.lastgroup or ""
            if kind == "nl":
                self._lineno += 1
                self._line_start = self._pos
                continue
            value = m.group(kind)
            column = m.start(kind) - self._line_start + 1
            if kind == "id":
                tok_type = c_lexer._keyword_map.get(value, "ID")
                if tok_type == "ID" and self.type_lookup_func(value):
                    tok_type = "TYPEID"
            else:
                tok_type = _PUNCTUATORS[value]
                if tok_type == "LBRACE":
                    self.on_lbrace_func()
                elif tok_type == "RBRACE":
                    self.on_rbrace_func()
            return c_lexer._Token(tok_type, value, self._lineno, column)
        return super().token()


class CParser(c_parser.CParser):  # type: ignore[misc]
    """pycparser, made to name a line in every error (some give only the file), with the
    faster lexer."""

    def __init__(self) -> None:
        super().__init__(lexer=Lexer)

    def _parse_error(self, msg: str, coord: object) -> NoReturn:
        if coord is None or isinstance(coord, str):
            tok = self._peek()
            if tok is not None:
                coord = self._tok_coord(tok)
        super()._parse_error(msg, coord)
        raise AssertionError("pycparser's _parse_error returned")


class ChunkParser(CParser):
    """Parses one top-level declaration of a unit, knowing the typedef names declared before it."""

    def __init__(self, outer: frozenset[str]) -> None:
        super().__init__()
        self.outer = outer

    def _is_type_in_scope(self, name: str) -> bool:
        for scope in reversed(self._scope_stack):
            if (is_type := scope.get(name)) is not None:
                return bool(is_type)
        return name in self.outer  # the scope of the declarations before this one
