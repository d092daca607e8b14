"""``python -m tests.sigpoints K ARGS...``: ``xenabi ARGS...``, with SIGTERM sent to its
whole process group at a point where a signal once left something behind.

The points are: just after a temporary directory is made (``tempfile.mkdtemp``), just
after a process is started (``subprocess.Popen``), just after a worker is forked (in
the parent), and just before a file is renamed into place (a worker's result). ``K`` > 0
is the K-th point of xenabi's own process, ``K`` < 0 the -K-th of a worker (each worker
counts its own from its fork). ``K`` 0 sends nothing: each point prints ``main N`` or
``worker N`` on standard error as it is passed. The caller starts it in a session of
its own, as a shell starts a job.
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


class _Points:
    def __init__(self, k: int) -> None:
        self.k, self.passed, self.who = k, 0, "main"

    def point(self) -> None:
        self.passed += 1
        if self.k == 0:
            os.write(2, f"{self.who} {self.passed}\n".encode())  # one write: whole lines
        elif self.passed == abs(self.k) and (self.k > 0) == (self.who == "main"):
            os.killpg(0, signal.SIGTERM)

    def after(self, func: Callable[..., Any]) -> Callable[..., Any]:
        def hooked(*args: Any, **kwargs: Any) -> Any:
            result = func(*args, **kwargs)
            self.point()
            return result
        return hooked

    def before(self, func: Callable[..., Any]) -> Callable[..., Any]:
        def hooked(*args: Any, **kwargs: Any) -> Any:
            self.point()
            return func(*args, **kwargs)
        return hooked

    def forked(self, fork: Callable[[], int]) -> Callable[[], int]:
        def hooked() -> int:
            pid = fork()
            if pid:
                self.point()
            else:
                self.passed, self.who = 0, "worker"
            return pid
        return hooked


def main() -> int:
    points = _Points(int(sys.argv[1]))
    tempfile.mkdtemp = points.after(tempfile.mkdtemp)  # type: ignore[assignment]
    subprocess.Popen.__init__ = points.after(subprocess.Popen.__init__)  # type: ignore[method-assign]
    os.fork = points.forked(os.fork)
    pathlib.Path.rename = points.before(pathlib.Path.rename)  # type: ignore[method-assign]
    from xenabi.cli import main as xenabi

    return xenabi(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
