"""Reading patches (diffs, mails, mboxes), placing their hunks and applying them.

Placements are compared with GNU patch (``patch --dry-run``) wherever it can
apply the patch; the fixture files are written here, each hunk from the
edit it makes.
"""

from __future__ import annotations

import base64
import quopri
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from xenabi.errors import UsageError
from xenabi.patch import (
    HunkError,
    Overlay,
    Patch,
    apply_patch,
    dir_reader,
    materialize,
    read_inputs,
    read_patches,
)

#: a file of 60 numbered lines, with blank lines and indented lines among them
BASE = "".join(f"    line {i}  with   spaces\n" if i % 7 == 0 else
               ("\n" if i % 5 == 0 else f"line {i}\n") for i in range(1, 61))


def tree(tmp_path: Path, files: dict[str, str] | None = None) -> Path:
    root = tmp_path / "base"
    for name, text in (files or {"src/a.txt": BASE}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def apply_text(root: Path, text: str) -> tuple[Overlay, list[str]]:
    ov = Overlay(dir_reader(root), root)
    placed = []
    for p in read_patches(text.encode(), "fix.patch"):
        placed += [pl.describe() for pl in apply_patch(ov, p)]
    return ov, placed


def new_text(ov: Overlay, path: str) -> str:
    data = ov.get(path)
    assert data is not None
    return data.decode()


def gnu_patch(root: Path, text: str, *options: str) -> list[str]:
    """What ``patch --dry-run -p1`` says of each hunk (``succeeded at 32 (offset 10 lines)``)."""
    if shutil.which("patch") is None:
        pytest.skip("GNU patch is not installed (the oracle of these placements)")
    out = subprocess.run(["patch", "--dry-run", "-p1", *options], input=text, text=True,
                         cwd=root, capture_output=True).stdout
    return re.findall(r"^Hunk #\d+ (.*?)\.?$", out, re.M)


#: replaces line 32 of BASE (lines 31-34 are plain)
HUNK_AT_32 = """\
--- a/src/a.txt
+++ b/src/a.txt
@@ -{at},4 +{at},4 @@
 line 31
-line 32
+line 32, edited
 line 33
 line 34
"""


def test_a_hunk_at_its_stated_line_is_exact(tmp_path: Path) -> None:
    root = tree(tmp_path)
    text = HUNK_AT_32.format(at=31)
    ov, placed = apply_text(root, text)
    assert placed == ["src/a.txt: hunk @@ -31,4 +31,4 @@ placed exactly at line 31"]
    assert new_text(ov, "src/a.txt") == BASE.replace("line 32\n", "line 32, edited\n")
    assert gnu_patch(root, text) == []  # GNU patch says nothing of an exact hunk


@pytest.mark.parametrize("stated", [21, 41, 3])
def test_a_hunk_elsewhere_is_placed_at_the_offset_gnu_patch_finds(tmp_path: Path,
                                                                  stated: int) -> None:
    root = tree(tmp_path)
    text = HUNK_AT_32.format(at=stated)
    ov, placed = apply_text(root, text)
    offset = 31 - stated
    (oracle,) = gnu_patch(root, text)
    assert oracle == f"succeeded at 31 (offset {offset} lines)"
    assert placed == [f"src/a.txt: hunk @@ -{stated},4 +{stated},4 @@ placed at line 31 "
                      f"(offset {offset:+d} lines)"]
    assert new_text(ov, "src/a.txt") == BASE.replace("line 32\n", "line 32, edited\n")


def test_later_hunks_follow_the_shift_of_earlier_ones(tmp_path: Path) -> None:
    root = tree(tmp_path)
    text = ("--- a/src/a.txt\n+++ b/src/a.txt\n"
            "@@ -2,2 +2,4 @@\n line 2\n+two\n+more\n line 3\n"
            "@@ -52,2 +54,3 @@\n line 52\n+after 52\n line 53\n")
    ov, placed = apply_text(root, text)
    assert gnu_patch(root, text) == []
    assert placed == ["src/a.txt: hunk @@ -2,2 +2,4 @@ placed exactly at line 2",
                      "src/a.txt: hunk @@ -52,2 +54,3 @@ placed exactly at line 54"]
    want = BASE.replace("line 2\n", "line 2\ntwo\nmore\n").replace("line 52\n",
                                                                  "line 52\nafter 52\n")
    assert new_text(ov, "src/a.txt") == want


# lines 27-31 of BASE: "line 27", "    line 28  with   spaces", "line 29", "" (blank),
# "line 31". The archive lost the indent, collapsed the spaces and dropped the blank line.
@pytest.mark.parametrize("header, body, how, old, new", [
    # made 9 lines further down; the lost blank line stays before the insertion
    ("@@ -36,6 +36,7 @@", "line 27\nline 28 with spaces\n line 29\n+inserted\n line 31\n",
     "(offset -9 lines, 1 blank context line restored)", "line 29\n\n",
     "line 29\n\ninserted\n"),
    # a replaced line: the lost blank line stays after its replacement
    ("@@ -27,5 +27,5 @@", "line 27\nline 28 with spaces\n-line 29\n+line 29, edited\nline 31\n",
     "(1 blank context line restored)", "line 29\n\n", "line 29, edited\n\n"),
], ids=["offset-insertion", "replacement"])
def test_an_archive_mangled_hunk_is_placed_with_whitespace_ignored(
        tmp_path: Path, header: str, body: str, how: str, old: str, new: str) -> None:
    root = tree(tmp_path)
    ov, placed = apply_text(root, f"--- a/src/a.txt\n+++ b/src/a.txt\n{header}\n{body}")
    assert placed == [f"src/a.txt: hunk {header} placed with whitespace ignored at line 27 "
                      f"{how}"]
    # the file keeps its own whitespace
    assert new_text(ov, "src/a.txt") == BASE.replace(old, new)


def test_mangled_hunks_stay_within_the_bounded_offset(tmp_path: Path) -> None:
    far = "".join(f"filler {i}\n" for i in range(400)) + "needle one\nneedle two\n"
    root = tree(tmp_path, {"f.txt": far})
    text = "--- a/f.txt\n+++ b/f.txt\n@@ -1,2 +1,3 @@\nneedle one\n+x\nneedle two\n"
    with pytest.raises(HunkError) as e:
        apply_text(root, text)
    assert str(e.value) == ("fix.patch: f.txt: hunk @@ -1,2 +1,3 @@ cannot be placed "
                            "(nearest: line 401, where 2 of its 2 context and removed "
                            "lines match)")


def test_a_mangled_hunk_stated_past_the_end_of_the_file(tmp_path: Path) -> None:
    root = tree(tmp_path)
    text = "--- a/src/a.txt\n+++ b/src/a.txt\n@@ -150,2 +150,3 @@\nline 58\n+x\nline 59\n"
    ov, placed = apply_text(root, text)
    assert placed == ["src/a.txt: hunk @@ -150,2 +150,3 @@ placed with whitespace ignored at "
                      "line 58 (offset -92 lines)"]
    assert new_text(ov, "src/a.txt") == BASE.replace("line 58\n", "line 58\nx\n")


def test_an_unplaceable_hunk_names_patch_file_header_and_nearest_place(tmp_path: Path) -> None:
    root = tree(tmp_path)
    text = ("--- a/src/a.txt\n+++ b/src/a.txt\n@@ -11,3 +11,3 @@ ctx\n"
            " line 11\n-line 12 is not here\n+new\n line 13\n")
    with pytest.raises(HunkError) as e:
        apply_text(root, text)
    assert str(e.value) == ("fix.patch: src/a.txt: hunk @@ -11,3 +11,3 @@ cannot be placed "
                            "(nearest: line 11, where 1 of its 3 context and removed lines "
                            "match)")
    assert gnu_patch(root, text) == ["FAILED at 11"]


def test_new_deleted_and_renamed_files(tmp_path: Path) -> None:
    root = tree(tmp_path, {"old/name.h": "one\ntwo\n", "gone.h": "bye\n", "keep.h": "k\n"})
    text = """\
diff --git a/old/name.h b/new/name.h
similarity index 80%
rename from old/name.h
rename to new/name.h
index 1111111..2222222 100644
--- a/old/name.h
+++ b/new/name.h
@@ -1,2 +1,2 @@
 one
-two
+2
diff --git a/gone.h b/gone.h
deleted file mode 100644
--- a/gone.h
+++ /dev/null
@@ -1 +0,0 @@
-bye
diff --git a/added/file.h b/added/file.h
new file mode 100644
--- /dev/null
+++ b/added/file.h
@@ -0,0 +1,2 @@
+hello
+world
diff --git a/keep.h b/moved.h
similarity index 100%
rename from keep.h
rename to moved.h
"""
    ov, _ = apply_text(root, text)
    assert ov.changes == {"old/name.h": None, "new/name.h": b"one\n2\n", "gone.h": None,
                          "added/file.h": b"hello\nworld\n", "keep.h": None,
                          "moved.h": b"k\n"}
    out = materialize(ov, ["old", "gone.h", "keep.h"], tmp_path / "out")
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == ["added/file.h", "moved.h", "new/name.h"]
    # the base is as it was
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) == [
        "gone.h", "keep.h", "old/name.h"]
    assert (root / "old/name.h").read_text() == "one\ntwo\n"


def test_a_new_file_that_exists_is_refused(tmp_path: Path) -> None:
    root = tree(tmp_path, {"x.h": "x\n"})
    with pytest.raises(UsageError, match="fix.patch: x.h: the patch creates it, but the tree"):
        apply_text(root, "--- /dev/null\n+++ b/x.h\n@@ -0,0 +1 @@\n+y\n")


def test_a_plain_diff_with_leading_directories(tmp_path: Path) -> None:
    root = tree(tmp_path, {"xen/include/public/x.h": "a\n"})
    text = ("--- xen-4.17.orig/xen/include/public/x.h\t2026-01-01 00:00:00\n"
            "+++ xen-4.17/xen/include/public/x.h\t2026-01-02 00:00:00\n@@ -1 +1 @@\n-a\n+b\n")
    ov, _ = apply_text(root, text)
    assert ov.changes == {"xen/include/public/x.h": b"b\n"}
    assert gnu_patch(root, text.replace("--- xen-4.17.orig/", "--- xen-4.17/")) == []


def test_no_newline_at_end_of_file(tmp_path: Path) -> None:
    root = tree(tmp_path, {"x.h": "a\nb"})
    text = ("--- a/x.h\n+++ b/x.h\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n"
            "+c\n\\ No newline at end of file\n")
    ov, placed = apply_text(root, text)
    assert new_text(ov, "x.h") == "a\nc"
    assert placed == ["x.h: hunk @@ -1,2 +1,2 @@ placed exactly at line 1"]


def test_binary_hunks_are_refused(tmp_path: Path) -> None:
    root = tree(tmp_path, {"logo.png": "x"})
    text = ("diff --git a/logo.png b/logo.png\nindex 1..2 100644\nGIT binary patch\n"
            "literal 5\nMcmZ?wbhEHb\n\nliteral 0\n\n")
    with pytest.raises(UsageError) as e:
        apply_text(root, text)
    assert str(e.value) == ("fix.patch: logo.png: binary patch; xenabi applies text hunks "
                            "only, refused")
    with pytest.raises(UsageError, match="logo.png: binary patch"):
        apply_text(root, "diff --git a/logo.png b/logo.png\n"
                         "Binary files a/logo.png and b/logo.png differ\n")


@pytest.mark.parametrize("path, why", [
    ("../outside.h", "a path with '..' or empty parts leaves the tree; refused"),
    ("sub/../../outside.h", "a path with '..' or empty parts leaves the tree; refused"),
    ("/etc/passwd", "an absolute path leaves the tree; refused"),
    ("link/evil.h", "goes through the symlink link; refused"),
])
def test_paths_that_leave_the_tree_are_refused(tmp_path: Path, path: str, why: str) -> None:
    root = tree(tmp_path, {"a.h": "a\n"})
    (tmp_path / "elsewhere").mkdir()
    (root / "link").symlink_to(tmp_path / "elsewhere")
    text = f"--- /dev/null\n+++ {path}\n@@ -0,0 +1 @@\n+pwned\n"
    with pytest.raises(UsageError) as e:
        apply_text(root, text)
    assert str(e.value) == f"fix.patch: {path}: {why}"
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_quoted_paths_with_escapes(tmp_path: Path) -> None:
    root = tree(tmp_path, {"sp\u00e9cial name.h": "a\n", "tab\there.h": "t\n"})
    text = ('diff --git "a/sp\\303\\251cial name.h" "b/sp\\303\\251cial name.h"\n'
            '--- "a/sp\\303\\251cial name.h"\n+++ "b/sp\\303\\251cial name.h"\n'
            "@@ -1 +1 @@\n-a\n+b\n"
            'diff --git "a/tab\\there.h" "b/tab\\there.h"\n'
            '--- "a/tab\\there.h"\n+++ "b/tab\\there.h"\n@@ -1 +1 @@\n-t\n+u\n')
    ov, _ = apply_text(root, text)
    assert ov.changes == {"sp\u00e9cial name.h": b"b\n", "tab\there.h": b"u\n"}


# -- mails and mboxes


DIFF_ONE = "--- a/x.h\n+++ b/x.h\n@@ -1 +1 @@\n-old = 1;\n+new = \u00e9;\n"
DIFF_TWO = "--- a/x.h\n+++ b/x.h\n@@ -1 +1 @@\n-new = \u00e9;\n+newer = 2;\n"


def mail(subject: str, body: str, encoding: str = "8bit") -> str:
    if encoding == "quoted-printable":
        payload = quopri.encodestring(body.encode()).decode()
    elif encoding == "base64":
        payload = base64.encodebytes(body.encode()).decode()
    else:
        payload = body
    return (f"From: A Developer <dev@example.org>\nSubject: {subject}\n"
            "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
            f"Content-Transfer-Encoding: {encoding}\n\n{payload}")


def commit_body(diff: str) -> str:
    return ("Explain the change.\n\nSigned-off-by: A Developer <dev@example.org>\n---\n"
            " x.h | 2 +-\n 1 file changed, 1 insertion(+), 1 deletion(-)\n\n"
            f"{diff}-- \n2.52.0\n")


@pytest.mark.parametrize("encoding", ["8bit", "quoted-printable", "base64"])
def test_a_single_mail_with_headers_and_signature(tmp_path: Path, encoding: str) -> None:
    root = tree(tmp_path, {"x.h": "old = 1;\n"})
    text = mail("[PATCH v2] x: make it new", commit_body(DIFF_ONE), encoding)
    if encoding != "8bit":
        assert "\u00e9" not in text  # really encoded
    (patch,) = read_patches(text.encode(), "m.eml")
    assert patch.name == "[PATCH v2] x: make it new"
    ov = Overlay(dir_reader(root), root)
    apply_patch(ov, patch)
    assert new_text(ov, "x.h") == "new = \u00e9;\n"


def test_an_mbox_series_applies_in_order_and_skips_the_cover_letter(tmp_path: Path) -> None:
    root = tree(tmp_path, {"x.h": "old = 1;\n"})
    sep = "From git@z Thu Jan  1 00:00:00 1970\n"
    box = (sep + mail("[PATCH 0/2] a series", "Two patches.\n") + "\n"
           + sep + mail("[PATCH 1/2] x: new", commit_body(DIFF_ONE), "quoted-printable")
           + "\n" + sep + mail("[PATCH 2/2] x: newer", commit_body(DIFF_TWO)))
    (tmp_path / "series.mbx").write_text(box)
    patches = read_inputs([str(tmp_path / "series.mbx")])
    assert [p.name for p in patches] == ["[PATCH 1/2] x: new", "[PATCH 2/2] x: newer"]
    ov = Overlay(dir_reader(root), root)
    for p in patches:
        apply_patch(ov, p)
    assert new_text(ov, "x.h") == "newer = 2;\n"


def test_an_encoded_subject_is_decoded() -> None:
    text = mail("=?utf-8?q?=5BPATCH=5D_x=3A_caf=C3=A9?=", commit_body(DIFF_ONE))
    assert read_patches(text.encode(), "m")[0].name == "[PATCH] x: caf\u00e9"


def test_git_format_patch_output(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    repo.mkdir()
    env = ["-c", "user.name=T", "-c", "user.email=t@example.org"]

    def git(*a: str) -> str:
        return subprocess.run(["git", *env, *a], cwd=repo, check=True, capture_output=True,
                              text=True).stdout

    git("init", "-q")
    (repo / "x.h").write_text("old = 1;\n")
    git("add", "x.h")
    git("commit", "-qm", "base")
    (repo / "x.h").write_text("new = 1;\n")
    (repo / "y.h").write_text("y\n")
    git("add", "x.h", "y.h")
    git("commit", "-qm", "x: new, and y")
    (out,) = git("format-patch", "-1", "-o", str(tmp_path / "fp")).split()
    (patch,) = read_inputs([out])
    assert patch.name == "[PATCH] x: new, and y"
    base = tree(tmp_path, {"x.h": "old = 1;\n"})
    ov = Overlay(dir_reader(base), base)
    apply_patch(ov, patch)
    assert ov.changes == {"x.h": b"new = 1;\n", "y.h": b"y\n"}


def test_standard_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(DIFF_ONE.encode())))
    (patch,) = read_inputs(["-"])
    assert patch.files[0].path == "x.h"


@pytest.mark.parametrize("data, message", [
    (b"hello\n", "p.txt: no diff found (not a patch, mail or mbox)"),
    (b"--- a/x\n+++ b/x\n@@ -1 +1 @@\n-\xff\n", "p.txt:4: not UTF-8 text"),
])
def test_what_is_not_a_patch(data: bytes, message: str) -> None:
    with pytest.raises(UsageError) as e:
        read_patches(data, "p.txt")
    assert str(e.value) == message


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"nope.patch: cannot read: No such file"):
        read_inputs([str(tmp_path / "nope.patch")])

