"""Render a checked series (:class:`~xenabi.checkpatch.Result`): text; JSON, SARIF and
GitLab as ``diff`` gives them (:mod:`xenabi.diffreport`); and a mail reply.

The ``email`` form is what a reviewer pastes into a reply on xen-devel:
plain text, no ANSI, every line shorter than 76 columns; the targets and
views checked, each breaking or suspicious change with both values, the
compatible additions, the docs findings, and how hunks were placed when
not exactly.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from xenabi.diff import DiffReport, values
from xenabi.diffreport import RENDERERS, change_fingerprint, change_line, to_json
from xenabi.model import ChangeClass, Severity

if TYPE_CHECKING:
    from xenabi.checkpatch import Result, Step
    from xenabi.model import Change

#: an e-mail line is shorter than this
EMAIL_WIDTH = 76

_CLASSES = (ChangeClass.BREAKING, ChangeClass.SUSPICIOUS, ChangeClass.COMPATIBLE)


def render(result: Result, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(series_json(result), indent=2, sort_keys=True) + "\n"
    if fmt in ("sarif", "gitlab"):
        return RENDERERS[fmt](combined(result))
    lines = email_lines(result) if fmt == "email" else text_lines(result)
    return "".join(f"{ln}\n" for ln in lines)


def _where(arches: tuple[str, ...], views: tuple[str, ...]) -> str:
    return f"{' '.join(arches)} / {' '.join(views)}"


def _ordered(r: DiffReport) -> list[Change]:
    return sorted(r.changes, key=lambda c: (_CLASSES.index(c.cls), c.file or "", c.line or 0))


def _verdict(r: DiffReport) -> str:
    """``1 breaking, 0 suspicious, 2 compatible; 0 new findings: exit 1``."""
    n = len(r.findings)
    counts = ", ".join(f"{r.count(cls)} {cls.value}" for cls in _CLASSES)
    return f"{counts}; {n} new finding{'s' if n != 1 else ''}: exit {r.exit_status()}"


def _not_run(result: Result) -> str:
    """The rules the base cannot feed (the same for every step): said once."""
    top = result.reports[-1]
    return ", ".join(f"{rule} ({why})" for rule, why in top.not_run)


def text_lines(result: Result) -> Iterator[str]:
    yield (f"xenabi check-patch: base {result.base}; "
           f"{_where(result.arches, result.views)}")
    if _not_run(result):
        yield f"not run: {_not_run(result)}"
    n = len(result.steps)
    for i, (step, report) in enumerate(zip(result.steps, result.reports), 1):
        yield ""
        yield f"patch {i}/{n}: {step.patch.name}"
        yield from (f"  {p.describe()}" for p in step.placements if not p.exact)
        yield from (f"  {f}: not applied (the base is a headers directory)"
                    for f in step.not_applied)
        yield from _text_report(report)
    if result.whole is not None:
        yield ""
        yield f"{result.whole.head}:"
        yield from _text_report(result.whole)
    yield ""
    yield f"xenabi check-patch: exit {result.exit_status()}"


def _text_report(r: DiffReport) -> Iterator[str]:
    yield from (f"  {change_line(c)}" for c in _ordered(r))
    yield from (f"  {f} [new]" for f in r.findings)
    yield f"  verdict: {_verdict(r)}"


def _wrap(text: str, indent: str = "", later: str | None = None) -> list[str]:
    return textwrap.wrap(text, EMAIL_WIDTH - 1, initial_indent=indent,
                         subsequent_indent=later if later is not None else indent + "  ",
                         break_long_words=True, break_on_hyphens=False)


_TITLES = {ChangeClass.BREAKING: "Breaking", ChangeClass.SUSPICIOUS: "Suspicious",
           ChangeClass.COMPATIBLE: "Compatible additions"}


def _email_change(c: Change) -> str:
    """A breaking or suspicious change with both values per target; an addition with
    its value."""
    return f"- {c.file}:{c.line}: {c.message} ({values(c)}; {' '.join(c.views)})"


def _email_verdict(r: DiffReport, step: Step | None) -> Iterator[str]:
    if step is not None:
        for p in step.placements:
            if not p.exact:
                yield from _wrap(p.describe(), "  ")
    for cls in _CLASSES:
        changes = [c for c in _ordered(r) if c.cls is cls]
        if changes:
            yield f"  {_TITLES[cls]}:"
            for c in changes:
                yield from _wrap(_email_change(c), "    ", "      ")
    # information (a family's long-standing gaps) is for a tree's report, not a reply
    shown = [f for f in r.findings if f.severity is not Severity.INFO]
    docs = [f for f in shown if f.rule.startswith("doc-")]
    other = [f for f in shown if not f.rule.startswith("doc-")]
    for title, found in (("New findings", other), ("Docs", docs)):
        if found:
            yield f"  {title}:"
            for f in found:
                yield from _wrap(f"- {f}", "    ", "      ")
    yield from _wrap(f"Verdict: {_verdict(r)}.", "  ")


def email_lines(result: Result) -> Iterator[str]:
    """The verdict as plain text for a reply; every line shorter than :data:`EMAIL_WIDTH`."""
    yield from _wrap(f"xenabi check-patch, against {result.base}", "")
    yield from _wrap(f"Checked: {' '.join(result.arches)}; views: "
                     f"{' '.join(result.views)}.", "")
    if _not_run(result):
        yield from _wrap(f"Not run: {_not_run(result)}.", "")
    n = len(result.steps)
    for i, (step, report) in enumerate(zip(result.steps, result.reports), 1):
        yield ""
        yield from _wrap(f"Patch {i}/{n}: {step.patch.name}", "")
        yield from _email_verdict(report, step)
    if result.whole is not None:
        yield ""
        yield from _wrap(f"The series as a whole ({n} patches):", "")
        yield from _email_verdict(result.whole, None)
    yield ""
    status = result.exit_status()
    yield "Result: " + ("no breaking or suspicious change, no new error." if status == 0
                        else "needs a look (see above).")


def series_json(result: Result) -> dict[str, object]:
    """``diff``'s JSON (``xenabi-findings/1``) of the whole series (or the one patch) at
    the top, and each patch's, with how its hunks were placed, under ``patches``."""
    top = result.whole if result.whole is not None else result.reports[-1]
    patches = []
    for step, r in zip(result.steps, result.reports):
        patches.append({**to_json(r), "name": step.patch.name, "exit": r.exit_status(),
                        "placements": [
            {"file": p.file, "hunk": p.header, "line": p.line, "offset": p.offset,
             "how": p.how, "blank_lines_restored": p.blank_restored}
            for p in step.placements], "not_applied": list(step.not_applied)})
    return {**to_json(top), "exit": result.exit_status(), "patches": patches}


def combined(result: Result) -> DiffReport:
    """One report for the formats that hold one (SARIF, GitLab): the whole series', and
    each step's changes and findings it lacks (a patch that breaks what an earlier one
    added), once each."""
    top = result.whole if result.whole is not None else result.reports[-1]
    changes = {change_fingerprint(c): c for c in top.changes}
    found = {f.identity(): f for f in top.findings}
    for r in result.reports:
        for c in r.changes:
            changes.setdefault(change_fingerprint(c), c)
        for f in r.findings:
            found.setdefault(f.identity(), f)
    return replace(top, changes=tuple(changes.values()), findings=tuple(found.values()))
