"""``xenabi check``: run the conformance rules on a tree, print findings, exit 0/1/2.

Exit 0 when no error is left unwaived, 1 when one is, 2 on unusable input
(a missing tree, a malformed waiver file, a bad option). Waivers come from
``--waivers FILE``, else the tree's own ``xenabi-waivers.toml``, else the
file xenabi ships for the tree's Xen release (read from a checkout's
xen/Makefile, or given by ``--xen-release`` for a tree that does not say,
such as /usr/include/xen); ``--no-waivers`` uses none. A rule whose input
the tree lacks (the docs rules without docs/, compat without xlat.lst,
refsize without reference.size) does not run, and the summary says so.

The run itself is :func:`xenabi.run.run`; this module parses options and
renders. ``--no-cache`` computes everything and writes no cache entry.
"""

from __future__ import annotations

import argparse

from xenabi.model import Severity
from xenabi.report import RENDERERS


def configure_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from xenabi.cli import add_target_options, add_tree_options

    p = sub.add_parser("check", help="check a tree's public ABI against itself (exit 0/1/2)")
    add_tree_options(p)
    add_target_options(p)
    p.add_argument("--rule", action="append", metavar="RULE",
                   help="only this rule (repeatable; default: every rule)")
    p.add_argument("--format", default="text", choices=list(RENDERERS))
    p.add_argument("--waivers", metavar="FILE",
                   help="waiver file (default: the tree's xenabi-waivers.toml, else the one "
                        "xenabi ships for the tree's Xen release)")
    p.add_argument("--no-waivers", action="store_true", help="apply no waivers at all")
    p.add_argument("--xen-release", metavar="X.Y",
                   help="the Xen release of a tree that does not say (an installed layout "
                        "such as /usr/include/xen), for the waivers xenabi ships for it")
    # a whole tree has hundreds of known-harmless warnings: the text shows what to act
    # on and counts the rest
    p.add_argument("--min-severity", default="error", choices=[s.value for s in Severity],
                   help="lowest severity the text format prints (default: error; "
                        "json and sarif carry everything)")
    p.add_argument("--show-waived", action="store_true",
                   help="print each waived finding in full with its waiver's reason and "
                        "evidence (default: one short line each; json and sarif carry all)")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    from xenabi import report
    from xenabi.cli.output import check_target, emit
    from xenabi.run import choose_waivers, run
    from xenabi.tree import find_tree

    check_target(args.output)
    tree = find_tree(args.xen_root)
    result = run(tree, arches=args.arch, views=args.view, rules=args.rule,
                 waivers=choose_waivers(tree, args.waivers, args.no_waivers, args.xen_release),
                 use_cache=not args.no_cache)
    emit(report.RENDERERS[args.format](result, Severity(args.min_severity),
                                     args.show_waived), args.output)
    return result.exit_status()
