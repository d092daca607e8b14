"""The pre-commit hook: the staged public headers and docs judged against HEAD.

``.pre-commit-hooks.yaml`` runs ``python -m xenabi.precommit`` on commits that
touch ``xen/include/public/`` or ``docs/``. The staged files (the index, not
the work tree: what the commit will record) are copied into a temporary
directory with git, and ``xenabi diff HEAD DIR`` judges them. Exit as diff
does: 0 passes, 1 a breaking or suspicious change or a new error, 2 unusable
input.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from xenabi.cli import EXIT_USAGE
    from xenabi.cli import main as xenabi
    from xenabi.errors import XenAbiError
    from xenabi.gitwalk import Git, TreeDir

    args = list(sys.argv[1:] if argv is None else argv)  # passed on to xenabi diff
    try:
        git = Git(".")
        top = git.run("rev-parse", "--show-toplevel", what="not inside a git work tree").strip()
        with TreeDir(Git(top)) as staged:
            staged.hold_index()
            return xenabi(["diff", "HEAD", str(staged.root), "--repo", top, *args])
    except XenAbiError as e:
        print(f"xenabi: error: {e}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
