"""Writing results: all or nothing, so bad input never leaves a half-written file."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path


def to_json(data: object) -> str:
    """Sorted keys, stable: identical input gives byte-identical output. Compact: a
    snapshot of every target is tens of megabytes; ``python3 -m json.tool`` indents it."""
    return json.dumps(data, sort_keys=True) + "\n"


def emit(text: str, path: str | None) -> None:
    """Write ``text`` to ``path`` atomically, or to stdout when ``path`` is None or ``-``.

    Only a regular file is replaced: ``-o /dev/null`` or a FIFO is written to as it is.
    """
    if path in (None, "-"):
        sys.stdout.write(text)
        return
    target = Path(path)
    if target.exists() and not target.is_file():
        with target.open("w") as f:
            f.write(text)
        return
    fd, tmp = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".", prefix=".xenabi-")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, target)
