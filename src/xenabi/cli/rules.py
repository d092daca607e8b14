"""``xenabi rules``: every rule ``check`` runs, what it checks, the severities it can
report, what it needs of a tree, and whether it runs on the given one.

The registered rules come first (those ``--rule`` names), then what every run
reports itself (failed headers, port gaps, waiver problems). Text for people;
``--format json`` is ``xenabi-rules/1``. Nothing is computed: whether a rule
runs is read from what the tree has (an installed layout has no docs/, no
xlat.lst, no reference.size).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from xenabi.model import Severity
from xenabi.tree import XenTree

SCHEMA = "xenabi-rules/1"

_KINDS = {"checkout": "a Xen checkout", "public": "a public headers directory",
          "installed": "an installed layout"}

#: what a rule that needs the whole tree (Rule.whole) asks of a run, in words
_WHOLE = {
    ("target", "view"): "every target and view (a run narrowed by --arch or --view skips it)",
    ("view",): "both views of a target (a run narrowed by --view skips it)",
}


@dataclass(frozen=True)
class Entry:
    """One line of the listing: a registered rule, or a check every run makes."""

    rule: str
    summary: str
    severities: tuple[Severity, ...]
    needs: tuple[str, ...]  #: what it needs of the tree besides the public headers, by name
    whole: tuple[str, ...]  #: of ``target``, ``view``: a run must have every one (Rule.whole)
    why_not: str | None  #: why it cannot run on the tree (None: it runs)
    kind: str  #: ``rule`` (registered, chosen with --rule) or ``run`` (every run makes it)

    def to_json(self) -> dict[str, object]:
        return {"rule": self.rule, "summary": self.summary, "kind": self.kind,
                "severities": [s.value for s in self.severities], "needs": list(self.needs),
                "whole": list(self.whole), "runs": self.why_not is None, "why_not": self.why_not}


def entries(tree: XenTree) -> list[Entry]:
    """The registered rules in registry order, then the checks every run makes."""
    from xenabi.check import RUN_CHECKS
    from xenabi.rules import INPUTS, REGISTRY

    out = [Entry(r.id, r.summary, r.severities, tuple(INPUTS[k][1] for k in r.needs),
                 r.whole, r.missing(tree), "rule")
           for r in REGISTRY.values()]
    out.extend(Entry(c.id, c.summary, c.severities, (), (), None, "run") for c in RUN_CHECKS)
    return out


def render_text(tree: XenTree, listed: list[Entry]) -> str:
    width = max(len(e.rule) for e in listed)
    sev_width = max(len(_severities(e)) for e in listed)

    def block(e: Entry) -> list[str]:
        runs = "" if e.kind == "run" else (
            "runs" if e.why_not is None else f"does not run: {e.why_not}")
        needs = [*e.needs, *([_WHOLE[e.whole]] if e.whole else [])]
        return [f"{e.rule:<{width}}  {_severities(e):<{sev_width}}  {runs}".rstrip(),
                f"    {e.summary}", *([f"    needs {'; '.join(needs)}"] if needs else [])]

    lines = [f"The rules of xenabi check on {tree.root} ({_KINDS[tree.kind]}); "
             "--rule RULE runs only those named:", ""]
    lines += [line for e in listed if e.kind == "rule" for line in block(e)]
    lines += ["", "Every run also reports:", ""]
    lines += [line for e in listed if e.kind == "run" for line in block(e)]
    return "\n".join(lines) + "\n"


def _severities(e: Entry) -> str:
    return ", ".join(s.value for s in e.severities)


def configure_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from xenabi.tree import XEN_ROOT_HELP

    p = sub.add_parser("rules", help="the rules check runs: what each checks, its severities "
                                     "and inputs, whether it runs on the tree")
    p.add_argument("--xen-root", metavar="DIR", help=XEN_ROOT_HELP)
    p.add_argument("--format", default="text", choices=["text", "json"],
                   help=f"text (default) or json ({SCHEMA})")
    p.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    from xenabi.cli.output import emit, to_json
    from xenabi.tree import find_tree

    tree = find_tree(args.xen_root)
    listed = entries(tree)
    if args.format == "json":
        emit(to_json({"schema": SCHEMA, "tree": {"kind": tree.kind, "root": str(tree.root)},
                      "rules": [e.to_json() for e in listed]}), None)
    else:
        emit(render_text(tree, listed), None)
    return 0
