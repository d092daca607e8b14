"""``xenabi dump``: one target and view of a tree, as a snapshot."""

from __future__ import annotations

import argparse

from xenabi.targets import TARGETS, VIEWS


def _interface_version(text: str) -> int:
    """``__XEN_INTERFACE_VERSION__``: an unsigned 32-bit number (``0x00040e00``)."""
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not 0 <= value < 1 << 32:
        raise argparse.ArgumentTypeError(f"{text} is not an unsigned 32-bit number")
    return value


def configure_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from xenabi.cli import add_tree_options

    p = sub.add_parser("dump", help="print one target and view of a tree (xenabi-snapshot/1)")
    add_tree_options(p)
    p.add_argument("--arch", choices=list(TARGETS),
                   help="the target (required for json; text: default all four side by side)")
    p.add_argument("--view", default="tools", choices=list(VIEWS),
                   help="tools (__XEN_TOOLS__, the superset; default) or guest")
    p.add_argument("--interface-version", type=_interface_version, metavar="N",
                   help="__XEN_INTERFACE_VERSION__ for the guest view (default: the tree's latest)")
    p.add_argument("--format", default="json", choices=["json", "text"],
                   help="json: the snapshot; text: records side by side, pahole-style")
    p.add_argument("--record", action="append", metavar="NAME",
                   help="text: only this record (repeatable; 'vcpu_info' finds struct vcpu_info)")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    # here, not above: every command's parser is built, and the other commands need none
    # of the rules that xenabi.run loads
    from xenabi.cli.output import check_target, emit, to_json
    from xenabi.errors import UsageError
    from xenabi.layoutview import render_snapshots
    from xenabi.run import snapshots
    from xenabi.tree import find_tree

    if args.format == "json" and args.arch is None:
        raise UsageError("dump --format json needs --arch")
    check_target(args.output)
    tree = find_tree(args.xen_root)
    snaps = snapshots(tree, [args.arch] if args.arch else None, [args.view],
                      interface_version=args.interface_version, use_cache=not args.no_cache)
    if args.format == "text":
        emit(render_snapshots({a: s for (a, _), s in snaps.items()}, args.record), args.output)
    else:
        emit(to_json(snaps[(args.arch, args.view)].to_json()), args.output)
    return 0
