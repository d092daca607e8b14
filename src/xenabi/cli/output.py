"""Writing results: all or nothing, so bad input never leaves a half-written file.

The output path is checked before anything is computed (:func:`check_target`),
and written through a temporary file beside the target that is renamed over it
or removed. A symlink is written through (its target is replaced), a new file
gets the user's umask, and a non-regular file (``/dev/null``, a FIFO) is
written to as it is.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from xenabi.errors import UsageError


def to_json(data: object) -> str:
    """Sorted keys, stable: identical input gives byte-identical output. Compact: a
    snapshot of every target is tens of megabytes; ``python3 -m json.tool`` indents it."""
    return json.dumps(data, sort_keys=True) + "\n"


def check_target(path: str | None) -> None:
    """Raise a one-line :class:`UsageError` when ``path`` cannot be written."""
    if path in (None, "-"):
        return
    target = Path(os.path.realpath(path))
    if target.is_dir():
        raise UsageError(f"-o {path}: is a directory")
    if target.exists():
        if not os.access(target, os.W_OK):
            raise UsageError(f"-o {path}: not writable")
        if not target.is_file():
            return
    if not target.parent.is_dir():
        raise UsageError(f"-o {path}: no directory {target.parent}")
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise UsageError(f"-o {path}: directory {target.parent} is not writable")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def emit(text: str, path: str | None) -> None:
    """Write ``text`` to ``path`` atomically, or to stdout when ``path`` is None or ``-``."""
    if path in (None, "-"):
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except OSError as e:
            # what is still buffered goes nowhere: the interpreter's last flush must not
            # print a second error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            if isinstance(e, BrokenPipeError):
                raise
            raise UsageError(f"stdout: {e.strerror or e}") from None
        return
    target = Path(os.path.realpath(path))
    try:
        if target.exists() and not target.is_file():
            with target.open("w") as f:
                f.write(text)
            return
        mode = (target.stat().st_mode & 0o7777) if target.exists() else 0o666 & ~_umask()
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".xenabi-")
    except OSError as e:
        raise UsageError(f"-o {path}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "w") as f:
            os.fchmod(f.fileno(), mode)
            f.write(text)
        os.replace(tmp, target)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise UsageError(f"-o {path}: {e.strerror or e}") from None
