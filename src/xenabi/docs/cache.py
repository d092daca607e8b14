"""Documents cached by content: a document already read is not given to pandoc again.

An entry holds a document's facts (:class:`~xenabi.docs.facts.Document`
without its path) under a key made of the document's text, the pandoc build
that read it and the code of this package, so an edited document, another
pandoc or a new xenabi misses. Entries are JSON files under
``$XDG_CACHE_HOME/xenabi/docs`` (``~/.cache/xenabi/docs``); ``XENABI_NO_CACHE``
in the environment turns the cache off.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from pathlib import Path

from xenabi.docs.facts import Document


def cache_dir() -> Path | None:
    """Where entries are kept, or None when caching is off."""
    if os.environ.get("XENABI_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "xenabi" / "docs"


def key(pandoc: str, text: str) -> str:
    """The entry name of a text read by the pandoc build ``pandoc`` (see pandoc.identity)."""
    h = hashlib.sha256(f"{_code_hash()}\0{pandoc}\0".encode())
    h.update(text.encode("utf-8"))
    return h.hexdigest()


def has(where: Path, entry: str) -> bool:
    """Whether an entry is there (it may still turn out torn: :func:`get` says)."""
    return (where / f"{entry}.json").is_file()


def get(where: Path, entry: str, path: str) -> Document | None:
    try:
        data = json.loads((where / f"{entry}.json").read_text(encoding="utf-8"))
        return Document.from_json(path, data)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # absent, or torn by a crash mid-write: read it again


def put(where: Path, entry: str, doc: Document) -> None:
    try:
        where.mkdir(parents=True, exist_ok=True)
        # write then rename, so a concurrent reader never sees half a file
        tmp = where / f"{entry}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(doc.to_json(), separators=(",", ":")), encoding="utf-8")
        tmp.replace(where / f"{entry}.json")
    except OSError:
        pass  # a cache that cannot be written only costs time


@cache
def _code_hash() -> str:
    """This package's code: what turns pandoc's AST into facts."""
    h = hashlib.sha256()
    for p in sorted(Path(__file__).parent.glob("*.py")):
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()
