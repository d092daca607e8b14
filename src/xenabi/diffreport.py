"""Render a :class:`~xenabi.diff.DiffReport`: text, ``xenabi-findings/1`` JSON with
``changes``, SARIF 2.1.0 and GitLab Code Quality.

Fingerprints (SARIF ``partialFingerprints``, GitLab ``fingerprint``) hash a
change's kind, symbol and message, and a finding's identity: never a line,
so moving lines never makes an old result new.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator

from xenabi import __version__
from xenabi.diff import DiffReport, values
from xenabi.model import Change, ChangeClass, Finding, Severity
from xenabi.report import FINDINGS_SCHEMA

_CLASSES = (ChangeClass.BREAKING, ChangeClass.SUSPICIOUS, ChangeClass.COMPATIBLE)


def change_line(c: Change) -> str:
    """``xen/include/public/xen.h:678: breaking: struct vcpu_info: size changed (64 -> 72 on ...)``."""
    return f"{c} ({values(c)}; {' '.join(c.views)})"


def text_lines(r: DiffReport) -> Iterator[str]:
    yield f"xenabi diff: base {r.base}; head {r.head}"
    for cls in _CLASSES:
        for c in r.changes:
            if c.cls is cls:
                yield change_line(c)
    for f in r.findings:
        yield f"{f} ({' '.join(f.arches)} / {' '.join(f.views)}) [new]"
    yield summary(r)


def summary(r: DiffReport) -> str:
    counts = ", ".join(f"{r.count(cls)} {cls.value}" for cls in _CLASSES)
    n = len(r.findings)
    not_run = "".join(f"; not run: {rule} ({why})" for rule, why in r.not_run)
    return (f"xenabi diff: {counts}; {n} new finding{'s' if n != 1 else ''}; "
            f"{' '.join(r.arches)} / {' '.join(r.views)}{not_run}")


def _summary_json(r: DiffReport) -> dict[str, object]:
    return {"base": r.base, "head": r.head, "arches": list(r.arches), "views": list(r.views),
            "counts": {cls.value: r.count(cls) for cls in _CLASSES},
            "new_findings": len(r.findings),
            "not_run": [{"rule": rule, "why": why} for rule, why in r.not_run]}


def to_json(r: DiffReport) -> dict[str, object]:
    return {"schema": FINDINGS_SCHEMA, "summary": _summary_json(r),
            "changes": [c.to_json() for c in r.changes],
            "findings": [f.to_json() for f in r.findings]}


def change_fingerprint(c: Change) -> str:
    return hashlib.sha256(f"{c.kind}\0{c.symbol}\0{c.message}".encode()).hexdigest()


def finding_fingerprint(f: Finding) -> str:
    rule, symbols, message = f.identity()
    return hashlib.sha256(f"{rule}\0{','.join(symbols)}\0{message}".encode()).hexdigest()


def _location(file: str | None, line: int | None) -> list[dict[str, object]]:
    if not file:
        return []
    region = {"region": {"startLine": line}} if line else {}
    return [{"physicalLocation": {"artifactLocation": {"uri": file, "uriBaseId": "XENROOT"},
                                  **region}}]


_LEVEL = {ChangeClass.BREAKING: "error", ChangeClass.SUSPICIOUS: "warning",
          ChangeClass.COMPATIBLE: "note"}
_FINDING_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def to_sarif(r: DiffReport) -> dict[str, object]:
    """SARIF 2.1.0: ruleId ``diff/KIND`` for a change, ``RULE`` for a new finding."""
    results: list[dict[str, object]] = []
    rule_ids: set[str] = set()
    for c in r.changes:
        rule_ids.add(f"diff/{c.kind}")
        results.append({"ruleId": f"diff/{c.kind}", "level": _LEVEL[c.cls],
                        "message": {"text": f"{c.message} ({values(c)})"},
                        "locations": _location(c.file, c.line),
                        "partialFingerprints": {"xenabiChange/v1": change_fingerprint(c)},
                        "properties": {"class": c.cls.value, "symbol": c.symbol,
                                       "arches": list(c.arches), "views": list(c.views)}})
    for f in r.findings:
        rule_ids.add(f.rule)
        results.append({"ruleId": f.rule, "level": _FINDING_LEVEL[f.severity],
                        "message": {"text": f.message}, "locations": _location(f.file, f.line),
                        "partialFingerprints": {"xenabiFinding/v1": finding_fingerprint(f)},
                        "properties": {"symbols": list(f.symbols), "arches": list(f.arches),
                                       "views": list(f.views)}})
    return {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
            "runs": [{"tool": {"driver": {"name": "xenabi", "version": __version__,
                                          "rules": [{"id": i} for i in sorted(rule_ids)]}},
                      "results": results, "properties": _summary_json(r)}]}


_GITLAB = {ChangeClass.BREAKING: "critical", ChangeClass.SUSPICIOUS: "major",
           ChangeClass.COMPATIBLE: "info"}
_GITLAB_FINDING = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}


def to_gitlab(r: DiffReport) -> list[dict[str, object]]:
    """GitLab Code Quality: one JSON array of issues."""
    out: list[dict[str, object]] = []
    for c in r.changes:
        out.append({"description": f"{c.cls.value}: {c.message} ({values(c)})",
                    "check_name": f"diff/{c.kind}", "fingerprint": change_fingerprint(c),
                    "severity": _GITLAB[c.cls],
                    "location": {"path": c.file or "", "lines": {"begin": c.line or 1}}})
    for f in r.findings:
        out.append({"description": f.message, "check_name": f.rule,
                    "fingerprint": finding_fingerprint(f),
                    "severity": _GITLAB_FINDING[f.severity],
                    "location": {"path": f.file or "", "lines": {"begin": f.line or 1}}})
    return out


def _dump(data: object) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


#: ``xenabi diff --format``'s renderers by name
RENDERERS: dict[str, Callable[[DiffReport], str]] = {
    "text": lambda r: "".join(s + "\n" for s in text_lines(r)),
    "json": lambda r: _dump(to_json(r)),
    "sarif": lambda r: _dump(to_sarif(r)),
    "gitlab": lambda r: _dump(to_gitlab(r)),
}
