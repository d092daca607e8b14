"""Run pandoc: every document's JSON AST, from one pandoc process per run at most.

This is the only module that runs pandoc. Each document is read with pandoc's
own ``markdown`` reader, as Xen's docs build reads it. The documents travel in
one process: each is wrapped in a fenced code block of the standard input, and
a small Lua filter hands every block's text to ``pandoc.read(text,
"markdown")``, so each document is still parsed on its own (its reference
links, footnotes and title block do not leak into the next one). What is
read is cached by :mod:`xenabi.docs.cache`; a run whose documents are all
cached starts no process at all.

Which pandoc: ``$XENABI_PANDOC`` if set, else the binary the ``pypandoc-binary``
wheel ships (a pinned pandoc, the same on every CI machine and installable
without root), else ``pandoc`` on ``PATH`` (Debian's package works as well).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from xenabi.errors import UsageError

#: pandoc's JSON for a list of blocks (``[{"t": "Para", "c": [...]}, ...]``)
Blocks = list[Any]

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
        import pypandoc

        return Path(pypandoc.get_pandoc_path())
    except (ImportError, OSError):
        pass
    found = shutil.which("pandoc")
    if found is None:
        raise UsageError("pandoc not found: install the pypandoc-binary wheel "
                         "(pip install 'xenabi[docs]') or Debian's pandoc, or set XENABI_PANDOC")
    return Path(found)


def identity(binary: Path) -> str:
    """What names a pandoc build for a cache key: its resolved path, size and mtime."""
    try:
        real = binary.resolve()
        st = real.stat()
    except OSError:
        return str(binary)
    return f"{real}:{st.st_size}:{st.st_mtime_ns}"


def parse_documents(texts: Mapping[str, str], binary: Path) -> dict[str, Blocks]:
    """Each document's blocks, by the same name as ``texts``: one pandoc process for all."""
    if not texts:
        return {}
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
