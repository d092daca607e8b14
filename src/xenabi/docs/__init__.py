"""The pandoc documents of a Xen tree, read once per run, as facts the docs rules check.

:func:`load_docs` reads every ``docs/**/*.pandoc`` of a checkout with pandoc
(:mod:`xenabi.docs.pandoc`) and flattens each AST into a
:class:`~xenabi.docs.facts.Document` whose tokens know their source lines;
documents read before come from :mod:`xenabi.docs.cache`.
What the runs of text name (:mod:`xenabi.docs.refs`) and state
(:mod:`xenabi.docs.statements`) is read from those documents.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from concurrent.futures import Future
from pathlib import Path

from xenabi import lifetime
from xenabi.docs import cache as _cache
from xenabi.docs.facts import CodeBlock, CodeSpan, DocSet, Document, Text, document
from xenabi.docs.pandoc import PandocRun, find_pandoc, identity
from xenabi.errors import UsageError
from xenabi.tree import XenTree

__all__ = ["CodeBlock", "CodeSpan", "DocSet", "Document", "Reading", "Text", "load_docs",
           "read_documents", "start_loading"]


def load_docs(tree: XenTree, *, cache: bool = True) -> DocSet | None:
    """Every ``.pandoc`` document under the tree's ``docs/``; None when it has none.

    ``cache`` False (or ``XENABI_NO_CACHE`` in the environment) parses every
    document afresh, so that a cold run can be measured.
    """
    reading = start_loading(tree, cache=cache)
    return reading.result() if reading is not None else None


def start_loading(tree: XenTree, *, cache: bool = True) -> Reading | None:
    """Like :func:`load_docs`, but returns as soon as pandoc has started."""
    texts = document_texts(tree)
    return None if texts is None else Reading(texts, cache=cache)


def document_texts(tree: XenTree) -> dict[str, str] | None:
    """The text of every ``.pandoc`` document under the tree's ``docs/``, by path from the
    tree's root; None without docs/."""
    if tree.docs is None:
        return None
    return {p.relative_to(tree.root).as_posix(): _read(tree.root, p)
            for p in sorted(tree.docs.rglob("*.pandoc"))}


def read_documents(texts: Mapping[str, str], *, cache: bool = True) -> DocSet:
    """Documents from their texts, by path (what :func:`load_docs` does after reading files)."""
    return Reading(texts, cache=cache).result()


class Reading:
    """Documents being read: the others than those in the cache by one pandoc process and a
    thread that turns its output into facts, working while the caller does something
    else; the cached ones are decoded when the documents are asked for (a run whose
    findings are cached never asks). With ``background`` False no thread is started:
    pandoc's output is read when the documents are asked for, so that the caller may
    fork meanwhile."""

    def __init__(self, texts: Mapping[str, str], *, cache: bool = True,
                 background: bool = True) -> None:
        self.binary = find_pandoc()
        self.texts = dict(texts)
        self._where = _cache.cache_dir() if cache else None
        self._keys = {path: _cache.key(identity(self.binary), text)
                      for path, text in texts.items()}
        where = self._where
        self._cached = [] if where is None else [
            path for path in texts if _cache.has(where, self._keys[path])]
        missing = {path: text for path, text in texts.items() if path not in self._cached}
        self._done: Future[dict[str, Document]] = Future()
        self._set: DocSet | None = None
        self._cpu = 0.0
        self._run = PandocRun(missing, self.binary) if missing else None
        self._background = background
        if background:
            # a daemon: a run that stops on an error elsewhere does not wait for pandoc,
            # whose process PandocRun's finalizer kills at exit. Started with SIGINT and
            # SIGTERM held, so that it never takes them: they are the main thread's to
            # handle.
            with lifetime.held():
                threading.Thread(target=self._finish, args=(self._run,), name="xenabi-docs",
                                 daemon=True).start()
        # else pandoc's output is read in result(): a process that forks meanwhile has no
        # thread to lose

    def _finish(self, run: PandocRun | None) -> None:
        try:
            self._done.set_result(self._parsed(run))
        except BaseException as e:  # noqa: BLE001 - handed to whoever asks for the result
            self._done.set_exception(e)

    def _parsed(self, run: PandocRun | None) -> dict[str, Document]:
        """The documents ``run`` read, as facts (each put in the cache)."""
        if run is None:
            return {}
        docs = {path: document(path, self.texts[path], blocks)
                for path, blocks in run.result().items()}
        if self._where is not None:
            for path, doc in docs.items():
                _cache.put(self._where, self._keys[path], doc)
        self._cpu += run.cpu_seconds
        return docs

    def wait(self) -> None:
        """Wait for pandoc, what it read put in the cache, and for the thread (a process
        about to fork must have none)."""
        if self._background:
            self._done.exception()
        elif not self._done.done():
            self._finish(self._run)

    def result(self) -> DocSet:
        """Every document, in the order of the texts (waits for pandoc)."""
        if self._set is None:
            self.wait()
            docs = self._done.result()
            assert self._where is not None or not self._cached
            for path in self._cached:
                hit = _cache.get(self._where, self._keys[path], path)  # type: ignore[arg-type]
                if hit is not None:
                    docs[path] = hit
            # an entry torn since (a crash mid-write elsewhere): read those again
            torn = {path: self.texts[path] for path in self._cached if path not in docs}
            docs.update(self._parsed(PandocRun(torn, self.binary) if torn else None))
            self._set = DocSet(tuple(docs[path] for path in self.texts), self._cpu)
        return self._set


def _read(root: Path, path: Path) -> str:
    rel = path.relative_to(root).as_posix()
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise UsageError(f"{rel}:{line}: not UTF-8 text") from None
