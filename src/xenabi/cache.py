"""The cache: what a run computed, kept so that the same inputs are not computed again.

Policy (what the README promises):

- **What is cached.** Snapshots (one entry per tree, target, view and interface
  version, and one per tree, targets, views and version holding them together,
  each distinct value once: :mod:`xenabi.snapshotset`), the snapshots read from
  a snapshot file (one entry per file content), and the merged findings of
  ``xenabi check`` (one entry per tree, targets, views and rules; waivers are
  applied afresh on every run). The docs reader keeps its own entries in
  ``docs/`` below the same directory.
- **The key.** Every file of the installed package (all of ``src/xenabi``: its
  modules, the headers in ``sysinclude/``, ``data/*.toml``) and ``__version__``;
  the inputs the caller names (the tree's public headers, a snapshot file's text,
  and for findings xlat.lst, reference.size, xen/Makefile and docs/); and the
  options that change
  the output (targets, views, rules, interface version). Files a run read that
  are not known before it runs (a header including a file from outside the tree)
  are stored with the entry, with a hash of their content, and checked on every
  read: an edit to one is a miss.
- **Where.** ``$XENABI_CACHE_DIR`` if set; else ``$XDG_CACHE_HOME/xenabi`` if
  that is an absolute path (the XDG spec says to ignore a relative one); else
  ``~/.cache/xenabi``; with ``HOME`` unset or empty and neither variable set,
  no cache at all.
- **Writes** are atomic (a temporary file in the directory, then a rename), so a
  concurrent run reads a whole entry or none; two runs writing the same entry
  write the same content.
- **Reads validate**: the entry's schema, xenabi's version and key, its
  dependencies' hashes, and the caller's check of the payload's types (for a
  payload kept as text, :func:`sealed`, the text's digest too). An entry
  that does not validate is a miss: the value is computed and the entry rewritten.
- **Size.** At most :data:`MAX_BYTES`; past it, the oldest entries (by mtime;
  a hit touches its entry) are removed after a write.
- **Failure costs only time.** A directory that cannot be made or written (read
  only, a plain file, immutable) or an entry that cannot be read is a miss and
  a skipped write, never an error.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import stat
import tempfile
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from xenabi import __version__

SCHEMA = "xenabi-cache/1"

#: past this many bytes of entries, the oldest are evicted
MAX_BYTES = 1 << 30

_PACKAGE = Path(__file__).resolve().parent

_T = TypeVar("_T")


def directory() -> Path | None:
    """Where entries live, by the policy above; None: no cache."""
    if own := os.environ.get("XENABI_CACHE_DIR"):
        return Path(own)
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):
        return Path(xdg) / "xenabi"
    home = os.environ.get("HOME")
    if not home:
        return None
    return Path(home) / ".cache" / "xenabi"


def package_files(root: Path = _PACKAGE) -> list[Path]:
    """Every source and data file of the package (not Python's byte code)."""
    return sorted(p for p in root.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")


def code_key(root: Path = _PACKAGE, version: str = __version__) -> str:
    """A hash of every file of the package at ``root`` and of ``version``."""
    h = hashlib.sha256(version.encode() + b"\0")
    for p in package_files(root):
        h.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


@cache
def _installed_code_key() -> str:
    return code_key()


def key(kind: str, *parts: str) -> str:
    """The key of an entry: the package's code and version, then ``parts``."""
    return hashlib.sha256("\0".join([kind, _installed_code_key(), *parts]).encode()).hexdigest()


def _file_hash(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return None


def dependencies(files: Iterable[str]) -> dict[str, str | None]:
    """The files a run read beyond its named inputs, with their content hashes (None: gone).
    The package's own files (its sysinclude headers) are in every key already, and
    cpp's pseudo-files (``<built-in>``) are no files."""
    pkg = str(_PACKAGE) + os.sep
    return {f: _file_hash(f) for f in sorted(set(files))
            if not f.startswith(("<", pkg)) and os.path.isabs(f)}


class Cache:
    """The cache of one run; ``enabled`` False (``--no-cache``) reads and writes nothing."""

    def __init__(self, enabled: bool = True) -> None:
        self.where = directory() if enabled else None

    def _path(self, kind: str, k: str) -> Path | None:
        return None if self.where is None else self.where / f"{kind}-{k[:32]}.json"

    def get(self, kind: str, k: str, valid: Callable[[object], _T | None],
            deps_out: set[str] | None = None) -> _T | None:
        """The payload stored under ``k`` if the entry validates and ``valid`` accepts it
        (returns the value to use), else None; a hit adds its dependencies to ``deps_out``."""
        path = self._path(kind, k)
        if path is None:
            return None
        try:
            # O_NONBLOCK: a FIFO in the entry's place must not hang the run
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            with os.fdopen(fd, "rb") as f:
                if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                    return None
                entry = json.loads(f.read())
        except (OSError, ValueError, RecursionError):
            return None
        if not (isinstance(entry, dict) and entry.get("schema") == SCHEMA
                and entry.get("version") == __version__ and entry.get("key") == k
                and isinstance(entry.get("deps"), dict) and "data" in entry):
            return None
        deps = entry["deps"]
        if any(not isinstance(h, (str, type(None))) or _file_hash(f) != h
               for f, h in deps.items()):
            return None
        try:
            value = valid(entry["data"])
        except (KeyError, TypeError, ValueError, AttributeError, AssertionError):
            return None
        if value is not None:
            if deps_out is not None:
                deps_out.update(deps)
            try:
                os.utime(path)  # a hit is recent: eviction takes the oldest first
            except OSError:
                pass
        return value

    def put(self, kind: str, k: str, data: object,
            deps: Mapping[str, str | None] | None = None) -> None:
        """Store ``data`` (JSON) under ``k``; a cache that cannot be written is skipped."""
        path = self._path(kind, k)
        if path is None:
            return
        text = json.dumps({"schema": SCHEMA, "version": __version__, "key": k,
                           "deps": dict(deps or {}), "data": data}, sort_keys=True)
        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "w") as f:
                f.write(text)
            os.replace(tmp, path)
            tmp = None
            _evict(path.parent)
        except OSError:
            pass  # a cache that cannot be written only costs time
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass


def _evict(where: Path, limit: int = MAX_BYTES) -> None:
    """Remove the oldest entries until those left fit in ``limit`` bytes."""
    entries = []
    for p in where.glob("*.json"):
        try:
            st = p.stat()
        except OSError:
            continue  # removed by a concurrent run
        entries.append((st.st_mtime, st.st_size, p))
    total = sum(size for _, size, _ in entries)
    for _, size, p in sorted(entries):
        if total <= limit:
            break
        try:
            p.unlink()
        except OSError:
            pass
        total -= size


def sealed(text: str) -> dict[str, str]:
    """A payload of JSON text with the text's digest, which :func:`opened` checks: a
    payload kept as text (to be output as it is, or decoded by a reader of its own) that
    no type check of its values could tell damaged."""
    return {"text": text, "sha256": hashlib.sha256(text.encode()).hexdigest()}


def opened(data: object) -> str | None:
    """The text of a :func:`sealed` payload, whole (its digest matches), else None."""
    if not isinstance(data, dict) or not isinstance(text := data.get("text"), str):
        return None
    return text if hashlib.sha256(text.encode()).hexdigest() == data.get("sha256") else None


_PLAIN = frozenset({str, int, float, type(None)})


def conforms(value: object) -> bool:
    """Whether every field of the frozen dataclass ``value`` (and of those it holds) has
    its annotated type: what decoding a cache entry must give before it is used."""
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        return True
    hints = _hints(type(value))
    return all(_is(getattr(value, f.name), hints[f.name]) for f in dataclasses.fields(value))


@cache
def _hints(cls: type) -> dict[str, object]:
    return typing.get_type_hints(cls)


@cache
def _shape(hint: object) -> tuple[Any, tuple[Any, ...]]:
    return typing.get_origin(hint), typing.get_args(hint)


def _is(value: object, hint: object) -> bool:
    if type(value) is hint and hint in _PLAIN:
        return True  # most of an entry: strings and integers where they belong
    origin, args = _shape(hint)
    if hint is typing.Any or hint is object:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_is(value, a) for a in args)
    if origin is typing.Literal:
        return value in args
    if origin is tuple:
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_is(v, args[0]) for v in value)
        return len(args) == len(value) and all(_is(v, a) for v, a in zip(value, args))
    if origin in (dict, Mapping):
        return isinstance(value, dict) and all(
            _is(k, args[0]) and _is(v, args[1]) for k, v in value.items())
    if origin is not None:
        return isinstance(value, origin)
    if hint is type(None):
        return value is None
    if isinstance(hint, type):
        if hint is int and isinstance(value, bool):
            return False
        return isinstance(value, hint) and conforms(value)
    return True
