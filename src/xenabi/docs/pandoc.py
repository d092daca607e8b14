"""Run pandoc: every document's JSON AST, from one pandoc process per run at most.

This is the only module that runs pandoc. Each document is read with pandoc's
own ``markdown`` reader, as Xen's docs build reads it. The documents travel in
one process: each is wrapped in a fenced code block of one input file, and a
small Lua filter hands every block's text to ``pandoc.read(text,
"markdown")``, so each document is still parsed on its own (its reference
links, footnotes and title block do not leak into the next one). What is
read is cached by :mod:`xenabi.docs.cache`; a run whose documents are all
cached starts no process at all.

:class:`PandocRun` starts pandoc and returns at once, so that pandoc works
while the caller computes snapshots; its input, output and errors are files
in a temporary directory, so that no pipe can fill up while nobody reads it.

Which pandoc: ``$XENABI_PANDOC`` if set, else the binary the ``pypandoc-binary``
wheel ships (a pinned pandoc, the same on every CI machine and installable
without root), else ``pandoc`` on ``PATH`` (Debian's package works as well).
The wheel's binary is found beside the ``pypandoc`` package without importing
it: ``pypandoc.get_pandoc_path()`` runs every pandoc it can find to compare
their versions, which costs more than reading a small document.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from xenabi import lifetime
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
    spec = importlib.util.find_spec("pypandoc")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        bundled = Path(folder) / "files" / "pandoc"  # where pypandoc-binary puts it
        if os.access(bundled, os.X_OK):
            return bundled
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


#: how a Haskell program (pandoc) exits on a SIGINT its runtime caught: it prints
#: "pandoc: interrupted" and exits 252, where a signal that comes before the runtime's
#: handler is installed kills it outright
GHC_INTERRUPTED = 252


class PandocRun:
    """One pandoc process reading many documents; :meth:`result` waits for it."""

    def __init__(self, texts: Mapping[str, str], binary: Path) -> None:
        self.names = list(texts)
        self.binary = binary
        self._dir = Path(tempfile.mkdtemp(prefix="xenabi-pandoc-"))
        (self._dir / "filter.lua").write_text(_FILTER)
        (self._dir / "in.md").write_text(
            "\n".join(_wrap(f"d{i}", texts[name]) for i, name in enumerate(self.names)),
            encoding="utf-8")
        try:
            with open(self._dir / "err", "wb") as err, lifetime.held():
                self._proc = lifetime.spawn(
                    [str(binary), "-f", "markdown", "-t", "json", "--lua-filter", "filter.lua",
                     "-o", "out.json", "in.md"],
                    cwd=self._dir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=err)
                # a run abandoned by an error elsewhere leaves no process and no files behind
                self._finalizer = weakref.finalize(self, _abandon, self._proc, self._dir)
        except OSError as e:
            shutil.rmtree(self._dir, ignore_errors=True)
            raise UsageError(f"{binary}: cannot run pandoc: {e.strerror}") from None
        self.cpu_seconds = 0.0  #: pandoc's own user and system time, once it has ended

    def result(self) -> dict[str, Blocks]:
        """Each document's blocks, by the names the texts had."""
        _, status, usage = os.wait4(self._proc.pid, 0)
        self._proc.returncode = os.waitstatus_to_exitcode(status)
        lifetime.reaped(self._proc)
        self.cpu_seconds = usage.ru_utime + usage.ru_stime
        try:
            code = self._proc.returncode
            if code in (-signal.SIGINT, -signal.SIGTERM):
                # pandoc was interrupted, not wrong: so is this run
                raise KeyboardInterrupt
            if code != 0:
                text = (self._dir / "err").read_text(encoding="utf-8", errors="replace")
                reason = (text.strip().splitlines() or ["no message"])[-1]
                if code == GHC_INTERRUPTED and reason.endswith(": interrupted"):
                    raise KeyboardInterrupt  # the signal came once its runtime was up
                raise UsageError(f"{self.binary}: pandoc failed (exit {code}): {reason}")
            out = json.loads((self._dir / "out.json").read_text(encoding="utf-8"))
        finally:
            self._finalizer()
        divs = {b["c"][0][0]: b["c"][1] for b in out["blocks"]
                if b["t"] == "Div" and "xenabi-doc" in b["c"][0][1]}
        return {name: divs[f"d{i}"] for i, name in enumerate(self.names)}


def _abandon(proc: subprocess.Popen[bytes], folder: Path) -> None:
    if proc.returncode is None:
        lifetime.kill(proc)
    shutil.rmtree(folder, ignore_errors=True)


def parse_documents(texts: Mapping[str, str], binary: Path) -> dict[str, Blocks]:
    """Each document's blocks, by the same name as ``texts``: one pandoc process for all."""
    return PandocRun(texts, binary).result() if texts else {}


def _wrap(ident: str, text: str) -> str:
    # a tilde fence longer than any tilde run that opens a line of the text, so
    # that no line of the document can close it
    longest = max((len(m.group(1)) for m in re.finditer(r"^ {0,3}(~+)", text, re.M)), default=0)
    fence = "~" * max(4, longest + 1)
    return f"{fence} {{#{ident} .xenabi-doc}}\n{text.rstrip(chr(10))}\n{fence}\n"
