"""Find the source line of what pandoc read: its markdown reader keeps no positions.

pandoc's AST lists a document's inlines and blocks in source order, so a
cursor walks the source text once: each code span, word and code block is
searched for from where the previous one was found. A code span is matched
with its backticks (and with any run of whitespace in it matching any other,
since pandoc turns a line break inside a span into a space), which makes its
line exact. A word is searched only a short way ahead, because pandoc may have
rewritten it (smart quotes, escapes, entities): a word not found nearby leaves
the cursor where it was rather than jumping to an unrelated later copy.
"""

from __future__ import annotations

import bisect
import re

#: how far ahead a word may be; past this a rewritten word is more likely than a long gap
_WORD_WINDOW = 400

#: what pandoc's ``smart`` extension wrote back into what the source has
_UNSMART = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"',
                          "\u2013": "--", "\u2014": "---", "\u2026": "..."})


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
        if content and content == "".join(content.split()):
            # the common case, found without compiling a pattern for it
            at = self.text.find(f"`{content}`", self.pos)
            if at >= 0:
                self.pos = at + len(content) + 2
                return self.line(at)
        body = _loose(content)
        if not body:
            return self.line()
        return self._seek(re.compile(r"(`+)[ \t\n]*" + body + r"[ \t\n]*\1"))

    def word(self, word: str) -> int:
        """The line of a word of running text (the cursor's line when not found nearby)."""
        # str.find, not a regex: a document has tens of thousands of words
        at = self.text.find(word, self.pos, self.pos + _WORD_WINDOW + len(word))
        if at < 0:
            word = word.translate(_UNSMART)
            at = self.text.find(word, self.pos, self.pos + _WORD_WINDOW + len(word))
        if at < 0:
            return self.line()
        self.pos = at + len(word)
        return self.line(at)

    def block(self, text: str) -> int:
        """The line of a code block: where its first non-blank line is."""
        first = next((ln for ln in text.splitlines() if ln.strip()), "")
        return self._seek(re.compile(_loose(first))) if first else self.line()

    def _seek(self, pattern: re.Pattern[str]) -> int:
        m = pattern.search(self.text, self.pos)
        if m is None:
            # out of order (a footnote defined elsewhere): look from the top, keep the cursor
            m = pattern.search(self.text, 0, self.pos)
            return self.line(m.start()) if m else self.line()
        self.pos = m.end()
        return self.line(m.start())


def _loose(text: str) -> str:
    """A pattern for ``text`` in which any whitespace run matches any other.

    pandoc expands tabs and turns a line break inside a code span into a space.
    """
    return r"\s+".join(re.escape(part) for part in text.split())
