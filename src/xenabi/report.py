"""Render a check :class:`~xenabi.check.Report`: text lines, ``xenabi-findings/1`` JSON, SARIF.

The text form is one line per finding, ``file:line: severity: message
[rule]`` (what compilers print, so editors can jump to it), then one short
line per waived finding (:func:`waived_line`; the whole finding and the
waiver's reason with ``show_waived``) and a one-line summary. The pytest plugin and the CLI both print
findings through :func:`line`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from xenabi import __version__
from xenabi.model import Finding, Severity, place

# only annotations name them: rendering needs none of the rules these modules load
if TYPE_CHECKING:
    from xenabi.check import Report
    from xenabi.waivers import Waiver

FINDINGS_SCHEMA = "xenabi-findings/1"

_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


def line(f: Finding) -> str:
    """``xen/include/public/xen.h:876: error: ... [flags]``."""
    return str(f)


def where(f: Finding) -> str:
    """The targets and views of a finding: ``x86_32 x86_64 / guest tools``."""
    return f"{' '.join(f.arches)} / {' '.join(f.views)}"


def waived_line(f: Finding, w: Waiver | None = None) -> str:
    """``waived [flags] PSR_DBG_MASK at xen/include/public/arch-arm.h:344
    (xenabi/data/waivers.toml:11)``: what was waived and by which entry, without the
    finding's severity (a known finding is not something to act on) or the reason."""
    symbol = f" {f.symbols[0]}" if f.symbols else ""
    at = f" at {p}" if (p := place(f.file, f.line)) else ""
    by = f" ({w.file}:{w.line})" if w is not None else ""
    return f"waived [{f.rule}]{symbol}{at}{by}"


def waived_full(f: Finding, w: Waiver) -> str:
    """The waived finding in full, the waiver's place, reason and evidence (``--show-waived``)."""
    return f"waived: {line(f)} by {w.file}:{w.line}: {w.reason} ({w.evidence})"


def text_lines(report: Report, min_severity: Severity = Severity.INFO,
               show_waived: bool = False) -> Iterator[str]:
    for f in report.findings:
        if _RANK[f.severity] >= _RANK[min_severity]:
            yield f"{line(f)} ({where(f)})"
    for f, w in report.waived:
        yield waived_full(f, w) if show_waived else waived_line(f, w)
    yield summary(report, min_severity)


def summary(report: Report, min_severity: Severity = Severity.INFO) -> str:
    counts = ", ".join(f"{report.count(s)} {s.value}{'s' if report.count(s) != 1 else ''}"
                       for s in (Severity.ERROR, Severity.WARNING, Severity.INFO))
    hidden = sum(_RANK[f.severity] < _RANK[min_severity] for f in report.findings)
    shown = f" ({hidden} below {min_severity.value} not shown)" if hidden else ""
    files = f" by {', '.join(report.waiver_files)}" if report.waived else ""
    return (f"xenabi check: {counts}{shown}; {len(report.waived)} waived{files}; "
            f"{' '.join(report.arches)} / {' '.join(report.views)}{_not_run(report)}")


def _not_run(report: Report) -> str:
    """``; not run: doc-refs, doc-coverage (no docs/)``: the rules grouped by what is missing."""
    by_why: dict[str, list[str]] = {}
    for rule, why in report.not_run:
        by_why.setdefault(why, []).append(rule)
    return "".join(f"; not run: {', '.join(rules)} ({why})" for why, rules in by_why.items())


def to_json(report: Report) -> dict[str, object]:
    return {"schema": FINDINGS_SCHEMA,
            "findings": [f.to_json() for f in report.all_findings()]}


def json_text(report: Report) -> str:
    return json.dumps(to_json(report), indent=2, sort_keys=True) + "\n"


_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def to_sarif(report: Report) -> dict[str, object]:
    """SARIF 2.1.0, one result per finding; waived findings carry an accepted suppression."""
    from xenabi.rules import REGISTRY

    results = []
    for f, w in [*((f, None) for f in report.findings), *report.waived]:
        result: dict[str, object] = {
            "ruleId": f.rule, "level": _SARIF_LEVEL[f.severity],
            "message": {"text": f.message},
            "properties": {"arches": list(f.arches), "views": list(f.views),
                           "symbols": list(f.symbols)},
        }
        if f.file:
            region = {"startLine": f.line} if f.line else {}
            result["locations"] = [{"physicalLocation": {
                "artifactLocation": {"uri": f.file, "uriBaseId": "XENROOT"},
                **({"region": region} if region else {})}}]
        if w is not None:
            result["suppressions"] = [{"kind": "external", "status": "accepted",
                                       "justification": f"{w.reason} ({w.evidence})"}]
        results.append(result)
    rules = [{"id": r.id, "shortDescription": {"text": r.summary}}
             for r in REGISTRY.values() if r.id in report.rules]
    return {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
            "runs": [{"tool": {"driver": {"name": "xenabi", "version": __version__,
                                          "rules": rules}},
                      "results": results}]}


def sarif_text(report: Report) -> str:
    return json.dumps(to_sarif(report), indent=2, sort_keys=True) + "\n"


def text(report: Report, min_severity: Severity = Severity.INFO,
         show_waived: bool = False) -> str:
    return "".join(s + "\n" for s in text_lines(report, min_severity, show_waived))


#: every output format by name: a renderer takes the report, the lowest severity the
#: text form prints and whether it prints waived findings in full (the others carry
#: everything). ``--format``'s choices are its keys; a format is one more entry (a
#: renderer of a Report subclass checks what it is given).
RENDERERS: dict[str, Callable[[Report, Severity, bool], str]] = {
    "text": text,
    "json": lambda report, _, __: json_text(report),
    "sarif": lambda report, _, __: sarif_text(report),
}
