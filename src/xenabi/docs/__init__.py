"""The pandoc documents of a Xen tree, read once per run, as facts the docs rules check.

:func:`load_docs` reads every ``docs/**/*.pandoc`` of a checkout with pandoc
(:mod:`xenabi.docs.pandoc`) and flattens each AST into a
:class:`~xenabi.docs.facts.Document` whose tokens know their source lines;
documents read before come from :mod:`xenabi.docs.cache`.
What the runs of text name (:mod:`xenabi.docs.refs`) and state
(:mod:`xenabi.docs.statements`) is read from those documents.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

from xenabi.docs import cache as _cache
from xenabi.docs.facts import CodeBlock, CodeSpan, DocSet, Document, Text, document
from xenabi.docs.pandoc import find_pandoc, identity, parse_documents
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
    """Documents from their texts, by path (what :func:`load_docs` does after reading files).

    Documents in the cache are taken from it; the others go to one pandoc run.
    """
    binary = find_pandoc()
    where = _cache.cache_dir() if cache else None
    keys = {path: _cache.key(identity(binary), text) for path, text in texts.items()}
    docs: dict[str, Document] = {}
    if where is not None:
        for path in texts:
            hit = _cache.get(where, keys[path], path)
            if hit is not None:
                docs[path] = hit
    missing = {path: text for path, text in texts.items() if path not in docs}
    start = time.perf_counter()
    asts = parse_documents(missing, binary)
    spent = time.perf_counter() - start if missing else 0.0
    for path, blocks in asts.items():
        docs[path] = document(path, texts[path], blocks)
        if where:
            _cache.put(where, keys[path], docs[path])
    return DocSet(tuple(docs[path] for path in texts), spent)


def _read(root: Path, path: Path) -> str:
    rel = path.relative_to(root).as_posix()
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise UsageError(f"{rel}:{line}: not UTF-8 text") from None
