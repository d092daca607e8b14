"""xenabi's fast lexer makes exactly the tokens pycparser's lexer makes.

The fast path reads identifiers and punctuators itself and leaves every other
token to pycparser; these cases sit on the border between the two.
"""

from __future__ import annotations

import pytest
from pycparser.c_lexer import CLexer

from tests.lexkit import declarations, token_stream
from tests.minitree import MINI
from xenabi.pycparser_ext import Lexer
from xenabi.targets import TARGETS, VIEWS
from xenabi.tree import open_tree

BORDERS = {
    "wide and prefixed literals": "L'x' L\"s\" u8\"s\" u'x' U'x' u\"s\" U\"s\" Lx 'a' \"s\"",
    "identifiers beside quotes": "a\"s\" b'c' $x x$1 _A9",
    "numbers": "0 07 08 0x1fUL 10ull 1.5 .5 5. 1e3 0x1p3 0b101 'ab'",
    "operators, longest first": "a>>=b<<=c->d...e&&f||g!=h==i<=j>=k++l--m+=n-=o*=p/=q%=r&=s|=t^=u",
    "single punctuators": "( ) [ ] { } , ; : ? ~ ! < > = + - * / % | & ^ .",
    "a period before a digit": "a.b s.5 x .5",
    "comments are errors": "a /* c */ b // d",
    "line markers and pragmas": '# 7 "/p/x.h" 1\nint a;\n#pragma pack(1)\nchar b;\n# 3\n  long c;',
    "keywords and typedef names": "struct s { uint32_t a; unsigned long b; _Bool c; } __int128 x;",
    "blanks and lines": "\tint\t a ;\n\n   char b;\n",
    "stray characters": "int a @ b ` c \\ d\r\n\fe",
}


@pytest.mark.parametrize("text", BORDERS.values(), ids=BORDERS.keys())
def test_fast_lexer_makes_pycparsers_tokens(text: str) -> None:
    assert token_stream(Lexer, text) == token_stream(CLexer, text)


@pytest.mark.parametrize("arch", TARGETS)
@pytest.mark.parametrize("view", VIEWS)
def test_fast_lexer_makes_pycparsers_tokens_on_the_mini_tree(arch: str, view: str) -> None:
    for decl in declarations(open_tree(MINI), arch, view):
        assert token_stream(Lexer, decl) == token_stream(CLexer, decl), decl
