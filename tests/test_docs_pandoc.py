"""Reading documents with pandoc: one process for many documents, each parsed on its own,
ASTs cached by content, and every token's source line found in the source text."""

from __future__ import annotations

import gc
import os
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from xenabi.docs import Document, read_documents
from xenabi.docs.facts import document
from xenabi.docs.lines import LineFinder
from xenabi.docs.pandoc import Blocks, PandocRun, find_pandoc, parse_documents
from xenabi.errors import UsageError


def _plain(blocks: Blocks) -> str:
    """The words of pandoc blocks, for asserting what pandoc made of a document."""
    return " ".join(t.text for t in document("x", "", blocks).texts)


def _counting_pandoc(tmp_path: Path) -> Path:
    """A wrapper around the real pandoc that counts its runs in a file beside it."""
    real = find_pandoc()
    wrapper = tmp_path / "pandoc"
    wrapper.write_text(f'#!/bin/sh\necho run >> "{tmp_path}/runs"\nexec "{real}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return wrapper


def _runs(tmp_path: Path) -> int:
    log = tmp_path / "runs"
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_many_documents_one_process_each_parsed_on_its_own(tmp_path: Path) -> None:
    texts = {
        # a reference link defined here must not resolve in the next document
        "a.pandoc": "Link to [home].\n\n[home]: http://example.org/\n",
        "b.pandoc": "Another [home].\n",
        # a line of tildes inside a document must not end the block that carries it
        "c.pandoc": "Before\n\n~~~~\ncode\n~~~~\n\nAfter `x`\n",
    }
    asts = parse_documents(texts, _counting_pandoc(tmp_path))
    assert _runs(tmp_path) == 1
    assert _plain(asts["a.pandoc"]) == "Link to home."
    assert _plain(asts["b.pandoc"]) == "Another [home]."
    assert _plain(asts["c.pandoc"]) == "Before After `x`"
    assert document("c", texts["c.pandoc"], asts["c.pandoc"]).code_blocks[0].text == "code"


@pytest.fixture
def counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A counting pandoc and a cache of our own, through the environment as a user sets them."""
    monkeypatch.setenv("XENABI_PANDOC", str(_counting_pandoc(tmp_path)))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("XENABI_NO_CACHE", raising=False)
    return tmp_path


def test_cache_hit_starts_no_pandoc_and_an_edit_misses(counted: Path) -> None:
    texts = {"a.pandoc": "One `A`.\n", "b.pandoc": "Two `B`.\n"}
    first = read_documents(texts)
    again = read_documents(texts)
    assert (_runs(counted), again.documents, again.pandoc_seconds) == (1, first.documents, 0.0)
    assert first.pandoc_seconds > 0
    edited = read_documents({**texts, "b.pandoc": "Two `C`.\n"})
    assert _runs(counted) == 2
    assert [t.text for d in edited for t in d.texts] == ["One `A`.", "Two `C`."]


def test_a_cached_document_keeps_its_own_path(counted: Path) -> None:
    read_documents({"a.pandoc": "Same text.\n"})
    (doc,) = read_documents({"b.pandoc": "Same text.\n"}).documents
    assert (_runs(counted), doc.path) == (1, "b.pandoc")


def test_torn_cache_entry_is_read_again(counted: Path) -> None:
    read_documents({"a.pandoc": "One.\n"})
    for entry in (counted / "cache/xenabi/docs").iterdir():
        entry.write_text('{"texts": [')  # cut short, as a crash mid-write would leave it
    (doc,) = read_documents({"a.pandoc": "One.\n"}).documents
    assert _runs(counted) == 2 and doc.texts[0].text == "One."


def test_no_cache_env_turns_the_cache_off(counted: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XENABI_NO_CACHE", "1")
    read_documents({"a.pandoc": "One.\n"})
    read_documents({"a.pandoc": "One.\n"})
    assert _runs(counted) == 2 and not (counted / "cache").exists()


def test_missing_pandoc_is_unusable_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XENABI_PANDOC", "/nonexistent/pandoc")
    with pytest.raises(UsageError, match="XENABI_PANDOC=/nonexistent/pandoc: no such file"):
        find_pandoc()


def test_pandoc_failure_is_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "pandoc"
    broken.write_text("#!/bin/sh\necho 'pandoc: something broke' >&2\nexit 3\n")
    broken.chmod(0o755)
    with pytest.raises(UsageError, match=r"pandoc failed \(exit 3\): pandoc: something broke"):
        parse_documents({"a.pandoc": "x\n"}, broken)


def test_abandoned_run_leaves_no_process_and_no_files(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A check that fails on the headers while pandoc still runs must not leave it behind."""
    slow = tmp_path / "pandoc"
    slow.write_text(f'#!/bin/sh\necho $$ > "{tmp_path}/pid"\nexec sleep 60\n')
    slow.chmod(0o755)
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    run = PandocRun({"a.pandoc": "x\n"}, slow)
    while not (tmp_path / "pid").exists() or not (tmp_path / "pid").read_text().strip():
        time.sleep(0.01)
    pid = int((tmp_path / "pid").read_text())
    del run
    gc.collect()
    assert list((tmp_path / "tmp").iterdir()) == []
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_run_that_stops_early_does_not_wait_for_pandoc(tmp_path: Path) -> None:
    """A check that fails on the headers exits at once, and pandoc goes with it."""
    slow = tmp_path / "pandoc"
    slow.write_text(f'#!/bin/sh\necho $$ > "{tmp_path}/pid"\nexec sleep 60\n')
    slow.chmod(0o755)
    script = ("import sys, time\n"
              "from xenabi.docs import Reading\n"
              "reading = Reading({'a.pandoc': 'x'}, cache=False)\n"
              f"while not open({str(tmp_path / 'pid')!r}, 'a+').seek(0, 2): time.sleep(0.01)\n"
              "sys.exit(2)\n")
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", script], env={**os.environ,
                          "XENABI_PANDOC": str(slow)}, capture_output=True, text=True,
                          timeout=30, check=False)
    assert (proc.returncode, proc.stderr) == (2, "")
    assert time.monotonic() - start < 10  # not the 60 s pandoc would take
    with pytest.raises(ProcessLookupError):
        os.kill(int((tmp_path / "pid").read_text()), 0)


# -- source lines ----------------------------------------------------------------

LINES = """\
# Title with `HEAD`

First paragraph names `ONE` and,
on its second line, `TWO` and a span that
crosses a line: `struct
start_info`.

* item with `ONE` again
* item with a tab:\t`THREE`

Footnote user[^n] and `FOUR`.

    code block line
\tindented with a tab

[^n]: The note says `FIVE`.
"""


@pytest.fixture(scope="module")
def lines_doc() -> Document:
    return read_documents({"lines.pandoc": LINES}, cache=False).documents[0]


def test_each_code_span_has_its_source_line(lines_doc: Document) -> None:
    spans = [(c.text, c.line) for c in lines_doc.codes()]
    assert spans == [("HEAD", 1), ("ONE", 3), ("TWO", 4), ("struct start_info", 5),
                     ("ONE", 8), ("THREE", 9), ("FOUR", 11),
                     # a footnote's text sits at its definition, far below its use
                     ("FIVE", 16)]


def test_words_and_code_blocks_have_their_lines(lines_doc: Document) -> None:
    para = lines_doc.texts[1]
    assert para.line == 3
    assert para.line_at(para.text.index("second")) == 4
    assert para.line_at(para.text.index("crosses")) == 5
    assert [(b.text.splitlines()[0], b.line) for b in lines_doc.code_blocks] == [
        ("code block line", 13)]


FENCES = """\
Intro ``a `tick` and
more`` then ``` `x` ``` and `a\tb` end.

Repeated `same span` twice: `same span`.

[^n]: An early note with `a note span` in it.

<!-- `last span here` -->

Footnote[^n] then `after  note`, `a note span`.

A `last span
here` to end.
"""


def test_code_span_lines_through_fences_tabs_and_notes() -> None:
    doc = read_documents({"fences.pandoc": FENCES}, cache=False).documents[0]
    assert [(c.text, c.line) for c in doc.codes()] == [
        # wider fences around backticks, across a line break; a tab pandoc expanded
        ("a `tick` and more", 1), ("`x`", 2), ("a  b", 2),
        # the same span twice on one line: each its own
        ("same span", 4), ("same span", 4),
        ("after  note", 10), ("a note span", 10),
        # a note defined before its use is found above the cursor, and the
        # cursor stays (the copy in the comment at line 8 is not taken next)
        ("a note span", 6), ("last span here", 12)]


def test_words_before_a_code_span_are_found_before_it() -> None:
    """A paragraph's words and spans move one cursor, in the order they are written."""
    text = "Opening words\non one line, then `a span`\nand closing words `end`.\n"
    (para,) = read_documents({"order.pandoc": text}, cache=False).documents[0].texts
    assert [para.line_at(para.text.index(w)) for w in ("Opening", "then", "and", "`end`")] == [
        1, 2, 3, 3]
    assert [c.line for c in para.codes] == [2, 3]


def test_code_span_fence_is_any_part_of_a_backtick_run() -> None:
    finder = LineFinder("a\n``x y`\n`` `y z` ``\n`p  q``\n")
    assert finder.code("x y") == 2  # closed by one backtick: the fence is the second
    assert finder.code("`y z`") == 3
    assert finder.code("p q") == 4  # closed by the first of two backticks


def test_source_not_utf8_is_unusable_input(tmp_path: Path) -> None:
    from xenabi.docs import load_docs
    from xenabi.tree import open_tree

    (tmp_path / "xen/include/public").mkdir(parents=True)
    (tmp_path / "xen/include/public/xen.h").write_text("")
    (tmp_path / "docs/misc").mkdir(parents=True)
    (tmp_path / "docs/misc/bad.pandoc").write_bytes(b"fine\nnot \xff utf-8\n")
    with pytest.raises(UsageError, match=r"^docs/misc/bad.pandoc:2: not UTF-8 text$"):
        load_docs(open_tree(tmp_path), cache=False)
