"""Hostile trees, faults and signals (issue 13): never a wrong answer, a traceback
or a hang. Each case asserts the exit code, the one line, what is left on disk
and which processes remain (read from /proc: psutil is not a dependency)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.minitree import copy_mini
from tests.test_troubles import dump, public
from xenabi import preprocess
from xenabi.cli import main
from xenabi.tree import find_tree

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"


def check(tree: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(["check", "--xen-root", str(tree), "--arch", "x86_64", "--no-cache"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err and err == "", err
    return code, [ln for ln in out.splitlines() if ": error: " in ln]


def marked(mark: str) -> list[int]:
    """The processes whose environment holds ``mark`` (a test's own children and theirs)."""
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and int(d.name) != os.getpid():
            try:
                if mark.encode() in (d / "environ").read_bytes():
                    pids.append(int(d.name))
            except OSError:
                continue
    return pids


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return copy_mini(tmp_path / "tree")


# -- silent wrong results


def test_a_tree_path_with_a_quote_and_a_backslash_reads_as_elsewhere(tmp_path, capsys):
    plain = copy_mini(tmp_path / "plain")
    odd = copy_mini(tmp_path / 'a"b\\c d')
    code, expected, err = dump(plain, capsys)
    assert code == 0, err
    code, got, err = dump(odd, capsys)
    assert code == 0, err
    assert "struct mini_ring" in got["records"] and got["constants"]["MINI_MASK"]["value"] == 0xFF00
    assert got == expected
    (public(odd) / "io/good.h").write_text("int broken = ;\n")  # one error, the same
    (public(plain) / "io/good.h").write_text("int broken = ;\n")
    code, errors = check(odd, capsys)
    assert (code, errors) == check(plain, capsys) and code == 1 and errors, errors


def _leaked(where: Path) -> Path:
    """A header outside the tree, whose struct must never reach a snapshot."""
    where.mkdir(exist_ok=True)
    (leaked := where / "leaked.h").write_text("struct leaked { int a; };\n")
    return leaked


def _included_by_good_h(tree: Path, name: str, reaches: Path, capsys) -> dict:
    """``#include "name"`` put at io/good.h:4: the header fails, naming the real path it
    reaches, and nothing of that file is read."""
    good = public(tree) / "io/good.h"
    lines = good.read_text().splitlines()
    good.write_text("\n".join(lines[:3] + [f'#include "{name}"'] + lines[3:]) + "\n")
    code, snap, err = dump(tree, capsys)
    assert code == 0, err
    assert snap["headers"]["io/good.h"] == {
        "status": "failed",
        "why": f"io/good.h:4: #include reaches {reaches.resolve()}, outside the public headers"}
    assert "struct leaked" not in snap["records"]
    return snap


@pytest.mark.parametrize("how", ["absolute", "relative"])
def test_an_include_reaching_outside_the_public_headers_fails_its_includer(tree, tmp_path,
                                                                           capsys, how):
    outside = _leaked(tmp_path)
    name = str(outside) if how == "absolute" else os.path.relpath(outside, public(tree) / "io")
    _included_by_good_h(tree, name, outside, capsys)
    code, errors = check(tree, capsys)
    assert code == 1 and any("io/good.h:4: error: io/good.h: #include reaches" in e
                            for e in errors), errors


@pytest.mark.parametrize("how", ["absolute", "relative"])
def test_a_header_symlinked_outside_the_tree_is_a_failed_header_never_read(tree, tmp_path,
                                                                           capsys, how):
    target = _leaked(tmp_path / "elsewhere")
    evil = public(tree) / "io/evil.h"
    evil.symlink_to(target if how == "absolute" else os.path.relpath(target, evil.parent))
    code, snap, err = dump(tree, capsys)
    assert code == 0, err
    assert snap["headers"]["io/evil.h"] == {
        "status": "failed",
        "why": f"a symlink to {target.resolve()}, outside the public headers (not read)"}
    assert "struct leaked" not in snap["records"]
    assert snap["headers"]["io/good.h"]["status"] == "parsed"
    code, errors = check(tree, capsys)
    assert errors == [f"xen/include/public/io/evil.h: error: io/evil.h: a symlink to "
                      f"{target.resolve()}, outside the public headers (not read) [headers] "
                      "(x86_64 / guest tools)"]
    # nor is it part of the tree's identity: what it points at may change freely
    before = find_tree(tree).fingerprint
    target.write_text("struct leaked { long b; };\n")
    assert find_tree(tree).fingerprint == before


@pytest.mark.parametrize("link, name", [("io/ext", "ext/leaked.h"), ("io/leaked.inc", "leaked.inc")],
                         ids=["directory symlink", "symlink not named .h"])
def test_an_include_through_a_symlink_leading_outside_fails_its_includer(tree, tmp_path, capsys,
                                                                         link, name):
    target = _leaked(tmp_path / "elsewhere")
    (public(tree) / link).symlink_to(target.parent if link == "io/ext" else target)
    snap = _included_by_good_h(tree, name, target, capsys)
    assert "struct mini_ring" not in snap["records"]
    assert not any(h.startswith(("io/ext", "io/leaked")) for h in snap["headers"]), snap["headers"]


def test_symlinks_that_stay_inside_the_tree_are_read(tmp_path, capsys):
    real = copy_mini(tmp_path / "tree")
    code, expected, err = dump(real, capsys)
    assert code == 0, err
    (public(real) / "io/alias.h").symlink_to("good.h")
    (tmp_path / "link").symlink_to(real)  # the root itself, as headers/xen-4.17 is
    code, snap, err = dump(tmp_path / "link", capsys)
    assert code == 0, err
    assert snap["headers"]["io/alias.h"] == {"status": "parsed"}
    # read first (in name order), the alias is where mini_ring is now declared
    assert snap["records"]["struct mini_ring"].pop("header") == "io/alias.h"
    expected["records"]["struct mini_ring"].pop("header")
    assert snap["records"] == expected["records"]


# -- wrong exit codes


def test_a_syntax_error_reached_through_dotdot_fails_its_header_and_its_includers(tree, capsys):
    xen = public(tree) / "xen.h"
    lines = xen.read_text().splitlines()
    lines.insert(13, "int broken = ;")  # line 14, inside the guard
    xen.write_text("\n".join(lines) + "\n")
    code, snap, err = dump(tree, capsys)
    assert code == 0, err
    why = snap["headers"]["xen.h"]["why"]
    assert snap["headers"]["xen.h"]["status"] == "failed" and why.startswith("xen.h:14: syntax")
    # io/good.h reads it as ../xen.h: it fails with it and says why, and no path has ../
    assert snap["headers"]["io/good.h"] == {"status": "failed", "why": f"includes xen.h: {why}"}
    assert "../" not in json.dumps(snap)
    code, errors = check(tree, capsys)
    assert code == 1 and len(errors) >= 2, errors


# -- hangs and blow-ups


@pytest.mark.parametrize("make, why", [
    (os.mkfifo, "a FIFO, not a regular file (not read)"),
    (lambda p: p.symlink_to("nowhere"), "a symlink to nowhere, which does not exist (not read)"),
    (lambda p: p.symlink_to("odd.h"), "a symlink to odd.h, which loops (not read)"),
    (os.mkdir, "a directory, not a regular file (not read)"),
], ids=["fifo", "dangling symlink", "symlink loop", "directory"])
def test_a_non_regular_header_is_named_and_never_read(tree, capsys, make, why):
    make(public(tree) / "io/odd.h")
    code, snap, err = dump(tree, capsys)
    assert code == 0, err
    assert snap["headers"]["io/odd.h"] == {"status": "failed", "why": why}
    assert snap["headers"]["io/good.h"]["status"] == "parsed"


def test_a_header_that_includes_itself_costs_one_rerun(tree, capsys, monkeypatch):
    # the time bound, by what costs time: cpp ran once more per header dropped
    runs = []
    real = preprocess._run_cpp
    monkeypatch.setattr(preprocess, "_run_cpp", lambda *a: runs.append(1) or real(*a))
    with (public(tree) / "xen.h").open("a") as f:
        f.write('#include "xen.h"\n')  # after its guard: includes itself without end
    code, snap, err = dump(tree, capsys)
    assert code == 0, err
    assert len(runs) == 2
    assert "#include nested depth" in snap["headers"]["xen.h"]["why"]
    for h in ("io/good.h", "tools.h"):
        assert snap["headers"][h]["why"].startswith("includes xen.h: xen.h:"), snap["headers"][h]


EXPONENTIAL = "#define E0 1\n" + "".join(f"#define E{i} (E{i-1}+E{i-1})\n" for i in range(1, 20))


def test_an_exponential_macro_used_as_an_array_size_fails_naming_it(tree, capsys):
    (public(tree) / "io/exp.h").write_text(EXPONENTIAL + "\nstruct big { char buf[E19]; };\n")
    code, snap, err = dump(tree, capsys)
    assert code == 0, err
    assert snap["headers"]["io/exp.h"] == {
        "status": "failed", "why": "io/exp.h:22: macro E19 expands past 20000 tokens"}
    assert snap["headers"]["io/good.h"]["status"] == "parsed"


def test_an_exponential_macro_fails_before_cpp_runs_wherever_it_is_used(tree, capsys,
                                                                      monkeypatch):
    # E21: 2^23 - 3 tokens, about 50 s of cpp before its output bound; read from the
    # sources instead, so cpp runs once, without the headers that use it
    runs = []
    real = preprocess._run_cpp
    monkeypatch.setattr(preprocess, "_run_cpp", lambda *a: runs.append(a[1]) or real(*a))
    exponential = EXPONENTIAL + "#define E20 (E19+E19)\n#define E21 (E20+E20)\n"
    (public(tree) / "io/exp.h").write_text(exponential)  # defined here, used elsewhere
    (public(tree) / "io/use.h").write_text('#include "exp.h"\n\nstruct big { char buf[E21]; };\n')
    (public(tree) / "io/top.h").write_text('#include "use.h"\n')
    code, snap, err = dump(tree, capsys)
    assert code == 0, err
    why = "io/use.h:3: macro E21 expands past 20000 tokens"
    assert snap["headers"]["io/use.h"] == {"status": "failed", "why": why}
    assert snap["headers"]["io/top.h"] == {"status": "failed", "why": f"includes io/use.h: {why}"}
    assert snap["headers"]["io/good.h"]["status"] == "parsed"
    assert len(runs) == 1 and "use.h" not in runs[0] and "top.h" not in runs[0]
    # where it is only defined, no cpp line expands it; its constants are bounded by cexpr
    assert snap["headers"]["io/exp.h"]["status"] == "failed"


def test_cpp_past_the_output_bound_is_killed_with_its_children(tree, capsys, monkeypatch):
    # function-like macros are not measured before cpp runs: cpp's bounds catch them
    mark = f"XENABI_TEST_{uuid.uuid4().hex}"
    monkeypatch.setenv(mark, "1")
    monkeypatch.setattr(preprocess, "OUTPUT_LIMIT", 1 << 16)
    (public(tree) / "io/exp.h").write_text("#define F0(x) x\n" + "".join(
        f"#define F{i}(x) (F{i-1}(x)+F{i-1}(x))\n" for i in range(1, 40)) + "char big[F39(1)];\n")
    code, snap, err = dump(tree, capsys)
    assert code == 0, err
    assert snap["headers"]["io/exp.h"] == {
        "status": "failed", "why": "io/exp.h:41: the line expands past 20000 tokens"}
    assert "<xenabi>" not in snap["headers"]
    assert marked(mark) == []  # neither the driver nor its cc1


def test_cpp_past_its_time_is_killed_with_its_children(tree, capsys, monkeypatch):
    # 2^27 tokens: minutes of cpp, stopped at CPP_TIMEOUT (the output bound set aside)
    mark = f"XENABI_TEST_{uuid.uuid4().hex}"
    monkeypatch.setenv(mark, "1")
    monkeypatch.setattr(preprocess, "OUTPUT_LIMIT", 1 << 40)
    monkeypatch.setattr(preprocess, "CPP_TIMEOUT", 1)
    errors = []
    real = preprocess._run_cpp
    monkeypatch.setattr(preprocess, "_run_cpp", lambda *a: errors.append(out := real(*a)) or out)
    (public(tree) / "io/exp.h").write_text("#define F0(x) x\n" + "".join(
        f"#define F{i}(x) (F{i-1}(x)+F{i-1}(x))\n" for i in range(1, 28)) + "char big[F27(1)];\n")
    code, snap, err = dump(tree, capsys)
    assert code == 0, err
    assert snap["headers"]["io/exp.h"]["status"] == "failed"
    assert snap["headers"]["io/exp.h"]["why"].startswith("io/exp.h:29: "), snap["headers"]
    assert snap["headers"]["io/good.h"]["status"] == "parsed"
    assert any("cpp ran past 1 s" in err for _, err in errors), errors  # the time, no other bound
    assert marked(mark) == []  # killed, with its cc1


# -- tracebacks


def _parens(n: int) -> str:
    return "(" * n + "1" + ")" * n


@pytest.mark.parametrize("text, why", [
    (f"#define DEEP {_parens(200)}\n", "io/deep.h:1: macro DEEP: the expression nests deeper"),
    (f"\nstruct deep {{ char a[{_parens(120)}]; }};\n", "io/deep.h:2: a declaration nests deeper"),
    ("struct {\n" * 1000 + "int x;\n" + "};\n" * 999 + "} deep_var;\n",
     "io/deep.h:1: a declaration nests deeper"),
], ids=["200 parentheses in a #define", "120 in an array size", "1000 nested structs"])
def test_deep_nesting_fails_the_header_with_one_line(tree, capsys, text, why):
    (public(tree) / "io/deep.h").write_text(text)
    code, snap, err = dump(tree, capsys)
    assert code == 0, err
    assert snap["headers"]["io/deep.h"]["status"] == "failed"
    assert snap["headers"]["io/deep.h"]["why"].startswith(why), snap["headers"]["io/deep.h"]
    code, errors = check(tree, capsys)
    assert code == 1 and len(errors) == 1, errors


# -- signals and processes


def test_pandoc_interrupted_alone_is_an_interrupt_and_leaves_nothing():
    from xenabi.docs.pandoc import PandocRun, find_pandoc

    run = PandocRun({"a": "# Title\n\ntext\n" * 20000}, find_pandoc())
    folder, pid = run._dir, run._proc.pid
    os.kill(pid, signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        run.result()
    assert not folder.exists()
    assert not Path(f"/proc/{pid}").exists()


def test_a_pandoc_that_caught_the_interrupt_is_an_interrupt_too(tmp_path):
    """A SIGINT that reaches pandoc once its runtime is up does not kill it: GHC's runtime
    prints "pandoc: interrupted" and exits 252 (seen in CI). That is an interrupt, never
    "pandoc failed"; another exit with a message stays a failure."""
    from xenabi.docs.pandoc import PandocRun
    from xenabi.errors import UsageError

    for message, code, raised in (("pandoc: interrupted", 252, KeyboardInterrupt),
                                  ("pandoc: out of memory", 252, UsageError),
                                  ("pandoc: interrupted", 1, UsageError)):
        (fake := tmp_path / "pandoc").write_text(f"#!/bin/sh\necho '{message}' >&2\nexit {code}\n")
        fake.chmod(0o755)
        run = PandocRun({"a": "# Title\n"}, str(fake))
        with pytest.raises(raised):
            run.result()
        assert not run._dir.exists()


def test_check_whose_pandoc_alone_is_interrupted_exits_130_with_one_line(tmp_path):
    tree = copy_mini(tmp_path / "tree")
    (tree / "docs/misc").mkdir(parents=True)
    (tree / "docs/misc/mini.pandoc").write_text("# Mini\n")
    (pandoc := tmp_path / "pandoc").write_text("#!/bin/sh\nkill -INT $$\n")  # as Ctrl-C would
    pandoc.chmod(0o755)
    (tmp := tmp_path / "tmp").mkdir()
    mark = f"XENABI_TEST_{uuid.uuid4().hex}"
    job = _job(["xenabi", "check", "--no-cache", "--xen-root", str(tree)], tmp, mark,
               XENABI_PANDOC=str(pandoc))
    _, err = job.communicate(timeout=120)
    assert (job.returncode, err) == (130, b"xenabi: interrupted\n")
    assert _left_nothing(tmp, mark)


def _real_tree() -> Path:
    return find_tree(None).root


def _job(args: list[str], tmp: Path, mark: str, **env: str) -> subprocess.Popen[bytes]:
    """``python -m ARGS`` in a session of its own (a shell's job), its temporaries in ``tmp``."""
    env = dict(os.environ, PYTHONPATH=f"{SRC}{os.pathsep}{ROOT}", TMPDIR=str(tmp),
               XDG_CACHE_HOME=str(tmp.parent / "cache"), **{mark: "1"}, **env)
    return subprocess.Popen([sys.executable, "-m", *args], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)


def _left_nothing(tmp: Path, mark: str) -> bool:
    return list(tmp.iterdir()) == [] and marked(mark) == []


def test_sigterm_at_every_point_of_a_run_leaves_no_process_and_no_temporary(tmp_path):
    # SIGTERM to the whole job at each point where a signal once left something behind
    # (tests/sigpoints.py): after each temporary directory, process and worker is made,
    # and before a worker's result is renamed into place. The mini tree with a document,
    # so that pandoc runs too; one target, whose two views take one worker.
    tree = copy_mini(tmp_path / "tree")
    (tree / "docs/misc").mkdir(parents=True)
    (tree / "docs/misc/mini.pandoc").write_text("# Mini\n\n`struct mini_ring` is shared.\n")
    (tmp := tmp_path / "tmp").mkdir()
    mark = f"XENABI_TEST_{uuid.uuid4().hex}"
    check = ["check", "--no-cache", "--arch", "x86_64", "--xen-root", str(tree)]
    counting = _job(["tests.sigpoints", "0", *check], tmp, mark)
    _, err = counting.communicate(timeout=120)
    assert counting.returncode == 0, err
    passed = [line.split() for line in err.decode().splitlines()]
    # xenabi's own: the run's directory, pandoc's and pandoc, the workers' directory and
    # the worker, the directory and cpp of the view computed here; the worker's: its
    # view's directory and cpp, its result's rename
    main, worker = (max(int(n) for who, n in passed if who == w) for w in ("main", "worker"))
    assert (main, worker) >= (7, 3), err
    for k in [*range(1, main + 1), *range(-1, -worker - 1, -1)]:
        job = _job(["tests.sigpoints", str(k), *check], tmp, mark)
        _, err = job.communicate(timeout=120)  # returns: no worker holds the pipes
        assert (k, job.returncode, err) == (k, 128 + signal.SIGTERM, b"")
        assert _left_nothing(tmp, mark), (k, list(tmp.rglob("*")), marked(mark))


def test_sigterm_to_the_job_while_workers_compute_leaves_nothing(tmp_path):
    (tmp := tmp_path / "tmp").mkdir()
    mark = f"XENABI_TEST_{uuid.uuid4().hex}"
    job = _job(["xenabi", "check", "--no-cache", "--xen-root", str(_real_tree())], tmp, mark)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(marked(mark)) < 3:  # xenabi, 2 workers or cpp
        time.sleep(0.01)
    os.killpg(job.pid, signal.SIGTERM)
    _, err = job.communicate(timeout=60)
    assert (job.returncode, err) == (128 + signal.SIGTERM, b"")
    assert _left_nothing(tmp, mark), (list(tmp.rglob("*")), marked(mark))
