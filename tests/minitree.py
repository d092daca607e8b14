"""The mini fixture tree (tests/data/trees/mini): a few headers written for the
tests, laid out like a Xen checkout."""

import shutil
from pathlib import Path

MINI = Path(__file__).parent / "data" / "trees" / "mini"


def copy_mini(dest: Path) -> Path:
    """A writable copy of the mini tree at ``dest``, for tests that edit it."""
    shutil.copytree(MINI, dest)
    return dest
