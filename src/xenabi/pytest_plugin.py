"""pytest plugin: options and fixtures that give a test suite a Xen tree and its snapshots.

Registered through the ``pytest11`` entry point. It holds no checking logic:
the conformance tests in ``abi_tests/`` ask for these fixtures and assert on
findings the rules compute.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from xenabi.model import Snapshot
    from xenabi.tree import XenTree


def pytest_addoption(parser: pytest.Parser) -> None:
    from xenabi.tree import XEN_ROOT_HELP

    group = parser.getgroup("xenabi", "Xen public ABI conformance")
    group.addoption("--xen-root", metavar="DIR", help=XEN_ROOT_HELP)
    group.addoption("--xen-base", metavar="DIR",
                    help="a base tree to compare with (for the diff gate's tests)")
    group.addoption("--arch", action="append", metavar="ARCH",
                    help="only this target (repeatable; default: every target the tree has)")


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
def xen_arches(request: pytest.FixtureRequest, xen_tree: XenTree) -> tuple[str, ...]:
    """The targets chosen with ``--arch`` (default: every target the tree has)."""
    from xenabi.errors import UsageError
    from xenabi.targets import TARGETS, choose

    chosen = request.config.getoption("--arch")
    unknown = [a for a in chosen or () if a not in TARGETS]
    if unknown:
        raise pytest.UsageError(f"--arch {unknown[0]}: unknown (known: {', '.join(TARGETS)})")
    try:
        return choose(xen_tree.headers, chosen)
    except UsageError as e:
        raise pytest.UsageError(str(e)) from None


@pytest.fixture(scope="session")
def xen_snapshots(xen_tree: XenTree,
                  xen_arches: tuple[str, ...]) -> dict[tuple[str, str], Snapshot]:
    """Snapshots of the tree by (arch, view), for every chosen target and both views."""
    from xenabi.snapshot import take_all

    return take_all(xen_tree, xen_arches)
