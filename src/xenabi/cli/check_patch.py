"""``xenabi check-patch PATCH...``: apply a patch or a series to a copy of a tree and judge it.

PATCH is a ``git format-patch`` file, an mbox (a series, in order: ``b4 am``
output), a single mail, a plain unified diff, or ``-`` for standard input.
The base is ``--xen-root DIR`` (default as everywhere) or ``--repo DIR --base
REV``; it is never written. Each patch is judged as ``xenabi diff`` judges
two trees, against the result of the ones before it, and a series also as a
whole. Exit 0: every step is clean; 1: a breaking or suspicious change (with
``--fail-on breaking``: a breaking one) or a new error; 2: unusable input (a
patch that cannot be read, a path leaving the tree, a binary hunk, a hunk
that cannot be placed: named with the patch, the file and the hunk).
"""

from __future__ import annotations

import argparse

from xenabi.targets import VIEWS

FORMATS = ("text", "json", "sarif", "gitlab", "email")


def configure_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from xenabi.cli import add_target_options, add_tree_options

    p = sub.add_parser("check-patch", help="apply patches to a copy of a tree and judge them "
                                           "as diff does (exit 0/1/2)")
    p.add_argument("patches", nargs="+", metavar="PATCH",
                   help="a patch, mail or mbox file, or - for standard input")
    add_tree_options(p)
    p.add_argument("--repo", metavar="DIR", help="a Xen git repository holding --base")
    p.add_argument("--base", metavar="REV", help="the revision of --repo the patches apply to")
    add_target_options(p)
    p.add_argument("--since-release", metavar="REV",
                   help="the last release (a tree, a snapshot file or a revision of "
                        "--repo): a version bumped since it covers a breaking change of its "
                        "interface (default: --base, when it is a release tag)")
    p.add_argument("--format", default="text", choices=FORMATS,
                   help="text; json, sarif, gitlab (as diff gives them; json adds each "
                        "patch under patches); email (a plain verdict to paste into a reply)")
    p.add_argument("--fail-on", default="suspicious", choices=["breaking", "suspicious"],
                   help="suspicious (default): breaking and suspicious changes exit 1; "
                        "breaking: only breaking ones")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    from xenabi import patchreport
    from xenabi.checkpatch import run
    from xenabi.cli.output import check_target, emit
    from xenabi.errors import UsageError
    from xenabi.model import ChangeClass
    from xenabi.patch import read_inputs
    from xenabi.sides import is_release_tag, release_versions
    from xenabi.tree import find_tree

    if (args.repo is None) != (args.base is None):
        raise UsageError("--repo and --base go together")
    if args.repo and args.xen_root:
        raise UsageError("--xen-root excludes --repo/--base")
    check_target(args.output)
    patches = read_inputs(args.patches)
    base = find_tree(args.xen_root) if not args.repo else None
    since = args.since_release or (
        args.base if args.repo and is_release_tag(args.base, args.repo) else None)
    fail_on = ((ChangeClass.BREAKING,) if args.fail_on == "breaking"
               else (ChangeClass.BREAKING, ChangeClass.SUSPICIOUS))
    result = run(patches, base, repo=args.repo, rev=args.base,
                 arches=args.arch, views=tuple(args.view or VIEWS),
                 use_cache=not args.no_cache,
                 since=release_versions(since, args.repo) if since else None, fail_on=fail_on)
    emit(patchreport.render(result, args.format), args.output)
    return result.exit_status()
