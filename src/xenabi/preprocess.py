"""Preprocess every public header for one target and view: C text plus the macro table.

All applicable headers go through the host's ``cpp`` in one translation unit
(``xen.h`` first, as every consumer has it), with the target's predefines
instead of the host's (``-undef``), xenabi's own stand-ins for the few libc
headers Xen names, and ``-dD`` so every ``#define`` comes out in place with
its file and line. cpp is a tool here, not a cross compiler: it computes
nothing about the target.

A header that ``#error``s (tools-only headers in the guest view,
``dom0_ops.h``) is ``skipped``; one cpp rejects otherwise is ``failed`` with
file:line. Either way it is left out and the rest are preprocessed again.
"""

from __future__ import annotations

import functools
import hashlib
import os
import posixpath
import re
import resource
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from xenabi import lifetime
from xenabi.errors import UsageError
from xenabi.model import Coord, HeaderStatus, MacroDef, Status
from xenabi.targets import TARGETS, Target
from xenabi.tree import XenTree

SYSINCLUDE = Path(__file__).with_name("sysinclude")

#: headers that are fragments, valid only through the header that includes them
FRAGMENTS = {"arch-x86/hvm/save.h": "hvm/save.h"}

#: headers valid only after another has set their context (DESIGN.md, known pitfalls);
#: the single translation unit includes xen.h first, so they are read in it
CONTEXT = {"arch-x86/pmu.h": "xen.h", "arch-x86/xen-mca.h": "xen.h"}

#: headers that do not apply by design, whatever the target
BY_DESIGN = {"dom0_ops.h": "obsolete interface: #error by design"}

#: GNU spellings pycparser does not know, mapped to their C11 meaning
_GNU_KEYWORDS = {"__inline__": "inline", "__inline": "inline", "__extension__": "",
                 "__restrict": "restrict", "__restrict__": "restrict",
                 "__signed__": "signed", "__signed": "signed", "__const": "const",
                 "__volatile__": "volatile", "__volatile": "volatile"}

#: cpp output past this many bytes means a macro expands without end
OUTPUT_LIMIT = 64 << 20
CPP_TIMEOUT = 60
#: the most tokens one use of macros may expand to, in cpp's output as in cexpr
EXPANSION_LIMIT = 20000
#: the address space cpp may use (it needs some tens of MB for a whole tree)
CPP_MEMORY = 512 << 20
_OUTPUT_BOUND = "cpp output past the bound"
_MISSING = re.compile(r"(/.+): No such file or directory$")
_XENABI = "<xenabi>"  #: the file xenabi's own cpp errors name


@dataclass(frozen=True)
class Unit:
    """One target and view, preprocessed."""

    target: Target
    view: str
    interface_version: int
    text: str  #: C text with line markers; ``#define`` lines blanked
    macros: dict[str, MacroDef]  #: in force at the end of the unit (all files)
    headers: dict[str, HeaderStatus]
    tops: dict[str, str]  #: header -> the top-level include it was first read through
    public_dir: str  #: the absolute public directory, as line markers name it
    #: header -> every top-level include that reads it
    reached_by: dict[str, frozenset[str]] = field(default_factory=dict)
    #: files outside the public directory that cpp read (from its line markers): a
    #: cache keyed on the tree alone would miss an edit to one
    outside: tuple[str, ...] = ()

    def digest(self) -> str:
        """What a snapshot of the unit is made from, as one digest: the target, view and
        interface version, the text (the public directory, a temporary name, left out),
        the macros, the headers' statuses and who includes whom. Two units with the same
        digest parse alike: into the same snapshot, or the same failures."""
        h = hashlib.blake2b(repr((self.target.name, self.view, self.interface_version,
                                  sorted(self.macros.items()), sorted(self.headers.items()),
                                  sorted((k, sorted(v)) for k, v in self.reached_by.items())
                                  )).encode("utf-8", "surrogateescape"))
        h.update(self.text.replace(self.public_dir.rstrip("/") + "/", "/")
                 .encode("utf-8", "surrogateescape"))
        return h.hexdigest()


_LINEMARKER = re.compile(r'^# (\d+) "((?:[^"\\]|\\.)*)"((?: \d)*)$')
_DEFINE = re.compile(r"^#define ([A-Za-z_]\w*)(\(([^)]*)\))? ?(.*)$")
_DIAG = re.compile(r"^(.*?):(\d+):(?:\d+:)? (?:fatal )?error: (.*)$")


def applicable(tree: XenTree, target: Target) -> tuple[list[str], dict[str, HeaderStatus]]:
    """The headers to include for ``target``, and those left out by design."""
    include, status = [], {}
    for h, why in tree.irregular.items():
        status[h] = HeaderStatus(Status.FAILED, why)
    for h in tree.headers:
        if tree.is_extra(h):
            status[h] = HeaderStatus(Status.SKIPPED, "installed by libxen-dev, not a public Xen header")
        elif h in target.sibling_headers:
            status[h] = HeaderStatus(Status.SKIPPED, f"the other half of arch-x86/xen.h, "
                                                     f"not for {target.name}")
        elif h.startswith("arch-") and not any(
                h == a or h.startswith(a + "/") for a in target.arch_headers):
            status[h] = HeaderStatus(Status.SKIPPED, f"arch header, not for {target.name}")
        elif h in BY_DESIGN:
            status[h] = HeaderStatus(Status.SKIPPED, BY_DESIGN[h])
        elif h in FRAGMENTS and FRAGMENTS[h] in tree.headers:
            continue  # read through its includer; its status comes from the line markers
        else:
            include.append(h)
    include.sort(key=lambda h: (h != "xen.h", h.startswith("arch-"), h))
    return include, status


def cpp_command(target: Target, view: str, interface_version: int,
                quote_dirs: tuple[Path, ...] = ()) -> list[str]:
    """The cpp invocation for a target and view: its predefines, not the host's."""
    defines = dict(target.predefines, **_GNU_KEYWORDS)
    if view == "tools":
        defines["__XEN_TOOLS__"] = "1"
    else:
        defines["__XEN_INTERFACE_VERSION__"] = f"0x{interface_version:08x}"
    # -dI: each #include in the output, the skipped ones too (a header read before, behind
    # its guard), so that the scan knows every top-level header that reads a header
    return ["cpp", "-E", "-dD", "-dI", "-undef", "-nostdinc", "-std=gnu11", "-w",
            "-isystem", str(SYSINCLUDE), *(f"-iquote{d}" for d in quote_dirs),
            # by path: a quote directory must not turn them into the host's headers
            "-include", str(SYSINCLUDE / "stdint.h"), "-include", str(SYSINCLUDE / "string.h"),
            *(f"-D{k}={v}" for k, v in defines.items()), "-"]


def _run_cpp(cmd: list[str], source: str, work: Path) -> tuple[str, str]:
    """cpp's output and errors. cpp runs in a process group of its own (its driver
    starts ``cc1``), killed whole on a timeout, an output past the bound or an
    interrupt; its output is read as it comes, so memory stays within the bound."""
    (work / "in.c").write_text(source)
    with open(work / "in.c", "rb") as src, open(work / "err", "w+b") as err:
        try:
            proc = lifetime.spawn(cmd, stdin=src, stdout=subprocess.PIPE, stderr=err)
        except FileNotFoundError:
            raise UsageError("cpp not found: xenabi needs the host C preprocessor "
                             "(gcc's cpp)") from None
        assert proc.stdout is not None
        try:  # cc1 holds a whole expansion before it writes it: bound its memory too
            resource.prlimit(proc.pid, resource.RLIMIT_AS, (CPP_MEMORY, CPP_MEMORY))
        except (OSError, ValueError):
            pass  # ended already, or a limit the host forbids: the output bound remains
        chunks: list[bytes] = []
        size, trouble = 0, b""
        deadline = time.monotonic() + CPP_TIMEOUT
        try:
            fd = proc.stdout.fileno()
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([fd], [], [], left)[0]:
                    trouble = b"\n<xenabi>:0: error: cpp ran past %d s\n" % CPP_TIMEOUT
                    break
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > OUTPUT_LIMIT:
                    trouble = f"\n{_XENABI}:0: error: {_OUTPUT_BOUND}\n".encode()
                    break
        finally:
            if proc.poll() is None or trouble:
                lifetime.kill(proc)
            proc.stdout.close()
            proc.wait()
            lifetime.reaped(proc)
        err.seek(0)
        errors = err.read()
        if proc.returncode and not trouble and b" error: " not in errors:
            # cpp ended without saying why in a line xenabi reads: out of memory, killed
            trouble = f"\n{_XENABI}:0: error: {_OUTPUT_BOUND}\n".encode()
        errors += trouble
    return b"".join(chunks).decode("utf-8", "replace"), errors.decode("utf-8", "replace")


def _unescape(path: str) -> str:
    """A path as a line marker spells it: cpp escapes ``"``, ``\\`` and unprintable bytes."""
    if "\\" not in path:
        return path
    raw = re.sub(rb"\\([0-7]{1,3}|.)", lambda m: bytes([int(m.group(1), 8)])
                 if m.group(1).isdigit() else m.group(1), path.encode("utf-8", "surrogateescape"))
    return raw.decode("utf-8", "surrogateescape")


def _rel(path: str, public: str) -> str | None:
    """A path under ``public`` as the header is named (``hvm/../xen.h`` is ``xen.h``)."""
    prefix = public.rstrip("/") + "/"
    if not path.startswith(prefix):
        return None
    rel = os.path.normpath(path[len(prefix):])
    return None if rel == ".." or rel.startswith("../") else rel  # up and out of it


#: header -> (skipped | failed, where, why): what went wrong, and the line to blame
Troubles = dict[str, tuple[Status, Coord, str]]


def _troubles(stderr: str, public: str) -> Troubles:
    """What cpp's diagnostics say went wrong, by header."""
    out: Troubles = {}
    for line in stderr.splitlines():
        m = _DIAG.match(line)
        if not m:
            continue
        rel = _rel(m.group(1), public) or m.group(1)
        msg = m.group(3)
        out.setdefault(rel, (Status.SKIPPED if msg.startswith("#error") else Status.FAILED,
                             Coord(rel, int(m.group(2))), msg))
    return out


@dataclass
class _Scan:
    macros: dict[str, MacroDef]  #: in force at the end
    via: dict[str, str]  #: header -> the top-level header it was first read through
    reached_by: dict[str, set[str]]  #: header -> every top-level header that reads it
    lines: list[str]  #: the text with directives blanked (line markers kept)
    troubles: Troubles  #: what the text shows wrong, by header
    end: tuple[str | None, int]  #: the header and line the text ends in
    outside: set[str]  #: files read from outside the public headers and xenabi's own


def _scan(text: str, public: str, inside: tuple[str, ...] = ()) -> _Scan:
    """Read cpp's output once: its macros, who includes whom, and what is wrong in it:
    an include that reaches outside ``public`` and ``inside`` (by real path; with no
    ``inside``, a file named under ``public`` is not looked at), and a line that expands
    past :data:`EXPANSION_LIMIT` tokens."""
    macros: dict[str, MacroDef] = {}
    via: dict[str, str] = {}
    reached: dict[str, set[str]] = {}
    troubles: Troubles = {}
    outside: set[str] = set()
    stack: list[str] = []
    includes: dict[str, set[str]] = {}  # header -> the headers it includes
    again: dict[str, set[str]] = {}  # top-level header -> the headers read before it includes
    lines = text.split("\n")
    file, line = "", 0
    for i, raw in enumerate(lines):
        if raw.startswith("#"):
            if raw.startswith("#include"):
                lines[i] = ""
                if (inc := _QUOTED.match(raw)) is not None:
                    by = _rel(file, public)
                    h = _included(public, by, inc.group(1))
                    if by is not None:
                        includes.setdefault(by, set()).add(h)
                    if h in via:  # read before: skipped behind its guard, or read again
                        top = next((t for f in stack if (t := _rel(f, public))), h)
                        again.setdefault(top, set()).add(h)
            elif (m := _LINEMARKER.match(raw)) is not None:
                includer, at = file, line
                file, line = _unescape(m.group(2)), int(m.group(1))
                flags = m.group(3).split()
                if file == "<stdin>":
                    # back at the top level: an include that went too deep leaves the
                    # entries and returns unbalanced
                    stack = [file]
                elif "1" in flags:
                    stack.append(file)
                    rel = _rel(file, public)
                    # by real path too: a symlink in the tree may lead out of it
                    if rel is None or inside:
                        if (real := _outside(file, _rel(includer, public), at, inside,
                                             troubles)) is not None:
                            outside.add(real)
                            continue
                        if rel is None:
                            continue
                    top = next((t for f in stack if (t := _rel(f, public))), rel)
                    via.setdefault(rel, top)
                    reached.setdefault(rel, set()).add(top)
                elif "2" in flags and stack:
                    stack.pop()
                continue
            elif raw.startswith("#define "):
                if (d := _DEFINE.match(raw)) is not None:
                    params = None if d.group(2) is None else tuple(
                        p.strip() for p in d.group(3).split(",") if p.strip())
                    macros[d.group(1)] = MacroDef(d.group(1), params, d.group(4),
                                                  Coord(_rel(file, public) or file, line))
                lines[i] = ""
            elif raw.startswith("#undef "):
                macros.pop(raw[7:].strip(), None)
                lines[i] = ""
        elif len(raw) > EXPANSION_LIMIT and (rel := _rel(file, public)) is not None:
            if len(_TOKEN.findall(raw)) > EXPANSION_LIMIT:
                troubles.setdefault(rel, (Status.FAILED, Coord(rel, line),
                                          _too_long(public, rel, line, macros)))
        line += 1
    # an include cpp skipped (a guard) reads what the header read when it was read first
    for top, headers in again.items():
        seen: set[str] = set()
        todo = list(headers)
        while todo:
            if (r := todo.pop()) not in seen:
                seen.add(r)
                reached.setdefault(r, set()).add(top)
                todo.extend(includes.get(r, ()))
    return _Scan(macros, via, reached, lines, troubles, (_rel(file, public), line), outside)


_QUOTED = re.compile(r'#include(?:_next)? "([^"]+)"')


def _included(public: str, includer: str | None, name: str) -> str:
    """The header ``#include "name"`` in ``includer`` reads, as cpp searches for it: beside
    the includer, then in the public directory, then in the one above it (``public/xen.h``);
    named relative to the public directory."""
    here = [posixpath.join(posixpath.dirname(includer), name)] if includer is not None else []
    above = [name[len("public/"):]] if name.startswith("public/") else []
    for candidate in (*here, name, *above):
        if os.path.isfile(os.path.join(public, candidate)):
            return posixpath.normpath(candidate)
    return posixpath.normpath(name)


_TOKEN = re.compile(r"[A-Za-z_]\w*|\.?\d[\w.]*|\"(?:[^\"\\]|\\.)*\"|\S")
_IDENT = re.compile(r"[A-Za-z_]\w*")


def _outside(file: str, includer: str | None, at: int, inside: tuple[str, ...],
             troubles: Troubles) -> str | None:
    """An include that reads a file outside the public headers is the includer's failure;
    the file's real path when ``file`` is such a file."""
    if includer is None or file.startswith("<"):
        return None  # xenabi's own -include files, cpp's built-ins
    real = os.path.realpath(file)
    if any(real.startswith(d) for d in inside):
        return None
    troubles.setdefault(includer, (Status.FAILED, Coord(includer, at),
                                   f"#include reaches {real}, outside the public headers"))
    return real


def _too_long(public: str, rel: str, line: int, macros: dict[str, MacroDef],
              otherwise: str = f"the line expands past {EXPANSION_LIMIT} tokens") -> str:
    """Why a line of cpp's output is past the bound: the macro of its source line that is."""
    from xenabi import cexpr

    try:
        source = Path(public, rel).read_text(errors="replace").splitlines()[line - 1]
    except (OSError, IndexError):
        source = ""
    for name in dict.fromkeys(_IDENT.findall(source)):
        if name in macros:
            try:
                cexpr.expand(name, macros, limit=EXPANSION_LIMIT)
            except cexpr.ExpansionLimit as e:
                return str(e)
            except cexpr.ExprError:
                continue
    return otherwise


_SOURCE_NOISE = re.compile(r"/\*.*?\*/|//[^\n]*|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'", re.S)
_OBJECT_DEFINE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)(?![\w(])(.*)$", re.M)
_DIRECTIVE = re.compile(r"^[ \t]*#[ \t]*(define|undef)\b")


def runaway_uses(tree: XenTree) -> dict[str, tuple[Coord, str]]:
    """Each header that uses an object-like macro expanding past :data:`EXPANSION_LIMIT`
    tokens: where it first does, and why. Read from the sources before cpp runs, which
    would take a minute and gigabytes to find it (``char buf[E21]``, 2^21 tokens, with
    ``#define E1 (E0+E0)`` ...). Every definition of a name is counted at its largest
    and conditionals are not read, so what is over the bound here may not be in cpp;
    the largest in Xen's headers (4.17, 4.20) is 31 tokens, ``PSR_GUEST32_INIT``."""
    return _runaway_uses(tree, tree.fingerprint)


@functools.lru_cache(maxsize=4)
def _runaway_uses(tree: XenTree, fingerprint: str) -> dict[str, tuple[Coord, str]]:
    texts = {h: _SOURCE_NOISE.sub(_blank, tree.read(h).replace("\\\n", " \n"))
             for h in tree.headers}
    bodies: dict[str, list[str]] = {}
    for text in texts.values():
        for m in _OBJECT_DEFINE.finditer(text):
            body = _TOKEN.findall(m.group(2))
            if len(body) > len(bodies.get(m.group(1), ())):
                bodies[m.group(1)] = body
    big = {name for name in bodies if _expansion_size(name, bodies) > EXPANSION_LIMIT}
    uses: dict[str, tuple[Coord, str]] = {}
    for h, text in texts.items() if big else ():
        for n, line in enumerate(text.split("\n"), 1):
            if _DIRECTIVE.match(line) is None and (
                    name := next((t for t in _IDENT.findall(line) if t in big), None)):
                uses[h] = (Coord(h, n), f"macro {name} expands past {EXPANSION_LIMIT} tokens")
                break
    return uses


def _fail_runaways(tree: XenTree, include: list[str], status: dict[str, HeaderStatus]) -> None:
    """Each header to read that uses a runaway macro fails, and so does each that includes
    one (by the sources' #include lines: their conditionals are not read)."""
    runaway = runaway_uses(tree)
    if not runaway:
        return
    graph = _include_graph(tree)
    for top in include:
        if top in runaway:
            where, why = runaway[top]
            status.setdefault(top, HeaderStatus(Status.FAILED, why, coord=where))
        elif (h := next((h for h in sorted(graph(top)) if h in runaway), None)) is not None:
            where, why = runaway[h]
            status.setdefault(top, HeaderStatus(Status.FAILED, f"includes {h}: {where}: {why}"))


def _blank(m: re.Match[str]) -> str:
    """A comment or a literal as blank lines: the lines after it keep their numbers."""
    return "\n" * m.group(0).count("\n") + " "


def _expansion_size(root: str, bodies: dict[str, list[str]]) -> int:
    """How many tokens ``root`` expands to, at most :data:`EXPANSION_LIMIT` + 1. A name
    being expanded is not expanded again inside itself, as in C; depth-first without
    recursion, so a chain of any length is measured."""
    sizes: dict[str, int] = {}
    todo, active = [root], {root}
    while todo:
        name = todo[-1]
        pending = [t for t in bodies[name] if t in bodies and t not in sizes and t not in active]
        if pending:
            todo.append(pending[0])
            active.add(pending[0])
            continue
        todo.pop()
        active.discard(name)
        sizes[name] = min(EXPANSION_LIMIT + 1, sum(
            sizes.get(t, 1) if t in bodies and t not in active else 1 for t in bodies[name]))
    return sizes[root]


def preprocess(tree: XenTree, arch: str, view: str, interface_version: int | None = None,
               known: dict[str, HeaderStatus] | None = None) -> Unit:
    """Preprocess every header that applies to ``arch`` and ``view``.

    ``known`` are headers already found failed (by the parser): they are left out.
    """
    target = TARGETS[arch]
    version = interface_version or tree.latest_interface_version
    include, status = applicable(tree, target)
    status.update(known or {})
    _fail_runaways(tree, include, status)
    include = [h for h in include if h not in status]
    # -iquote, not -I: public/features.h would shadow <features.h>. A directory in
    # which public/ is the tree's serves arch-arm/smccc.h's #include "public/xen.h",
    # whatever the layout calls that directory.
    # Line markers name the headers through this symlink, never through the tree's own
    # path, which cpp would escape if it held a quote or a backslash.
    parent = Path(tempfile.mkdtemp(prefix="xenabi-"))
    public = parent / "public"
    try:
        public.symlink_to(tree.public, target_is_directory=True)
        return _preprocess(tree, target, view, version, status, include, parent,
                           cpp_command(target, view, version, (public, parent)))
    finally:
        shutil.rmtree(parent)


def _preprocess(tree: XenTree, target: Target, view: str, version: int,
                status: dict[str, HeaderStatus], include: list[str], work: Path,
                cmd: list[str]) -> Unit:
    public = str(work / "public")
    inside = tuple(os.path.realpath(d) + "/" for d in (tree.public, SYSINCLUDE))
    for h in include:
        tree.read(h)  # unusable input (non-UTF-8) stops here, before anything is written
    graph: Callable[[str], set[str]] | None = None
    # every pass's: a header left out for reading one is still judged by what it read
    outside: set[str] = set()
    while True:
        source = "".join(f'#include "{h}"\n' for h in include)
        out, err = _run_cpp(cmd, source, work)
        scan = _scan(out, public, inside)
        troubles = {**scan.troubles, **_troubles(err, public)}
        # an absolute include that is not there: its coming would change the answer
        outside |= scan.outside | {m.group(1) for _, _, why in troubles.values()
                                   if (m := _MISSING.match(why))}
        rel, line = scan.end
        if _XENABI in troubles and (scan.troubles or rel is not None):
            # cut off (the output bound, the memory bound, the timeout): where the output
            # stopped is where a macro ran away
            _, _, why = troubles.pop(_XENABI)
            if rel is not None and not scan.troubles:
                troubles[rel] = (Status.FAILED, Coord(rel, line),
                                 _too_long(public, rel, line, scan.macros, why))
        if not troubles:
            break
        dropped = set()
        graph = graph or _include_graph(tree)
        for h, (st, where, why) in troubles.items():
            status[h] = HeaderStatus(st, why, coord=where)
            # every header that reads a troubled one fails with it, in this one rerun (what
            # cpp's output shows is not all when an include went too deep)
            tops = scan.reached_by.get(h, set()) | {t for t in include if h in graph(t)} | {h}
            for top in tops - {h}:
                if top in include and top not in troubles:
                    status[top] = HeaderStatus(st, f"includes {h}: {where}: {why}")
            dropped |= tops
        if not dropped & set(include):
            # a trouble outside every header (cpp itself): nothing to leave out
            raise UsageError(f"cpp failed: {err.strip().splitlines()[-1]}")
        include = [h for h in include if h not in dropped]
    for h, top in scan.via.items():
        if h not in status:
            context = FRAGMENTS.get(h) or CONTEXT.get(h) or (None if h in include else top)
            status[h] = HeaderStatus(Status.PARSED, via=context)
    return Unit(target, view, version, "\n".join(scan.lines), scan.macros, status, scan.via,
                public, {h: frozenset(t) for h, t in scan.reached_by.items()},
                tuple(sorted(outside)))


_QUOTE_INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*"([^"]+)"', re.M)


def _include_graph(tree: XenTree) -> Callable[[str], set[str]]:
    """Header -> every header its text includes, directly or not, as the sources say."""
    direct: dict[str, set[str]] = {}
    for h in tree.headers:
        names = _QUOTE_INCLUDE.findall(tree.read(h))
        here = posixpath.dirname(h)
        direct[h] = {r for n in names for r in (posixpath.normpath(posixpath.join(here, n)),
                                                posixpath.normpath(n)) if r in direct or
                     r in tree.headers}

    @functools.cache
    def closure(h: str) -> set[str]:
        seen: set[str] = set()
        todo = [h]
        while todo:
            for n in direct.get(todo.pop(), ()):
                if n not in seen:
                    seen.add(n)
                    todo.append(n)
        return seen
    return closure


def preprocess_text(text: str, target: Target) -> tuple[str, dict[str, MacroDef], str]:
    """Standalone C text through the same cpp as a tree (tests and oracles use this).

    The text is read as the header ``input.h`` of a temporary public directory,
    whose path is returned third: declarations are located as in a tree.
    """
    with tempfile.TemporaryDirectory(prefix="xenabi-") as tmp:
        Path(tmp, "input.h").write_text(text)
        out, err = _run_cpp(cpp_command(target, "tools", 0, (Path(tmp),)),
                            '#include "input.h"\n', Path(tmp))
        if (trouble := next((ln for ln in err.splitlines() if _DIAG.match(ln)), None)):
            raise UsageError(f"cpp: {trouble}")
        scan = _scan(out, tmp)
        return "\n".join(scan.lines), scan.macros, tmp
