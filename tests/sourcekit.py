"""Standalone C text through xenabi's pipeline, as a tree's headers go: the entry
points for tests that compare the parser and the layout engine with an oracle."""

from __future__ import annotations

from xenabi import pipeline
from xenabi.model import Api
from xenabi.preprocess import Unit, preprocess_text
from xenabi.snapshot import record_layouts
from xenabi.targets import TARGETS, Target


def parse(text: str, target: Target) -> pipeline.Parsed:
    """``text``, preprocessed as the header ``input.h`` of a tree (tools view) and parsed."""
    pre, macros, public_dir = preprocess_text(text, target)
    return pipeline.parse(Unit(target, "tools", 0, pre, macros, {}, {}, public_dir))


def parse_text(text: str, target: Target) -> Api:
    """The model of standalone C text."""
    return parse(text, target).api


def layout_source(c_text: str, arch: str) -> dict[str, object]:
    """Lay out every record that ``c_text`` defines, as a snapshot would list them."""
    parsed = parse(c_text, TARGETS[arch])
    return dict(record_layouts(parsed.api, parsed.layouter))
