"""Comparing xenabi's lexer with pycparser's own: the same tokens, lines, columns and
brace callbacks, for any text."""

from __future__ import annotations

from collections.abc import Iterator

from pycparser.c_lexer import CLexer

from xenabi import pipeline
from xenabi.preprocess import preprocess
from xenabi.tree import XenTree


def token_stream(lexer: type[CLexer], text: str) -> list[object]:
    """Every token and callback a lexer makes of ``text``, in order; typedef names are
    those ending in ``_t``, so that TYPEID tokens are compared too."""
    events: list[object] = []
    lx = lexer(lambda msg, line, col: events.append(("error", msg, line, col)),
               lambda: events.append("{"), lambda: events.append("}"),
               lambda name: name.endswith("_t"))
    lx.input(text, "<unit>")
    while (tok := lx.token()) is not None:
        events.append((tok.type, tok.value, tok.lineno, tok.column, lx.filename))
    return events


def declarations(tree: XenTree, arch: str, view: str) -> Iterator[str]:
    """The top-level declarations of a unit, as the parser is given them."""
    yield from pipeline.parser_input(preprocess(tree, arch, view).text)
