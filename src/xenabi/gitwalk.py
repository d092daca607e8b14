"""A range of a Xen repository's commits, and their trees, read with git alone.

:func:`commits` lists the commits of a range that touch what the rules read
(the public headers, the pandoc documents, ``xlat.lst``, ``reference.size``),
oldest first. A :class:`TreeDir` holds one commit's copy of those files in a
temporary directory and moves from commit to commit by writing only the files
that differ (``git diff-tree``, blobs from one ``git cat-file --batch``): the
directory keeps its path, so the parse of every unchanged declaration, which
names its file by that path, is reused. Nothing is checked out: the work
tree, the index and the stash of the repository are never touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import IO

from xenabi.errors import UsageError

#: what selects a commit: the files the rules read (git pathspecs)
SELECT = ("xen/include/public", ":(glob)docs/**/*.pandoc", "xen/include/xlat.lst",
          "tools/include/xen-foreign/reference.size")

#: what a tree directory holds: the selected files, and xen/Makefile, which names the
#: release (and so the waivers xenabi ships for it)
_PREFIXES = ("xen/include/public/", "docs/")
_FILES = ("xen/include/xlat.lst", "tools/include/xen-foreign/reference.size", "xen/Makefile")

_REGULAR = ("100644", "100755")


def held(path: str) -> bool:
    """True for a path a tree directory holds."""
    if path in _FILES:
        return True
    if path.startswith("docs/"):
        return path.endswith(".pandoc")
    return path.startswith(_PREFIXES[0]) and path.endswith(".h")


@dataclass(frozen=True)
class Commit:
    id: str  #: the full commit id
    parent: str | None  #: its first parent; None for a root commit
    subject: str


class Git:
    """One repository, read with git plumbing only (no command here writes to it)."""

    def __init__(self, repo: str | os.PathLike[str]) -> None:
        self.repo = Path(repo)
        if not self.repo.is_dir():
            raise UsageError(f"{self.repo}: no such directory")
        # no optional locks: nothing git does here may refresh the index
        self.env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
        self.env.pop("GIT_DIR", None)
        self.env.pop("GIT_WORK_TREE", None)
        self.env.pop("GIT_INDEX_FILE", None)
        self.run("rev-parse", "--git-dir", what=f"{self.repo}: not a git repository")

    def command(self, *args: str) -> list[str]:
        return ["git", "-C", str(self.repo), *args]

    def run(self, *args: str, what: str, stdin: str | None = None) -> str:
        """git's output; on failure a :class:`UsageError` saying ``what`` and git's reason."""
        try:
            proc = subprocess.run(self.command(*args), input=stdin, capture_output=True,
                                  text=True, env=self.env)
        except FileNotFoundError:
            raise UsageError("git not found: xenabi history needs git") from None
        if proc.returncode != 0:
            lines = proc.stderr.strip().splitlines()
            reason = lines[-1].removeprefix("fatal: ") if lines else f"git exit {proc.returncode}"
            raise UsageError(f"{what} ({reason})")
        return proc.stdout

    def popen(self, *args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self.command(*args), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=self.env)


def commits(git: Git, revrange: str) -> list[Commit]:
    """The commits of ``revrange`` that touch :data:`SELECT`, oldest first (parents before
    children), each with its real first parent (not the one history simplification picks)."""
    if not revrange or revrange.startswith("-"):
        raise UsageError(f"{revrange!r}: not a revision range")
    ids = git.run("rev-list", "--reverse", "--topo-order", revrange, "--", *SELECT,
                  what=f"{revrange}: not a revision range of {git.repo}").split()
    if not ids:
        return []
    out = git.run("log", "--no-walk=unsorted", "--stdin", "--format=%H%x00%P%x00%s",
                  what=f"{git.repo}: cannot read the commits of {revrange}",
                  stdin="".join(i + "\n" for i in ids))
    found = []
    for line in out.splitlines():
        cid, parents, subject = line.split("\0", 2)
        found.append(Commit(cid, parents.split()[0] if parents else None, subject))
    return found


def document_versions(git: Git, listed: Sequence[Commit]) -> dict[str, str]:
    """Every version of a pandoc document that a walk of ``listed`` reads: those of the
    first commit's parent, and each one a commit writes; by ``COMMIT:PATH``. A text that
    is not UTF-8 is left out (the walk says what is wrong with it)."""
    if not listed or listed[0].parent is None:
        return {}
    first = listed[0].parent
    where: dict[str, str] = {}  # blob id -> where it is first read
    out = git.run("ls-tree", "-r", "-z", "--full-tree", first, "--", "docs/",
                  what=f"{first}: cannot list its tree")
    for mode, sha, path in _ls_tree(out):
        if held(path) and mode in _REGULAR:
            where.setdefault(sha, f"{first}:{path}")
    # one git for every commit: each line names a commit and the parent it is compared with
    out = git.run("diff-tree", "--stdin", "-r", "-z", "--no-renames", "--",
                  ":(glob)docs/**/*.pandoc", what=f"{git.repo}: cannot compare the commits",
                  stdin="".join(f"{c.id} {c.parent}\n" for c in listed if c.parent))
    for mode, sha, path in _diff_tree(out):
        if held(path) and mode in _REGULAR:
            where.setdefault(sha, f"{sha}:{path}")
    if not where:
        return {}
    blobs = subprocess.run(git.command("cat-file", "--batch"), capture_output=True,
                           env=git.env, input="".join(f"{sha}\n" for sha in where).encode())
    texts, data = {}, blobs.stdout
    for label in where.values():
        end = data.find(b"\n")
        header = data[:end].split()
        if blobs.returncode or len(header) != 3 or header[1] != b"blob":
            raise UsageError(f"{git.repo}: cannot read the documents of the range")
        size = int(header[2])
        body, data = data[end + 1:end + 1 + size], data[end + 2 + size:]
        try:
            texts[label] = body.decode("utf-8")
        except UnicodeDecodeError:
            continue
    return texts


def _safe(path: str) -> PurePosixPath:
    """A tree entry's path, refused when it would leave the directory."""
    p = PurePosixPath(path)
    if p.is_absolute() or any(part in ("", ".", "..") for part in path.split("/")):
        raise UsageError(f"{path}: a tree entry that leaves the tree")
    return p


class TreeDir:
    """A temporary directory holding one commit's copy of the files the rules read.

    Use as a context manager; :meth:`move` changes it to another commit and says
    which paths changed. Only regular files are written: a symlink or a submodule
    in the repository is left out, so nothing read from it can point outside.
    """

    def __init__(self, git: Git) -> None:
        self.git = git
        self.root = Path(tempfile.mkdtemp(prefix="xenabi-history-"))
        self.commit: str | None = None
        self._blobs: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> TreeDir:
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self._blobs is not None:
            assert self._blobs.stdin is not None
            try:
                self._blobs.stdin.close()
            except BrokenPipeError:
                pass  # it was stopped with us (Ctrl-C)
            self._blobs.wait()
            assert self._blobs.stdout is not None
            self._blobs.stdout.close()
            self._blobs = None
        shutil.rmtree(self.root, ignore_errors=True)

    def _blob(self, sha: str) -> bytes:
        if self._blobs is None:
            self._blobs = self.git.popen("cat-file", "--batch")
        stdin, stdout = self._blobs.stdin, self._blobs.stdout
        assert stdin is not None and stdout is not None
        stdin.write(sha.encode() + b"\n")
        stdin.flush()
        header = stdout.readline().split()
        if len(header) != 3 or header[1] != b"blob":
            raise UsageError(f"{self.git.repo}: cannot read blob {sha}")
        data = _read_exactly(stdout, int(header[2]))
        stdout.read(1)  # the newline after the content
        return data

    def _write(self, path: str, sha: str) -> None:
        dest = self.root / _safe(path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(self._blob(sha))

    def move(self, commit: str) -> dict[str, bytes | None]:
        """Hold ``commit``'s files. Returns each path that changed with its content before
        (None where it did not exist: every path, the first time)."""
        if commit == self.commit:
            return {}
        changed: dict[str, bytes | None] = {}
        if self.commit is None:
            out = self.git.run("ls-tree", "-r", "-z", "--full-tree", commit, "--",
                               *_PREFIXES, *_FILES, what=f"{commit}: cannot list its tree")
            for mode, sha, path in _ls_tree(out):
                if held(path) and mode in _REGULAR:
                    self._write(path, sha)
                    changed[path] = None
        else:
            out = self.git.run("diff-tree", "-r", "-z", "--no-renames", self.commit, commit,
                               "--", *_PREFIXES, *_FILES,
                               what=f"{commit}: cannot compare with {self.commit}")
            for mode, sha, path in _diff_tree(out):
                if not held(path):
                    continue
                dest = self.root / _safe(path)
                changed[path] = dest.read_bytes() if dest.is_file() else None
                if mode in _REGULAR:
                    self._write(path, sha)
                else:
                    dest.unlink(missing_ok=True)
        self.commit = commit
        return changed


    def hold_index(self) -> None:
        """Hold the files staged in the repository's index (what ``git commit`` would
        record), read without writing the index."""
        out = self.git.run("ls-files", "-s", "-z", "--", *_PREFIXES, *_FILES,
                           what=f"{self.git.repo}: cannot list the index")
        for entry in filter(None, out.split("\0")):
            meta, path = entry.split("\t", 1)
            mode, sha, _stage = meta.split()
            if held(path) and mode in _REGULAR:
                self._write(path, sha)
        self.commit = None


def _read_exactly(stream: IO[bytes], n: int) -> bytes:
    parts, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise UsageError("git cat-file ended early")
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def _ls_tree(out: str) -> Iterator[tuple[str, str, str]]:
    """(mode, object id, path) of each ``git ls-tree -z`` entry."""
    for entry in filter(None, out.split("\0")):
        meta, path = entry.split("\t", 1)
        mode, _kind, sha = meta.split()
        yield mode, sha, path


def _diff_tree(out: str) -> Iterator[tuple[str, str, str]]:
    """(new mode, new object id, path) of each ``git diff-tree -r -z`` entry; a deleted
    file has mode ``000000``."""
    fields = iter(out.split("\0"))
    for meta in fields:
        if not meta.startswith(":"):
            continue
        path = next(fields)
        _old_mode, new_mode, _old, new, _status = meta[1:].split()
        yield new_mode, new, path
