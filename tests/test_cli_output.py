"""Where the CLI writes (issue 13's CLI edge): ``-o`` is checked before anything is
computed, a failed write is one line and exit 2 with nothing left behind, a symlink is
written through, a new file gets the umask; bad ``--interface-version`` values and
Ctrl-C are one line each."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import xenabi
from tests.minitree import MINI
from xenabi import run
from xenabi.cli import main

SRC = Path(xenabi.__file__).resolve().parent.parent


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(SRC))
    return subprocess.run([sys.executable, "-m", "xenabi", *args], env=env, text=True,
                          capture_output=True, timeout=600, check=False)


@pytest.fixture
def nothing_computed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run that computes anything fails the test: the output is checked first."""
    def computed(*a: object, **k: object) -> None:
        raise AssertionError("computed before the output path was checked")
    # check, snapshot and dump import these from xenabi.run when they run
    for name in ("snapshots", "snapshot_texts"):
        monkeypatch.setattr(run, name, computed)


COMMANDS = [["check"], ["snapshot"], ["dump", "--arch", "x86_64"]]


@pytest.fixture
def immutable_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "locked.json"
    path.write_text("before\n")
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
        path.chmod(0o444)
        if os.geteuid() == 0:
            pytest.skip("root writes a mode-0444 file and chattr +i is not permitted here")
    try:
        yield path
    finally:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize(("make", "says"), [
    (lambda d: d / "missing" / "out.json", "no directory"),
    (lambda d: d, "is a directory"),
], ids=["missing directory", "a directory"])
def test_an_unwritable_output_is_one_line_before_computing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], nothing_computed: None,
        command: list[str], make: object, says: str) -> None:
    target = make(tmp_path)  # type: ignore[operator]
    before = sorted(tmp_path.rglob("*"))
    assert main([*command, "--xen-root", str(MINI), "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err and str(target) in err
    assert sorted(tmp_path.rglob("*")) == before


def test_a_read_only_output_file_is_one_line_before_computing(
        immutable_file: Path, capsys: pytest.CaptureFixture[str], nothing_computed: None
        ) -> None:
    assert main(["check", "--xen-root", str(MINI), "-o", str(immutable_file)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not writable" in err
    assert immutable_file.read_text() == "before\n"
    assert [p.name for p in immutable_file.parent.iterdir()] == ["locked.json"]


def test_a_read_only_directory_is_one_line_before_computing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], nothing_computed: None) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    if subprocess.run(["chattr", "+i", str(locked)], capture_output=True).returncode:
        locked.chmod(0o555)
        if os.geteuid() == 0:
            pytest.skip("root writes a mode-0555 directory and chattr +i is not permitted")
    try:
        assert main(["check", "--xen-root", str(MINI), "-o", str(locked / "out")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "not writable" in err
        assert list(locked.iterdir()) == []
    finally:
        subprocess.run(["chattr", "-i", str(locked)], capture_output=True)


def test_a_full_device_is_one_line_and_exit_2() -> None:
    run = cli("check", "--xen-root", str(MINI), "-o", "/dev/full")
    assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr
    assert "/dev/full" in run.stderr and "Traceback" not in run.stderr


def test_stdout_on_a_full_device_is_one_line_and_exit_2() -> None:
    with open("/dev/full", "w") as full:
        env = dict(os.environ, PYTHONPATH=str(SRC))
        run = subprocess.run([sys.executable, "-m", "xenabi", "check", "--xen-root", str(MINI)],
                             env=env, text=True, stdout=full, stderr=subprocess.PIPE,
                             timeout=600, check=False)
    assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr
    assert "stdout" in run.stderr


def test_a_symlink_is_written_through(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    real = tmp_path / "real.txt"
    real.write_text("old\n")
    real.chmod(0o640)
    link = tmp_path / "link.txt"
    link.symlink_to(real.name)
    assert main(["check", "--xen-root", str(MINI), "--arch", "x86_64", "-o", str(link)]) == 0
    assert link.is_symlink() and os.readlink(link) == real.name
    assert real.read_text().startswith("xenabi check:")
    assert real.stat().st_mode & 0o777 == 0o640  # a replaced file keeps its mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.txt", "real.txt"]


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_a_new_file_gets_the_umask(tmp_path: Path, mask: int) -> None:
    out = tmp_path / "out.txt"
    old = os.umask(mask)
    try:
        assert main(["check", "--xen-root", str(MINI), "--arch", "x86_64", "-o", str(out)]) == 0
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask


@pytest.mark.parametrize("value", ["-5", "-0x1", str(1 << 32), "0x100000000", "ten"])
def test_a_bad_interface_version_is_one_line(value: str, capsys: pytest.CaptureFixture[str],
                                             nothing_computed: None) -> None:
    with pytest.raises(SystemExit) as e:
        main(["dump", "--xen-root", str(MINI), "--arch", "x86_64",
              "--interface-version", value])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--interface-version" in err


def test_the_largest_interface_version_is_accepted(tmp_path: Path) -> None:
    out = tmp_path / "dump.json"
    assert main(["dump", "--xen-root", str(MINI), "--arch", "x86_64", "--view", "guest",
                 "--no-cache", "--interface-version", "0xffffffff", "-o", str(out)]) == 0
    assert '"interface_version": "0xffffffff"' in out.read_text()


def test_ctrl_c_is_one_line_and_exit_130(tmp_path: Path) -> None:
    # the run waits for a pandoc that never ends, so the interrupt surely lands mid-run
    started = tmp_path / "pandoc-started"
    pandoc = tmp_path / "pandoc"
    pandoc.write_text(f"#!/bin/sh\ntouch {started}\nexec sleep 60\n")
    pandoc.chmod(0o755)
    tree = tmp_path / "tree"
    (tree / "docs").mkdir(parents=True)
    (tree / "docs/a.pandoc").write_text("Names `XEN_FOO`.\n")
    (tree / "xen/include").mkdir(parents=True)
    (tree / "xen/include/public").symlink_to(MINI / "xen/include/public")
    env = dict(os.environ, PYTHONPATH=str(SRC), XENABI_PANDOC=str(pandoc))
    proc = subprocess.Popen([sys.executable, "-m", "xenabi", "check", "--no-cache",
                             "--xen-root", str(tree)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not started.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    # 130 from main(); or, when the interrupt lands as Python shuts down, a death by SIGINT
    # (-2 here), which a shell reports as 130 all the same
    assert proc.returncode in (130, -signal.SIGINT), err
    assert err == "xenabi: interrupted\n"
