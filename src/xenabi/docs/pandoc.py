"""Run pandoc: every document's JSON AST, from one pandoc process per run at most.

This is the only module that runs pandoc. Each document is read with pandoc's
own ``markdown`` reader, as Xen's docs build reads it. The documents travel in
one process: each is wrapped in a fenced code block of the standard input, and
a small Lua filter hands every block's text to ``pandoc.read(text,
"markdown")``, so each document is still parsed on its own (its reference
links, footnotes and title block do not leak into the next one). ASTs are
cached by content hash under the user cache directory; a run whose documents
are all cached starts no process at all.

Which pandoc: ``$XENABI_PANDOC`` if set, else the binary the ``pypandoc-binary``
wheel ships (a pinned pandoc, the same on every CI machine and installable
without root), else ``pandoc`` on ``PATH`` (Debian's package works as well).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from xenabi.errors import UsageError

#: pandoc's JSON for a list of blocks (``[{"t": "Para", "c": [...]}, ...]``)
Blocks = list[Any]

#: bump when the filter or the way ASTs are stored changes: old cache entries then miss
_FORMAT = "xenabi-pandoc/1"

_FILTER = """\
-- Each code block of class xenabi-doc holds one whole document: parse it on its own.
function CodeBlock(cb)
  if cb.classes[1] ~= "xenabi-doc" then return nil end
  local doc = pandoc.read(cb.text, "markdown")
  return pandoc.Div(doc.blocks, pandoc.Attr(cb.identifier, {"xenabi-doc"}, {}))
end
"""


def find_pandoc() -> Path:
    """The pandoc binary to run (see the module docstring for the order)."""
    explicit = os.environ.get("XENABI_PANDOC")
    if explicit:
        if not Path(explicit).is_file():
            raise UsageError(f"XENABI_PANDOC={explicit}: no such file")
        return Path(explicit)
    try:
        import pypandoc  # type: ignore[import-untyped]

        return Path(pypandoc.get_pandoc_path())
    except (ImportError, OSError):
        pass
    found = shutil.which("pandoc")
    if found is None:
        raise UsageError("pandoc not found: install the pypandoc-binary wheel "
                         "(pip install 'xenabi[docs]') or Debian's pandoc, or set XENABI_PANDOC")
    return Path(found)


def cache_dir() -> Path | None:
    """Where ASTs are kept, or None when caching is off (``XENABI_NO_CACHE`` set)."""
    if os.environ.get("XENABI_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "xenabi" / "pandoc"


def parse_documents(texts: Mapping[str, str], *, pandoc: Path | None = None,
                    cache: Path | None = None) -> tuple[dict[str, Blocks], float]:
    """Each document's blocks, by the same name as ``texts``, and the seconds pandoc ran.

    ``cache`` None reads and writes no cache. Cached entries are keyed by the
    pandoc binary's identity and the document's text, so a new pandoc or an
    edited document misses.
    """
    binary = pandoc or find_pandoc()
    keys = {name: _key(binary, text) for name, text in texts.items()}
    out: dict[str, Blocks] = {}
    if cache is not None:
        for name, key in keys.items():
            hit = _cache_get(cache, key)
            if hit is not None:
                out[name] = hit
    missing = {name: texts[name] for name in texts if name not in out}
    spent = 0.0
    if missing:
        start = time.perf_counter()
        parsed = _run(binary, missing)
        spent = time.perf_counter() - start
        out.update(parsed)
        if cache is not None:
            for name, blocks in parsed.items():
                _cache_put(cache, keys[name], blocks)
    return {name: out[name] for name in texts}, spent


def _run(binary: Path, texts: Mapping[str, str]) -> dict[str, Blocks]:
    names = list(texts)
    stdin = "\n".join(_wrap(f"d{i}", texts[name]) for i, name in enumerate(names))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(_FILTER)
    try:
        proc = subprocess.run([str(binary), "-f", "markdown", "-t", "json", "--lua-filter", f.name],
                              input=stdin, capture_output=True, text=True, encoding="utf-8")
    except OSError as e:
        raise UsageError(f"{binary}: cannot run pandoc: {e.strerror}") from None
    finally:
        os.unlink(f.name)
    if proc.returncode != 0:
        reason = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        raise UsageError(f"{binary}: pandoc failed (exit {proc.returncode}): {reason}")
    divs = {b["c"][0][0]: b["c"][1] for b in json.loads(proc.stdout)["blocks"]
            if b["t"] == "Div" and "xenabi-doc" in b["c"][0][1]}
    return {name: divs[f"d{i}"] for i, name in enumerate(names)}


def _wrap(ident: str, text: str) -> str:
    # a tilde fence longer than any tilde run that opens a line of the text, so
    # that no line of the document can close it
    longest = max((len(m.group(1)) for m in re.finditer(r"^ {0,3}(~+)", text, re.M)), default=0)
    fence = "~" * max(4, longest + 1)
    return f"{fence} {{#{ident} .xenabi-doc}}\n{text.rstrip(chr(10))}\n{fence}\n"


def _key(binary: Path, text: str) -> str:
    try:
        st = binary.resolve().stat()
        who = f"{binary.resolve()}:{st.st_size}:{st.st_mtime_ns}"
    except OSError:
        who = str(binary)
    h = hashlib.sha256(f"{_FORMAT}\0{who}\0".encode())
    h.update(text.encode("utf-8"))
    return h.hexdigest()


def _cache_get(cache: Path, key: str) -> Blocks | None:
    try:
        data = json.loads((cache / f"{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # absent or torn: parse again
    return data if isinstance(data, list) else None


def _cache_put(cache: Path, key: str, blocks: Blocks) -> None:
    try:
        cache.mkdir(parents=True, exist_ok=True)
        # write then rename, so a concurrent reader never sees half a file
        tmp = cache / f"{key}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(blocks, separators=(",", ":")), encoding="utf-8")
        tmp.replace(cache / f"{key}.json")
    except OSError:
        pass  # a cache that cannot be written only costs time
