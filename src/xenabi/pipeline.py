"""preprocess -> parse -> layout, assembled in one place.

The parser adapter (:mod:`xenabi.cparse`) only converts pycparser's AST into the
model; the layout engine (:mod:`xenabi.layout`) knows nothing of parsing. This
module joins them: the converter asks the engine for sizes and alignments while it
converts (array bounds, ``aligned`` expressions), so the engine is made here over
the records and typedefs the converter fills. :func:`xenabi.snapshot.compute` and
:func:`xenabi.ffi.load` read a target and view through :func:`read`; the tests'
entry points for standalone C text (tests/sourcekit.py) through :func:`parse`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from xenabi import cparse
from xenabi.layout import Layouter
from xenabi.model import Api, HeaderStatus, Record, Typedef
from xenabi.preprocess import Unit, preprocess
from xenabi.targets import Target
from xenabi.tree import XenTree


@dataclass(frozen=True)
class Parsed:
    """One unit, parsed and ready to lay out."""

    api: Api
    layouter: Layouter
    #: the converter, for what a snapshot's constants read: enumerators and the
    #: expression environment of the declarations
    conv: cparse.Converter


def _sizes_for(target: Target) -> cparse.SizesFor:
    def sizes(records: Mapping[str, Record], typedefs: Mapping[str, Typedef]) -> Layouter:
        return Layouter(target, records, typedefs)
    return sizes


def parse(unit: Unit, memo: cparse.ParseMemo | None = None) -> Parsed:
    """The model of a preprocessed unit, with the layout engine over it (``memo``: see
    :func:`xenabi.cparse.parse_unit`)."""
    conv = cparse.parse_unit(unit.text, unit.target, unit.public_dir,
                             _sizes_for(unit.target), memo)
    api = cparse.build_api(conv, unit.target.name, unit.view, unit.interface_version,
                           unit.macros, unit.headers)
    layouter = conv.layouter
    assert isinstance(layouter, Layouter)
    return Parsed(api, layouter, conv)


def read(tree: XenTree, arch: str, view: str, interface_version: int | None = None,
         known: dict[str, HeaderStatus] | None = None,
         memo: cparse.ParseMemo | None = None) -> tuple[Unit, Parsed]:
    """One target and view of a tree, preprocessed (headers in ``known`` as marked
    there) and parsed."""
    unit = preprocess(tree, arch, view, interface_version, known)
    return unit, parse(unit, memo)


def parser_input(text: str) -> Iterator[str]:
    """The top-level declarations of preprocessed text, as the parser is given them."""
    yield from cparse.located(cparse.rewrite_attributes(text)[0])
