"""Random integer constant expressions: xenabi.cexpr against clang, value and type, 4 targets.

hypothesis builds expressions from literals of every base and suffix near
the integer types' boundaries, character constants, ``sizeof`` and
``_Alignof`` of scalar types, the unary, binary and conditional operators
and casts to every integer type. clang (``tests/oracle/clang.py``) says
what each one is on each target. The rules of the comparison:

- clang gives a value: ours must be the same value in the same type;
- clang gives none and we raise an ExprError: agreed (a syntax error, a
  shift count out of range, a division by zero);
- clang gives none and we give a value: allowed only where clang warned of
  undefined behaviour that gcc and clang still fold, and that we fold the
  same way on purpose (see :func:`folds_undefined_behaviour`): signed
  overflow in ``+ - *`` and unary ``-``, a left shift of a negative value or
  past the type's width; and where clang warns of a division by zero or a
  bad shift count in an operand C does not evaluate (``0 && 1 / 0``).
"""

from __future__ import annotations

import dataclasses
import typing

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_cexpr import FakeEnv, needs_clang
from xenabi import cexpr
from xenabi.cexpr import Binary, CInt, Unary
from xenabi.targets import TARGETS

clang = pytest.importorskip("tests.oracle.clang")

BOUNDARIES = (0, 1, 2, 7, 8, 31, 32, 63, 64, 127, 128, 255, 256, 32767, 32768, 65535, 65536,
              2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**63 - 1, 2**63, 2**64 - 1)
SUFFIXES = ("", "u", "U", "l", "L", "ul", "UL", "lu", "LU", "uL", "Lu", "ll", "LL", "ull", "ULL",
            "llu", "LLU", "uLL", "LLu")
CHARS = ("'a'", "'\\0'", "'\\n'", "'\\x7f'", "'\\x80'", "'\\xff'", "'\\377'", "'ab'",
         "'\\xff\\xfe'", "u'\\xffff'", "U'z'")
SCALARS = cexpr.INTEGER_TYPES + ("void *", "char *", "float", "double", "long double",
                                 "short[3]", "long[2]")
UNARY = ("-", "+", "~", "!", "sizeof")
BINARY = ("*", "/", "%", "+", "-", "<<", ">>", "<", ">", "<=", ">=", "==", "!=", "&", "^", "|",
          "&&", "||")
INT_TYPE_SPELLINGS = cexpr.INTEGER_TYPES + ("unsigned", "signed", "long int", "long unsigned int",
                                            "short int", "int long long")


@st.composite
def literals(draw: st.DrawFn) -> str:
    value = min(max(draw(st.sampled_from(BOUNDARIES)) + draw(st.integers(-2, 2)), 0), 2**64 - 1)
    base = draw(st.sampled_from(("d", "d", "d", "x", "X", "o", "b")))
    digits = {"d": str(value), "x": f"0x{value:x}", "X": f"0X{value:X}", "o": f"0{value:o}",
              "b": f"0b{value:b}"}[base]
    return digits + draw(st.sampled_from(SUFFIXES))


type_queries = st.tuples(st.sampled_from(("sizeof", "_Alignof", "__alignof__")),
                         st.sampled_from(SCALARS)).map(lambda t: f"{t[0]}({t[1]})")
# one_of picks its branches evenly: literals come several times to dominate
leaves = st.one_of(literals(), literals(), literals(),
                   st.integers(0, 70).map(str),  # small numbers: shift counts, divisors
                   st.sampled_from(CHARS), type_queries)


def _compound(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(children, st.sampled_from(BINARY), children).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})")
    return st.one_of(
        binary, binary, binary,
        st.tuples(st.sampled_from(UNARY), children).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(children, children, children).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
        st.tuples(st.sampled_from(INT_TYPE_SPELLINGS), children).map(
            lambda t: f"(({t[0]})({t[1]}))"),
    )


expressions = st.recursive(leaves, _compound, max_leaves=6)


SIGNED = frozenset({"int", "long", "long long"})  # what promoted operands of + - * << can be


def _children(e: cexpr.Expr) -> list[cexpr.Expr]:
    kinds = typing.get_args(cexpr.Expr)
    return [v for f in dataclasses.fields(e) if isinstance(v := getattr(e, f.name), kinds)]


def folds_undefined_behaviour(e: cexpr.Expr, env: FakeEnv) -> bool:
    """Whether some operation in ``e`` (evaluated or not) is undefined behaviour that
    clang warns of (tests/oracle/clang.py's UB_WARNINGS) while we fold it like gcc."""
    def value(x: cexpr.Expr) -> CInt:
        return cexpr.evaluate(x, env.target, env)
    try:
        r = value(e)  # raises for a division by zero or a bad shift count
        if isinstance(e, Unary) and e.op == "-":
            if r.ctype in SIGNED and r.value != -value(e.operand).value:
                return True
        if isinstance(e, Binary) and e.op in ("+", "-", "*", "<<"):
            a, b = value(e.left), value(e.right)
            if e.op == "<<" and r.ctype in SIGNED:
                width = env.target.int_bits(r.ctype)
                if a.value < 0 or a.value << b.value >= 2**width:
                    return True
            elif e.op != "<<" and r.ctype in SIGNED:
                exact = {"+": a.value + b.value, "-": a.value - b.value, "*": a.value * b.value}
                if r.value != exact[e.op]:
                    return True
    except cexpr.ExprError:
        return True  # in an operand C does not evaluate, or we would have raised too
    return any(folds_undefined_behaviour(c, env) for c in _children(e))


@needs_clang
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(expressions, min_size=30, max_size=30))
def test_evaluate_as_clang(exprs: list[str]) -> None:
    assert_as_clang(exprs)


@needs_clang
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(literals(), st.tuples(st.sampled_from(INT_TYPE_SPELLINGS), literals())
                          .map(lambda t: f"({t[0]}){t[1]}")), min_size=60, max_size=60))
def test_literals_and_casts_as_clang(exprs: list[str]) -> None:
    assert_as_clang(exprs)


def assert_as_clang(exprs: list[str]) -> None:
    """Each expression on each target, by the rules of the module docstring."""
    problems = []
    for name, target in TARGETS.items():
        env = FakeEnv(target)
        for text, want in zip(exprs, clang.evaluate_exprs(target.clang_triple, "", exprs)):
            try:
                tree = cexpr.parse(cexpr.tokenize(text), env)
                got: CInt | str = cexpr.evaluate(tree, target, env)
            except cexpr.ExprError as e:
                got = f"error: {e}"
            if want is None:
                if isinstance(got, CInt) and not folds_undefined_behaviour(tree, env):
                    problems.append(f"{name}: {text} = {got.value} ({got.ctype}); clang: none")
            elif not isinstance(got, CInt) or (got.value, got.ctype) != want:
                shown = got if isinstance(got, str) else f"{got.value} ({got.ctype})"
                problems.append(f"{name}: {text} = {shown}; clang: {want[0]} ({want[1]})")
    assert not problems, "\n".join(problems)
