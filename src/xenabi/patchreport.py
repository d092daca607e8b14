"""Render a checked series (:class:`~xenabi.checkpatch.Result`): text, JSON, and a mail reply.

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
from typing import TYPE_CHECKING

from xenabi.model import Severity

if TYPE_CHECKING:
    from xenabi.checkpatch import Result, Step, Verdict
    from xenabi.model import Change

FINDINGS_SCHEMA = "xenabi-findings/1"

#: an e-mail line is shorter than this
EMAIL_WIDTH = 76

_CLASSES = ("breaking", "suspicious", "compatible")


def render(result: Result, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(to_json(result), indent=2, sort_keys=True) + "\n"
    lines = email_lines(result) if fmt == "email" else text_lines(result)
    return "".join(f"{ln}\n" for ln in lines)


def _where(arches: tuple[str, ...], views: tuple[str, ...]) -> str:
    return f"{' '.join(arches)} / {' '.join(views)}"


def _change_line(c: Change) -> str:
    return f"{c} ({_where(c.arches, c.views)})"


def _counts(v: Verdict) -> str:
    parts = [f"{sum(c.cls.value == k for c in v.changes)} {k}" for k in _CLASSES]
    errors = sum(f.severity is Severity.ERROR for f in v.findings)
    parts.append(f"{errors} new error{'s' if errors != 1 else ''}")
    return ", ".join(parts)


def _ordered(v: Verdict) -> list[Change]:
    return sorted(v.changes, key=lambda c: (_CLASSES.index(c.cls.value), c.file or "",
                                            c.line or 0))


def text_lines(result: Result) -> Iterator[str]:
    yield (f"xenabi check-patch: base {result.base}; "
           f"{_where(result.arches, result.views)}")
    n = len(result.steps)
    for i, (step, verdict) in enumerate(zip(result.steps, result.verdicts), 1):
        yield ""
        yield f"patch {i}/{n}: {step.patch.name}"
        yield from (f"  {p.describe()}" for p in step.placements if not p.exact)
        yield from (f"  {f}: not applied (the base is a headers directory)"
                    for f in step.not_applied)
        yield from (f"  {_change_line(c)}" for c in _ordered(verdict))
        yield from (f"  {f}" for f in verdict.findings)
        yield f"  verdict: {_counts(verdict)}: exit {verdict.exit_status()}"
    if result.whole is not None:
        yield ""
        yield f"{result.whole.name}:"
        yield from (f"  {_change_line(c)}" for c in _ordered(result.whole))
        yield from (f"  {f}" for f in result.whole.findings)
        yield f"  verdict: {_counts(result.whole)}: exit {result.whole.exit_status()}"
    yield ""
    yield f"xenabi check-patch: exit {result.exit_status()}"


def _wrap(text: str, indent: str = "", later: str | None = None) -> list[str]:
    return textwrap.wrap(text, EMAIL_WIDTH - 1, initial_indent=indent,
                         subsequent_indent=later if later is not None else indent + "  ",
                         break_long_words=True, break_on_hyphens=False)


def _email_verdict(v: Verdict, step: Step | None) -> Iterator[str]:
    if step is not None:
        for p in step.placements:
            if not p.exact:
                yield from _wrap(p.describe(), "  ")
    for cls in _CLASSES:
        changes = [c for c in _ordered(v) if c.cls.value == cls]
        if not changes:
            continue
        title = {"breaking": "Breaking", "suspicious": "Suspicious",
                 "compatible": "Compatible additions"}[cls]
        yield f"  {title}:"
        for c in changes:
            yield from _wrap(f"- {c.file}:{c.line}: {c.message}, on "
                             f"{_where(c.arches, c.views)}", "    ", "      ")
    # information (a family's long-standing gaps) is for a tree's report, not a reply
    shown = [f for f in v.findings if f.severity is not Severity.INFO]
    docs = [f for f in shown if f.rule.startswith("doc-")]
    other = [f for f in shown if not f.rule.startswith("doc-")]
    for title, found in (("New findings", other), ("Docs", docs)):
        if found:
            yield f"  {title}:"
            for f in found:
                yield from _wrap(f"- {f}", "    ", "      ")
    yield from _wrap(f"Verdict: {_counts(v)}.", "  ")


def email_lines(result: Result) -> Iterator[str]:
    """The verdict as plain text for a reply; every line shorter than :data:`EMAIL_WIDTH`."""
    yield from _wrap(f"xenabi check-patch, against {result.base}", "")
    yield from _wrap(f"Checked: {' '.join(result.arches)}; views: "
                     f"{' '.join(result.views)}.", "")
    n = len(result.steps)
    for i, (step, verdict) in enumerate(zip(result.steps, result.verdicts), 1):
        yield ""
        yield from _wrap(f"Patch {i}/{n}: {step.patch.name}", "")
        yield from _email_verdict(verdict, step)
    if result.whole is not None:
        yield ""
        yield from _wrap(f"The series as a whole ({n} patches):", "")
        yield from _email_verdict(result.whole, None)
    yield ""
    status = result.exit_status()
    yield "Result: " + ("no breaking or suspicious change, no new error." if status == 0
                        else "needs a look (see above).")


def _verdict_json(v: Verdict) -> dict[str, object]:
    return {"name": v.name, "exit": v.exit_status(),
            "changes": [c.to_json() for c in v.changes],
            "findings": [f.to_json() for f in v.findings]}


def to_json(result: Result) -> dict[str, object]:
    """``xenabi-findings/1``: the last verdict's (or the whole series') changes and
    findings at the top, as ``diff`` prints them, and each patch's under ``patches``."""
    top = result.whole if result.whole is not None else result.verdicts[-1]
    patches = []
    for step, v in zip(result.steps, result.verdicts):
        patches.append({**_verdict_json(v), "placements": [
            {"file": p.file, "hunk": p.header, "line": p.line, "offset": p.offset,
             "how": p.how, "blank_lines_restored": p.blank_restored}
            for p in step.placements], "not_applied": list(step.not_applied)})
    return {"schema": FINDINGS_SCHEMA, "base": result.base, "arches": list(result.arches),
            "views": list(result.views), "exit": result.exit_status(),
            "changes": [c.to_json() for c in top.changes],
            "findings": [f.to_json() for f in top.findings], "patches": patches}
