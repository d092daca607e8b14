"""The pytest plugin (xenabi.pytest_plugin), run in pytest's own test harness.

A missing tree fails in CI and skips elsewhere, saying why; an explicit
``--xen-root`` that does not exist is a usage error everywhere; ``--xen-arch``
chooses the targets, and ``--arch`` is its alias unless a conftest owns ``--arch``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.minitree import MINI

pytest_plugins = ["pytester"]

USES_TREE = """
def test_tree(xen_tree):
    assert xen_tree.root.name == "mini"

def test_arches(xen_arches):
    print("ARCHES", " ".join(xen_arches))
"""


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A test file that asks for the plugin's fixtures, run (in this process) where no
    Xen tree can be discovered."""
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("XEN_ROOT", raising=False)
    monkeypatch.setattr("xenabi.tree.project_headers_dir", lambda: None)
    pytester.makepyfile(test_uses=USES_TREE)
    pytester.makeini("[pytest]\n")  # not the project's configuration
    return pytester


def test_no_tree_skips_with_the_reason_outside_ci(suite: pytest.Pytester) -> None:
    result = suite.runpytest("-rs")
    result.assert_outcomes(skipped=1, passed=1)
    result.stdout.fnmatch_lines(["*SKIPPED*no Xen tree*"])


def test_no_tree_fails_in_ci(suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    result = suite.runpytest()
    result.assert_outcomes(errors=1, passed=1)  # the fixture fails: an error, not a skip
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*no Xen tree found*CI must have it*"])


@pytest.mark.parametrize("ci", [None, "true"])
def test_a_missing_explicit_root_is_a_usage_error(suite: pytest.Pytester,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path, ci: str | None) -> None:
    if ci:
        monkeypatch.setenv("CI", ci)
    missing = tmp_path / "no-such-tree"
    result = suite.runpytest("--xen-root", str(missing))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--xen-root {missing}: no such directory*"])


def test_an_explicit_tree_is_used(suite: pytest.Pytester) -> None:
    result = suite.runpytest("-s", "--xen-root", str(MINI), "--xen-arch", "arm64")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*ARCHES arm64*"])


def test_arch_is_an_alias_of_xen_arch(suite: pytest.Pytester) -> None:
    result = suite.runpytest("-s", "--xen-root", str(MINI), "--arch", "x86_32",
                             "--arch", "arm32")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*ARCHES x86_32 arm32*"])


def test_a_conftest_that_defines_arch_keeps_it(suite: pytest.Pytester) -> None:
    suite.makeconftest("""
def pytest_addoption(parser):
    parser.addoption("--arch", default="mine")

def test_owner(request):
    pass
""")
    suite.makepyfile(test_own="""
def test_own(request):
    print("OWN", request.config.getoption("--arch"))
""")
    result = suite.runpytest("-s", "--xen-root", str(MINI), "--arch", "sparc",
                             "--xen-arch", "x86_64")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*OWN sparc*", "*ARCHES x86_64*"])


def test_an_unknown_target_is_a_usage_error(suite: pytest.Pytester) -> None:
    result = suite.runpytest("--xen-root", str(MINI), "--xen-arch", "sparc")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*--xen-arch sparc: unknown*"])


GATE = """
import pytest

def test_abi_stable(xen_abi_change):
    if xen_abi_change is not None:
        pytest.fail(xen_abi_change, pytrace=False)
"""


def test_xen_base_makes_each_breaking_change_a_failing_test(
        pytester: pytest.Pytester, tmp_path: Path) -> None:
    """``uint64_t magic`` for ``uint32_t``: on x86_32 the record, three fields that move
    and the sizeof macro change too; elsewhere the field alone (it fills a hole); each
    in both views."""
    from tests.minitree import copy_mini

    head = copy_mini(tmp_path / "head")
    xen_h = head / "xen/include/public/xen.h"
    xen_h.write_text(xen_h.read_text().replace("    uint32_t magic;", "    uint64_t magic;"))
    pytester.makepyfile(test_gate=GATE)
    pytester.makeini("[pytest]\n")
    result = pytester.runpytest("--xen-root", str(head), "--xen-base", str(MINI))
    result.assert_outcomes(failed=(6 + 3) * 2)
    result.stdout.fnmatch_lines(["*test_abi_stable?x86_64-guest-struct mini_info.magic?*",
                                 "*test_abi_stable?x86_32-tools-MINI_INFO_SIZE?*"])
    same = pytester.runpytest("--xen-root", str(MINI), "--xen-base", str(MINI))
    same.assert_outcomes(passed=1)
    none = pytester.runpytest("--xen-root", str(MINI), "-rs")
    none.assert_outcomes(skipped=1)
    none.stdout.fnmatch_lines(["*no --xen-base to compare with*"])
