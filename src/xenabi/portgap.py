"""Port gaps: a public header that does not compile for a young port the tree has.

Xen's ``headers*.chk`` compile the headers for the host arch only, so what
riscv64 and ppc64 lack goes unseen (``callback.h`` needs an ``xen_callback_t``
their arch headers do not define; ``io/protocols.h`` stops on ``#error "arch
fixup needed here"``). On a target marked ``young`` in targets.py a header
that fails, or that ``#error``s where an established target of the same view
parses it, is a ``port-gap`` warning at the line that stops it, with the
reason in words. An ``#error`` that guards a view by design (``domctl.h`` in
the guest view) also stops every established target, so it stays a skip.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from posixpath import normpath

from xenabi.model import Finding, HeaderStatus, Severity, Snapshot, Status
from xenabi.targets import TARGETS
from xenabi.tree import XenTree

RULE = "port-gap"

_WHERE = re.compile(r"^(?:includes \S+: )?([^:\s]+):(\d+):\s*(.*)$")
#: a type name, then (past any ``*``) the name it declares
_DECL = re.compile(r"\b([A-Za-z_]\w*)\s+[\s*]*([A-Za-z_]\w*)\s*[;\[,:=)]")
_CALL = re.compile(r"^\s*([A-Za-z_]\w*)\s*\(")
_C_WORDS = frozenset("""auto char const double enum extern float inline int long register
restrict short signed static struct typedef union unsigned void volatile _Bool""".split())


def is_gap(arch: str, status: HeaderStatus) -> bool:
    """A failure on a young port: a port gap, not an error of the headers."""
    return TARGETS[arch].young and status.status is Status.FAILED


def unknown_type(text: str, line: int, snap: Snapshot) -> str | None:
    """``unknown type name 'xen_callback_t'`` when a declaration on ``line`` names a type
    the target does not define (pycparser only says "Invalid specifier list")."""
    lines = text.splitlines()
    if not 0 < line <= len(lines):
        return None
    code = lines[line - 1].split("/*")[0]
    for m in _DECL.finditer(code):
        if not {m.group(1), m.group(2)} & _C_WORDS and m.group(1) not in snap.typedefs:
            return f"unknown type name '{m.group(1)}'"
    if (call := _CALL.match(code)) is not None:
        return f"the expansion of {call.group(1)} names a type or macro the target lacks"
    return None


def _reason(tree: XenTree, header: str, st: HeaderStatus, snap: Snapshot
            ) -> tuple[str, int | None, str]:
    """Where a header stops and why, in words: the header's own line, or (``includes
    X: X:12: ...``, which names no coord of its own) the line of the header it reads."""
    why = st.why or "cannot be read"
    if st.coord is not None:
        where, line, message = normpath(st.coord.file), st.coord.line, why
    elif (m := _WHERE.match(why)) is not None:
        where, line, message = normpath(m.group(1)), int(m.group(2)), m.group(3)
    else:
        return header, None, why
    if "Invalid specifier list" in message and where in tree.headers:
        message = unknown_type(tree.read(where), line, snap) or message
    return where, line, message


def port_gaps(tree: XenTree, snapshots: Mapping[tuple[str, str], Snapshot]
              ) -> Iterator[Finding]:
    """Every port gap of the snapshots' young targets."""
    parsed_elsewhere = {(h, v) for (a, v), s in snapshots.items() if not TARGETS[a].young
                        for h, st in s.headers.items() if st.status is Status.PARSED}
    for (arch, view), snap in snapshots.items():
        # a header that fails only through another: the other's finding counts it
        through: dict[str, list[str]] = {}
        gaps = []
        for header, st in snap.headers.items():
            error_stop = (st.status is Status.SKIPPED and (st.why or "").count("#error")
                          and (header, view) in parsed_elsewhere)
            if not (is_gap(arch, st) or (TARGETS[arch].young and error_stop)):
                continue
            where, line, message = _reason(tree, header, st, snap)
            if where != header and where in snap.headers:
                through.setdefault(where, []).append(header)
            else:
                gaps.append((header, line, message))
        for header, line, message in gaps:
            also = through.get(header, [])
            tail = f"; so neither do the {len(also)} headers that include it" if also else ""
            yield Finding(RULE, Severity.WARNING,
                          f"{header} does not compile for a young port: {message}{tail}",
                          tree.finding_path(header), line, (header,), (arch,), (view,))
