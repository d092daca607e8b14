"""``xen/include/xlat.lst``: which structs Xen translates (``!``) or checks (``?``) for 32-bit guests.

Xen builds its 32-bit compat layer from this list: a ``!`` struct gets
translation code, so its x86_32 and x86_64 layouts may differ by design; a
``?`` struct is used as it is, and Xen's build only checks that both
layouts agree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from xenabi.tree import XenTree

_ENTRY = re.compile(r"^\s*([!?])\s+(\w+)\s+(\S+)")


@dataclass(frozen=True, slots=True)
class XlatEntry:
    mark: str  #: ``!`` translated, ``?`` checked
    name: str  #: the struct tag
    header: str  #: relative to the public headers directory; ``@arch@`` left in
    line: int  #: in xlat.lst

    @property
    def key(self) -> str:
        return f"struct {self.name}"

    def candidates(self) -> tuple[str, ...]:
        """The record keys the entry can mean: Xen's compat build renames ``xen_NAME`` and
        ``NAME`` alike to ``compat_NAME``, and some entries are unions."""
        return tuple(f"{kind} {pre}{self.name}" for pre in ("xen_", "") for kind in
                     ("struct", "union"))

    def find(self, records: Mapping[str, object]) -> str | None:
        return next((k for k in self.candidates() if k in records), None)

    def header_for(self, arch: str) -> str:
        return self.header.replace("@arch@", arch)


def parse(text: str) -> tuple[XlatEntry, ...]:
    out = []
    for no, line in enumerate(text.splitlines(), 1):
        m = _ENTRY.match(line)
        if m:
            out.append(XlatEntry(m.group(1), m.group(2), m.group(3), no))
    return tuple(out)


@dataclass(frozen=True)
class XlatList:
    """A tree's xlat.lst, parsed."""

    entries: tuple[XlatEntry, ...]
    #: every record key an ``!`` entry can mean (``struct xen_pod_target`` for ``pod_target``)
    translated: frozenset[str]


@lru_cache(maxsize=16)
def _load(path: Path, stamp: tuple[int, int]) -> XlatList:
    found = parse(path.read_text(encoding="utf-8"))
    return XlatList(found, frozenset(k for e in found if e.mark == "!" for k in e.candidates()))


def _list(tree: XenTree) -> XlatList:
    """The tree's xlat.lst, read again only when the file changes; empty without one."""
    path = tree.xlat
    if path is None:
        return XlatList((), frozenset())
    st = path.stat()
    return _load(path, (st.st_mtime_ns, st.st_size))


def entries(tree: XenTree) -> tuple[XlatEntry, ...]:
    """The tree's xlat.lst entries; none when the tree has no xlat.lst."""
    return _list(tree).entries


def translated_keys(tree: XenTree) -> frozenset[str]:
    """Every record key an ``!`` entry can mean (``struct xen_pod_target`` for ``pod_target``)."""
    return _list(tree).translated


def finding_path(tree: XenTree) -> str:
    return "xen/include/xlat.lst"
