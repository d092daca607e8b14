"""What the CI wiring tests share: a git repository made from the mini tree, and
whether ``xenabi diff`` (which every gate runs) is available."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.minitree import copy_mini

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
       "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org",
       "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}


def needs_diff() -> None:
    """The gates run ``xenabi diff``: until it is registered there is nothing to run."""
    from xenabi.cli import SUBCOMMANDS

    if "diff" not in SUBCOMMANDS:
        pytest.skip("xenabi diff is not registered (branch diff not merged yet)")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True, env=ENV).stdout


def mini_repo(path: Path) -> Path:
    """A repository whose one commit is the mini tree, on branch staging."""
    copy_mini(path)
    git(path, "init", "-q", "-b", "staging")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "mini tree")
    return path


def xenabi_bin(path: Path) -> Path:
    """A directory with an ``xenabi`` command that runs this checkout's code."""
    path.mkdir(parents=True, exist_ok=True)
    script = path / "xenabi"
    script.write_text(f"#!/bin/sh\nexec {sys.executable} -m xenabi \"$@\"\n")
    script.chmod(0o755)
    return path


PUB = "xen/include/public/"
