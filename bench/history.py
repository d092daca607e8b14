#!/usr/bin/env python3
"""Per-commit figures of ``xenabi history`` on real Xen history (a plain script, not a test).

Usage: ``python3 bench/history.py [--repo DIR] [RANGE]``; default: the full
clone at /work/.mirror/xen-project+xen/repo and RELEASE-4.21.0..RELEASE-4.22.0.
Prints each commit's wall time, how many target-views it preprocessed again
and how many of those it had unparsed (the last trail's units), then the mean
and median per commit, wall and CPU (this process and its cpp children),
split into commits that parsed target-views again and those that did not.

Measured 2026-12-04 (2 cores, load 1.5-1.7), the cache warm unless said:
RELEASE-4.21.0..RELEASE-4.22.0, 36 commits, 11.5-12.1 s wall, 0.32-0.33 s
per commit (14.0 s, 0.39 s, with the cache empty); RELEASE-4.20.0..
RELEASE-4.21.0, 50 commits, 32.9 s, 0.66 s per commit. The first commit's
parent is computed from nothing (2.2-2.4 s); a commit that keeps, derives or
only preprocesses every snapshot costs 0.12-0.16 s; one that changes
declarations parses again the target-views its headers reach (24 of the 50
of 4.21's cycle, 1.05 s on average; 5 of the 36 of 4.22's, 0.82-0.87 s).
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
