"""What the public headers define, by name, over every target and view: where doc names resolve.

Documents are not written for one target, so a name resolves when any
snapshot defines it. Beside the snapshots' constants, records and typedefs,
the index knows the names the headers declare in their text but that no
computed view holds: function-like macros (``RING_GET_REQUEST``) and
declarations under ``#ifdef __XEN__`` (``struct livepatch_func``). Such a
name exists; it just has no value or layout to check.

A *family* is the set of names that share a leading word: ``SIF_`` for
``SIF_HVM_GHCB``, ``Xenbus`` for ``XenbusStateConnected``, ``netif`` for
``struct netif_tx_request``. A doc name claims to be public ABI when the
headers define a family it belongs to: ``IA32_PQR_ASSOC`` (an MSR) or
``struct feat_node`` (hypervisor internals) belong to none and are not checked.
"""

from __future__ import annotations

import bisect
import difflib
import os
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property

from xenabi.model import Constant, RecordLayout, Snapshot

#: (arch, view)
Where = tuple[str, str]

#: a family needs this many members before a doc name is held to it
_FAMILY_MIN = 2
#: how alike a "did you mean" spelling must be (difflib's ratio)
_CLOSE = 0.7

#: a member declaration's name: ``uint32_t flags;``, ``uint8_t pad[3];``, ``int x : 3;``
_MEMBER_DECL = re.compile(r"\b(\w+)\s*(?:\[[^]]*\]\s*)*(?::\s*\d+\s*)?;")
#: a family named in a comment: ``/* SIF_xxx flags. */``, ``/* VGCF_* */``, ``/* XS_??? */``
_FAMILY_COMMENT = re.compile(r"/\*.*?\b(_*[A-Z][A-Z0-9]*_)(?:xxx|XXX|\*|\?+)")

_UPPER_WORDS = re.compile(r"_*(?:[A-Z][A-Z0-9]*_)+")
_UPPER_HEAD = re.compile(r"_*[A-Z][A-Z0-9]*_")
_CAMEL_HEAD = re.compile(r"[A-Z][a-z0-9]+(?=[A-Z])")

_DECLARED = re.compile(
    r"^\s*#\s*define\s+(\w+)"  # any macro, function-like ones included
    r"|\b((?:struct|union|enum)\s+\w+)\s*\{"  # a record or enum defined here
    r"|^\s*typedef\b[^;{]*?\b(\w+)\s*;",  # a one-line typedef
    re.M)
#: where a _DECLARED match can start: after a newline whose next non-space character
#: (maybe on a later line) is # or typedef's t (the first such line of a blank run), or
#: at a record keyword
_LINE_START = re.compile(r"\n\s*(?=[#t])")
_RECORD_KEYWORDS = ("struct", "union", "enum")


@dataclass(frozen=True, slots=True)
class Site:
    """Where a name is defined: a header (relative to the public dir) and line."""

    header: str
    line: int


class SymbolIndex:
    """Every name of the public headers over a set of snapshots (and their text)."""

    def __init__(self, snapshots: Mapping[Where, Snapshot],
                 declared: Mapping[str, Site] | None = None,
                 texts: Mapping[str, str] | None = None) -> None:
        self.snapshots = snapshots
        #: names the header text declares (see the module docstring)
        self.declared: Mapping[str, Site] = declared or {}
        #: header texts by path relative to the public dir (for field comments)
        self.texts: Mapping[str, str] = texts or {}
        self._carriers: dict[tuple[str, str], str | None] = {}
        self._header_lines: dict[str, list[str]] = {}
        self._header_decls: dict[str, dict[str, list[int]]] = {}
        self._members: dict[str, tuple[str, ...]] = {}
        self._narrow: dict[str, str | None] = {}
        constants: dict[str, dict[Where, Constant]] = defaultdict(dict)
        records: dict[str, dict[Where, RecordLayout]] = defaultdict(dict)
        self.typedefs: dict[str, str] = {}  #: typedef name -> its type's spelling
        self.typedef_sites: dict[str, Site] = {}
        for where, snap in sorted(snapshots.items()):
            for name, c in snap.constants.items():
                constants[name][where] = c
            for key, r in snap.records.items():
                records[key][where] = r
            for name, t in snap.typedefs.items():
                if name not in self.typedefs:  # the first target and view that has it
                    self.typedefs[name] = t.type
                    self.typedef_sites[name] = Site(t.header, t.line)
        #: every constant by name, and its definition on each target and view that has it
        self.constants: dict[str, dict[Where, Constant]] = dict(constants)
        #: every record by key, and its layout on each target and view that has it
        self.records: dict[str, dict[Where, RecordLayout]] = dict(records)

    # -- names ----------------------------------------------------------------

    def constant(self, name: str) -> Constant | None:
        """The constant of that name as the first target and view that has it defines it."""
        defs = self.constants.get(name)
        return next(iter(defs.values())) if defs else None

    def record(self, name: str) -> str | None:
        """The record key a doc name means: ``struct X``, a typedef of it, or a bare tag."""
        name = " ".join(name.split())
        if name in self.records:
            return name
        if name in self.typedefs:
            target = self.typedefs[name]
            return target if target in self.records else None
        for kind in ("struct", "union"):
            if f"{kind} {name}" in self.records:
                return f"{kind} {name}"
        return None

    def record_site(self, key: str) -> Site:
        r = next(iter(self.records[key].values()))
        return Site(r.header, r.line)

    def fields(self, key: str) -> frozenset[str]:
        """Every field designator of a record, over every target and view."""
        return frozenset(f.name for r in self.records.get(key, {}).values() for f in r.fields)

    def hypercall(self, name: str) -> str | None:
        """The ``__HYPERVISOR_*`` constant of a hypercall: ``vcpu_op``, ``HYPERVISOR_vcpu_op``."""
        bare = name.removeprefix("__").removeprefix("HYPERVISOR_")
        return f"__HYPERVISOR_{bare}" if f"__HYPERVISOR_{bare}" in self.constants else None

    def exists(self, name: str) -> bool:
        """Defined anywhere: a constant, record tag or key, typedef, or declared in the text."""
        return (name in self.constants or self.record(name) is not None
                or name in self.typedefs or name in self.declared)

    def claimed(self, name: str) -> bool:
        """Whether a constant-like name is held to the headers: defined, or of a family
        they define (see the module docstring)."""
        return self.exists(name) or self.constant_family(name) is not None

    def site(self, name: str) -> Site | None:
        """Where a constant, record key, typedef or declared name is defined."""
        c = self.constant(name)
        if c is not None:
            return Site(c.header, c.line)
        if name in self.records:
            return self.record_site(name)
        return self.typedef_sites.get(name) or self.declared.get(name)

    @property
    def arches(self) -> tuple[str, ...]:
        """The targets of the snapshots: what a finding about a doc name covers."""
        return tuple(sorted({a for a, _ in self.snapshots}))

    @property
    def views(self) -> tuple[str, ...]:
        return tuple(sorted({v for _, v in self.snapshots}))

    # -- families -------------------------------------------------------------

    @cached_property
    def _names(self) -> list[str]:
        """Constant and declared names, sorted: a prefix's members are a contiguous run."""
        return sorted(set(self.constants) | set(self.declared))

    @cached_property
    def _tags(self) -> frozenset[str]:
        tags = {k.split(" ", 1)[1] for k in self.records if " " in k}
        return frozenset(tags | set(self.typedefs) | {k for k in self.records if " " not in k})

    @cached_property
    def _sorted_tags(self) -> list[str]:
        """:attr:`_tags`, sorted: a prefix's tags are a contiguous run."""
        return sorted(self._tags)

    def constant_family(self, name: str) -> str | None:
        """The family prefix a constant-like name belongs to, if the headers define that family.

        The family is what all constants with the name's leading word share:
        ``VM_`` constants are all ``VM_EVENT_*``, so ``VM_ENTRY_LOAD_GUEST_PAT``
        (a VMX control) is not held to them, while ``SIF_HVM_GHCB`` is a SIF_ name.
        A CamelCase family is its first word (``Xenbus``): there a misspelt
        ``XenbusConnected`` must still count as a claim.
        """
        head = constant_prefix(name)
        if head is None:
            return None
        members = self.members(head)
        if len(members) < _FAMILY_MIN:
            return None
        if not head.endswith("_"):
            return head
        common = os.path.commonprefix(members)
        family = common[: common.rfind("_") + 1]
        return family if name.startswith(family) else None

    def narrow_family(self, name: str) -> str | None:
        """The narrowest family of a constant: its longest run of upper-case leading words
        that two or more constants share (``XEN_DOMCTL_`` for ``XEN_DOMCTL_subscribe``,
        ``XEN_NETIF_CTRL_TYPE_`` for ``XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING``)."""
        if name not in self._narrow:  # doc-coverage asks about each name three times
            self._narrow[name] = self._narrow_family(name)
        return self._narrow[name]

    def _narrow_family(self, name: str) -> str | None:
        m = _UPPER_WORDS.match(name)
        if m is None:
            return self.constant_family(name)
        words = m.group(0).split("_")[:-1]
        for n in range(len(words), 0, -1):
            if not any(words[:n]):
                break  # "_" alone (the leading underscores of _VGCF_online) is no family
            prefix = "_".join(words[:n]) + "_"
            if len(self.members(prefix)) >= _FAMILY_MIN:
                return prefix
        return None

    def type_family(self, name: str) -> str | None:
        """The family of a record tag or typedef name (``netif_`` for ``netif_tx_request``)."""
        if "_" not in name.strip("_"):
            return None
        head = name[: name.index("_", 1) + 1]
        members = _run(self._sorted_tags, head)
        if len(members) < _FAMILY_MIN:
            return None
        common = os.path.commonprefix(members)
        family = common[: common.rfind("_") + 1]
        return family if name.startswith(family) else None

    def members(self, prefix: str) -> tuple[str, ...]:
        """Constants (and declared macros) whose names start with ``prefix``, sorted."""
        if prefix not in self._members:
            run = _run(self._names, prefix)
            if prefix[-1:].isalpha():  # a CamelCase word goes on with a capital: XenbusState
                run = [n for n in run if n[len(prefix):][:1].isupper()]
            self._members[prefix] = tuple(run)
        return self._members[prefix]

    def type_names(self) -> frozenset[str]:
        return self._tags

    # -- structures -------------------------------------------------------------

    def _lines(self, header: str) -> list[str]:
        if header not in self._header_lines:
            self._header_lines[header] = self.texts.get(header, "").splitlines()
        return self._header_lines[header]

    def structures(self, phrase: str, prefer: Collection[str] = ()) -> list[str]:
        """The records a doc's words for a structure mean, best first.

        ``start_info``, ``struct hvm_start_info``, ``the start info structure``:
        the words joined with underscores name a record exactly or end its tag
        (``start info`` -> ``hvm_start_info``); leading words that match
        nothing are dropped (``boot start info``). Records of the headers in
        ``prefer`` (those the document names) come first.
        """
        words = [w for w in phrase.replace("`", " ").split()
                 if w.lower() not in ("the", "a", "an", "structure", "struct")]
        while words:
            name = "_".join(words)
            exact = self.record(name) or self.record(name.lower())
            found = [exact] if exact else []
            if len(words) > 1 or "_" in name:
                found += sorted(k for k in self.records if k != exact
                                and k.endswith("_" + name.lower()) and " " in k)
            if found:
                return sorted(found, key=lambda k: self.record_site(k).header not in prefer)
            words = words[1:]
        return []

    def carrier(self, key: str, field: str) -> str | None:
        """The family of flags a record's field carries, as its declaration's comment says.

        ``uint32_t flags; /* SIF_xxx flags. */`` gives ``SIF_``; also ``VGCF_*``
        and ``XS_???``. None when the comment names no family.
        """
        if (key, field) not in self._carriers:
            self._carriers[key, field] = self._carrier(key, field)
        return self._carriers[key, field]

    def _carrier(self, key: str, field: str) -> str | None:
        """The comment of the first declaration of the field's name from the record's line."""
        site = self.record_site(key)
        rows = self._decls(site.header).get(field.rsplit(".", 1)[-1], [])
        i = bisect.bisect_left(rows, site.line - 1)
        if i == len(rows):
            return None
        m = _FAMILY_COMMENT.search(self._lines(site.header)[rows[i]])
        return m.group(1) if m else None

    def _decls(self, header: str) -> dict[str, list[int]]:
        """The lines (0-based) of a header by the member name the line declares first."""
        if header not in self._header_decls:
            decls: dict[str, list[int]] = defaultdict(list)
            for i, line in enumerate(self._lines(header)):
                m = _MEMBER_DECL.search(line) if ";" in line else None
                if m:
                    decls[m.group(1)].append(i)
            self._header_decls[header] = decls
        return self._header_decls[header]


def _run(names: list[str], prefix: str) -> list[str]:
    """The names of a sorted list that start with ``prefix``."""
    lo = bisect.bisect_left(names, prefix)
    return names[lo:bisect.bisect_left(names, prefix + "\U0010ffff", lo)]


def closest(name: str, pool: Iterable[str]) -> str | None:
    """The closest spelling of ``name`` in ``pool`` (for "did you mean"), if close enough:
    what ``difflib.get_close_matches(name, pool, 1, _CLOSE)`` gives, for less."""
    # only names of about the same length and first letter can be close enough: skip the rest
    near = [p for p in pool if p[:1] == name[:1] and abs(len(p) - len(name)) <= 3 + len(name) // 3]
    matcher = difflib.SequenceMatcher()
    matcher.set_seq2(name)
    bounds = []  # quick_ratio() bounds ratio(), which is dear: compute it best bound first
    for p in near:
        matcher.set_seq1(p)
        if matcher.real_quick_ratio() >= _CLOSE:
            bound = matcher.quick_ratio()
            if bound >= _CLOSE:
                bounds.append((bound, p))
    best: tuple[float, str] | None = None
    for bound, p in sorted(bounds, reverse=True):
        if best is not None and bound < best[0]:
            break  # no name left can reach the best ratio
        matcher.set_seq1(p)
        ratio = matcher.ratio()
        if ratio >= _CLOSE and (best is None or (ratio, p) > best):
            best = (ratio, p)
    return best[1] if best else None


def constant_prefix(name: str) -> str | None:
    """A constant-like name's leading word: ``SIF_``, ``XEN_``, ``_NETTXF_``, or ``Xenbus``."""
    m = _UPPER_HEAD.match(name) or _CAMEL_HEAD.match(name)
    return m.group(0) if m else None


def declared_names(texts: Mapping[str, str]) -> dict[str, Site]:
    """Names the header texts declare: macros, ``struct X`` / ``union X`` / ``enum X``
    (with their keyword) where defined, one-line typedefs.

    ``texts`` maps a header (relative to the public dir) to its text. This
    sees what no computed view does (function-like macros, ``__XEN__``-only
    declarations); it never decides a value or a layout.
    """
    out: dict[str, Site] = {}
    for header, text in sorted(texts.items()):
        line, pos = 1, 0  # counted on from the previous match: once over the text
        for m in _declarations(text):
            line, pos = line + text.count("\n", pos, m.start()), m.start()
            name = m.group(1) or m.group(3) or " ".join(m.group(2).split())
            out.setdefault(name, Site(header, line))
    return out


def _declarations(text: str) -> Iterator[re.Match[str]]:
    """What ``_DECLARED.finditer(text)`` gives, for less: the regex starts with ``^`` or
    ``\\b``, so the engine would try it at every character; only the places where a match
    can start are tried (a match starting in a run of blank lines can start at its first)."""
    starts = {0, *(m.start() + 1 for m in _LINE_START.finditer(text)),
              *(i for word in _RECORD_KEYWORDS for i in _occurrences(text, word))}
    end = 0
    for start in sorted(starts):
        m = _DECLARED.match(text, start) if start >= end else None
        if m:
            yield m
            end = m.end()


def _occurrences(text: str, word: str) -> Iterator[int]:
    """Where ``word`` occurs in ``text`` (str.find skips ahead faster than a regex)."""
    i = text.find(word)
    while i >= 0:
        yield i
        i = text.find(word, i + 1)
