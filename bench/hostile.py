#!/usr/bin/env python3
"""Time and memory of one target-view on hostile copies of a real tree (issue 13), against
the same target-view on the clean tree: a plain script, not a test.

Each case copies the tree's public headers into a temporary directory, edits
the copy, and runs ``xenabi dump --no-cache`` for one target and view in a
child process; the script prints its wall time, peak memory (the largest
resident set of the process and of cpp's, from ``wait4``), exit code, and
the ratio to the clean tree's time.

usage: python bench/hostile.py [--xen-root DIR] [--arch x86_64] [--view tools]
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


CASES: dict[str, Callable[[Path], None]] = {
    "clean": lambda public: None,
    "xen.h includes itself after its guard": _append("xen.h", '#include "xen.h"\n'),
    "exponential macro, array size E19": _append("memory.h", _exponential(19)),
    "exponential macro, array size E21": _append("memory.h", _exponential(21)),
    "exponential macro, array size E30": _append("memory.h", _exponential(30)),
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
