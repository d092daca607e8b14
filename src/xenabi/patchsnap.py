"""Snapshots of a patched tree, derived from its base's where the patch allows it.

Most header patches add or change a few ``#define``s (a flag, a limit, an
operation number). Preprocessing, parsing and laying out every header again
for eight target-views costs seconds; what such a patch changes is only the
values of the macros it touches, and the lines below it. :func:`derive`
recomputes exactly that, per target and view, from the base's snapshot:

- every changed line of a public header, on both sides, is blank, a comment,
  or an object-like ``#define`` (no conditional, no declaration, no
  continuation line);
- every name those lines define appears in the tree only in its own
  definition or in the bodies of object-like macros (which are then
  re-evaluated); never in C code, an ``#if``, or a function-like macro;
- whether a changed line is active in a target-view is read off a
  neighbouring definition in the same conditional block, whose constant the
  base's snapshot of that target-view has or lacks;
- every macro a new body names is an integer constant the snapshot knows.

Anything else returns None, and the caller computes the patched tree in
full (:func:`xenabi.snapshot.take_all`). The lines of everything below a
change move as the patch moved them.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import TypeVar

from xenabi import cexpr, lifetime
from xenabi.errors import XenAbiError
from xenabi.model import (Constant, Coord, HeaderStatus, IntConstant, MacroDef, RecordLayout,
                          Snapshot, Status, TypedefLayout)
from xenabi.snapshot import family_batches, int_macro, string_macro
from xenabi.targets import TARGETS
from xenabi.tree import XenTree

_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
_DEFINE = re.compile(r"^\s*#\s*define\s+([A-Za-z_]\w*)(\()?\s*(.*?)\s*$")
_DIRECTIVE = re.compile(r"^\s*#\s*(if|ifdef|ifndef|elif|else|endif)\b")


#: what a snapshot locates at a header's line
_L = TypeVar("_L", Constant, RecordLayout, TypedefLayout)


class _Unsafe(Exception):
    """The patch does more than :func:`derive` can follow: compute the tree in full."""


class _NeedsMacros(_Unsafe):
    """What the head's macros in force can tell (:func:`_head_macros`): a macro a new body
    names that no constant is (``xen_mk_uint``), or whether a new line is read at all."""


def _strip_comments(text: str) -> list[str]:
    """The lines of ``text`` with comments blanked (line count kept)."""
    return _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text).split("\n")


@dataclass(frozen=True)
class _Header:
    """One changed header: its lines on both sides and how old lines map to new ones."""

    name: str  #: relative to the public directory
    old: list[str]  #: comment-stripped
    new: list[str]
    line_map: dict[int, int]  #: 1-based old line -> new line, for unchanged lines
    changed_old: list[int]  #: 0-based indexes of changed lines
    changed_new: list[int]
    segments: list[int]  #: new line index -> conditional segment id
    depth: list[int]  #: new line index -> #if nesting depth


def _segments(lines: list[str]) -> tuple[list[int], list[int]]:
    seg, depth, out_seg, out_depth = 0, 0, [], []
    for ln in lines:
        m = _DIRECTIVE.match(ln)
        if m:
            seg += 1
            if m.group(1).startswith("if"):
                depth += 1
            elif m.group(1) == "endif":
                depth -= 1
        out_seg.append(seg)
        out_depth.append(depth)
    return out_seg, out_depth


def _header(name: str, old_text: str, new_text: str) -> _Header:
    old, new = _strip_comments(old_text), _strip_comments(new_text)
    raw_old, raw_new = old_text.split("\n"), new_text.split("\n")
    line_map: dict[int, int] = {}
    changed_old: list[int] = []
    changed_new: list[int] = []
    sm = difflib.SequenceMatcher(None, raw_old, raw_new, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal" or _comments_only(raw_old[i1:i2], raw_new[j1:j2], old[i1:i2],
                                            new[j1:j2]):
            line_map.update({i + 1: j1 + (i - i1) + 1 for i in range(i1, i2)})
        else:
            changed_old.extend(range(i1, i2))
            changed_new.extend(range(j1, j2))
    for lines, idx in ((old, changed_old), (new, changed_new)):
        for i in idx:
            ln = lines[i]
            if ln.rstrip().endswith("\\") or (i > 0 and lines[i - 1].rstrip().endswith("\\")):
                raise _Unsafe(f"{name}:{i + 1}: a continued line")
            if ln.strip() and not _is_object_define(ln):
                raise _Unsafe(f"{name}:{i + 1}: not an object-like #define")
    segments, depth = _segments(new)
    return _Header(name, old, new, line_map, changed_old, changed_new, segments, depth)


def _comments_only(raw_old: list[str], raw_new: list[str], old: list[str],
                   new: list[str]) -> bool:
    """Whether lines changed only in their comments (``XEN_CPUFEATURE(FRED, 10*32+17) /*
    Fast ...`` renamed in its comment): the code, and so what cpp gives the parser, is
    the same. A line with a string is not taken, where ``/*`` may be no comment."""
    return (len(old) == len(new) and [ln.rstrip() for ln in old] == [ln.rstrip() for ln in new]
            and not any('"' in ln for ln in (*raw_old, *raw_new)))


def _is_object_define(line: str) -> bool:
    m = _DEFINE.match(line)
    return m is not None and m.group(2) is None


def _defined(lines: list[str], idx: Iterable[int]) -> dict[str, tuple[int, str]]:
    out = {}
    for i in idx:
        m = _DEFINE.match(lines[i])
        if m:
            out[m.group(1)] = (i, m.group(3))
    return out


@dataclass(frozen=True)
class Plan:
    """What a patch changes in the snapshots, worked out once for every target-view."""

    headers: tuple[_Header, ...]
    #: header -> name -> (1-based new line, body): the definitions the patch makes
    defines: Mapping[str, Mapping[str, tuple[int, str]]]
    removed: frozenset[str]  #: names the patch no longer defines
    dependents: frozenset[str]  #: other macros whose bodies name a changed one


def plan(base_texts: Mapping[str, str], head_texts: Mapping[str, str]) -> Plan | None:
    """How the head's snapshots follow from the base's, or None when they do not.

    ``base_texts`` and ``head_texts`` map every public header (relative to the public
    directory) to its text on each side."""
    if base_texts.keys() != head_texts.keys():
        return None  # a header added or removed: the unit itself changes
    try:
        return _plan(base_texts, head_texts)
    except _Unsafe:
        return None


def _plan(base_texts: Mapping[str, str], head_texts: Mapping[str, str]) -> Plan:
    headers = tuple(_header(n, base_texts[n], head_texts[n])
                    for n in sorted(head_texts) if base_texts[n] != head_texts[n])
    defines: dict[str, dict[str, tuple[int, str]]] = {}
    touched: set[str] = set()
    removed: set[str] = set()
    for h in headers:
        new_defs = _defined(h.new, h.changed_new)
        old_defs = _defined(h.old, h.changed_old)
        defines[h.name] = {k: (i + 1, body) for k, (i, body) in new_defs.items()}
        touched |= new_defs.keys() | old_defs.keys()
        removed |= old_defs.keys() - new_defs.keys()
    stripped = {n: "\n".join(_strip_comments(t)) for n, t in head_texts.items()}
    dependents = _dependents(stripped, touched, defines)
    return Plan(headers, defines, frozenset(removed), frozenset(dependents - touched))


def _dependents(stripped: Mapping[str, str], names: set[str],
                defines: Mapping[str, Mapping[str, tuple[int, str]]]) -> set[str]:
    """The object-like macros whose bodies name ``names`` (transitively); unsafe when a
    name is used anywhere else."""
    out: set[str] = set()
    todo = list(names)
    changed = set(names)
    while todo:
        name = todo.pop()
        pat = re.compile(rf"\b{re.escape(name)}\b")
        for header, text in stripped.items():
            if name not in text:
                continue
            for m in pat.finditer(text):
                start = text.rfind("\n", 0, m.start()) + 1
                end = text.find("\n", m.end())
                line = text[start:end if end >= 0 else len(text)]
                d = _DEFINE.match(line)
                if d is None or d.group(2) is not None:
                    raise _Unsafe(f"{header}: {name} is used outside an object-like macro")
                if d.group(1) == name:
                    if name not in changed:
                        continue  # a dependent's own definition: the snapshot has its body
                    lineno = text.count("\n", 0, start) + 1
                    if defines.get(header, {}).get(name, (None,))[0] != lineno:
                        raise _Unsafe(f"{header}:{lineno}: {name} is defined twice")
                    continue
                if d.group(1) not in out:
                    out.add(d.group(1))
                    todo.append(d.group(1))
    return out


class _NoDeclarations:
    """The :class:`cexpr.Env` of a derived snapshot: integers only; anything that needs
    the declarations (sizeof, a cast to a typedef, an enumerator) is unsafe."""

    def sizeof(self, t: object) -> int:
        raise _Unsafe("sizeof")

    def alignof(self, t: object) -> int:
        raise _Unsafe("alignof")

    def resolve(self, t: object) -> object:
        raise _Unsafe("a typedef")

    def enumerator(self, name: str) -> None:
        raise _Unsafe("an enumerator")

    def is_typedef(self, name: str) -> bool:
        return False


def _active(p: Plan, h: _Header, index: int, snap: Snapshot,
            others: Iterable[Snapshot]) -> bool:
    """Whether new line ``index`` of ``h`` is read in ``snap``'s target-view."""
    seg = h.segments[index]
    old_of = {new - 1: old for old, new in h.line_map.items()}
    present_somewhere = False
    for i, ln in enumerate(h.new):
        if h.segments[i] != seg or i not in old_of:
            continue
        m = _DEFINE.match(ln)
        if m is None or m.group(2) is not None:
            continue
        c = snap.constants.get(m.group(1))
        if c is not None and _where(c) == (h.name, old_of[i]):
            return True
        present_somewhere |= any(
            (o := s.constants.get(m.group(1))) is not None and _where(o) == (h.name, old_of[i])
            for s in others)
    if present_somewhere:
        return False
    if h.depth[index] <= 1:  # only the include guard around it
        st = snap.headers.get(h.name)
        return st is not None and st.status is Status.PARSED
    raise _NeedsMacros(f"{h.name}:{index + 1}: cannot tell where it is read")


def _where(v: Constant | RecordLayout | TypedefLayout) -> tuple[str, int]:
    """The header (relative to the public directory) and line of a snapshot's value."""
    return v.coord.file, v.coord.line


def _at_line(v: _L, line: int) -> _L:
    """``v`` moved to ``line`` of its header."""
    return replace(v, coord=replace(v.coord, line=line))


def _shift(items: Mapping[str, _L], maps: Mapping[str, dict[int, int]]) -> dict[str, _L]:
    """``items`` with the lines of those in changed headers moved as the patch moved them."""
    moved = {}
    for k, v in items.items():
        header, old = _where(v)
        m = maps.get(header)
        if m is None:
            continue
        line = m.get(old)
        if line is None:
            raise _Unsafe(f"{header}:{old}: {k} stands on a changed line")
        if line != old:
            moved[k] = _at_line(v, line)
    return {**items, **moved} if moved else dict(items)


def _integer_macro(c: Constant) -> bool:
    return isinstance(c, IntConstant) and c.kind == "macro"


class _Macros(Mapping[str, MacroDef]):
    """The object-like macros of a snapshot's constants, made when expansion asks."""

    def __init__(self, consts: Mapping[str, Constant]) -> None:
        self._consts = consts
        self.extra: dict[str, MacroDef] = {}

    def __getitem__(self, name: str) -> MacroDef:
        if name in self.extra:
            return self.extra[name]
        c = self._consts[name]
        if not _integer_macro(c) or c.expr is None:
            raise KeyError(name)
        return MacroDef(name, None, c.expr, Coord(*_where(c)))

    def __contains__(self, name: object) -> bool:
        if name in self.extra:
            return True
        c = self._consts.get(name) if isinstance(name, str) else None
        return c is not None and _integer_macro(c) and c.expr is not None

    def __iter__(self) -> Iterator[str]:
        return iter({**self._consts, **self.extra})

    def __len__(self) -> int:
        return len({**self._consts, **self.extra})


def derive(p: Plan, base: Mapping[tuple[str, str], Snapshot], head: XenTree
           ) -> dict[tuple[str, str], Snapshot] | None:
    """The head's snapshots (``head`` is the head's tree) from the base's, following ``p``;
    None when it cannot. What the snapshots alone cannot tell (a new macro defined through
    a function-like one, a line under a condition) is read off the head's macros in
    force, from cpp alone (no parse, no layout)."""
    try:
        return {tv: _derive_one(p, snap, base.values()) for tv, snap in base.items()}
    except _NeedsMacros:
        pass  # read the head's macros
    except (_Unsafe, XenAbiError):
        return None
    try:
        macros = _head_macros(head, base)
        return {tv: _derive_one(p, snap, base.values(), macros[tv]) for tv, snap in base.items()}
    except (_Unsafe, XenAbiError):
        return None


def _head_macros(head: XenTree, base: Mapping[tuple[str, str], Snapshot]
                 ) -> dict[tuple[str, str], dict[str, MacroDef]]:
    """Each target and view's macros in force at the end of the head's unit, as
    :func:`xenabi.snapshot.compute` evaluates them (the headers the base's parse found
    failed left out, as there); one arch family per process."""
    units = [(head, a, v) for a, v in base]
    batches = family_batches(units, os.cpu_count() or 1)
    done = lifetime.fork_map(partial(_macros_of, base), batches)
    return {(a, v): m for batch, ms in zip(batches, done) for (_, a, v), m in zip(batch, ms)}


def _macros_of(base: Mapping[tuple[str, str], Snapshot],
               units: Sequence[tuple[XenTree, str, str]]) -> list[dict[str, MacroDef]]:
    from xenabi.preprocess import preprocess

    out = []
    for tree, a, v in units:
        snap = base[a, v]
        failed = {h: st for h, st in snap.headers.items() if st.status is Status.FAILED}
        unit = preprocess(tree, a, v, snap.interface_version, known=dict(failed))
        if any(st.status is Status.FAILED and h not in failed for h, st in unit.headers.items()):
            raise _Unsafe(f"{a} {v}: a header fails in the head")
        out.append(unit.macros)
    return out


def _derive_one(p: Plan, snap: Snapshot, others: Iterable[Snapshot],
                in_force: Mapping[str, MacroDef] | None = None) -> Snapshot:
    target = TARGETS[snap.arch]
    maps = {h.name: h.line_map for h in p.headers}
    for h in p.headers:
        st = snap.headers.get(h.name)
        if st is not None and st.status is Status.FAILED:
            raise _Unsafe(f"{h.name} failed in the base")
    changed = {n for defs in p.defines.values() for n in defs} | p.removed
    names = {h.name for h in p.headers}
    # defined again below, if still defined and read here
    consts = _shift({n: c for n, c in snap.constants.items()
                     if n not in changed or _where(c)[0] not in names}, maps)
    macros: Mapping[str, MacroDef]
    new_here: dict[str, tuple[str, int]] = {}
    if in_force is None:
        macros = known = _Macros(consts)
        for h in p.headers:
            for name, (line, body) in p.defines[h.name].items():
                if _active(p, h, line - 1, snap, others):
                    new_here[name] = (h.name, line)
                    known.extra[name] = MacroDef(name, None, body, Coord(h.name, line))
    else:
        macros = in_force  # a new line is read where its definition is the one in force
        new_here = {name: (h.name, line) for h in p.headers
                    for name, (line, _) in p.defines[h.name].items()
                    if (m := in_force.get(name)) is not None
                    and (m.coord.file, m.coord.line) == (h.name, line)}
    env = _NoDeclarations()
    for name in [*new_here, *sorted(p.dependents & consts.keys())]:
        if name not in macros:
            continue
        m = macros[name]
        body = m.body.strip()
        header, line = new_here[name] if name in new_here else _where(consts[name])
        string = string_macro(body, Coord(header, line))
        if string is not None:
            consts[name] = string
            continue
        _only_integer_macros(name, macros)
        try:
            v = cexpr.evaluate_macro(name, macros, target, env, env)  # type: ignore[arg-type]
        except cexpr.ExpansionLimit as e:
            raise _Unsafe(str(e)) from None
        except cexpr.ExprError:
            consts.pop(name, None)  # not an integer constant expression (as compute does)
            continue
        consts[name] = int_macro(v, Coord(header, line), body)
    return replace(snap, constants=consts, records=_shift(snap.records, maps),
                   typedefs=_shift(snap.typedefs, maps),
                   headers=_moved_statuses(snap.headers, maps))


def _only_integer_macros(name: str, macros: Mapping[str, MacroDef]) -> None:
    """Unsafe unless every name ``name`` expands through (a function-like macro's body
    included, its parameters aside) is a macro or a word of C's own types: a typedef or
    an enumerator needs the declarations, which a derived snapshot does not read."""
    seen, todo = {name}, [name]
    while todo:
        m = macros[todo.pop()]
        toks = cexpr.tokenize(m.body)
        for i, tok in enumerate(toks):
            if tok.kind != "ident" or tok.text in _KEYWORDS or tok.text in (m.params or ()):
                continue
            if m.params is not None and any(
                    0 <= j < len(toks) and toks[j].text in ("#", "##") for j in (i - 1, i + 1)):
                continue  # pasted or stringified (x ## UL): a piece of a token, not a name
            if tok.text not in macros:
                raise _NeedsMacros(f"{name} names {tok.text}, which is not an integer "
                                   "constant here")
            if tok.text not in seen:
                seen.add(tok.text)
                todo.append(tok.text)


def _moved_statuses(statuses: Mapping[str, HeaderStatus], maps: Mapping[str, dict[int, int]]
                    ) -> dict[str, HeaderStatus]:
    """``statuses`` with a reason located in a changed header (``domctl.h:15: #error``:
    a tools-only header in the guest view) at the line the patch moved it to."""
    out = {}
    for h, st in statuses.items():
        if any((st.why or "").startswith(f"includes {name}:") for name in maps):
            raise _Unsafe(f"{h}: {st.why}")  # a reason that names a line in its text
        if st.coord is not None and st.coord.file in maps:
            line = maps[st.coord.file].get(st.coord.line)
            if line is None:
                raise _Unsafe(f"{st.coord}: the reason {h} is left out stands on a changed line")
            st = replace(st, coord=replace(st.coord, line=line))
        out[h] = st
    return out


#: words an integer macro body may hold besides other macros (casts to C's own types)
_KEYWORDS = frozenset({"char", "short", "int", "long", "signed", "unsigned", "_Bool"})
