"""``xenabi diff BASE [HEAD]``: the ABI changes between two trees, snapshot files or git
revisions (HEAD omitted: the work tree). Exit 0 when nothing breaking or suspicious
changed and no new error appeared, 1 otherwise, 2 on unusable input."""

from __future__ import annotations

import argparse
import contextlib



def configure_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from xenabi.cli import add_target_options

    p = sub.add_parser("diff", help="judge the ABI changes between two versions (exit 0/1/2)")
    p.add_argument("base", metavar="BASE",
                   help="a tree directory, a snapshot file, or a git revision of --repo")
    p.add_argument("head", metavar="HEAD", nargs="?",
                   help="the same kinds (default: the work tree of --repo, as it is now)")
    p.add_argument("--repo", metavar="DIR",
                   help="the git repository of revisions (default: the one around the "
                        "working directory)")
    p.add_argument("--since-release", metavar="REV",
                   help="the last release: a version bumped since it covers a breaking "
                        "change of its interface (default: BASE, when it is a release tag)")
    add_target_options(p)
    p.add_argument("--format", default="text", choices=["text", "json", "sarif", "gitlab"])
    p.add_argument("--fail-on", default="suspicious", choices=["breaking", "suspicious"],
                   help="suspicious (default): breaking and suspicious changes exit 1; "
                        "breaking: only breaking ones")
    p.add_argument("--all", action="store_true",
                   help="list HEAD's findings that BASE has too, not only new ones")
    p.add_argument("--no-findings", action="store_true", help="compare the ABIs only")
    p.add_argument("--no-cache", action="store_true",
                   help="compute everything afresh and write no cache entry")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    from xenabi.cli.output import check_target, emit
    from xenabi.diffreport import RENDERERS
    from xenabi.sides import (diff_sides, is_release_tag, open_side, release_versions,
                              work_tree)

    check_target(args.output)
    fail_on = ("breaking",) if args.fail_on == "breaking" else ("breaking", "suspicious")
    since = args.since_release or (args.base if is_release_tag(args.base, args.repo) else None)
    shared: dict[object, object] = {}  # two snapshot files' equal values, one object each
    with contextlib.ExitStack() as stack:
        base = stack.enter_context(open_side(args.base, args.repo, not args.no_cache, shared))
        head = (stack.enter_context(open_side(args.head, args.repo, not args.no_cache, shared))
                if args.head else work_tree(args.repo))
        result = diff_sides(base, head, arches=args.arch, views=args.view,
                            use_cache=not args.no_cache, since=release_versions(since, args.repo) if since else None,
                            all_findings=args.all, findings=not args.no_findings,
                            fail_on=fail_on)
    emit(RENDERERS[args.format](result), args.output)
    return result.exit_status()
