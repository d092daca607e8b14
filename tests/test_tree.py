"""Tree discovery: an explicit path, XEN_ROOT, a checkout above the working
directory, then the project's provisioned tree; each layout is recognised."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.minitree import copy_mini
from xenabi.errors import UsageError
from xenabi.tree import find_tree, open_tree


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    return copy_mini(tmp_path / "xen")


def test_checkout_is_recognised(checkout):
    tree = open_tree(checkout)
    assert tree.kind == "checkout"
    assert tree.finding_path("xen.h") == "xen/include/public/xen.h"


def test_public_dir_of_a_checkout_opens_the_checkout(checkout):
    tree = open_tree(checkout / "xen/include/public")
    assert (tree.kind, tree.root) == ("checkout", checkout.resolve())


def test_bare_public_headers_dir(tmp_path, checkout):
    bare = tmp_path / "include-xen"
    shutil.copytree(checkout / "xen/include/public", bare)
    tree = open_tree(bare)
    assert tree.kind == "public"
    assert tree.finding_path("xen.h") == "xen.h"


def test_installed_layout_leaves_out_libxen_extras(tmp_path, checkout):
    inst = tmp_path / "usr-include-xen"
    shutil.copytree(checkout / "xen/include/public", inst)
    (inst / "sys").mkdir()
    (inst / "sys/privcmd.h").write_text("/* linux driver interface */\n")
    (inst / "privcmd.h").write_text("/* linux driver interface */\n")
    tree = open_tree(inst)
    assert tree.kind == "installed"
    assert tree.is_extra("sys/privcmd.h") and tree.is_extra("privcmd.h")
    assert not tree.is_extra("xen.h")


def test_explicit_root_wins_over_environment(monkeypatch, checkout, tmp_path):
    monkeypatch.setenv("XEN_ROOT", str(tmp_path / "elsewhere"))
    assert find_tree(checkout).root == checkout.resolve()


def test_environment_is_used_without_explicit_root(monkeypatch, checkout):
    monkeypatch.setenv("XEN_ROOT", str(checkout))
    assert find_tree(None).root == checkout.resolve()


def test_checkout_above_working_directory(monkeypatch, checkout):
    monkeypatch.delenv("XEN_ROOT", raising=False)
    monkeypatch.chdir(checkout / "xen/include")
    assert find_tree(None).root == checkout.resolve()


def test_nothing_found_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.delenv("XEN_ROOT", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("xenabi.tree.project_headers_dir", lambda: None)
    with pytest.raises(UsageError, match="pass --xen-root DIR .* scripts/provision"):
        find_tree(None)
