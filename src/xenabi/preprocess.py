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

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

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
    #: files outside the public directory that cpp read (from its line markers): a
    #: cache keyed on the tree alone would miss an edit to one
    outside: tuple[str, ...] = ()


_LINEMARKER = re.compile(r'^# (\d+) "((?:[^"\\]|\\.)*)"((?: \d)*)$')
_DEFINE = re.compile(r"^#define ([A-Za-z_]\w*)(\(([^)]*)\))? ?(.*)$")
_DIAG = re.compile(r"^(.*?):(\d+):(?:\d+:)? (?:fatal )?error: (.*)$")


def applicable(tree: XenTree, target: Target) -> tuple[list[str], dict[str, HeaderStatus]]:
    """The headers to include for ``target``, and those left out by design."""
    include, status = [], {}
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
    return ["cpp", "-E", "-dD", "-undef", "-nostdinc", "-std=gnu11", "-w",
            "-isystem", str(SYSINCLUDE), *(f"-iquote{d}" for d in quote_dirs),
            # by path: a quote directory must not turn them into the host's headers
            "-include", str(SYSINCLUDE / "stdint.h"), "-include", str(SYSINCLUDE / "string.h"),
            *(f"-D{k}={v}" for k, v in defines.items()), "-"]


def _run_cpp(cmd: list[str], source: str) -> tuple[str, str]:
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
    except FileNotFoundError:
        raise UsageError("cpp not found: xenabi needs the host C preprocessor (gcc's cpp)") from None
    try:
        out, err = proc.communicate(source.encode(), timeout=CPP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        err += b"\n<xenabi>:0: error: cpp ran past %d s\n" % CPP_TIMEOUT
    if len(out) > OUTPUT_LIMIT:
        err += b"\n<xenabi>:0: error: cpp output past the bound\n"
    return out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def _rel(path: str, public: str) -> str | None:
    prefix = public.rstrip("/") + "/"
    return os.path.normpath(path[len(prefix):]) if path.startswith(prefix) else None


def _troubles(stderr: str, public: str) -> dict[str, tuple[Status, Coord, str]]:
    """Header -> (skipped | failed, where, why) from cpp's diagnostics."""
    out: dict[str, tuple[Status, Coord, str]] = {}
    for line in stderr.splitlines():
        m = _DIAG.match(line)
        if not m:
            continue
        rel = _rel(m.group(1), public) or m.group(1)
        msg = m.group(3)
        where = Coord(rel, int(m.group(2)))
        out.setdefault(rel, (Status.SKIPPED if msg.startswith("#error") else Status.FAILED,
                             where, msg))
    return out


def _scan(text: str, public: str
          ) -> tuple[dict[str, MacroDef], dict[str, str], list[str], set[str]]:
    """Macros in force at the end, the top-level header each header came through, the
    text with directives blanked (line markers kept for pycparser), and the files read
    outside ``public``."""
    macros: dict[str, MacroDef] = {}
    via: dict[str, str] = {}
    outside: set[str] = set()
    stack: list[str] = []
    lines = text.split("\n")
    file, line = "", 0
    for i, raw in enumerate(lines):
        if raw.startswith("#"):
            if (m := _LINEMARKER.match(raw)) is not None:
                file, line = m.group(2), int(m.group(1))
                flags = m.group(3).split()
                if "1" in flags:
                    stack.append(file)
                    rel = _rel(file, public)
                    if rel is None:
                        outside.add(file)
                    elif rel not in via:
                        top = next((_rel(f, public) for f in stack if _rel(f, public)), rel)
                        via[rel] = top or rel
                elif "2" in flags and stack:
                    stack.pop()
                continue
            if raw.startswith("#define "):
                if (d := _DEFINE.match(raw)) is not None:
                    params = None if d.group(2) is None else tuple(
                        p.strip() for p in d.group(3).split(",") if p.strip())
                    macros[d.group(1)] = MacroDef(d.group(1), params, d.group(4),
                                                  Coord(_rel(file, public) or file, line))
                lines[i] = ""
            elif raw.startswith("#undef "):
                macros.pop(raw[7:].strip(), None)
                lines[i] = ""
        line += 1
    return macros, via, lines, outside


def preprocess(tree: XenTree, arch: str, view: str, interface_version: int | None = None,
               known: dict[str, HeaderStatus] | None = None) -> Unit:
    """Preprocess every header that applies to ``arch`` and ``view``.

    ``known`` are headers already found failed (by the parser): they are left out.
    """
    target = TARGETS[arch]
    version = interface_version or tree.latest_interface_version
    include, status = applicable(tree, target)
    status.update(known or {})
    include = [h for h in include if h not in status]
    # -iquote, not -I: public/features.h would shadow <features.h>. A directory in
    # which public/ is the tree's serves arch-arm/smccc.h's #include "public/xen.h",
    # whatever the layout calls that directory.
    parent = Path(tempfile.mkdtemp(prefix="xenabi-"))
    (parent / "public").symlink_to(tree.public, target_is_directory=True)
    try:
        return _preprocess(tree, target, view, version, status, include,
                           cpp_command(target, view, version, (tree.public, parent)))
    finally:
        shutil.rmtree(parent)


def _preprocess(tree: XenTree, target: Target, view: str, version: int,
                status: dict[str, HeaderStatus], include: list[str], cmd: list[str]) -> Unit:
    public = str(tree.public)
    for h in include:
        tree.read(h)  # unusable input (non-UTF-8) stops here, before anything is written
    while True:
        source = "".join(f'#include "{h}"\n' for h in include)
        out, err = _run_cpp(cmd, source)
        troubles = _troubles(err, public)
        if not troubles:
            break
        macros, via, _, _ = _scan(out, public)
        dropped = set()
        for h, (st, where, why) in troubles.items():
            top = via.get(h, h)
            status[h] = HeaderStatus(st, why, coord=where)
            if top != h and top in include:
                status[top] = HeaderStatus(st, f"includes {h}: {where}: {why}")
            dropped |= {h, top}
        if not dropped & set(include):
            # a trouble outside every header (cpp itself): nothing to leave out
            raise UsageError(f"cpp failed: {err.strip().splitlines()[-1]}")
        include = [h for h in include if h not in dropped]
    macros, via, lines, outside = _scan(out, public)
    for h, top in via.items():
        if h not in status:
            context = FRAGMENTS.get(h) or CONTEXT.get(h) or (None if h in include else top)
            status[h] = HeaderStatus(Status.PARSED, via=context)
    return Unit(target, view, version, "\n".join(lines), macros, status, via, public,
                tuple(sorted(outside)))


def preprocess_text(text: str, target: Target) -> tuple[str, dict[str, MacroDef], str]:
    """Standalone C text through the same cpp as a tree (tests and oracles use this).

    The text is read as the header ``input.h`` of a temporary public directory,
    whose path is returned third: declarations are located as in a tree.
    """
    with tempfile.TemporaryDirectory(prefix="xenabi-") as tmp:
        Path(tmp, "input.h").write_text(text)
        out, err = _run_cpp(cpp_command(target, "tools", 0, (Path(tmp),)), '#include "input.h"\n')
        if (trouble := next((ln for ln in err.splitlines() if _DIAG.match(ln)), None)):
            raise UsageError(f"cpp: {trouble}")
        macros, _, lines, _ = _scan(out, tmp)
        return "\n".join(lines), macros, tmp
