"""What a document says, as plain values: its runs of text, code spans and code blocks.

pandoc's AST is flattened here into :class:`Text` runs (a paragraph, a
heading, a list item's paragraph, a table cell), each a string of words in
which every code span keeps its backticks, so that statement patterns read
like the sentence they match (``must set `SIF_HVM_GHCB` in start_info``).
Markup (emphasis, links) is dropped and its words kept. Every token carries
the source line :class:`~xenabi.docs.lines.LineFinder` found for it.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from xenabi.docs.lines import LineFinder

_WORD = re.compile(r"[A-Za-z_]\w*")

#: inline elements whose children are plain inline text
_WRAPPERS = frozenset({"Emph", "Underline", "Strong", "Strikeout", "Superscript",
                       "Subscript", "SmallCaps"})

#: inline elements that are a space in the text
_SPACES = frozenset({"Space", "SoftBreak", "LineBreak"})


@dataclass(frozen=True, slots=True)
class CodeSpan:
    """An inline code span: ``must set `SIF_HVM_GHCB` in``."""

    text: str  #: its content as pandoc gives it (a line break inside becomes a space)
    line: int
    offset: int  #: where its opening backtick is in the :attr:`Text.text` that holds it


@dataclass(frozen=True, slots=True)
class Text:
    """A run of inline text: a paragraph, a heading, a list item's paragraph, a table cell."""

    text: str  #: words and code spans (with their backticks), markup dropped
    codes: tuple[CodeSpan, ...]
    #: where each token starts in ``text``, in order, and its source line; two flat
    #: tuples rather than pairs: a run of the docs has tens of thousands of tokens
    offsets: tuple[int, ...]
    lines: tuple[int, ...]

    @property
    def line(self) -> int:
        return self.lines[0] if self.lines else 0

    def line_at(self, offset: int) -> int:
        """The source line of the token at ``offset`` of :attr:`text`."""
        i = bisect.bisect_right(self.offsets, offset) - 1
        return self.lines[max(i, 0)] if self.lines else 0


@dataclass(frozen=True, slots=True)
class CodeBlock:
    """A code block (indented or fenced): C declarations, shell commands, diagrams."""

    text: str
    line: int  #: the line of its first non-blank line


@dataclass(frozen=True, slots=True)
class Document:
    """One pandoc document of a tree."""

    path: str  #: relative to the tree root: ``docs/misc/pvh.pandoc``
    texts: tuple[Text, ...]
    code_blocks: tuple[CodeBlock, ...]
    _hash: int | None = field(default=None, init=False, compare=False, repr=False)

    def __hash__(self) -> int:
        # computed once: the rules' caches look a document up hundreds of times, and
        # hashing one walks its thousands of tokens
        if self._hash is None:
            object.__setattr__(self, "_hash", hash((self.path, self.texts, self.code_blocks)))
        assert self._hash is not None
        return self._hash

    def codes(self) -> Iterator[CodeSpan]:
        for t in self.texts:
            yield from t.codes

    def to_json(self) -> dict[str, Any]:
        """Everything but the path (a cache entry is keyed by content, not by name)."""
        return {"texts": [[t.text, [[c.text, c.line, c.offset] for c in t.codes],
                           list(t.offsets), list(t.lines)]
                          for t in self.texts],
                "code_blocks": [[b.text, b.line] for b in self.code_blocks]}

    @classmethod
    def from_json(cls, path: str, data: dict[str, Any]) -> Document:
        texts = tuple(Text(text, tuple(CodeSpan(*c) for c in codes), tuple(offsets), tuple(lines))
                      for text, codes, offsets, lines in data["texts"])
        return cls(path, texts, tuple(CodeBlock(*b) for b in data["code_blocks"]))


@dataclass(frozen=True)
class DocSet:
    """Every document of a tree, and what reading them cost."""

    documents: tuple[Document, ...]
    #: pandoc's CPU time this run (0 when every document came from the cache)
    pandoc_seconds: float = 0.0

    def __iter__(self) -> Iterator[Document]:
        return iter(self.documents)

    def __len__(self) -> int:
        return len(self.documents)

    @cached_property
    def words(self) -> frozenset[str]:
        """Every C-identifier-shaped word of every document: text, code spans, code blocks."""
        found: set[str] = set()
        for doc in self.documents:
            for chunk in [*(t.text for t in doc.texts), *(b.text for b in doc.code_blocks)]:
                found.update(_WORD.findall(chunk))
        return frozenset(found)


def document(path: str, source: str, blocks: list[Any]) -> Document:
    """Flatten one document's pandoc blocks; ``source`` is the text pandoc read."""
    walk = _Walk(LineFinder(source))
    walk.blocks(blocks)
    return Document(path, tuple(walk.texts), tuple(walk.code_blocks))


class _Run:
    """A :class:`Text` being built from a run of inlines, with the notes they cite."""

    def __init__(self, finder: LineFinder) -> None:
        self.finder = finder
        self.parts: list[str] = []
        self.size = 0  #: the length of the text so far
        self.codes: list[CodeSpan] = []
        self.offsets: list[int] = []
        self.lines: list[int] = []
        #: words whose lines are yet to be found, all at once (see :meth:`flush`)
        self.words: list[str] = []
        self.notes: list[list[Any]] = []

    def inlines(self, inlines: list[Any]) -> None:
        # words and spaces are nearly all of a document's inlines: they take
        # the short way, with the text's length kept in a local
        parts, offsets, words = self.parts, self.offsets, self.words
        size = self.size
        for i in inlines:
            t: str = i["t"]
            if t == "Str":
                c: str = i["c"]
                offsets.append(size)
                words.append(c)
                parts.append(c)
                size += len(c)
            elif t in _SPACES:
                parts.append(" ")
                size += 1
            else:
                self.size = size
                self.inline(t, i.get("c"))
                size = self.size
        self.size = size

    def inline(self, t: str, c: Any) -> None:
        match t:
            case "Code":
                self.flush()  # the words before it move the cursor first
                line = self.finder.code(c[1])
                self.codes.append(CodeSpan(c[1], line, self.size))
                self.add("`" + c[1].replace("`", "") + "`", line)
            case "Math":
                self.word(c[1])
            case "Quoted":
                self.add('"')
                self.inlines(c[1])
                self.add('"')
            case "Cite" | "Link" | "Image" | "Span":
                self.inlines(c[1])  # the words, not the target
            case "Note":
                self.notes.append(c)
            case _ if t in _WRAPPERS:
                self.inlines(c)
            case _:
                pass  # RawInline: HTML or TeX, no prose

    def add(self, s: str, line: int | None = None) -> None:
        if line is not None:
            self.offsets.append(self.size)
            self.lines.append(line)
        self.parts.append(s)
        self.size += len(s)

    def word(self, s: str) -> None:
        """A word whose line is found at the next :meth:`flush`."""
        self.offsets.append(self.size)
        self.words.append(s)
        self.add(s)

    def flush(self) -> None:
        """Find the lines of the words read so far: one call for a run of words,
        not one each, as a document has tens of thousands."""
        self.lines += self.finder.words(self.words)
        self.words.clear()

    def done(self) -> Text:
        self.flush()
        return Text("".join(self.parts), tuple(self.codes), tuple(self.offsets),
                    tuple(self.lines))


class _Walk:
    """One pass over a document's blocks, in source order (the line finder needs that)."""

    def __init__(self, finder: LineFinder) -> None:
        self.finder = finder
        self.texts: list[Text] = []
        self.code_blocks: list[CodeBlock] = []

    def blocks(self, blocks: list[Any]) -> None:
        for b in blocks:
            self.block(b)

    def block(self, b: dict[str, Any]) -> None:
        t: str = b["t"]
        c: Any = b.get("c")
        match t:
            case "Para" | "Plain":
                self.run(c)
            case "Header":
                self.run(c[2])
            case "LineBlock":
                for line in c:
                    self.run(line)
            case "CodeBlock":
                self.code_blocks.append(CodeBlock(c[1], self.finder.block(c[1])))
            case "BlockQuote":
                self.blocks(c)
            case "BulletList":
                for item in c:
                    self.blocks(item)
            case "OrderedList":
                for item in c[1]:
                    self.blocks(item)
            case "DefinitionList":
                for term, definitions in c:
                    self.run(term)
                    for d in definitions:
                        self.blocks(d)
            case "Div":
                self.blocks(c[1])
            case "RawBlock" | "HorizontalRule" | "Null":
                pass
            case _:
                # tables and figures: their layout changed between pandoc API
                # versions, so find the blocks inside without knowing it
                self.blocks(_nested_blocks(c, []))

    def run(self, inlines: list[Any]) -> None:
        run = _Run(self.finder)
        run.inlines(inlines)
        if run.parts:
            self.texts.append(run.done())
        for note in run.notes:
            self.blocks(note)


def _nested_blocks(node: Any, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``found`` with every block found inside ``node`` added, outermost first, in order."""
    # a list, not a generator: a table's cells nest deep, and a generator
    # would hand each block up through every level
    if isinstance(node, dict):
        if node.get("t") in _BLOCK_TYPES:
            found.append(node)
            return found
        node = node.values()
    elif not isinstance(node, list):
        return found
    for v in node:
        _nested_blocks(v, found)
    return found


_BLOCK_TYPES = frozenset({"Plain", "Para", "LineBlock", "CodeBlock", "RawBlock", "BlockQuote",
                          "OrderedList", "BulletList", "DefinitionList", "Header",
                          "HorizontalRule", "Table", "Figure", "Div", "Null"})
