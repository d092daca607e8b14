"""pytest plugin: options and fixtures that give a test suite a Xen tree and its snapshots.

Registered through the ``pytest11`` entry point. It holds no checking logic:
the conformance tests in ``abi_tests/`` ask for these fixtures and assert on
what :func:`xenabi.run.run` reports. A missing tree fails every test that needs
it in CI (``CI`` set) and skips them, saying why, elsewhere; an explicit
``--xen-root`` that does not exist is a usage error everywhere.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from xenabi.model import Change, Snapshot
    from xenabi.tree import XenTree


def pytest_addoption(parser: pytest.Parser) -> None:
    from xenabi.tree import XEN_ROOT_HELP

    group = parser.getgroup("xenabi", "Xen public ABI conformance")
    group.addoption("--xen-root", metavar="DIR", help=XEN_ROOT_HELP)
    group.addoption("--xen-base", metavar="BASE",
                    help="the ABI to stay compatible with: a tree, a snapshot file or a git "
                         "revision; each breaking or suspicious change is a failing "
                         "test_abi_stable[ARCH-VIEW-SYMBOL]")
    group.addoption("--xen-arch", action="append", metavar="ARCH", dest="xen_arch",
                    help="only this target (repeatable; default: x86_32 x86_64 arm32 arm64)")


@pytest.hookimpl(hookwrapper=True)
def pytest_load_initial_conftests(parser: pytest.Parser) -> Iterator[None]:
    """``--arch``, the old spelling of ``--xen-arch``, once the other plugins and the
    initial conftests have declared their options, and only if none of them took it
    (two declarations of one option are an error that stops pytest)."""
    yield
    taken = {name for group in (parser._anonymous, *parser._groups)
             for option in group.options for name in option.names()}
    if "--arch" not in taken:
        parser.getgroup("xenabi").addoption(
            "--arch", action="append", metavar="ARCH", dest="xen_arch",
            help="the old spelling of --xen-arch")


def pytest_cmdline_main(config: pytest.Config) -> None:
    """An explicit ``--xen-root`` that does not exist is a usage error, in CI or not."""
    root = config.getoption("xen_root")
    if root is not None and not os.path.isdir(root):
        raise pytest.UsageError(f"--xen-root {root}: no such directory")


def pytest_report_header(config: pytest.Config) -> str:
    """Which tree the run checks, at the top of the output."""
    from xenabi.errors import UsageError
    from xenabi.tree import find_tree

    try:
        tree = find_tree(config.getoption("--xen-root"))
    except UsageError as e:
        return f"xenabi: {e}"
    return f"xenabi: {tree.kind} at {tree.root}"


def _missing(reason: str) -> None:
    """No tree: a failure in CI (it must never pass silently there), a skip elsewhere."""
    __tracebackhide__ = True
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must have it: see .ci/run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def xen_tree(request: pytest.FixtureRequest) -> XenTree:
    """The tree under test (``--xen-root``, else discovered as the CLI does)."""
    from xenabi.errors import UsageError
    from xenabi.tree import find_tree

    try:
        return find_tree(request.config.getoption("--xen-root"))
    except UsageError as e:
        _missing(str(e))
        raise


@pytest.fixture(scope="session")
def xen_arches(request: pytest.FixtureRequest) -> tuple[str, ...]:
    """The targets chosen with ``--xen-arch`` (default: all four)."""
    from xenabi.targets import TARGETS

    chosen = request.config.getoption("xen_arch") or list(TARGETS)
    unknown = [a for a in chosen if a not in TARGETS]
    if unknown:
        raise pytest.UsageError(f"--xen-arch {unknown[0]}: unknown "
                                f"(known: {', '.join(TARGETS)})")
    return tuple(chosen)


@pytest.fixture(scope="session")
def xen_snapshots(xen_tree: XenTree,
                  xen_arches: tuple[str, ...]) -> dict[tuple[str, str], Snapshot]:
    """Snapshots of the tree by (arch, view), for every chosen target and both views."""
    from xenabi.run import snapshots

    return snapshots(xen_tree, xen_arches)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``xen_abi_change``: one parameter per target, view and symbol that changed in a
    breaking or suspicious way from ``--xen-base`` to the tree under test (the test
    fails with the changes as its message); one None when nothing did; a skip
    without ``--xen-base``."""
    if "xen_abi_change" not in metafunc.fixturenames:
        return
    base = metafunc.config.getoption("xen_base")
    if base is None:
        metafunc.parametrize("xen_abi_change", [pytest.param(
            None, marks=pytest.mark.skip(reason="no --xen-base to compare with"))], ids=["-"])
        return
    by: dict[str, list[str]] = {}
    for change in _base_changes(metafunc.config, base):
        for arch in change.arches:
            for view in change.views:
                by.setdefault(f"{arch}-{view}-{change.symbol}", []).append(str(change))
    params = [pytest.param("\n".join(lines), id=name) for name, lines in by.items()]
    metafunc.parametrize("xen_abi_change", params or [pytest.param(None, id="unchanged")])


def _base_changes(config: pytest.Config, base: str) -> list[Change]:
    from xenabi.errors import UsageError
    from xenabi.model import ChangeClass
    from xenabi.sides import Side, diff_sides, open_side
    from xenabi.tree import find_tree

    try:
        tree = find_tree(config.getoption("--xen-root"))
        with open_side(base, None) as side:
            report = diff_sides(side, Side(f"tree {tree.root}", tree),
                                arches=config.getoption("xen_arch"), findings=False)
    except UsageError as e:
        raise pytest.UsageError(f"--xen-base {base}: {e}") from None
    return [c for c in report.changes if c.cls is not ChangeClass.COMPATIBLE]
