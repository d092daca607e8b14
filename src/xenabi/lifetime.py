"""What a run starts ends with it: no temporary file and no process outlives it.

A SIGTERM (a ``SystemExit``, :func:`end_on_signal`) or a SIGINT
(``KeyboardInterrupt``) lands between any two bytecodes: between ``mkdtemp``
and the ``try`` that removes the directory, between ``Popen`` and the
``finally`` that kills the process. Three defences, each closing what a
``finally`` cannot:

- :func:`run_directory`: the CLI makes one ``xenabi-run-*`` directory per run,
  the parent of every temporary of the run (``tempfile.tempdir``), and removes
  it whole at the end; a temporary made later cannot outlive the run, even when
  a signal lands before its own cleanup is set up.
- :func:`spawn` and :func:`fork_map` start a process with SIGINT and SIGTERM
  held (:func:`held`) and record it in the same breath; :func:`end_children`
  ends every process recorded and not yet reaped, before the run directory goes.
- Workers are forked here rather than by ``multiprocessing.Pool``: the pool's
  ``terminate()`` SIGTERMs a worker waiting on the pool's semaphore, and a
  signal that arrives just before the worker enters ``sem_wait`` never reaches
  its Python handler, so the run hangs for good (seen once on a normal
  ``xenabi check`` of the 4.20 tree). A worker here writes its result to a file
  renamed into place, so a worker ended halfway leaves no half-written message
  on a pipe; nothing it does waits on a lock shared with another process.
"""

from __future__ import annotations

import functools
import os
import pickle
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from xenabi.errors import XenAbiError

_T = TypeVar("_T")
_R = TypeVar("_R")

#: the signals that end a run
ENDING = (signal.SIGINT, signal.SIGTERM)
#: how long a worker sent SIGTERM has to end its own children before it is killed (s)
GRACE = 5.0

#: process groups this process started (cpp, pandoc) and has not reaped, by pid
_groups: dict[int, subprocess.Popen[bytes]] = {}
#: workers this process forked and has not reaped
_workers: set[int] = set()


@contextmanager
def held() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block has ended: what it creates, it records whole.

    A thread started inside keeps them blocked for good, so a signal meant for the
    main thread is never delivered to it (it would run the main thread's handler at
    once, held or not)."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, ENDING)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def end_on_signal(signum: int, frame: object) -> None:
    """A signal handler: end the run as an error would (``finally`` blocks run, so
    temporary files go and child processes are ended). Later signals stay held: one
    is enough, and a second must not cut the ending short."""
    signal.pthread_sigmask(signal.SIG_BLOCK, ENDING)
    raise SystemExit(128 + signum)


@contextmanager
def run_directory() -> Iterator[Path]:
    """One directory for every temporary of the run; it and every child go at the end."""
    before = tempfile.tempdir
    folder = None
    try:  # entered before the directory is made: a signal held past it lands inside
        with held():
            folder = Path(_mkdtemp())
            tempfile.tempdir = str(folder)
        yield folder
    finally:
        with held():  # a signal that comes now waits for the cleanup to end
            end_children()
            tempfile.tempdir = before
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)


def _mkdtemp() -> str:
    try:
        return tempfile.mkdtemp(prefix="xenabi-run-")
    except OSError as e:  # before any work: as unusable as a missing tree
        raise XenAbiError(f"cannot make a temporary directory in {tempfile.gettempdir()}: "
                          f"{e.strerror or e}") from None


def spawn(cmd: list[str], **options: Any) -> subprocess.Popen[bytes]:
    """``Popen`` in a session of its own (its children die with it), recorded until
    :func:`reaped`; :func:`end_children` kills it if the caller never gets to."""
    with held():
        # the child starts with them unblocked again: a mask held survives exec
        proc: subprocess.Popen[bytes] = subprocess.Popen(
            cmd, start_new_session=True, **options,
            preexec_fn=functools.partial(signal.pthread_sigmask, signal.SIG_UNBLOCK, ENDING))
        _groups[proc.pid] = proc
    return proc


def kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill ``proc``'s whole group, reap it, forget it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
    reaped(proc)


def reaped(proc: subprocess.Popen[bytes]) -> None:
    """``proc`` has been waited for: nothing is left to end."""
    _groups.pop(proc.pid, None)


def end_children() -> None:
    """End every process this one started and has not reaped: workers by SIGTERM (so that
    they end their own children first), killed after :data:`GRACE` seconds; process
    groups by SIGKILL."""
    _end_workers(set(_workers))
    for proc in list(_groups.values()):
        if proc.poll() is None:
            kill(proc)
        reaped(proc)


def fork_map(func: Callable[[_T], _R], items: Sequence[_T]) -> list[_R]:
    """``func`` of each item: the last computed here, each other in a worker of its own.

    A worker's exception is raised here, the first in the order of ``items``; a worker
    ended by SIGTERM or SIGINT ends the run as that signal would; one ended otherwise
    (the OOM killer's SIGKILL) is one line. Every worker is ended and reaped on return."""
    if not items:
        return []
    folder = Path(tempfile.mkdtemp(prefix="xenabi-workers-"))
    pids: list[int] = []
    try:
        for i, item in enumerate(items[:-1]):
            pids.append(_fork(func, item, folder / str(i)))
        last = func(items[-1])
        return [*(_result(pid, folder / str(i)) for i, pid in enumerate(pids)), last]
    finally:
        with held():
            _end_workers(set(_workers))
            shutil.rmtree(folder, ignore_errors=True)


def _fork(func: Callable[[_T], _R], item: _T, out: Path) -> int:
    with held():  # the worker starts with them held, until its own handlers are set
        pid = os.fork()
        if pid == 0:
            _work(func, item, out)
        _workers.add(pid)
    return pid


def _work(func: Callable[[_T], _R], item: _T, out: Path) -> NoReturn:
    """A worker's whole life. It must never return into its parent's frames (whose
    ``finally`` blocks would remove the parent's run directory): every way out is
    ``os._exit``, and past its first SIGTERM no signal is taken."""
    code = 128 + signal.SIGTERM
    try:
        try:
            _groups.clear()  # its parent's children are not its own
            _workers.clear()
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # an interrupt is the parent's
            signal.signal(signal.SIGTERM, end_on_signal)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, ENDING)
            try:
                outcome: tuple[bool, object] = (True, func(item))
            except Exception as e:  # noqa: BLE001 - raised again in the parent
                outcome = (False, e)
            signal.pthread_sigmask(signal.SIG_BLOCK, ENDING)
            _write(out, outcome)
            code = 0
        finally:
            end_children()  # a cpp started but not yet in its caller's try
            os._exit(code)
    finally:  # a second SIGTERM that came before the first one's handler blocked it
        os._exit(code)


def _write(out: Path, outcome: tuple[bool, object]) -> None:
    try:
        data = pickle.dumps(outcome, pickle.HIGHEST_PROTOCOL)
    except Exception as e:  # noqa: BLE001 - an exception that does not pickle
        data = pickle.dumps((False, XenAbiError(f"a worker failed: {outcome[1]!r} ({e})")))
    part = out.with_suffix(".part")
    part.write_bytes(data)
    part.rename(out)  # whole or not at all


def _result(pid: int, out: Path) -> Any:
    _, status = os.waitpid(pid, 0)
    _workers.discard(pid)
    if out.exists():
        ok, value = pickle.loads(out.read_bytes())
        if ok:
            return value
        raise value if isinstance(value, BaseException) else XenAbiError(repr(value))
    code = os.waitstatus_to_exitcode(status)
    if code in (128 + signal.SIGTERM, -signal.SIGTERM):
        raise SystemExit(128 + signal.SIGTERM)
    if code in (128 + signal.SIGINT, -signal.SIGINT):
        raise KeyboardInterrupt
    how = f"signal {-code}" if code < 0 else f"exit {code}"
    raise XenAbiError(f"a worker process ended ({how}) without a result"
                      + (" (out of memory?)" if code == -signal.SIGKILL else ""))


def _end_workers(pids: set[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + GRACE
    for pid in pids:
        try:
            while not os.waitpid(pid, os.WNOHANG)[0]:
                if time.monotonic() > deadline:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    break
                time.sleep(0.005)
        except ChildProcessError:
            pass  # reaped already
        _workers.discard(pid)
