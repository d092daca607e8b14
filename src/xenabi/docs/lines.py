"""Find the source line of what pandoc read: its markdown reader keeps no positions.

pandoc's AST lists a document's inlines and blocks in source order, so a
cursor walks the source text once: each code span, word and code block is
searched for from where the previous one was found. A code span is matched
with its backticks (and with any run of whitespace in it matching any other,
since pandoc turns a line break inside a span into a space), which makes its
line exact. A word is searched only a short way ahead, because pandoc may have
rewritten it (smart quotes, escapes, entities): a word not found nearby leaves
the cursor where it was rather than jumping to an unrelated later copy.

Everything is found with ``str.find`` and ``str.startswith``, not with a
pattern compiled per span or block: a run has hundreds of them, more than
``re`` caches, and compiling them cost more than the rest of the search.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable

#: how far ahead a word may be; past this a rewritten word is more likely than a long gap
_WORD_WINDOW = 400

#: what pandoc's ``smart`` extension wrote back into what the source has
_UNSMART = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"',
                          "\u2013": "--", "\u2014": "---", "\u2026": "..."})

#: the whitespace between two pieces of a span or block (what ``str.split`` splits on)
_SPACE = re.compile(r"\s+")

#: the whitespace allowed between a code span's backticks and its content
_PADDING = " \t\n"

#: where a match was found: its start and end offsets
_Match = tuple[int, int]

#: a way of finding ``pieces`` in ``text[lo:hi]``: as a code span, or as a block's first line
_Finder = Callable[[list[str], int, int], _Match | None]


class LineFinder:
    """A cursor over one document's source text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line(self, offset: int | None = None) -> int:
        """The 1-based line of ``offset`` (default: the cursor)."""
        return bisect.bisect_right(self._starts, self.pos if offset is None else offset)

    def code(self, content: str) -> int:
        """The line of the code span whose content pandoc gives as ``content``."""
        pieces = content.split()
        if not pieces:
            return self.line()
        if pieces[0] == content:
            # the common case: the span exactly as pandoc gives it
            at = self.text.find(f"`{content}`", self.pos)
            if at >= 0:
                self.pos = at + len(content) + 2
                return self.line(at)
        return self._seek(self._span, pieces)

    def words(self, words: list[str]) -> list[int]:
        """The line of each word of a stretch of running text, in order (the
        cursor's line for a word not found nearby)."""
        # str.find, not a regex, and the loop's state in locals: a document has
        # tens of thousands of words
        text, starts, pos = self.text, self._starts, self.pos
        # the line of the word before and where it ends: most words are on it,
        # and need no bisect (the words are found in order: none is before it)
        line, eol = 0, 0
        found: list[int] = []
        for word in words:
            at = text.find(word, pos, pos + _WORD_WINDOW + len(word))
            if at < 0:
                word = word.translate(_UNSMART)
                at = text.find(word, pos, pos + _WORD_WINDOW + len(word))
                if at < 0:
                    at, word = pos, ""  # the cursor's line, and the cursor stays
            pos = at + len(word)
            if at >= eol:
                line = bisect.bisect_right(starts, at)
                eol = starts[line] if line < len(starts) else len(text) + 1
            found.append(line)
        self.pos = pos
        return found

    def block(self, text: str) -> int:
        """The line of a code block: where its first non-blank line is."""
        pieces = next((ln.split() for ln in text.splitlines() if ln.strip()), [])
        return self._seek(self._loose, pieces) if pieces else self.line()

    def _seek(self, find: _Finder, pieces: list[str]) -> int:
        found = find(pieces, self.pos, len(self.text))
        if found is None:
            # out of order (a footnote defined elsewhere): look from the top, keep the cursor
            found = find(pieces, 0, self.pos)
            return self.line(found[0] if found else None)
        self.pos = found[1]
        return self.line(found[0])

    def _loose(self, pieces: list[str], lo: int, hi: int) -> _Match | None:
        """The first place in ``text[lo:hi]`` where ``pieces`` follow each other,
        with any run of whitespace between each two."""
        at = self.text.find(pieces[0], lo, hi)
        while at >= 0:
            end = self._pieces(pieces, at, hi)
            if end is not None:
                return at, end
            at = self.text.find(pieces[0], at + 1, hi)
        return None

    def _span(self, pieces: list[str], lo: int, hi: int) -> _Match | None:
        """The first code span in ``text[lo:hi]`` whose content is ``pieces``.

        Its fence is a run of backticks, and the same number closes it; as the
        fence may also be the end of a longer run (and the content may start
        with a backtick), every start and width within a run is tried,
        leftmost and widest first.
        """
        text = self.text
        run = text.find("`", lo, hi)
        while run >= 0:
            run_end = run
            while run_end < hi and text[run_end] == "`":
                run_end += 1
            for start in range(run, run_end):
                for width in range(run_end - start, 0, -1):
                    end = self._fenced(pieces, start + width, width, hi)
                    if end is not None:
                        return start, end
            run = text.find("`", run_end, hi)
        return None

    def _fenced(self, pieces: list[str], at: int, width: int, hi: int) -> int | None:
        """Where a span's closing fence of ``width`` backticks ends, if its
        padded content starts at ``at``."""
        end = self._pieces(pieces, self._pad(at, hi), hi)
        if end is None:
            return None
        end = self._pad(end, hi)
        return end + width if self.text.startswith("`" * width, end, hi) else None

    def _pad(self, at: int, hi: int) -> int:
        """Past any spaces, tabs and line breaks at ``at``."""
        while at < hi and self.text[at] in _PADDING:
            at += 1
        return at

    def _pieces(self, pieces: list[str], at: int, hi: int) -> int | None:
        """The end of ``pieces`` at ``at``, each two separated by whitespace, if they are there."""
        text = self.text
        if not text.startswith(pieces[0], at, hi):
            return None
        at += len(pieces[0])
        for piece in pieces[1:]:
            gap = _SPACE.match(text, at, hi)
            if gap is None or not text.startswith(piece, gap.end(), hi):
                return None
            at = gap.end() + len(piece)
        return at
