"""The ``xenabi`` command: wires the subcommands; each lives in its own module.

Exit codes (DESIGN.md): 0 clean, 1 findings (unwaived errors, breaking
changes), 2 unusable input, printed as one line with no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
from collections.abc import Sequence
from typing import NoReturn

from xenabi import __version__, gcpause, lifetime
from xenabi.errors import XenAbiError

#: subcommand modules of this package; each has configure_parser(subparsers) and execute(args)
SUBCOMMANDS = ("check", "rules", "dump", "snapshot", "diff", "check_patch", "history")

#: what ``xenabi --help`` says before the commands (the module docstring is for developers)
DESCRIPTION = """\
Check the binary interface of Xen's public headers (xen/include/public) and of the
documents that describe them: every target the tree has (x86_32, x86_64, arm32, arm64;
riscv64 and ppc64 since Xen 4.19) and both views (guest; tools, with __XEN_TOOLS__),
computed without a cross compiler. check and rules look at one tree, dump and snapshot
print its layouts, diff, check-patch and history judge a change to it."""

EPILOG = """\
The tree: --xen-root DIR (a checkout, a public headers directory or an installed
include directory such as /usr/include/xen), else $XEN_ROOT, else a Xen checkout
above the working directory, else the tree scripts/provision put in headers/.

Exit codes: 0 clean; 1 an unwaived error, or a breaking or suspicious change;
2 unusable input (one line naming the file, nothing written); 130 interrupted.

xenabi COMMAND --help gives a command's options."""

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports it


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad option is one line and exit 2 like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def add_target_options(p: argparse.ArgumentParser) -> None:
    """``--arch`` and ``--view``, repeatable, for every subcommand that takes several."""
    from xenabi.targets import TARGETS, VIEWS

    p.add_argument("--arch", action="append", choices=list(TARGETS), metavar="ARCH",
                   help="only this target (repeatable; default: every target the tree has)")
    p.add_argument("--view", action="append", choices=list(VIEWS), metavar="VIEW",
                   help="only this view (repeatable; default: tools and guest)")


def add_tree_options(p: argparse.ArgumentParser) -> None:
    """Options every subcommand that reads a tree shares."""
    from xenabi.tree import XEN_ROOT_HELP

    p.add_argument("--xen-root", metavar="DIR", help=XEN_ROOT_HELP)
    p.add_argument("--no-cache", action="store_true",
                   help="compute everything afresh and write no cache entry")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="xenabi", description=DESCRIPTION, epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"xenabi {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser,
                                title="commands", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"xenabi.cli.{name}").configure_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # SIGTERM ends a run as an error would: temporary files go, children are killed
    signal.signal(signal.SIGTERM, lifetime.end_on_signal)
    try:
        # every temporary of the run lives in one directory that goes with it, so that a
        # signal landing before a temporary's own cleanup is set up leaves nothing behind
        with lifetime.run_directory(), gcpause.paused():
            return int(args.execute(args))
    except XenAbiError as e:
        print(f"xenabi: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        print("xenabi: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
