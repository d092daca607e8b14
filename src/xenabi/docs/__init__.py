"""The pandoc documents of a Xen tree, read once per run, as facts the docs rules check.

:func:`load_docs` reads every ``docs/**/*.pandoc`` of a checkout with pandoc
(:mod:`xenabi.docs.pandoc`) and flattens each AST into a
:class:`~xenabi.docs.facts.Document` whose tokens know their source lines.
What the runs of text name (:mod:`xenabi.docs.refs`) and state
(:mod:`xenabi.docs.statements`) is read from those documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from xenabi.docs.facts import CodeBlock, CodeSpan, DocSet, Document, Text, document
from xenabi.docs.pandoc import cache_dir, parse_documents
from xenabi.errors import UsageError
from xenabi.tree import XenTree

__all__ = ["CodeBlock", "CodeSpan", "DocSet", "Document", "Text", "load_docs", "read_documents"]


def load_docs(tree: XenTree, *, cache: bool = True) -> DocSet | None:
    """Every ``.pandoc`` document under the tree's ``docs/``; None when it has none.

    ``cache`` False (or ``XENABI_NO_CACHE`` in the environment) parses every
    document afresh, so that a cold run can be measured.
    """
    if tree.docs is None:
        return None
    texts = {p.relative_to(tree.root).as_posix(): _read(tree.root, p)
             for p in sorted(tree.docs.rglob("*.pandoc"))}
    return read_documents(texts, cache=cache)


def read_documents(texts: Mapping[str, str], *, cache: bool = True) -> DocSet:
    """Documents from their texts, by path (what :func:`load_docs` does after reading files)."""
    asts, spent = parse_documents(texts, cache=cache_dir() if cache else None)
    return DocSet(tuple(document(path, texts[path], asts[path]) for path in texts), spent)


def _read(root: Path, path: Path) -> str:
    rel = path.relative_to(root).as_posix()
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise UsageError(f"{rel}:{line}: not UTF-8 text") from None
