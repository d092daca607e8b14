#!/usr/bin/env python3
"""xenabi's speed against its baselines, on a real Xen tree (a plain script, not a test).

Every command below runs once per round, the rounds alternate through the
commands (so a busy machine slows all of them alike), and the script prints
each command's median wall and CPU time, then the ratios that are the goals:

- ``xenabi snapshot`` / ``dump`` of all four targets and both views, cold
  (``--no-cache``) and warm (from the cache the untimed first run filled);
- Xen's own header check, as ``../shared/bench/xen-header-check`` reproduces
  it: x86_64 then ``-m32``, serially (``-m32`` needs Debian's gcc-multilib
  and g++-multilib);
- clang's record-layout dump of every public header for the four targets
  (``-Xclang -fdump-record-layouts-complete``, one translation unit each);
- ``xenabi diff`` of the tree against a copy with one line added: both cold
  (with the rules, and ABI only), both cached, and snapshot file against
  snapshot file, cached (the files were read before) and with ``--no-cache``
  (the goals: cold at most Xen's header check, cached under 0.5 s, files
  under 0.3 s).

xenabi's modules are compiled to bytecode first, as an installed copy has
them. A command is one line of :func:`commands`. ``--profile`` instead profiles
a cold computation of every target and view, as ``xenabi snapshot``'s
workers share it out, and says where the time goes.

usage: python bench/bench.py [--xen-root DIR] [--rounds N] [--profile]
"""

from __future__ import annotations

import argparse
import compileall
import cProfile
import os
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import xenabi
from xenabi.targets import TARGETS, VIEWS, Target, tree_arches
from xenabi.tree import XenTree, find_tree

ROOT = Path(__file__).resolve().parents[1]
HEADER_CHECK = ROOT.parent / "shared" / "bench" / "xen-header-check"

Argv = tuple[str, ...]


@dataclass(frozen=True)
class Command:
    name: str
    steps: tuple[Argv, ...]  #: run one after the other; the command's time is their sum
    warm: bool = False  #: run once untimed first, so that it reads a filled cache
    ok: tuple[int, ...] = (0,)  #: exit codes of a successful run (check: 1 means findings)
    prepare: tuple[Argv, ...] = ()  #: run untimed before each run


@dataclass(frozen=True)
class Ratio:
    label: str
    ours: str  #: a command name
    baseline: str  #: a command name


RATIOS = (
    Ratio("cold snapshot vs Xen's header check (goal < 1)", "snapshot cold", "xen-header-check"),
    Ratio("warm snapshot vs clang's layout dump (goal < 1)", "snapshot warm", "clang layouts x4"),
    Ratio("cold dump x8 vs Xen's header check", "dump x8 cold", "xen-header-check"),
    Ratio("warm dump x8 vs clang's layout dump", "dump x8 warm", "clang layouts x4"),
    Ratio("cold check vs Xen's header check", "check cold", "xen-header-check"),
    Ratio("check-patch seed, base cached, vs header check (goal < 0.2)",
          "check-patch seed", "xen-header-check"),
    Ratio("cold diff of two trees vs Xen's header check (goal <= 1)", "diff cold",
          "xen-header-check"),
    Ratio("cold diff, ABI only, vs Xen's header check", "diff cold abi", "xen-header-check"),
)

#: absolute goals: a command's median wall time at most this many seconds
LIMITS = {"check-patch seed": 0.5, "diff warm": 0.5, "diff snapshot files": 0.3}

#: beside the checkout (or beside the directory of worktrees it is in)
SEED = next((d / "shared/seed/sif-hvm-ghcb.mangled.patch" for d in (ROOT.parent,
             ROOT.parent.parent) if (d / "shared/seed").is_dir()),
            ROOT.parent / "shared/seed/sif-hvm-ghcb.mangled.patch")

#: writes the seed with a new comment line, so that the patched tree is never in the cache
_FRESH_SEED = ("import sys, time; s = open(sys.argv[1]).read(); open(sys.argv[2], 'w').write("
               "s.replace('+ /* use of GHCB. */', '+ /* use of GHCB. */\\n+/* %d */' "
               "% time.time_ns()).replace('+890,8', '+890,9'))")


def commands(tree: XenTree, clang_units: dict[str, Path], sides: DiffInputs) -> list[Command]:
    """What is timed; adding a command is adding a line."""
    x = (sys.executable, "-m", "xenabi")
    tree_args = ("--xen-root", str(tree.root), "-o", os.devnull)
    diff = (*x, "diff", str(tree.root), str(sides.other), "-o", os.devnull)
    dumps = [("dump", *tree_args, "--arch", a, "--view", v) for a in tree_arches(tree.headers)
             for v in VIEWS]
    out = [
        Command("snapshot cold", ((*x, "snapshot", *tree_args, "--no-cache"),)),
        Command("snapshot warm", ((*x, "snapshot", *tree_args),), warm=True),
        Command("dump x8 cold", tuple((*x, *d, "--no-cache") for d in dumps)),
        Command("dump x8 warm", tuple((*x, *d) for d in dumps), warm=True),
        Command("check cold", ((*x, "check", *tree_args, "--no-cache"),), ok=(0, 1)),
        Command("check warm", ((*x, "check", *tree_args),), warm=True, ok=(0, 1)),
        *seed_commands(tree),
        Command("diff cold", ((*diff, "--no-cache"),), ok=(0, 1)),
        Command("diff cold abi", ((*diff, "--no-cache", "--no-findings"),), ok=(0, 1)),
        Command("diff warm", (diff,), warm=True, ok=(0, 1)),
        Command("diff snapshot files", ((*x, "diff", str(sides.base_file), str(sides.head_file),
                                         "-o", os.devnull),), warm=True, ok=(0, 1)),
        # the files read afresh: what a first diff against a new lockfile costs
        Command("diff files no cache", ((*x, "diff", str(sides.base_file),
                                         str(sides.head_file), "-o", os.devnull,
                                         "--no-cache"),), ok=(0, 1)),
        Command("clang layouts x4", tuple(clang_argv(TARGETS[a], tree, u)
                                          for a, u in clang_units.items())),
    ]
    if multilib():
        check = ("bash", str(HEADER_CHECK), str(tree.public), "syntax")
        out.append(Command("xen-header-check", (check, (*check, "-m32"))))
    return out


def seed_commands(tree: XenTree) -> list[Command]:
    """``check-patch`` of the seed on a tree whose results are cached: the patched tree
    fresh each run (``check-patch seed``), and cached too (``check-patch seed warm``)."""
    if not SEED.is_file() or tree.docs is None:
        return []
    fresh = Path(tempfile.gettempdir()) / f"xenabi-bench-seed-{os.getpid()}.patch"
    argv = (sys.executable, "-m", "xenabi", "check-patch", "--xen-root", str(tree.root),
            "-o", os.devnull)
    return [Command("check-patch seed", ((*argv, str(fresh)),), warm=True,
                    prepare=((sys.executable, "-c", _FRESH_SEED, str(SEED), str(fresh)),)),
            Command("check-patch seed warm", ((*argv, str(SEED)),), warm=True)]


@dataclass(frozen=True)
class DiffInputs:
    other: Path  #: a copy of the tree's public headers with one constant added
    base_file: Path  #: ``xenabi snapshot`` of the tree
    head_file: Path  #: and of the copy


def diff_inputs(tree: XenTree, work: Path) -> DiffInputs:
    """The second side of the diff commands: a 4.17-sized tree that differs by one line,
    and both trees' snapshot files."""
    other = work / "other"
    shutil.copytree(tree.public, other / "xen" / "include" / "public")
    xen_h = other / "xen" / "include" / "public" / "xen.h"
    xen_h.write_text(xen_h.read_text().replace("#define DOMID_IDLE ",
                                               "#define DOMID_BENCH 0x7FF5\n#define DOMID_IDLE "))
    out = DiffInputs(other, work / "base.json", work / "head.json")
    for root, file in ((tree.root, out.base_file), (other, out.head_file)):
        subprocess.run([sys.executable, "-m", "xenabi", "snapshot", "--xen-root", str(root),
                        "--no-cache", "-o", str(file)], check=True)
    return out


# --------------------------------------------------------------------------
# The baselines' prerequisites


def multilib() -> bool:
    """Whether gcc and g++ can compile for -m32 (Debian's gcc-multilib, g++-multilib)."""
    for cc, lang, header in (("gcc", "c", "stdint.h"), ("g++", "c++", "cstring")):
        probe = subprocess.run([cc, "-m32", "-x", lang, "-include", header, "-fsyntax-only", "-"],
                               input=b"", capture_output=True, check=False)
        if probe.returncode:
            print(f"{cc} -m32 does not work here: install Debian's gcc-multilib and "
                  "g++-multilib; Xen's header check is left out", file=sys.stderr)
            return False
    return True


#: what a few headers want from libc: io/9pfs.h and io/pvcalls.h memcpy/memset
_STANDINS = {"string.h": "#include <stddef.h>\nvoid *memcpy(void *, const void *, size_t);\n"
                         "void *memset(void *, int, size_t);\n"}

#: headers some others are valid only after (arch-x86/pmu.h needs xen.h; the
#: arch-x86/hvm/save.h fragment needs hvm/save.h)
_FIRST = ("xen.h", "hvm/save.h")


def clang_argv(target: Target, tree: XenTree, unit: Path) -> Argv:
    return ("clang", "-fsyntax-only", "-Xclang", "-fdump-record-layouts-complete",
            f"--target={target.clang_triple}", "-ffreestanding", "-nostdlibinc", "-std=gnu11",
            "-D__XEN_TOOLS__", "-iquote", str(tree.public), "-iquote", str(tree.public.parent),
            "-isystem", str(unit.parent), "-o", os.devnull, str(unit))


def clang_units(tree: XenTree, workdir: Path) -> dict[str, Path]:
    """Per target, one C file including every header of it that clang compiles cleanly."""
    for name, text in _STANDINS.items():
        (workdir / name).write_text(text)
    units = {}
    for target in (TARGETS[a] for a in tree_arches(tree.headers)):
        headers = sorted((h for h in tree.headers if not tree.is_extra(h) and (
            not h.startswith("arch-") or any(h == a or h.startswith(a + "/")
                                             for a in target.arch_headers))),
                         key=lambda h: (h not in _FIRST, h))
        unit = workdir / f"{target.name}.c"
        while True:  # drop what clang rejects (#error by design, the other x86 half)
            unit.write_text("#include <stdint.h>\n#include <string.h>\n"
                            + "".join(f'#include "{h}"\n' for h in headers))
            clang = subprocess.run(clang_argv(target, tree, unit), capture_output=True, text=True,
                                   check=False)
            bad = _rejected(clang.stderr, unit, headers)
            if not bad:
                break
            headers = [h for h in headers if h not in bad]
        units[target.name] = unit
    return units


def _rejected(stderr: str, unit: Path, headers: Sequence[str]) -> set[str]:
    """The included headers clang's errors come from (through 'In file included from')."""
    at = re.compile(re.escape(str(unit)) + r":(\d+):")
    bad, top = set(), None
    for line in stderr.splitlines():
        if line.startswith("In file included from ") and top is None:
            m = at.search(line)
            top = int(m.group(1)) if m else None
        elif " error: " in line:
            m = at.match(line)
            line_no = int(m.group(1)) if m else top
            if line_no is not None and line_no > 2:
                bad.add(headers[line_no - 3])
            top = None
        elif not line.startswith(("In file included from ", " ")):
            top = None
    return bad


# --------------------------------------------------------------------------
# Timing


def run(command: Command, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (the children's user + system) of one run of a command."""
    for argv in command.prepare:
        subprocess.run(argv, env=env, cwd=ROOT, check=True)
    before, start = os.times(), time.perf_counter()
    for argv in command.steps:
        proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True, cwd=ROOT, check=False)
        if proc.returncode not in command.ok:
            sys.exit(f"{command.name}: {' '.join(argv)} failed ({proc.returncode}):\n"
                     f"{proc.stderr[-2000:]}")
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system
                                                          - before.children_system)
    return time.perf_counter() - start, cpu


def bytecode() -> None:
    """Compile xenabi's modules as pip does when it installs a wheel: a checkout run with
    PYTHONDONTWRITEBYTECODE set (as some sandboxes and containers set it) compiles every
    module again on every start, 75 ms of a 0.4 s check-patch that no installed copy pays."""
    if not compileall.compile_dir(Path(xenabi.__file__).parent, quiet=1):
        sys.exit("compiling xenabi's modules failed")


def bench(tree: XenTree, rounds: int) -> None:
    bytecode()
    with tempfile.TemporaryDirectory(prefix="xenabi-bench-") as tmp:
        work = Path(tmp)
        env = dict(os.environ, XDG_CACHE_HOME=str(work / "cache"))  # warm means our cache
        cmds = commands(tree, clang_units(tree, work), diff_inputs(tree, work))
        for c in cmds:
            if c.warm:
                run(c, env)
        times: dict[str, list[tuple[float, float]]] = {c.name: [] for c in cmds}
        for i in range(rounds):
            for c in cmds:
                times[c.name].append(run(c, env))
            print(f"round {i + 1}/{rounds} done", file=sys.stderr)
    report(tree, times)


def report(tree: XenTree, times: dict[str, list[tuple[float, float]]]) -> None:
    print(f"{tree.root}: {len(times[next(iter(times))])} alternating rounds, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    print(f"{'command':<22} {'wall median':>11} {'min':>7} {'max':>7} {'cpu median':>11}")
    med = {}
    for name, runs in times.items():
        walls = [w for w, _ in runs]
        med[name] = (statistics.median(walls), statistics.median(c for _, c in runs))
        print(f"{name:<22} {med[name][0]:>10.2f}s {min(walls):>6.2f}s {max(walls):>6.2f}s "
              f"{med[name][1]:>10.2f}s")
    print()
    for r in RATIOS:
        if r.ours in med and r.baseline in med:
            print(f"{r.label:<52} wall {med[r.ours][0] / med[r.baseline][0]:5.2f}   "
                  f"cpu {med[r.ours][1] / med[r.baseline][1]:5.2f}")
    for name, limit in LIMITS.items():
        if name in med:
            verdict = "ok" if med[name][0] <= limit else "over"
            print(f"{name + f' (goal <= {limit} s)':<52} wall {med[name][0]:5.2f}s  {verdict}")


# --------------------------------------------------------------------------
# Where the time goes


#: stages of a cold run: (label, file, function) whose cumulative time is the stage's
STAGES = (("cpp", "preprocess.py", "_run_cpp"),
          ("cpp output scan", "preprocess.py", "_scan"),
          ("attribute rewrite", "cparse.py", "rewrite_attributes"),
          ("split into declarations", "cparse.py", "located"),
          ("pycparser parse", "cparse.py", "_parse"),
          ("model (Converter.visit)", "cparse.py", "visit"),
          ("record layouts", "snapshot.py", "record_layouts"),
          ("constants (cexpr)", "snapshot.py", "_constants"),
          ("typedef layouts", "snapshot.py", "_typedef_layouts"))


def profile(tree: XenTree) -> None:
    """A cold run's work as ``xenabi snapshot``'s workers do it: one process per arch family,
    each parsing what its target-views share once; here one after the other, profiled."""
    from xenabi.snapshot import take_all

    families: dict[str, list[str]] = {}
    for a in tree_arches(tree.headers):
        families.setdefault(TARGETS[a].arch_family, []).append(a)
    prof = cProfile.Profile()
    for family, arches in families.items():
        start = time.process_time()
        prof.enable()
        take_all(tree, arches, use_cache=False, jobs=1)
        prof.disable()
        print(f"{family} ({', '.join(arches)}, both views): "
              f"{time.process_time() - start:.2f}s CPU (profiled)")
    stats = pstats.Stats(prof)
    total = sum(v[3] for (f, _, fn), v in stats.stats.items()
                if f.endswith("snapshot.py") and fn == "take_all")
    for label, file, func in STAGES:
        cumulative = sum(v[3] for (f, _, fn), v in stats.stats.items()
                         if f.endswith(file) and fn == func)
        print(f"  {label:<26} {cumulative:6.2f}s  {100 * cumulative / total:4.0f}%")
    print()
    stats.sort_stats("tottime").print_stats(20)


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--xen-root", help="the Xen tree (default: as xenabi finds it)")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--profile", action="store_true", help="profile a cold run instead")
    args = p.parse_args(argv)
    tree = find_tree(args.xen_root)
    if shutil.which("clang") is None:
        sys.exit("clang not found: Debian's clang package is the layout-dump baseline")
    if args.profile:
        profile(tree)
    else:
        bench(tree, args.rounds)


if __name__ == "__main__":
    main()
