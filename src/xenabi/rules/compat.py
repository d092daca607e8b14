"""Rule ``compat``: what ``xen/include/xlat.lst`` says about 32-bit x86 guests holds.

Every struct it marks ``?`` (used unchanged for 32-bit guests, only checked)
has one layout on x86_32 and x86_64, in every view that has it: a
difference is an **error** (Xen's own build check would fail, or worse, a
32-bit guest reads the wrong bytes; alignment alone is the ``arch`` rule's
business, Xen checks sizes and offsets). Structs marked ``!`` (translated)
are listed with their differences as **info**. Members of a ``?`` struct
whose type is a ``!`` struct are left out of its comparison, as Xen's own
check leaves them out (``CHECK_mc`` in arch/x86/cpu/mcheck/mce.c). An entry names ``NAME`` for
``struct xen_NAME`` or ``struct NAME`` (or a union), as Xen's compat build
renames both to ``compat_NAME``. A ``?`` or ``!`` entry that no x86 snapshot defines
is a **warning** on its xlat.lst line: the list names a struct that is gone.
"""

from __future__ import annotations

from collections.abc import Iterator
from posixpath import normpath

from xenabi.analysis import xlat
from xenabi.analysis.compare import differences, record_of, signature
from xenabi.analysis.context import Context
from xenabi.model import Finding, RecordLayout, Severity, Snapshot
from xenabi.rules.registry import rule
from xenabi.tree import XenTree

RULE = "compat"
PAIR = ("x86_32", "x86_64")


def translated_members(rec: RecordLayout, translated: frozenset[str], snap: Snapshot
                       ) -> frozenset[str]:
    """The fields of a record whose type is a translated (``!``) record, and what they hold:
    Xen checks a ``?`` struct without them (``CHECK_mc`` with ``CHECK_mc_fetch`` redefined)."""
    out: set[str] = set()
    for f in rec.fields:
        if record_of(f.ctype, snap) in translated or any(
                f.name.startswith((n + ".", n + "[")) for n in out):
            out.add(f.name)
    return frozenset(out)


def compare(entry: xlat.XlatEntry, key: str, recs: dict[str, RecordLayout],
            skip: frozenset[str] = frozenset()) -> tuple[Severity, str] | None:
    """The finding for one xlat.lst entry whose struct both x86 targets define; ``skip``
    names the members the comparison leaves out."""
    if signature(recs["x86_32"], skip) == signature(recs["x86_64"], skip):
        return None
    what = "; ".join(differences(recs, skip=skip))
    if entry.mark == "?":
        return Severity.ERROR, (f"{key} is marked `?` in xlat.lst (used unchanged by 32-bit "
                                f"guests) but differs between x86_32 and x86_64: {what}")
    return Severity.INFO, f"{key} (translated: `!` in xlat.lst) differs as expected: {what}"


def check_entry(tree: XenTree, entry: xlat.XlatEntry,
                views: dict[str, dict[str, Snapshot]]) -> Iterator[Finding]:
    found = False
    translated = xlat.translated_keys(tree)
    for view, snaps in sorted(views.items()):
        pair = [snaps[a] for a in PAIR if a in snaps]
        key = next((k for k in (entry.find(s.records) for s in pair) if k), None)
        recs = {a: snaps[a].records[key] for a in PAIR
                if key and a in snaps and key in snaps[a].records}
        found = found or bool(recs)
        if key is None or len(recs) < 2:
            continue
        skip = frozenset() if entry.mark == "!" else frozenset().union(
            *(translated_members(recs[a], translated, snaps[a]) for a in recs))
        verdict = compare(entry, key, recs, skip)
        if verdict is not None:
            rec = recs["x86_64"]
            yield Finding(RULE, verdict[0], verdict[1], tree.finding_path(normpath(rec.header)),
                          rec.line, (key,), PAIR, (view,))
    if not found and all(a in s for s in views.values() for a in PAIR):
        yield Finding(RULE, Severity.WARNING,
                      f"xlat.lst marks {entry.name} `{entry.mark}` in {entry.header}, "
                      "but no x86 snapshot defines such a struct", xlat.finding_path(tree),
                      entry.line, (entry.name,), PAIR, tuple(sorted(views)))


@rule(RULE, "structs xlat.lst marks `?` have one layout on x86_32 and x86_64; `!` are listed",
      severities=(Severity.ERROR, Severity.WARNING, Severity.INFO), needs=("xlat",),
      scope="records")
def check_compat(ctx: Context) -> Iterator[Finding]:
    views = {v: dict(snaps) for v, snaps in ctx.by_view().items()}
    if not any(a in s for s in views.values() for a in PAIR):
        return
    for entry in xlat.entries(ctx.tree):
        yield from check_entry(ctx.tree, entry, views)
