#!/usr/bin/env python3
"""JUnit XML from a ``xenabi-findings/1`` report (``xenabi diff --format json``).

GitLab's merge request page lists JUnit failures: one test per change and per
finding, failing for a breaking or suspicious change and for an unwaived
error, named after what it is about (``diff[breaking] struct vcpu_info``).
Usage: ``xenabi-junit.py REPORT.json OUT.xml``.
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET

FAILING = {"breaking", "suspicious"}


def suite(report: dict[str, object]) -> ET.Element:
    root = ET.Element("testsuite", name="xenabi")
    cases = 0
    failures = 0
    for c in report.get("changes") or []:
        assert isinstance(c, dict)
        case = ET.SubElement(root, "testcase", classname=f"xenabi.diff.{c['class']}",
                             name=f"{c['kind']} {c['symbol']}",
                             file=str(c.get("file") or ""))
        cases += 1
        if c["class"] in FAILING:
            failures += 1
            where = f"{c['file']}:{c['line']}: " if c.get("file") and c.get("line") else ""
            ET.SubElement(case, "failure", message=str(c["message"])).text = (
                f"{where}{c['class']}: {c['message']}")
    for f in report.get("findings") or []:
        assert isinstance(f, dict)
        case = ET.SubElement(root, "testcase", classname=f"xenabi.rule.{f['rule']}",
                             name=f"{f['rule']} {' '.join(f.get('symbols') or [])}".strip(),
                             file=str(f.get("file") or ""))
        cases += 1
        if f["severity"] == "error" and not f.get("waived"):
            failures += 1
            where = f"{f['file']}:{f['line']}: " if f.get("file") and f.get("line") else ""
            ET.SubElement(case, "failure", message=str(f["message"])).text = (
                f"{where}error: {f['message']} [{f['rule']}]")
    root.set("tests", str(cases))
    root.set("failures", str(failures))
    return root


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(f"usage: {argv[0]} REPORT.json OUT.xml", file=sys.stderr)
        return 2
    try:
        with open(argv[1]) as f:
            report = json.load(f)
    except (OSError, ValueError) as e:
        print(f"{argv[1]}: {e}", file=sys.stderr)
        return 2
    ET.ElementTree(suite(report)).write(argv[2], encoding="utf-8", xml_declaration=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
