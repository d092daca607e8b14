#!/usr/bin/env python3
"""Per-commit figures of ``xenabi history`` on real Xen history (a plain script, not a test).

Usage: ``python3 bench/history.py [--repo DIR] [RANGE]``; default: the full
clone at /work/.mirror/xen-project+xen/repo and RELEASE-4.21.0..RELEASE-4.22.0.
Prints each commit's wall time and how many target-views it computed again,
then the mean and median per commit, wall and CPU (this process and its cpp
children), split into commits that change a header and those that do not.

Measured 2026-12-04 on RELEASE-4.21.0..RELEASE-4.22.0 (36 commits, the
2-core machine at load 1.5-1.8, its speed moving by a quarter between runs):
with an empty cache 22.8 s wall, 0.63 s per commit; pandoc's cache warm,
19.5-25.6 s over six runs, 0.54-0.71 s per commit. The first commit's
parent is computed from nothing (3.6-6.2 s); of the 35 others, 29 keep or
derive every snapshot (0.18-0.21 s on average: docs, comments, macros,
DOMID_ANY's function-like macro included) and 6 compute target-views again
(1.5-2.0 s on average, 68 target-views of 296 in all: declarations and
conditionals change, and their units' layouts and constants are computed
whole, only the unchanged declarations' parse reused); the 35 average
0.42-0.52 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from xenabi import gcpause  # noqa: E402
from xenabi.gitwalk import Git  # noqa: E402
from xenabi.history import Evaluator, judge_findings, walk  # noqa: E402


def cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("range", nargs="?", default="RELEASE-4.21.0..RELEASE-4.22.0")
    ap.add_argument("--repo", default="/work/.mirror/xen-project+xen/repo")
    args = ap.parse_args()
    git = Git(args.repo)
    ev = Evaluator()
    #: per commit judged: target-views computed, of those preprocessed only, in its state
    rows: list[tuple[int, int, int]] = []
    last = [0, 0]
    views = [0]  # the target-views of every state made, the first commit's base included

    def judge_counting(tree, base, head):  # type: ignore[no-untyped-def]
        rows.append((ev.recomputed - last[0], ev.same_unit - last[1], len(head.snapshots)))
        last[:] = ev.recomputed, ev.same_unit
        views[0] = views[0] or len(base.snapshots)
        return judge(tree, base, head)

    judge = judge_findings(lambda tree: ())
    t0, c0 = time.perf_counter(), cpu()
    with gcpause.paused():
        result = walk(git, args.range, ev, judge_counting)
    wall, used = time.perf_counter() - t0, cpu() - c0
    secs = [s.seconds for s in result.steps]
    print(f"{'commit':12} {'wall':>6} {'views':>5} {'same':>4}  subject")
    for s, (again, same, _) in zip(result.steps, rows):
        print(f"{s.commit.id[:12]} {s.seconds:6.2f} {again:5d} {same:4d}  "
              f"{s.commit.subject[:56]}")
    n = len(secs)
    first = secs[0] if secs else 0.0
    rest = secs[1:]
    header = [s.seconds for s, r in zip(result.steps[1:], rows[1:]) if r[0] > r[1]]
    other = [s.seconds for s, r in zip(result.steps[1:], rows[1:]) if r[0] == r[1]]
    print(f"\n{args.range}: {n} commits judged in {wall:.1f} s wall, {used:.1f} s CPU "
          f"(load {os.getloadavg()[0]:.1f})")
    print(f"  first commit (its parent computed from nothing): {first:.2f} s")
    if rest:
        print(f"  the others: mean {statistics.mean(rest):.2f} s, median "
              f"{statistics.median(rest):.2f} s per commit")
    if header:
        print(f"  {len(header)} that parsed target-views again: mean "
              f"{statistics.mean(header):.2f} s")
    if other:
        print(f"  {len(other)} that kept, derived or only preprocessed every snapshot: mean "
              f"{statistics.mean(other):.2f} s")
    total = views[0] + sum(r[2] for r in rows)
    print(f"  over the whole range: {wall / max(n, 1):.2f} s wall, {used / max(n, 1):.2f} s CPU "
          f"per commit; of {total} target-views, {ev.recomputed} preprocessed again, "
          f"{ev.recomputed - ev.same_unit} of them parsed and laid out again")
    return 0


if __name__ == "__main__":
    sys.exit(main())
