#!/usr/bin/env python3
"""Time and memory of one target-view on hostile copies of a real tree (issue 13), against
the same target-view on the clean tree: a plain script, not a test.

Each case copies the tree's public headers into a temporary directory, edits
the copy, and runs ``xenabi dump --no-cache`` for one target and view in a
child process; the script prints its wall time, peak memory (the largest
resident set of the process and of cpp's, from ``wait4``), exit code, and
the ratio to the clean tree's time.

usage: python bench/hostile.py [--xen-root DIR] [--arch x86_64] [--view tools]

Measured on the 4.17 tree, x86_64 tools, a shared 2-core machine under load
(wall s, peak MB). Exponential object-like macros are measured from the sources
before cpp runs (``preprocess.runaway_uses``); before that, cpp expanded them:

    case                                  before           after
    clean                                 -                0.82 s   48 MB
    array size E19                        4.74 s  265 MB   0.72 s   45 MB
    array size E21                        8.20 s  394 MB   0.70 s   44 MB
    function-like F21(1) (cpp's bounds)   -                6.48 s  486 MB

The default ``xenabi check --no-cache`` (every target and view) with E21 in
memory.h: 57.7 s and 1.03 GB before, 4.8 s and 52 MB after; the use
(memory.h:769) and its includers (domctl.h, sysctl.h) are failed headers.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from xenabi.tree import find_tree


def _append(header: str, text: str) -> Callable[[Path], None]:
    def edit(public: Path) -> None:
        with (public / header).open("a") as f:
            f.write(text)
    return edit


def _exponential(n: int) -> str:
    return ("#define E0 1\n" + "".join(f"#define E{i} (E{i-1}+E{i-1})\n" for i in range(1, n + 1))
            + f"struct xenabi_big {{ char buf[E{n}]; }};\n")


def _function_like(n: int) -> str:
    # not measured before cpp runs (only object-like macros are): cpp's own bounds stop it
    return ("#define F0(x) x\n" + "".join(f"#define F{i}(x) (F{i-1}(x)+F{i-1}(x))\n"
                                           for i in range(1, n + 1))
            + f"struct xenabi_big {{ char buf[F{n}(1)]; }};\n")


CASES: dict[str, Callable[[Path], None]] = {
    "clean": lambda public: None,
    "xen.h includes itself after its guard": _append("xen.h", '#include "xen.h"\n'),
    "exponential macro, array size E19": _append("memory.h", _exponential(19)),
    "exponential macro, array size E21": _append("memory.h", _exponential(21)),
    "exponential macro, array size E30": _append("memory.h", _exponential(30)),
    "function-like exponential macro, F21(1)": _append("memory.h", _function_like(21)),
    "1000 nested anonymous structs": _append(
        "memory.h", "struct {\n" * 1000 + "int x;\n" + "};\n" * 999 + "} xenabi_deep;\n"),
    "syntax error in xen.h": _append("xen.h", "int broken = ;\n"),
}


def run(public_src: Path, edit: Callable[[Path], None], arch: str, view: str
        ) -> tuple[float, int, int]:
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
        public = Path(tmp, "xen/include/public")
        shutil.copytree(public_src, public)
        edit(public)
        env = dict(os.environ, XDG_CACHE_HOME=str(Path(tmp, "cache")))
        start = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "xenabi", "dump", "--no-cache",
                                 "--xen-root", tmp, "--arch", arch, "--view", view,
                                 "-o", os.devnull], env=env, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
        # the child's peak, or its largest reaped child's (cpp) if larger: Linux's wait4
        return wall, usage.ru_maxrss, os.waitstatus_to_exitcode(status)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--xen-root")
    ap.add_argument("--arch", default="x86_64")
    ap.add_argument("--view", default="tools")
    args = ap.parse_args()
    tree = find_tree(args.xen_root)
    clean = None
    print(f"{'case':45} {'wall s':>7} {'x clean':>8} {'peak MB':>8} exit")
    for name, edit in CASES.items():
        wall, peak, code = run(tree.public, edit, args.arch, args.view)
        clean = clean or wall
        print(f"{name:45} {wall:7.2f} {wall / clean:8.1f} {peak / 1024:8.0f} {code:4}")


if __name__ == "__main__":
    main()
