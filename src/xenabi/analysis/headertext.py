"""A header's text, each line classified (blank, comment, preprocessor, C code), and the
comments around a line: what the family finder and the doc-layout rule read besides the
snapshot."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial

from xenabi.analysis.context import Context
from xenabi.tree import XenTree


BLANK, COMMENT, PREPROC, CODE = " ", "c", "#", "x"

_COMMENTS = re.compile(r"/\*.*?\*/|//.*$")
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/")
#: what a comment line has besides its text: ``/*``, `` * ``, ``*/``, ``//``
_COMMENT_MARKS = re.compile(r"^\s*(/\*+|\*+/?|//)|\*+/\s*$")


@dataclass(frozen=True)
class HeaderText:
    """A header's lines, each classified as blank, comment, preprocessor or C code."""

    lines: tuple[str, ...]
    kinds: str  #: one of BLANK, COMMENT, PREPROC, CODE per line (index = line - 1)
    code_upto: tuple[int, ...]  #: number of CODE lines among lines 1..n (index n)

    def code_between(self, a: int, b: int) -> bool:
        """Is there C code strictly between lines ``a`` and ``b`` (1-based, a < b)?"""
        return self.code_upto[b - 1] - self.code_upto[a] > 0

    def blank_between(self, a: int, b: int) -> bool:
        return BLANK in self.kinds[a:b - 1]

    def trailing_comment(self, line: int) -> str:
        """The comment text on a line (``/* reserve 1 byte */``), without the markers."""
        text = self.lines[line - 1]
        return " ".join(m.group(0).strip("/*").strip() for m in _COMMENTS.finditer(text))

    def comment_before(self, line: int) -> str:
        """The comment lines directly above ``line`` (no blank line between), as one string."""
        i = line - 2
        out: list[str] = []
        while i >= 0 and self.kinds[i] == COMMENT:
            out.append(self.lines[i])
            i -= 1
        return " ".join(_COMMENT_MARKS.sub("", s).strip() for s in reversed(out)).strip()

    def code_line_near(self, first: int, last: int) -> str | None:
        """The first C code line after ``last``, else the last one before ``first``."""
        for i in range(last, len(self.kinds)):
            if self.kinds[i] == CODE:
                return self.lines[i]
            if self.kinds[i] == PREPROC and not self.lines[i].lstrip().startswith("#define"):
                break
        for i in range(first - 2, -1, -1):
            if self.kinds[i] == CODE:
                return self.lines[i]
            if self.kinds[i] == PREPROC and not self.lines[i].lstrip().startswith("#define"):
                break
        return None


def analyse(text: str) -> HeaderText:
    """A header's text, each line classified."""
    lines = tuple(text.splitlines())
    kinds: list[str] = []
    in_comment = in_directive = False
    for raw in lines:
        s = raw.strip()
        if in_directive:
            kinds.append(PREPROC)
            in_directive = s.endswith("\\")
            continue
        code = s
        if in_comment:
            if "*/" not in code:
                kinds.append(COMMENT)
                continue
            code = code.split("*/", 1)[1]
            in_comment = False
        if not s:
            kinds.append(BLANK)
            continue
        if code.lstrip().startswith("#") and not in_comment and code is s:
            kinds.append(PREPROC)
            in_directive = s.endswith("\\")
            continue
        if "/" in code:  # most lines have no comment: spare them the regex
            code = _BLOCK_COMMENT.sub(" ", code)
            if "/*" in code:
                code, in_comment = code.split("/*", 1)[0], True
            code = code.split("//", 1)[0]
        kinds.append(CODE if code.strip() else COMMENT)
    upto = [0]
    for k in kinds:
        upto.append(upto[-1] + (k == CODE))
    return HeaderText(lines, "".join(kinds), tuple(upto))


def header_text(tree: XenTree, header: str) -> HeaderText:
    """A header of the tree, read and classified (once per run: :func:`text_of`)."""
    return analyse(tree.read(header))


def text_of(ctx: Context, header: str) -> HeaderText:
    """:func:`header_text`, once per run."""
    return ctx.memo(("header text", header), partial(header_text, ctx.tree, header))


