"""``xenabi dump``: one target and view of a tree, as a snapshot; or, as text, records
side by side for the targets asked for.

JSON holds one target (``xenabi-snapshot/1``, the contract DESIGN.md gives
dump): several ``--arch`` with it are a usage error that names ``xenabi
snapshot``, whose file holds several.
"""

from __future__ import annotations

import argparse

from xenabi.errors import UsageError
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

    p = sub.add_parser("dump", help="print one target and view of a tree (xenabi-snapshot/1), "
                                    "or records side by side for several (--format text)")
    add_tree_options(p)
    p.add_argument("--arch", action="append", choices=list(TARGETS), metavar="ARCH",
                   help="the target: exactly one for json (several in one file: xenabi "
                        "snapshot --arch A --arch B); text: repeatable, side by side in the "
                        "order given (default: every target the tree has)")
    p.add_argument("--view", default="tools", choices=list(VIEWS),
                   help="tools (__XEN_TOOLS__, the superset; default) or guest")
    p.add_argument("--interface-version", type=_interface_version, metavar="N",
                   help="__XEN_INTERFACE_VERSION__ for the guest view (default: the tree's latest)")
    p.add_argument("--format", default="json", choices=["json", "text"],
                   help="json: the snapshot; text: records side by side, pahole-style")
    p.add_argument("--record", action="append", metavar="NAME",
                   help="text: only this record (repeatable; 'vcpu_info' finds struct "
                        "vcpu_info, a typedef name such as 'vcpu_info_t' the record it names)")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.set_defaults(execute=execute)


def _one_target(arches: list[str]) -> None:
    """JSON is one target's snapshot: refuse none, and several with where they go."""
    if not arches:
        raise UsageError("dump --format json needs --arch")
    if len(arches) > 1:
        several = " ".join(f"--arch {a}" for a in arches)
        raise UsageError(f"dump --format json takes one --arch, not {len(arches)}: "
                         f"xenabi snapshot {several} writes them to one file")


def execute(args: argparse.Namespace) -> int:
    # here, not above: every command's parser is built, and the other commands need none
    # of the rules that xenabi.run loads
    from xenabi.cli.output import check_target, emit, to_json
    from xenabi.layoutview import render_snapshots
    from xenabi.run import snapshots
    from xenabi.tree import find_tree

    arches = list(dict.fromkeys(args.arch or ()))  # as given, each once
    if args.format == "json":
        _one_target(arches)
    check_target(args.output)
    tree = find_tree(args.xen_root)
    snaps = snapshots(tree, arches or None, [args.view],
                      interface_version=args.interface_version, use_cache=not args.no_cache)
    if args.format == "text":
        order = arches or [a for a, _ in snaps]
        emit(render_snapshots({a: snaps[(a, args.view)] for a in order}, args.record),
             args.output)
    else:
        emit(to_json(snaps[(arches[0], args.view)].to_json()), args.output)
    return 0
