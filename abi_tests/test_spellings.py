"""Every type a real tree's snapshots spell reads back into the model's CType and spells
the same again: what lets rules compare types rather than re-parse strings."""

from __future__ import annotations

from xenabi.model import Snapshot, spell, spelled


def test_every_spelling_reads_back(xen_snapshots: dict[tuple[str, str], Snapshot]) -> None:
    texts = {t for s in xen_snapshots.values()
             for t in [*(x for r in s.records.values() for f in r.fields
                         for x in (f.type, f.canonical_type)),
                       *(x for d in s.typedefs.values() for x in (d.type, d.canonical_type))]}
    wrong = [t for t in sorted(texts) if spell(spelled(t)) != t]
    assert len(texts) > 500 and not wrong, wrong[:20]
