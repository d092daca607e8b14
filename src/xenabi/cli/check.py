"""``xenabi check``: run the conformance rules on a tree, print findings, exit 0/1/2.

Exit 0 when no error is left unwaived, 1 when one is, 2 on unusable input
(a missing tree, a malformed waiver file, a bad option). Waivers come from
``--waivers FILE``, else the tree's own ``xenabi-waivers.toml``, else the
file xenabi ships for the tree's Xen release (read from a checkout's
xen/Makefile, or given by ``--xen-release`` for a tree that does not say,
such as /usr/include/xen); ``--no-waivers`` uses none. A rule whose input
the tree lacks (the docs rules without docs/, compat without xlat.lst,
refsize without reference.size) does not run, and the summary says so.

A warm run reads the findings the same inputs gave last time: the cache key
is xenabi's own code, every public header, xlat.lst, reference.size,
xen/Makefile and the files under docs/, and the targets, views and rules
asked for; waivers are applied afresh each run. ``--no-cache`` computes
everything.
"""

from __future__ import annotations

import argparse

from xenabi.model import Severity
from xenabi.targets import TARGETS, VIEWS, choose


def configure_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from xenabi.cli import add_tree_options

    p = sub.add_parser("check", help="check a tree's public ABI against itself (exit 0/1/2)")
    add_tree_options(p)
    p.add_argument("--arch", action="append", choices=list(TARGETS), metavar="ARCH",
                   help="only this target (repeatable; default: every target the tree has)")
    p.add_argument("--view", action="append", choices=list(VIEWS), metavar="VIEW",
                   help="only this view (repeatable; default: tools and guest)")
    p.add_argument("--rule", action="append", metavar="RULE",
                   help="only this rule (repeatable; default: every rule)")
    p.add_argument("--format", default="text", choices=["text", "json", "sarif"])
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
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    from xenabi import report
    from xenabi.check import (
        cache_path,
        default_waivers,
        findings,
        judge,
        load_cached,
        store_cached,
    )
    from xenabi.cli.output import emit
    from xenabi.errors import UsageError
    from xenabi.rules import REGISTRY, read_docs_early, runnable
    from xenabi.snapshot import take_all
    from xenabi.tree import find_tree

    tree = find_tree(args.xen_root)
    unknown = [r for r in args.rule or () if r not in REGISTRY]
    if unknown:
        raise UsageError(f"--rule {unknown[0]}: unknown (known: {', '.join(REGISTRY)})")
    if args.no_waivers and args.waivers:
        raise UsageError("--waivers and --no-waivers exclude each other")
    if args.xen_release and (args.waivers or args.no_waivers):
        raise UsageError("--xen-release picks the shipped waivers: it excludes --waivers "
                         "and --no-waivers")
    waivers = () if args.no_waivers else default_waivers(tree, args.waivers, args.xen_release)
    arches = choose(tree.headers, args.arch)
    views = tuple(args.view or VIEWS)
    rules, not_run = runnable(tree, args.rule or REGISTRY)
    cached = None if args.no_cache else cache_path(tree, arches, views, rules)
    found = load_cached(cached) if cached is not None else None
    if found is None:
        # pandoc reads the docs while the snapshots are computed
        docs = read_docs_early(tree, rules, use_cache=not args.no_cache)
        snaps = take_all(tree, arches, views, use_cache=not args.no_cache)
        found = findings(tree, snaps, rules, use_cache=not args.no_cache, docs=docs)
        if cached is not None:
            store_cached(cached, found)
    result = judge(found, waivers, arches, views, rules, not_run)
    if args.format == "json":
        text = report.json_text(result)
    elif args.format == "sarif":
        text = report.sarif_text(result)
    else:
        text = "".join(s + "\n" for s in report.text_lines(result, Severity(args.min_severity)))
    emit(text, args.output)
    return result.exit_status()
