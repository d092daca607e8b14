"""``xenabi history REV_RANGE``: the ABI changelog of a range, each commit judged against its parent.

Only the commits that touch the public headers or what the rules read
(the pandoc docs, xlat.lst, reference.size) are listed, oldest first. Text
for people, ``--format json`` (``xenabi-history/1``) for tools,
``--format markdown`` for release notes. ``--first-breaking`` stops at the
first commit ``diff`` would reject and prints it (the bisect use). A
progress bar goes to stderr when it is a terminal (not with ``--quiet``);
Ctrl-C stops cleanly, prints what was judged, and exits 130.

Exit 0: no commit breaks anything; 1: one does; 2: unusable input; 130:
interrupted.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, TextIO


if TYPE_CHECKING:  # the pipeline loads only when the command runs
    from xenabi.gitwalk import Commit
    from xenabi.history import Step, Verdict, Walk

    HStep = Step[Verdict]
    HWalk = Walk[Verdict]

HISTORY_SCHEMA = "xenabi-history/1"


def configure_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from xenabi.cli import add_target_options

    p = sub.add_parser("history", help="the ABI changelog of a range of commits (exit 0/1/2)")
    p.add_argument("range", metavar="REV_RANGE",
                   help="a git revision range: RELEASE-4.21.0..RELEASE-4.22.0, origin/staging~20..")
    p.add_argument("--repo", metavar="DIR", default=".",
                   help="the Xen repository (a work tree or a bare git directory; default: .)")
    add_target_options(p)
    p.add_argument("--format", default="text", choices=["text", "json", "markdown"])
    p.add_argument("--title", help="the markdown heading (default: 'ABI changes in X.Y' "
                                   "when the range ends at a RELEASE-X.Y.Z tag)")
    p.add_argument("--first-breaking", action="store_true",
                   help="stop at the first commit diff would reject, and print it alone")
    p.add_argument("--all", action="store_true",
                   help="also list the commits that changed nothing")
    p.add_argument("--waivers", metavar="FILE",
                   help="waiver file (default: each commit's own, else the one xenabi ships "
                        "for its Xen release)")
    p.add_argument("--no-waivers", action="store_true", help="apply no waivers at all")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.set_defaults(execute=execute)


class ProgressBar:
    """One line on a terminal: the bar, the commit being judged, the time left."""

    WIDTH = 24

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, i: int, n: int, commit: Commit, elapsed: float) -> None:
        done = self.WIDTH * i // max(n, 1)
        left = f"~{_duration(elapsed / i * (n - i))} left" if i else "estimating"
        line = (f"[{'#' * done}{'.' * (self.WIDTH - done)}] {i + 1}/{n} "
                f"{commit.id[:12]} {commit.subject}")
        self.stream.write(f"\r{line[:60]:60} {left}\x1b[K")
        self.stream.flush()

    def clear(self) -> None:
        self.stream.write("\r\x1b[K")
        self.stream.flush()


def _duration(seconds: float) -> str:
    s = int(seconds + 0.5)
    return f"{s // 60} min {s % 60:02d} s" if s >= 60 else f"{s} s"


def execute(args: argparse.Namespace) -> int:
    from xenabi import check, history
    from xenabi import waivers as waivers_mod
    from xenabi.cli.output import emit
    from xenabi.errors import UsageError
    from xenabi.gitwalk import Git
    from xenabi.tree import XenTree
    from xenabi.waivers import Waiver

    if args.no_waivers and args.waivers:
        raise UsageError("--waivers and --no-waivers exclude each other")
    explicit = () if args.no_waivers else (
        waivers_mod.load(args.waivers) if args.waivers else None)
    shipped: dict[str | None, tuple[Waiver, ...]] = {}

    def waivers(tree: XenTree) -> tuple[Waiver, ...]:
        if explicit is not None:
            return explicit
        version = check.xen_version(tree)
        if version not in shipped:
            shipped[version] = check.default_waivers(tree)
        return shipped[version]

    git = Git(args.repo)
    bar = ProgressBar(sys.stderr) if not args.quiet and sys.stderr.isatty() else None
    evaluator = history.Evaluator(args.arch, args.view)
    stop = (lambda v: v.exit != 0) if args.first_breaking else None
    try:
        result = history.walk(git, args.range, evaluator, history.judge_findings(waivers),
                              progress=bar, stop=stop)
    finally:
        if bar is not None:
            bar.clear()
    steps = list(result.steps)
    if args.first_breaking:
        steps = [s for s in steps if s.verdict.exit != 0][:1]
    text = render(args.format, result, steps, args)
    emit(text, args.output)
    if result.interrupted:
        print(f"xenabi history: interrupted: {len(result.steps)} of {len(result.listed)} "
              f"commits judged", file=sys.stderr)
        from xenabi.cli import EXIT_INTERRUPTED

        return EXIT_INTERRUPTED
    return int(any(s.verdict.exit for s in result.steps))


def render(fmt: str, result: HWalk, steps: list[HStep], args: argparse.Namespace) -> str:
    if fmt == "json":
        return json.dumps(to_json(result, steps), indent=2, sort_keys=True) + "\n"
    shown = steps if args.all or args.first_breaking else [s for s in steps if _anything(s)]
    lines = markdown(result, shown, args.title) if fmt == "markdown" else text(result, shown)
    return "".join(ln + "\n" for ln in lines)


def _anything(step: HStep) -> bool:
    return bool(step.verdict.changes or step.verdict.findings)


def to_json(result: HWalk, steps: list[HStep]) -> dict[str, object]:
    """``xenabi-history/1``: every judged commit, oldest first, in ``diff``'s JSON form."""
    commits = []
    for s in steps:
        commits.append({"commit": s.commit.id, "subject": s.commit.subject,
                        "exit": s.verdict.exit, "changes": [dict(c) for c in s.verdict.changes],
                        "findings": [f.to_json() for f in s.verdict.findings]})
    return {"schema": HISTORY_SCHEMA, "range": result.revrange, "commits": commits,
            "skipped": [{"commit": c.id, "subject": c.subject, "why": why}
                        for c, why in result.skipped],
            "interrupted": result.interrupted}


def _change_line(c: Mapping[str, object]) -> str:
    where = f"{c['file']}:{c['line']}: " if c.get("file") and c.get("line") else (
        f"{c['file']}: " if c.get("file") else "")
    return f"{where}{c['class']}: {c['message']}"


_CLASSES = ("breaking", "suspicious", "compatible")


def text(result: HWalk, steps: list[HStep]) -> Iterator[str]:
    from xenabi.report import waived_line

    for s in steps:
        v = s.verdict
        yield f"{s.commit.id[:12]} {s.commit.subject}"
        for cls in _CLASSES:
            for change in v.changes:
                if change.get("class") == cls:
                    yield f"  {_change_line(change)}"
        for f in v.findings:
            yield f"  {waived_line(f) if f.waived else f'new: {f}'}"
        if not (v.changes or v.findings):
            yield "  no ABI change"
    for c, why in result.skipped:
        yield f"{c.id[:12]} {c.subject}\n  not judged: {why}"
    judged = len(result.steps)
    rejected = sum(st.verdict.exit != 0 for st in result.steps)
    counts = ", ".join(f"{sum(st.verdict.count(cls) for st in result.steps)} {cls}"
                       for cls in _CLASSES)
    new = sum(len(st.verdict.findings) for st in result.steps)
    stopped = " (interrupted)" if result.interrupted else ""
    yield (f"xenabi history {result.revrange}: {judged} of {len(result.listed)} commits "
           f"judged{stopped}; {rejected} rejected; {counts} changes; {new} new findings")


def _title(revrange: str) -> str:
    m = re.search(r"RELEASE-(\d+)\.(\d+)\.\d+$", revrange)
    return f"ABI changes in {m.group(1)}.{m.group(2)}" if m else f"ABI changes in {revrange}"


def markdown(result: HWalk, steps: list[HStep], title: str | None) -> Iterator[str]:
    """Release notes: one section per class, each change naming its commit."""
    yield f"# {title or _title(result.revrange)}"
    yield ""
    yield (f"{len(result.steps)} commits of `{result.revrange}` touch the public headers "
           f"or the documents describing them" + (" (interrupted)." if result.interrupted
                                                   else "."))
    sections: dict[str, list[str]] = {cls: [] for cls in (*_CLASSES, "findings")}
    for s in steps:
        ref = f"({s.commit.id[:12]} {_md(s.commit.subject)})"
        for c in s.verdict.changes:
            sections[str(c.get("class"))].append(f"- {_md(_change_line(c))} {ref}")
        for f in s.verdict.findings:
            sections["findings"].append(f"- {_md(str(f))} {ref}")
    names = {"breaking": "Breaking changes", "suspicious": "Suspicious changes",
             "compatible": "Compatible changes", "findings": "New findings"}
    for key, items in sections.items():
        if items:
            yield ""
            yield f"## {names[key]}"
            yield ""
            yield from items
    if not any(sections.values()):
        yield ""
        yield "No ABI change."


def _md(s: str) -> str:
    """Text that markdown shows as it is."""
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", s)

