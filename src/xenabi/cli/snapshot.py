"""``xenabi snapshot``: every target and view of a tree in one file."""

from __future__ import annotations

import argparse

from xenabi.cli.output import emit, to_json
from xenabi.model import SNAPSHOT_SCHEMA
from xenabi.snapshot import take_all
from xenabi.targets import TARGETS, VIEWS
from xenabi.tree import find_tree


def configure_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from xenabi.cli import add_tree_options

    p = sub.add_parser("snapshot", help="write every target and view of a tree to one file")
    add_tree_options(p)
    p.add_argument("--arch", action="append", choices=list(TARGETS),
                   help="only this target (repeatable; default: all)")
    p.add_argument("--view", action="append", choices=list(VIEWS),
                   help="only this view (repeatable; default: both)")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    tree = find_tree(args.xen_root)
    snaps = take_all(tree, args.arch, args.view, use_cache=not args.no_cache)
    targets: dict[str, dict[str, object]] = {}
    for (arch, view), snap in sorted(snaps.items()):
        body = snap.to_json(schema=False)
        del body["arch"], body["view"]
        targets.setdefault(arch, {})[view] = body
    doc = {"schema": SNAPSHOT_SCHEMA,
           "tree": {"kind": tree.kind, "root": str(tree.root), "fingerprint": tree.fingerprint},
           "targets": targets}
    emit(to_json(doc), args.output)
    return 0
