"""The three kinds of trouble (DESIGN.md), each kept apart:

unusable input -> exit 2 and one line; a broken header -> ``failed`` with
file:line while the rest are still read; a header that does not apply by
design -> ``skipped`` with its reason.
"""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest

from tests.minitree import MINI, copy_mini
from xenabi.cli import main


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return copy_mini(tmp_path / "tree")


def public(tree: Path) -> Path:
    return tree / "xen/include/public"


def dump(tree: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict, str]:
    code = main(["dump", "--xen-root", str(tree), "--arch", "x86_64", "--no-cache", *extra])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out else {}), err


# -- unusable input: exit 2, one line, nothing written


@pytest.mark.parametrize("make, expect", [
    (lambda p: p / "nowhere", "no such directory"),
    (lambda p: p, "not a Xen tree"),
], ids=["missing directory", "directory that is not a Xen tree"])
def test_unusable_tree_is_one_line_and_exit_2(tmp_path, capsys, make, expect):
    out_file = tmp_path / "out.json"
    code = main(["dump", "--xen-root", str(make(tmp_path)), "--arch", "x86_64",
                 "-o", str(out_file)])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and expect in err, err
    assert not out_file.exists()


def test_non_utf8_header_names_file_and_line(tree, capsys, tmp_path):
    (public(tree) / "io/latin1.h").write_bytes(b"/* ok */\n/* caf\xe9 */\n")
    out_file = tmp_path / "out.json"
    code = main(["dump", "--xen-root", str(tree), "--arch", "x86_64", "--no-cache",
                 "-o", str(out_file)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == "xenabi: error: xen/include/public/io/latin1.h:2: not UTF-8 text"
    assert not out_file.exists()


def test_bad_option_is_one_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["dump", "--arch", "sparc"])
    assert e.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


# -- a header that cannot be read: failed with file:line, the rest still read


@pytest.mark.parametrize("text, line, reason", [
    ("#include \"../xen.h\"\nstruct broken {\n    uint32_t a\n    uint32_t b;\n};\n",
     4, "syntax error"),
    ("#include \"../xen.h\"\n\nstruct unknown { mystery_t a; };\n", 3, "syntax error"),
    ("#define X0 1\n" + "".join(f"#define X{i} (X{i-1} + X{i-1})\n" for i in range(1, 41)),
     41, "expands past"),
], ids=["syntax error", "unknown type name", "macro that expands without end"])
def test_broken_header_fails_alone(tree, capsys, text, line, reason):
    (public(tree) / "io/broken.h").write_text(text)
    code, snap, err = dump(tree, capsys)
    assert code == 0, err
    status = snap["headers"]["io/broken.h"]
    assert status["status"] == "failed"
    assert status["why"].startswith(f"io/broken.h:{line}:"), status["why"]
    assert reason in status["why"]
    # the others are still read
    assert snap["headers"]["io/good.h"]["status"] == "parsed"
    assert "struct mini_ring" in snap["records"]
    assert snap["constants"]["MINI_MASK"]["value"] == 0xFF00


@pytest.mark.parametrize("view, conditional", [("guest", "parsed"), ("tools", "failed")])
def test_every_header_that_reads_a_broken_one_fails_with_it_in_one_reading_again(
        tree, view, conditional):
    # io/b.h reads io/bad.h behind its guard (io/a.h read it first), io/c.h through io/b.h;
    # io/d.h reads it in the tools view only
    from xenabi.snapshot import Batch, compute
    from xenabi.tree import open_tree

    io = public(tree) / "io"
    (io / "bad.h").write_text("#ifndef BAD_H\n#define BAD_H\nstruct bad { mystery_t a; };\n"
                              "#endif\n")
    for name, text in (("a.h", '#include "bad.h"\n'), ("b.h", '#include "bad.h"\n'),
                       ("c.h", '#include "b.h"\n'),
                       ("d.h", '#ifdef __XEN_TOOLS__\n#include "bad.h"\n#endif\n')):
        (io / name).write_text(text + f"struct {name[0]}_rec {{ int x; }};\n")
    batch = Batch(trails=True)
    snap = compute(open_tree(tree), "x86_64", view, batch=batch)
    assert snap.headers["io/bad.h"].status.value == "failed"
    for name in ("a.h", "b.h", "c.h"):
        st = snap.headers[f"io/{name}"]
        assert (st.status.value, (st.why or "").split(":")[0]) == ("failed", "includes io/bad.h")
        assert f"struct {name[0]}_rec" not in snap.records
    assert snap.headers["io/d.h"].status.value == conditional
    assert ("struct d_rec" in snap.records) == (conditional == "parsed")
    assert snap.headers["io/good.h"].status.value == "parsed"
    # cpp ran twice: what failed was found in the first unit, not one includer a time
    assert len(batch.trails["x86_64", view].steps) == 2


# -- a header that does not apply by design: skipped, not a failure


def test_tools_only_header_is_skipped_in_guest_view(tree, capsys):
    code, snap, err = dump(tree, capsys, "--view", "guest")
    assert code == 0, err
    status = snap["headers"]["tools.h"]
    assert status["status"] == "skipped"
    assert "tools only" in status["why"]
    assert "struct mini_tools" not in snap["records"]


def test_tools_only_header_is_parsed_in_tools_view(tree, capsys):
    code, snap, err = dump(tree, capsys, "--view", "tools")
    assert code == 0, err
    assert snap["headers"]["tools.h"]["status"] == "parsed"
    assert "struct mini_tools" in snap["records"]


def test_arch_header_of_another_arch_is_skipped(tree, capsys):
    code = main(["dump", "--xen-root", str(tree), "--arch", "arm64", "--no-cache"])
    snap = json.loads(capsys.readouterr().out)
    assert code == 0
    assert snap["headers"]["arch-x86/xen.h"] == {"status": "skipped",
                                                 "why": "arch header, not for arm64"}


def test_output_to_a_device_writes_to_it_and_leaves_it_a_device(tmp_path):
    # -o FILE replaces a regular file atomically; a FIFO (like /dev/null) is written to
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    assert main(["dump", "--xen-root", str(MINI), "--arch", "x86_64", "-o", str(fifo)]) == 0
    reader.join(timeout=30)
    assert json.loads(got[0])["arch"] == "x86_64"
    assert stat.S_ISFIFO(fifo.stat().st_mode)
