"""The cache (xenabi.cache): its key covers every file of the package, a corrupt or
unwritable cache gives what a cold run gives, and files read from outside the tree
are part of what an entry depends on.

The CLI runs in a subprocess, so that a traceback, an exit code and the bytes
written are what a user sees.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import xenabi
from tests.minitree import MINI, copy_mini
from xenabi import cache

SRC = Path(xenabi.__file__).resolve().parent.parent


def xenabi_cli(cache_dir: Path | str, *args: str, home: str | None = None
               ) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("XDG_CACHE_HOME", "XENABI_CACHE_DIR", "CI")}
    env.update(PYTHONPATH=str(SRC), XENABI_CACHE_DIR=str(cache_dir))
    if home is not None:
        env["HOME"] = home
    return subprocess.run([sys.executable, "-m", "xenabi", *args], env=env,
                          capture_output=True, timeout=600, check=False)


# --------------------------------------------------------------------------
# The key


def test_a_change_to_any_file_of_the_package_changes_the_key(tmp_path: Path) -> None:
    pkg = tmp_path / "xenabi"
    shutil.copytree(Path(xenabi.__file__).parent, pkg,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    files = cache.package_files(pkg)
    # every kind of file the package holds is there to be edited
    assert {p.suffix for p in files} >= {".py", ".h", ".toml", ".typed"}
    base = cache.code_key(pkg)
    for p in files:
        before = p.read_bytes()
        p.write_bytes(before + b"\n")
        assert cache.code_key(pkg) != base, p.relative_to(pkg)
        p.write_bytes(before)
    assert cache.code_key(pkg) == base
    assert cache.code_key(pkg, version="0.0.0-other") != base


@pytest.mark.parametrize(("env", "expected"), [
    ({"XENABI_CACHE_DIR": "/c/own", "XDG_CACHE_HOME": "/c/xdg", "HOME": "/h"}, "/c/own"),
    ({"XDG_CACHE_HOME": "/c/xdg", "HOME": "/h"}, "/c/xdg/xenabi"),
    ({"XDG_CACHE_HOME": "relative/dir", "HOME": "/h"}, "/h/.cache/xenabi"),
    ({"HOME": "/h"}, "/h/.cache/xenabi"),
    ({"HOME": ""}, None),
    ({}, None),
])
def test_where_the_cache_lives(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                               expected: str | None) -> None:
    for name in ("XENABI_CACHE_DIR", "XDG_CACHE_HOME", "HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    got = cache.directory()
    assert (None if got is None else str(got)) == expected


def test_no_home_and_no_variable_writes_no_cache(tmp_path: Path) -> None:
    run = xenabi_cli("", "check", "--xen-root", str(MINI), "--arch", "x86_64", home="")
    assert run.returncode == 0, run.stderr
    assert not Path("/.cache/xenabi").exists() or not list(Path("/.cache/xenabi").iterdir())


def test_eviction_removes_the_oldest_entries_first(tmp_path: Path) -> None:
    for i in range(4):
        p = tmp_path / f"snapshot-{i}.json"
        p.write_bytes(b"x" * 100)
        os.utime(p, (1000 + i, 1000 + i))
    cache._evict(tmp_path, limit=250)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snapshot-2.json", "snapshot-3.json"]


# --------------------------------------------------------------------------
# Corrupt and unwritable caches give the cold result


def _ints_as_strings(v: object) -> object:
    """The same JSON with every integer a string: valid JSON of the wrong types."""
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return str(v)
    if isinstance(v, list):
        return [_ints_as_strings(x) for x in v]
    if isinstance(v, dict):
        return {k: _ints_as_strings(x) for k, x in v.items()}
    return v


def _wrong_types(p: Path) -> None:
    entry = json.loads(p.read_text())
    entry["data"] = _ints_as_strings(entry["data"])
    p.write_text(json.dumps(entry))


def _wrong_schema(p: Path) -> None:
    entry = json.loads(p.read_text())
    entry["schema"] = "xenabi-cache/0"
    p.write_text(json.dumps(entry))


def _unreadable(p: Path) -> None:
    # root reads a mode-000 file: a directory in the entry's place is unreadable to anyone
    p.unlink()
    p.mkdir()


CORRUPTIONS: dict[str, Callable[[Path], None]] = {
    "garbage": lambda p: p.write_bytes(b"\x00\xffnot json at all"),
    "truncated": lambda p: p.write_bytes(p.read_bytes()[:len(p.read_bytes()) // 2]),
    "empty list": lambda p: p.write_text("[]"),
    "empty object": lambda p: p.write_text("{}"),
    "wrong schema": _wrong_schema,
    "wrong types": _wrong_types,
    "unreadable": _unreadable,
    "fifo": lambda p: (p.unlink(), os.mkfifo(p)),
}

COMMANDS = {
    "check": ["check", "--format", "json", "--arch", "x86_64", "--arch", "arm32"],
    "snapshot": ["snapshot", "--arch", "x86_64", "--arch", "arm32"],
}


@pytest.fixture(scope="module")
def cold(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, bytes]]:
    """Each command's exit code and output on the mini tree, with no cache."""
    out = {}
    for name, args in COMMANDS.items():
        run = xenabi_cli(tmp_path_factory.mktemp("cold"), *args, "--xen-root", str(MINI))
        assert b"Traceback" not in run.stderr
        out[name] = (run.returncode, run.stdout)
    return out


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("kind", list(CORRUPTIONS))
def test_a_corrupt_entry_gives_the_cold_result_and_is_rewritten(
        tmp_path: Path, cold: dict[str, tuple[int, bytes]], command: str, kind: str) -> None:
    where = tmp_path / "cache"
    args = [*COMMANDS[command], "--xen-root", str(MINI)]
    assert xenabi_cli(where, *args).returncode == cold[command][0]
    entries = sorted(where.glob("*.json"))
    assert entries, "the first run wrote no entry"
    for p in entries:
        CORRUPTIONS[kind](p)
    warm = xenabi_cli(where, *args)
    assert (warm.returncode, warm.stdout) == cold[command]
    assert b"Traceback" not in warm.stderr and warm.stderr == b""
    if kind not in ("unreadable", "fifo"):  # those cannot be replaced by a file
        for p in entries:
            entry = json.loads(p.read_text())
            assert entry["schema"] == cache.SCHEMA and entry["version"] == xenabi.__version__


def test_a_corrupt_entry_of_the_real_tree_gives_the_cold_result(tmp_path: Path) -> None:
    args = ["check", "--format", "json", "--arch", "x86_64"]
    first = xenabi_cli(tmp_path, *args)
    if first.returncode == 2:
        pytest.skip(f"no real tree: {first.stderr.decode().strip()}")
    for p in tmp_path.glob("*.json"):
        p.write_text("[]")
    warm = xenabi_cli(tmp_path, *args)
    assert (warm.returncode, warm.stdout, warm.stderr) == (first.returncode, first.stdout, b"")


def _a_plain_file(tmp_path: Path) -> Path:
    (tmp_path / "cache").write_text("not a directory")
    return tmp_path / "cache"


def _read_only(tmp_path: Path) -> Path:
    (tmp_path / "cache").mkdir(mode=0o555)
    if os.geteuid() == 0:
        pytest.skip("root writes through a directory's mode bits (the immutable case runs)")
    return tmp_path / "cache"


@pytest.fixture
def immutable(tmp_path: Path) -> Iterator[Path]:
    where = tmp_path / "cache"
    where.mkdir()
    if subprocess.run(["chattr", "+i", str(where)], capture_output=True).returncode:
        pytest.skip("chattr +i is not permitted here (needs CAP_LINUX_IMMUTABLE)")
    try:
        yield where
    finally:
        subprocess.run(["chattr", "-i", str(where)], check=True)


def test_an_immutable_cache_dir_only_costs_time(immutable: Path,
                                                cold: dict[str, tuple[int, bytes]]) -> None:
    for command, args in COMMANDS.items():
        run = xenabi_cli(immutable, *args, "--xen-root", str(MINI))
        assert (run.returncode, run.stdout, run.stderr) == (*cold[command], b"")
    assert list(immutable.iterdir()) == []


@pytest.mark.parametrize("make", [_a_plain_file, _read_only,
                                  lambda _: Path("/proc/xenabi-cannot-be-here")],
                         ids=["a plain file", "read-only", "cannot be made"])
def test_an_unwritable_cache_only_costs_time(tmp_path: Path,
                                             cold: dict[str, tuple[int, bytes]],
                                             make: Callable[[Path], Path]) -> None:
    where = make(tmp_path)
    for command, args in COMMANDS.items():
        run = xenabi_cli(where, *args, "--xen-root", str(MINI))
        assert (run.returncode, run.stdout, run.stderr) == (*cold[command], b"")


def test_no_cache_writes_nothing(tmp_path: Path) -> None:
    run = xenabi_cli(tmp_path / "cache", *COMMANDS["check"], "--xen-root", str(MINI),
                     "--no-cache")
    assert run.returncode == 0 and not (tmp_path / "cache").exists()


# --------------------------------------------------------------------------
# Files read from outside the tree


def test_editing_a_file_included_from_outside_the_tree_changes_a_warm_result(
        tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "outside.h"
    outside.parent.mkdir()
    outside.write_text("#define OUTSIDE_LEN 4\n")
    tree = copy_mini(tmp_path / "mini")
    xen_h = tree / "xen/include/public/xen.h"
    text = xen_h.read_text()
    at = text.rindex("#endif")
    xen_h.write_text(text[:at] + f'#include "{outside}"\n'
                     "struct mini_outside { char c[OUTSIDE_LEN]; };\n" + text[at:])
    args = ["dump", "--arch", "x86_64", "--xen-root", str(tree)]

    def size() -> int:
        run = xenabi_cli(tmp_path / "cache", *args)
        assert run.returncode == 0, run.stderr
        return int(json.loads(run.stdout)["records"]["struct mini_outside"]["size"])

    assert size() == 4
    outside.write_text("#define OUTSIDE_LEN 12\n")
    assert size() == 12  # a warm run: the tree's own headers did not change
    outside.write_text("#define OUTSIDE_LEN 4\n")
    assert size() == 4
