"""``python -m tests.sigpoints K ARGS...``: ``xenabi ARGS...``, with SIGTERM sent to its
whole process group at its K-th point where a signal once left something behind.

The points are: just after a temporary directory is made (``tempfile.mkdtemp``), just
after a process is started (``subprocess.Popen``), just after a worker is forked (in
the parent), and just before a file is renamed into place (a worker's result). Each
process counts its own, a forked worker on from its parent's count. ``K`` 0 sends
nothing and prints how many points the main process passed, as the last line of its
standard error. The caller starts it in a session of its own, as a shell starts a job.
"""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from typing import Any


def _point(k: int, passed: list[int]) -> None:
    passed[0] += 1
    if passed[0] == k:
        os.killpg(0, signal.SIGTERM)


def _after(func: Callable[..., Any], k: int, passed: list[int]) -> Callable[..., Any]:
    def hooked(*args: Any, **kwargs: Any) -> Any:
        result = func(*args, **kwargs)
        _point(k, passed)
        return result
    return hooked


def _before(func: Callable[..., Any], k: int, passed: list[int]) -> Callable[..., Any]:
    def hooked(*args: Any, **kwargs: Any) -> Any:
        _point(k, passed)
        return func(*args, **kwargs)
    return hooked


def _forked(k: int, passed: list[int]) -> Callable[[], int]:
    fork = os.fork

    def hooked() -> int:
        pid = fork()
        if pid:  # the parent's point; the worker goes on counting from it
            _point(k, passed)
        return pid
    return hooked


def main() -> int:
    k, args = int(sys.argv[1]), sys.argv[2:]
    passed = [0]
    tempfile.mkdtemp = _after(tempfile.mkdtemp, k, passed)  # type: ignore[assignment]
    subprocess.Popen.__init__ = _after(subprocess.Popen.__init__, k, passed)  # type: ignore[method-assign]
    os.fork = _forked(k, passed)
    pathlib.Path.rename = _before(pathlib.Path.rename, k, passed)  # type: ignore[method-assign]
    from xenabi.cli import main as xenabi

    pid = os.getpid()
    try:
        return xenabi(args)
    finally:
        if k == 0 and os.getpid() == pid:
            print(passed[0], file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
