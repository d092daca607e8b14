"""lifetime: workers forked and ended, temporaries and children gone with the run."""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path

import pytest

from xenabi import lifetime
from xenabi.errors import UsageError, XenAbiError


def _square_in_a_worker(n: int) -> tuple[int, int]:
    if n == 3:
        raise UsageError("io/bad.h:3: not UTF-8 text")
    if n == 9:
        os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer would
    return n * n, os.getpid()


def test_results_come_back_in_order_each_but_the_last_from_a_worker_of_its_own():
    got = lifetime.fork_map(_square_in_a_worker, [1, 2, 4])
    assert [r for r, _ in got] == [1, 4, 16]
    pids = [pid for _, pid in got]
    assert pids[-1] == os.getpid() and len(set(pids)) == 3
    assert not lifetime._workers


def test_a_workers_error_is_raised_in_the_parent_and_no_worker_is_left():
    with pytest.raises(UsageError, match="io/bad.h:3: not UTF-8 text"):
        lifetime.fork_map(_square_in_a_worker, [1, 3, 2])
    assert not lifetime._workers


def test_a_worker_killed_without_a_result_is_one_line():
    with pytest.raises(XenAbiError) as e:
        lifetime.fork_map(_square_in_a_worker, [9, 1])
    assert str(e.value) == "a worker process ended (signal 9) without a result (out of memory?)"


def test_the_run_directory_holds_every_temporary_and_goes_with_its_children(tmp_path,
                                                                           monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with lifetime.run_directory() as run:
        inner = Path(tempfile.mkdtemp())
        proc = lifetime.spawn(["sleep", "60"])
        assert inner.parent == run and run.parent == tmp_path
        assert run.name.startswith("xenabi-run-")
    assert list(tmp_path.iterdir()) == []
    assert proc.returncode == -signal.SIGKILL and not lifetime._groups
    assert tempfile.tempdir == str(tmp_path)


def test_a_child_starts_with_sigint_and_sigterm_unblocked():
    with lifetime.held():
        proc = lifetime.spawn(["grep", "SigBlk", "/proc/self/status"], stdout=-1)
    out, _ = proc.communicate()
    lifetime.reaped(proc)
    blocked = int(out.split()[1], 16)
    assert not blocked & (1 << (signal.SIGINT - 1) | 1 << (signal.SIGTERM - 1)), out


def test_no_place_for_temporaries_is_one_line_before_any_work(tmp_path, monkeypatch, capsys):
    from xenabi.cli import main

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    assert main(["check", "--xen-root", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (f"xenabi: error: cannot make a temporary directory in "
                                       f"{tmp_path / 'missing'}: No such file or directory\n")
