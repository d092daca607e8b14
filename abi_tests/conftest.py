"""Local additions to the xenabi plugin for the conformance suite.

The tree, the targets and the snapshots come from the plugin's fixtures
(``xen_tree``, ``xen_arches``, ``xen_snapshots``); this adds:

- ``installed_tree``: Debian's installed layout (``/usr/include/xen``), which
  the clang-oracle tests check besides the tree under test;
- ``oracle_counts`` and a terminal summary: how many records, fields and
  constants each target and view compared against clang, printed after the
  run so the counts show in plain ``pytest`` output, not only with ``-s``;
- ``@pytest.mark.needs("docs")``: what a test needs of the tree under test
  beyond its headers (:data:`NEEDS`). On a tree without it (an installed
  layout has no docs/, no xlat.lst) the test is deselected, not skipped, and
  the summary says how many and why: a skip would read as a check not made,
  and CI runs the suite on such trees too (``.ci/run``).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from xenabi.tree import XenTree

INSTALLED = Path("/usr/include/xen")

#: (layout, arch, view) -> what was compared ({"records": n, "fields": n, ...})
_COUNTS = pytest.StashKey[dict[tuple[str, str, str], dict[str, int]]]()
#: why tests were deselected -> how many
_LEFT_OUT = pytest.StashKey[Counter[str]]()

#: what ``@pytest.mark.needs(...)`` may ask of the tree under test: (what it is, whether
#: the tree has it)
NEEDS: Mapping[str, tuple[str, Callable[[XenTree], bool]]] = {
    "checkout": ("a Xen checkout (a source tree)", lambda t: t.kind == "checkout"),
    "docs": ("docs/", lambda t: t.docs is not None),
    "xlat.lst": ("xen/include/xlat.lst", lambda t: t.xlat is not None),
    "reference.size": ("tools/include/xen-foreign/reference.size",
                       lambda t: t.reference_size is not None),
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs(*what): what the test needs of the tree under "
                            f"test beyond its headers, of {', '.join(NEEDS)}; deselected "
                            "on a tree without it")


def _real_tree(path: Path, reason: str) -> XenTree:
    """The real tree at ``path`` (a headers directory or a checkout): a failure in CI if
    missing, a skip elsewhere."""
    from xenabi.tree import PUBLIC, open_tree

    if not any((where / "xen.h").is_file() for where in (path, path / PUBLIC)):
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI must have it: see .ci/run)", pytrace=False)
        pytest.skip(reason)
    return open_tree(path)


@pytest.fixture(scope="session")
def installed_tree() -> XenTree:
    """``/usr/include/xen`` (libxen-dev)."""
    return _real_tree(INSTALLED, f"{INSTALLED}: no installed Xen headers "
                                 "(Debian package libxen-dev)")


@pytest.fixture(scope="session")
def xen_417_tree() -> XenTree:
    """``headers/xen-4.17`` (Debian 12's xen source package, from scripts/provision): the
    default tree, whatever the tree under test is; docs/rules.md quotes its findings."""
    from xenabi.tree import DEFAULT_TREE, project_headers_dir

    path = (project_headers_dir() or Path("headers")) / DEFAULT_TREE
    return _real_tree(path, f"{path}: not provisioned (scripts/provision)")


@pytest.fixture(scope="session")
def xen_420_tree() -> XenTree:
    """``headers/xen-4.20`` (Debian 13's libxen-dev, from scripts/provision): the young
    ports' headers."""
    from xenabi.tree import project_headers_dir

    path = (project_headers_dir() or Path("headers")) / "xen-4.20"
    return _real_tree(path, f"{path}: not provisioned (scripts/provision)")


@pytest.fixture(scope="session")
def oracle_counts(request: pytest.FixtureRequest) -> dict[tuple[str, str, str], dict[str, int]]:
    """Where a test records what it compared: ``oracle_counts[layout, arch, view][what] = n``."""
    return request.config.stash.setdefault(_COUNTS, {})


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    left_out = terminalreporter.config.stash.get(_LEFT_OUT, Counter())
    if left_out:
        terminalreporter.section("deselected: not for the tree under test")
        for why, n in sorted(left_out.items()):
            terminalreporter.write_line(f"{n} {'test' if n == 1 else 'tests'}: {why}")
    counts = terminalreporter.config.stash.get(_COUNTS, {})
    if not counts:
        return
    terminalreporter.section("compared with the clang oracle")
    for (layout, arch, view), c in sorted(counts.items()):
        terminalreporter.write_line(
            f"{layout:9} {arch:7} {view:5}: " + ", ".join(f"{n} {what}" for what, n in c.items()))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test made for a target the tree under test does not have (riscv64 on 4.17, or one
    left out with ``--xen-arch``), or needing what the tree lacks (docs/ on an installed
    layout), is deselected: there is nothing of it to check, and a skip would read as a
    check not made."""
    from xenabi.errors import UsageError
    from xenabi.targets import choose
    from xenabi.tree import find_tree

    try:
        tree = find_tree(config.getoption("--xen-root"))
        arches = set(choose(tree.headers, config.getoption("xen_arch")))
    except UsageError:
        return  # no tree: the fixtures say so in every test
    keep, drop = [], []
    left_out = config.stash.setdefault(_LEFT_OUT, Counter())
    for item in items:
        why = _not_for(item, tree, arches)
        if why is None:
            keep.append(item)
        else:
            drop.append(item)
            left_out[why] += 1
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _not_for(item: pytest.Item, tree: XenTree, arches: set[str]) -> str | None:
    """Why ``item`` is not for ``tree``, or None."""
    arch = getattr(getattr(item, "callspec", None), "params", {}).get("arch")
    if arch is not None and arch not in arches:
        return f"for {arch}, a target not checked on {tree.root}"
    for mark in item.iter_markers("needs"):
        for need in mark.args:
            what, has = NEEDS[need]
            if not has(tree):
                return f"need {what}, which {tree.root} ({tree.kind} layout) lacks"
    return None
