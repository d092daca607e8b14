"""``xenabi snapshot``: every target and view of a tree in one file."""

from __future__ import annotations

import argparse

from xenabi.cli.output import check_target, emit, to_json
from xenabi.model import SNAPSHOT_SCHEMA
from xenabi.tree import find_tree


def configure_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from xenabi.cli import add_target_options, add_tree_options

    p = sub.add_parser("snapshot", help="write every target and view of a tree to one file")
    add_tree_options(p)
    add_target_options(p)
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    from xenabi.run import snapshot_texts  # loads the rules: no other command's parser needs it

    check_target(args.output)
    tree = find_tree(args.xen_root)
    texts = snapshot_texts(tree, args.arch, args.view, use_cache=not args.no_cache)
    # composed from each snapshot's body (sorted JSON): the keys come out sorted as
    # one to_json of the whole would sort them
    views: dict[str, list[str]] = {}
    for (arch, view), text in sorted(texts.items()):
        views.setdefault(arch, []).append(f'"{view}": {text}')
    targets = ", ".join(f'"{arch}": {{{", ".join(vs)}}}' for arch, vs in views.items())
    about = to_json({"kind": tree.kind, "root": str(tree.root), "fingerprint": tree.fingerprint})
    emit(f'{{"schema": "{SNAPSHOT_SCHEMA}", "targets": {{{targets}}}, "tree": {about.strip()}}}\n',
         args.output)
    return 0
