"""xenabi's fast lexer against pycparser's own on every declaration of the real tree:
the parse it feeds is pycparser's, token for token (see tests/test_lexer.py)."""

from __future__ import annotations

import pytest
from pycparser.c_lexer import CLexer

from tests.lexkit import declarations, token_stream
from xenabi.cparse import _Lexer
from xenabi.targets import TARGETS, VIEWS
from xenabi.tree import XenTree


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("arch", TARGETS)
def test_fast_lexer_makes_pycparsers_tokens(xen_tree: XenTree, xen_arches: tuple[str, ...],
                                            arch: str, view: str) -> None:
    if arch not in xen_arches:
        pytest.skip(f"{arch} not asked for (--xen-arch)")
    differ = [decl for decl in declarations(xen_tree, arch, view)
              if token_stream(_Lexer, decl) != token_stream(CLexer, decl)]
    assert not differ, f"{len(differ)} declarations lex differently, first:\n{differ[0]}"
