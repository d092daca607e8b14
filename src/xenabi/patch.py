"""Patches: read them from files, mails and mboxes, place their hunks, apply them.

A patch comes as ``git format-patch`` output, an mbox of one or many
messages (a series, in file order: ``b4 am`` output), a single mail with
headers and a signature, or a plain unified diff; mail bodies in
quoted-printable or base64 are decoded by the stdlib ``email`` package.

Hunks are placed as GNU ``patch`` places them (at the stated line, then at
the nearest offset where the old lines stand exactly), then, for copies
taken out of a web archive (context lines that lost their leading
whitespace, blank context lines that vanished, runs of spaces collapsed),
by comparing lines with whitespace ignored and blank lines skipped, within
:data:`FUZZY_REACH` lines of the stated place. Every placement that is not
exact says how it was made.

Patches are applied to a :class:`Overlay` of a base tree: the base is read,
never written; what the patches change is kept in memory and written only
into a temporary directory (:func:`materialize`). Paths that leave the
tree (``..``, absolute, through a symlink) and binary hunks are refused
with a one-line :class:`~xenabi.errors.UsageError`; a hunk that cannot be
placed is a :class:`HunkError`, which names the patch, the file, the hunk
header and the nearest place tried.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from xenabi.errors import UsageError

if TYPE_CHECKING:  # the email package loads only for a mail (a plain diff needs none of it)
    from email.message import Message

#: how far (in lines) from its stated place a hunk is looked for with whitespace ignored
FUZZY_REACH = 200

#: a mbox's separator line: ``From <sender or id> <asctime date>``
_FROM_ = re.compile(r"^From \S+ +(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ", re.M)
#: a mail header line (the first line of a single message)
_HEADER = re.compile(r"^[A-Za-z][A-Za-z0-9-]*: ")
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$")
_SUBJECT_TAG = re.compile(r"^\s*(?:\[[^]]*\]\s*)+")


class HunkError(UsageError):
    """A hunk that cannot be placed in its file (exit 2, like all unusable input)."""


@dataclass(frozen=True)
class Hunk:
    """One ``@@ -a,b +c,d @@`` hunk, as the patch text has it."""

    header: str  #: the ``@@ ... @@`` line, for messages
    old_start: int  #: 1-based, as stated
    new_start: int
    #: the body: (tag, text) with tag ``" "`` context, ``"-"`` removed, ``"+"`` added; text
    #: keeps its newline unless a ``\\ No newline`` marker took it
    lines: tuple[tuple[str, str], ...]
    #: the body's counts disagree with the header or context lines lost their leading
    #: space: the patch went through a mangler
    mangled: bool = False

    @property
    def old(self) -> list[str]:
        return [t for tag, t in self.lines if tag != "+"]


@dataclass(frozen=True)
class FilePatch:
    """What one patch does to one file."""

    old_path: str | None  #: None for a new file
    new_path: str | None  #: None for a deleted file
    hunks: tuple[Hunk, ...]
    binary: bool = False
    copy: bool = False  #: ``copy from``/``copy to``: the old file stays
    #: a plain diff: its paths may carry leading directories to strip (``patch -pN``)
    plain: bool = False

    @property
    def path(self) -> str:
        """The file as messages name it (the new name, or the old for a deletion)."""
        return self.new_path or self.old_path or "?"


@dataclass(frozen=True)
class Patch:
    """One patch of a series: its name (the mail's subject or the file's name) and files."""

    name: str
    files: tuple[FilePatch, ...]


@dataclass(frozen=True)
class Placement:
    """Where a hunk went and how, when that was not exactly where it said."""

    patch: str
    file: str
    header: str
    line: int  #: 1-based line of the file where the hunk's old lines start
    offset: int  #: ``line`` minus the stated line
    how: str  #: ``exact``, ``offset``, ``whitespace`` (whitespace ignored)
    blank_restored: int = 0  #: blank context lines the patch lost, found in the file

    @property
    def exact(self) -> bool:
        return self.how == "exact"

    def describe(self) -> str:
        """``xen.h: hunk @@ -890,6 +890,8 @@ placed at line 906 (offset 16 lines), ...``"""
        what = {"exact": "placed exactly", "offset": "placed",
                "whitespace": "placed with whitespace ignored"}[self.how]
        parts = [f"{self.file}: hunk {_short_header(self.header)} {what} at line {self.line}"]
        if self.offset:
            n = abs(self.offset)
            parts.append(f"offset {self.offset:+d} line{'s' if n != 1 else ''}")
        if self.blank_restored:
            n = self.blank_restored
            parts.append(f"{n} blank context line{'s' if n != 1 else ''} restored")
        return parts[0] + (f" ({', '.join(parts[1:])})" if len(parts) > 1 else "")


def _short_header(header: str) -> str:
    m = re.match(r"^(@@ [^@]* @@)", header)
    return m.group(1) if m else header


# --------------------------------------------------------------------------
# Reading patches


def read_inputs(args: Sequence[str]) -> list[Patch]:
    """Every patch of every argument (a file or ``-`` for standard input), in order."""
    out: list[Patch] = []
    for arg in args:
        if arg == "-":
            data, label = sys.stdin.buffer.read(), "<stdin>"
        else:
            try:
                data, label = Path(arg).read_bytes(), arg
            except OSError as e:
                raise UsageError(f"{arg}: cannot read: {e.strerror}") from None
        out.extend(read_patches(data, label))
    if not out:
        raise UsageError("no patch given")
    return out


def read_patches(data: bytes, label: str) -> list[Patch]:
    """The patches in one input: an mbox, a mail, or a plain diff."""
    text = _decode(data, label)
    if _FROM_.match(text):
        starts = [m.start() for m in _FROM_.finditer(text)]
        chunks = [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)])]
        mails = [_from_mail(c.split("\n", 1)[1] if "\n" in c else "", label, i, len(chunks))
                 for i, c in enumerate(chunks)]
        patches = [p for p in mails if p.files]  # a cover letter has no diff
        if not patches:
            raise UsageError(f"{label}: no diff in any of its {len(chunks)} messages")
        return patches
    if _HEADER.match(text) and not text.startswith(("Index: ", "diff ")):
        patch = _from_mail(text, label, 0, 1)
    else:
        patch = Patch(Path(label).name, parse_diff(text, label))
    if not patch.files:
        raise UsageError(f"{label}: no diff found (not a patch, mail or mbox)")
    return [patch]


def _decode(data: bytes, label: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise UsageError(f"{label}:{line}: not UTF-8 text") from None
    return text.replace("\r\n", "\n")


def _from_mail(text: str, label: str, index: int, count: int) -> Patch:
    import email
    import email.policy
    from email.header import decode_header, make_header

    # from bytes: an 8bit body then decodes as its charset says
    msg = email.message_from_bytes(text.encode(), policy=email.policy.compat32)
    body = "".join(_diff_parts(msg, label))
    raw = msg.get("Subject", "")
    subject = " ".join(str(make_header(decode_header(raw))).split()) if raw else ""
    name = subject or (f"{Path(label).name} message {index + 1}" if count > 1
                       else Path(label).name)
    return Patch(name, parse_diff(body.replace("\r\n", "\n"), label))


def _diff_parts(msg: Message, label: str) -> Iterator[str]:
    """The text parts of a mail (inline bodies and patch attachments), decoded."""
    for part in msg.walk():
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        raw = part.get_payload(decode=True)
        if not isinstance(raw, bytes):
            continue
        charset = part.get_content_charset() or "utf-8"
        try:
            yield raw.decode(charset)
        except (LookupError, UnicodeDecodeError):
            raise UsageError(f"{label}: a mail part is not valid {charset} text") from None


def _unquote(path: str) -> str:
    """A git path as written (``"a/tab\\there"`` is C-quoted, octal bytes are UTF-8)."""
    if not (path.startswith('"') and path.endswith('"') and len(path) >= 2):
        return path
    out = bytearray()
    s, i = path[1:-1], 0
    simple = {"n": b"\n", "t": b"\t", '"': b'"', "\\": b"\\", "a": b"\a", "b": b"\b",
              "f": b"\f", "r": b"\r", "v": b"\v"}
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            nxt = s[i + 1]
            if nxt in "01234567" and re.match(r"[0-7]{3}", s[i + 1:i + 4]):
                out.append(int(s[i + 1:i + 4], 8))
                i += 4
                continue
            out += simple.get(nxt, nxt.encode())
            i += 2
            continue
        out += c.encode()
        i += 1
    return out.decode("utf-8", errors="replace")


def _split_git_header(rest: str) -> tuple[str, str] | None:
    """``a/x b/x`` (or quoted) of a ``diff --git`` line."""
    m = re.match(r'^("(?:[^"\\]|\\.)*"|\S+) ("(?:[^"\\]|\\.)*"|\S+)$', rest)
    if m:
        return _unquote(m.group(1)), _unquote(m.group(2))
    half = rest.split(" b/")  # unquoted names with spaces: ``a/x y b/x y``
    if len(half) == 2:
        return half[0], "b/" + half[1]
    return None


def _file_name(spec: str) -> str | None:
    """The path of a ``---``/``+++`` line's name, None for /dev/null; drops a timestamp."""
    spec = spec.split("\t")[0] if not spec.startswith('"') else spec
    spec = _unquote(spec.rstrip())
    return None if spec == "/dev/null" else spec


def _strip(path: str | None, git: bool) -> str | None:
    """The tree-relative path: git's ``a/``/``b/`` prefixes taken off."""
    if path is None:
        return None
    if git and path[:2] in ("a/", "b/"):
        return path[2:]
    return path


@dataclass
class _FileState:
    old: str | None = None
    new: str | None = None
    git: bool = False
    binary: bool = False
    copy: bool = False
    created: bool = False
    deleted: bool = False
    hunks: list[Hunk] = field(default_factory=list)


def parse_diff(text: str, label: str) -> tuple[FilePatch, ...]:
    """The files of a unified diff (git's extended headers understood); text before the
    first diff (a commit message, a diffstat) and after the last (a signature) is skipped."""
    lines = text.split("\n")
    files: list[FilePatch] = []
    cur: _FileState | None = None
    i = 0

    def close() -> None:
        nonlocal cur
        if cur is not None:
            files.append(_finish(cur, label))
            cur = None

    while i < len(lines):
        ln = lines[i]
        if ln.startswith("diff --git "):
            close()
            names = _split_git_header(ln[len("diff --git "):])
            if names is None:
                raise UsageError(f"{label}:{i + 1}: cannot read the file names of '{ln}'")
            cur = _FileState(names[0], names[1], git=True)
            i += 1
            continue
        if ln.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            if cur is None or cur.hunks:
                close()
                cur = _FileState()
            assert cur is not None
            old, new = _file_name(ln[4:]), _file_name(lines[i + 1][4:])
            if not cur.git:
                cur.git = (old or "a/").startswith("a/") and (new or "b/").startswith("b/")
            cur.old = old if old is not None else None
            cur.new = new
            cur.created |= old is None
            cur.deleted |= new is None
            i += 2
            continue
        m = _HUNK.match(ln)
        if m and cur is not None:
            hunk, i = _read_hunk(lines, i, m, label)
            cur.hunks.append(hunk)
            continue
        if cur is not None and not cur.hunks:
            _git_extended(cur, ln)
        elif cur is not None and ln.startswith(("Binary files ", "GIT binary patch")):
            cur.binary = True
        i += 1
    close()
    return tuple(files)


def _git_extended(cur: _FileState, ln: str) -> None:
    if ln.startswith("new file mode"):
        cur.created = True
    elif ln.startswith("deleted file mode"):
        cur.deleted = True
    elif ln.startswith(("rename from ", "copy from ")):
        cur.old = "a/" + _unquote(ln.split(" ", 2)[2])
        cur.copy = ln.startswith("copy")
    elif ln.startswith(("rename to ", "copy to ")):
        cur.new = "b/" + _unquote(ln.split(" ", 2)[2])
    elif ln.startswith(("Binary files ", "GIT binary patch")):
        cur.binary = True


def _finish(cur: _FileState, label: str) -> FilePatch:
    old = None if cur.created else _strip(cur.old, cur.git)
    new = None if cur.deleted else _strip(cur.new, cur.git)
    if old is None and new is None:
        raise UsageError(f"{label}: a diff names no file")
    if not cur.git and old is not None and new is not None:
        old = new  # ``diff -u x.orig x``: a plain diff renames nothing; the new name counts
    return FilePatch(old, new, tuple(cur.hunks), cur.binary, cur.copy, plain=not cur.git)


def _ends_mangled_hunk(ln: str) -> bool:
    """What cannot be a line of a mangled hunk: the next file, hunk or a signature."""
    return (ln.startswith(("diff ", "@@ ", "Index: ")) or ln in ("-- ", "--")
            or ln.startswith("--- ") or ln.startswith("+++ "))


def _read_hunk(lines: list[str], i: int, m: re.Match[str], label: str) -> tuple[Hunk, int]:
    """The hunk whose header is ``lines[i]``, and the index after it. A well-formed hunk
    ends when its counts are met; one whose lines lost their leading space (or vanished)
    ends at the next file, hunk or signature."""
    old_start, new_start = int(m.group(1)), int(m.group(3))
    old_len = int(m.group(2)) if m.group(2) is not None else 1
    new_len = int(m.group(4)) if m.group(4) is not None else 1
    body: list[tuple[str, str]] = []
    n_old = n_new = 0
    mangled = False
    j = i + 1
    while j < len(lines):
        ln = lines[j]
        if not mangled and n_old == old_len and n_new == new_len:
            if not ln.startswith("\\"):
                break
        if ln.startswith("\\"):
            if body:  # ``\ No newline at end of file``: the line before has none
                tag, t = body[-1]
                body[-1] = (tag, t[:-1] if t.endswith("\n") else t)
            j += 1
            continue
        if mangled and _ends_mangled_hunk(ln):
            break
        if not mangled and (ln.startswith(("diff ", "@@ ")) or j == len(lines) - 1 and ln == ""):
            mangled = True  # the hunk ended before its counts were met
            break
        tag = ln[:1] if ln[:1] in (" ", "-", "+") else ""
        if tag == "-" and ln in ("-- ", "--") and (n_old >= old_len or mangled):
            break
        if tag == "":
            mangled = mangled or ln != ""  # a blank context line may have lost its space
            body.append((" ", ln + "\n"))
        else:
            body.append((tag, ln[1:] + "\n"))
        n_old += tag != "+"
        n_new += tag != "-"
        if n_old > old_len or n_new > new_len:
            mangled = True
        j += 1
    mangled = mangled or n_old != old_len or n_new != new_len
    if mangled:
        # trailing blank lines of a mangled hunk are the gap before what follows
        while body and body[-1] == (" ", "\n"):
            body.pop()
    if not body:
        raise UsageError(f"{label}:{i + 1}: empty hunk {lines[i]}")
    return Hunk(lines[i], old_start, new_start, tuple(body), mangled), j


# --------------------------------------------------------------------------
# Placing hunks


def _norm(line: str) -> str:
    return " ".join(line.split())


@dataclass(frozen=True)
class _Fit:
    start: int  #: 0-based index of the first old line in the file
    end: int  #: index after the last
    how: str
    #: for a whitespace fit: the file index each old line of the hunk matched, None for
    #: an old blank line the file does not have
    matched: tuple[int | None, ...] = ()
    blank_restored: int = 0


def _exact_at(file: list[str], old: list[str], at: int) -> bool:
    return 0 <= at and at + len(old) <= len(file) and file[at:at + len(old)] == old


def _fuzzy_at(file: list[str], old: list[str], at: int) -> _Fit | None:
    """The old lines matched from ``file[at]`` with whitespace ignored, skipping blank lines
    on either side; ``at`` must match the first non-blank old line."""
    want = [_norm(x) for x in old]
    matched: list[int | None] = []
    i, restored = at, 0
    for w in want:
        if w == "":
            if i < len(file) and _norm(file[i]) == "":
                matched.append(i)
                i += 1
            else:
                matched.append(None)
            continue
        while matched and i < len(file) and _norm(file[i]) == "":
            i += 1  # a blank line of the file the patch lost
            restored += 1
        if i >= len(file) or _norm(file[i]) != w:
            return None
        matched.append(i)
        i += 1
    if not any(m is not None for m in matched):
        return None
    first = next(m for m in matched if m is not None)
    return _Fit(first, i, "whitespace", tuple(matched), restored)


def _candidates(stated: int, lo: int, hi: int) -> Iterator[int]:
    """``stated``, then outward: stated+1, stated-1, ... within [lo, hi)."""
    for d in range(0, max(abs(stated - lo), abs(hi - stated)) + 1):
        for at in ((stated,) if d == 0 else (stated + d, stated - d)):
            if lo <= at < hi:
                yield at


def place(file: list[str], hunk: Hunk, stated: int) -> _Fit | None:
    """Where ``hunk`` goes in ``file``, looked for from index ``stated`` outward."""
    old = hunk.old
    if not old:  # a pure addition (a new file, or lines added to an empty one)
        return _Fit(min(stated, len(file)), min(stated, len(file)), "offset")
    if not hunk.mangled:
        for at in _candidates(stated, 0, len(file) - len(old) + 1):
            if _exact_at(file, old, at):
                return _Fit(at, at + len(old), "offset")
    first = next((k for k, x in enumerate(old) if _norm(x)), None)
    if first is None:
        return None
    for at in _candidates(stated, max(0, stated - FUZZY_REACH),
                          min(len(file), stated + FUZZY_REACH + 1)):
        if _norm(file[at]) != _norm(old[first]):
            continue
        fit = _fuzzy_at(file, old[first:], at)
        if fit is not None:
            # the blank old lines before the first non-blank one: the file's, if blank
            lead = 0
            while lead < first and at - lead - 1 >= 0 and _norm(file[at - lead - 1]) == "":
                lead += 1
            pre = tuple([None] * (first - lead)) + tuple(range(at - lead, at))
            return _Fit(at - lead, fit.end, "whitespace", pre + fit.matched,
                        fit.blank_restored)
    return None


def _nearest(file: list[str], hunk: Hunk, stated: int) -> str:
    """Where the hunk came closest: the line with the longest run of its old lines."""
    old = [_norm(x) for x in hunk.old if _norm(x)]
    if not old or not file:
        return "the file is empty" if not file else "the hunk has no old lines"
    best, best_at = 0, None
    norm = [_norm(x) for x in file]
    for at in range(len(file)):
        if norm[at] not in old:
            continue
        k = old.index(norm[at])
        n, i = 0, at
        while k + n < len(old) and i < len(file):
            if norm[i] == "":
                i += 1
                continue
            if norm[i] != old[k + n]:
                break
            n += 1
            i += 1
        if n > best or (n == best and best_at is not None and abs(at - stated)
                        < abs(best_at - stated)):
            best, best_at = n, at
    if best_at is None:
        return "no line of the hunk's context is in the file"
    return (f"nearest: line {best_at + 1}, where {best} of its {len(old)} context and "
            f"removed lines match")


def apply_hunk(file: list[str], hunk: Hunk, fit: _Fit) -> list[str]:
    """``file`` with ``hunk`` applied where ``fit`` says."""
    if fit.how != "whitespace":
        new = [t for tag, t in hunk.lines if tag != "-"]
        return file[:fit.start] + new + file[fit.end:]
    out = file[:fit.start]
    i = fit.start
    matched = iter(fit.matched)
    body = list(hunk.lines)
    for k, (tag, text) in enumerate(body):
        if tag == "+":
            out.append(text)
            continue
        at = next(matched)
        if at is None:
            if tag == " ":
                out.append(text)  # a blank context line the file lacks: keep it
            continue
        # the file's lines up to this one (blank lines the patch lost) stay, placed before
        # an insertion that ends in a blank line, after one that does not
        gap = file[i:at]
        if gap and out and _added_block_before(body, k) and not _gap_after_block(body, k):
            block = _pop_added(out, body, k)
            out.extend(gap)
            out.extend(block)
        else:
            out.extend(gap)
        if tag == " ":
            out.append(file[at])  # the file's own text, with its whitespace
        i = at + 1
    out.extend(file[i:])
    return out


def _added_block_before(body: list[tuple[str, str]], k: int) -> bool:
    return k > 0 and body[k - 1][0] == "+"


def _gap_after_block(body: list[tuple[str, str]], k: int) -> bool:
    """Blank lines the patch lost between an added block and ``body[k]`` go after the
    block when it replaces removed lines (it stands where they stood), or when it starts
    with a blank line and does not end with one (it sat right after its context);
    otherwise before it."""
    j = k
    while j > 0 and body[j - 1][0] == "+":
        j -= 1
    if j > 0 and body[j - 1][0] == "-":
        return True
    block = [t for _, t in body[j:k]]
    starts, ends = _norm(block[0]) == "", _norm(block[-1]) == ""
    return starts and not ends


def _pop_added(out: list[str], body: list[tuple[str, str]], k: int) -> list[str]:
    j = k
    while j > 0 and body[j - 1][0] == "+":
        j -= 1
    n = k - j
    block = out[-n:]
    del out[-n:]
    return block


# --------------------------------------------------------------------------
# Applying patches to an overlay of a base tree


def check_path(path: str, patch: str, base: Path | None = None) -> str:
    """``path`` if it stays inside the tree (no ``..``, not absolute, not through a
    symlink of ``base``); else a one-line UsageError naming the patch."""
    p = PurePosixPath(path)
    if p.is_absolute() or path.startswith("~"):
        raise UsageError(f"{patch}: {path}: an absolute path leaves the tree; refused")
    if ".." in p.parts or not p.parts or any(part in ("", ".") for part in path.split("/")):
        raise UsageError(f"{patch}: {path}: a path with '..' or empty parts leaves the tree; "
                         "refused")
    if base is not None:
        cur = base
        for part in p.parts:
            cur = cur / part
            if cur.is_symlink():
                raise UsageError(f"{patch}: {path}: goes through the symlink "
                                 f"{cur.relative_to(base).as_posix()}; refused")
    return p.as_posix()


class Overlay:
    """A base tree with changes on top, kept in memory: the base is never written.

    ``read`` is how a file of the base is read (a directory, or a git revision); it
    returns None for a file the base does not have.
    """

    def __init__(self, read: Callable[[str], bytes | None], root: Path | None = None) -> None:
        self._read = read
        self.root = root  #: the base directory, for the symlink check (None for git)
        self.changes: dict[str, bytes | None] = {}  #: path -> new content, None: deleted

    def get(self, path: str) -> bytes | None:
        if path in self.changes:
            return self.changes[path]
        return self._read(path)

    def exists(self, path: str) -> bool:
        return self.get(path) is not None


def dir_reader(root: Path) -> Callable[[str], bytes | None]:
    def read(path: str) -> bytes | None:
        p = root / path
        try:
            return p.read_bytes() if p.is_file() else None
        except OSError as e:
            raise UsageError(f"{p}: cannot read: {e.strerror}") from None
    return read


def _lines(data: bytes, path: str, patch: str) -> list[str]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{patch}: {path}: the file is not UTF-8 text; refused") from None
    return text.splitlines(keepends=True)


def _stripped(tree: Overlay, fp: FilePatch) -> FilePatch:
    """A plain diff's paths with as many leading directories taken off as make them name a
    file of the tree (GNU patch's ``-pN``, guessed); as written when none does."""
    name = fp.old_path or fp.new_path or ""
    parts = name.split("/")
    for n in range(len(parts)):
        cand = "/".join(parts[n:])
        if cand and ".." not in parts[n:] and tree.exists(cand):
            def cut(p: str | None) -> str | None:
                return None if p is None else "/".join(p.split("/")[n:])
            return replace(fp, old_path=cut(fp.old_path), new_path=cut(fp.new_path))
    return fp


def apply_patch(tree: Overlay, patch: Patch) -> list[Placement]:
    """Apply ``patch`` to ``tree``; every hunk's placement, in order."""
    placed: list[Placement] = []
    for fp in patch.files:
        if fp.plain:
            fp = _stripped(tree, fp)
        old = check_path(fp.old_path, patch.name, tree.root) if fp.old_path else None
        new = check_path(fp.new_path, patch.name, tree.root) if fp.new_path else None
        if fp.binary:
            raise UsageError(f"{patch.name}: {fp.path}: binary patch; xenabi applies text "
                             "hunks only, refused")
        if old is None:
            if new is not None and tree.exists(new):
                raise UsageError(f"{patch.name}: {new}: the patch creates it, but the tree "
                                 "already has it")
            lines: list[str] = []
        else:
            data = tree.get(old)
            if data is None:
                raise UsageError(f"{patch.name}: {old}: no such file in the tree")
            lines = _lines(data, old, patch.name)
        # as GNU patch: a hunk is looked for where the earlier ones' offset says, and its
        # offset is counted from its stated line moved by the lines earlier hunks added
        delta = last_offset = 0
        for hunk in fp.hunks:
            stated = hunk.old_start - (1 if hunk.old else 0) + delta
            fit = place(lines, hunk, stated + last_offset)
            if fit is None:
                raise HunkError(f"{patch.name}: {fp.path}: hunk {_short_header(hunk.header)} "
                                f"cannot be placed ({_nearest(lines, hunk, stated)})")
            before = len(lines)
            lines = apply_hunk(lines, hunk, fit)
            last_offset = fit.start - stated
            how = fit.how if fit.how == "whitespace" or last_offset else "exact"
            placed.append(Placement(patch.name, fp.path, hunk.header, fit.start + 1,
                                    last_offset, how, fit.blank_restored))
            delta += len(lines) - before
        content = "".join(lines).encode()
        if old is not None and not fp.copy and old != new:
            tree.changes[old] = None
        if new is None:
            if lines:
                raise UsageError(f"{patch.name}: {old}: the patch deletes it, but lines of "
                                 "it are left")
        else:
            tree.changes[new] = content
    return placed


def materialize(tree: Overlay, copy: Iterable[str], dest: Path) -> Path:
    """Write into ``dest`` (a fresh temporary directory) the base's files under the
    tree-relative paths ``copy`` (``dir/**/*.ext``: only those files of ``dir``), then the
    overlay's changes. Nothing is written outside ``dest``; no symlink is followed on the
    way in."""
    dest = dest.resolve()
    if tree.root is not None:
        for rel in copy:
            if "/**/" in rel:
                top, pattern = rel.split("/**/", 1)
                for src in sorted((tree.root / top).rglob(pattern)):
                    if src.is_file() and not src.is_symlink():
                        to = dest / src.relative_to(tree.root)
                        to.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copyfile(src, to)
                continue
            src = tree.root / rel
            if src.is_dir():
                shutil.copytree(src, dest / rel, symlinks=True, dirs_exist_ok=True)
            elif src.is_file():
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest / rel, follow_symlinks=False)
    for path, content in sorted(tree.changes.items()):
        target = dest / check_path(path, "patch", dest)
        if content is None:
            if target.is_file():
                target.unlink()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            target.unlink()
        target.write_bytes(content)
    return dest


def subject_words(name: str) -> str:
    """A subject without its ``[PATCH v2 1/3]`` tags."""
    return _SUBJECT_TAG.sub("", name)
