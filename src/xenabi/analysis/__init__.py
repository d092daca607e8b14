"""What rules read besides the snapshots themselves, computed once and shared: the run's
:mod:`~xenabi.analysis.context`, a header's :mod:`~xenabi.analysis.headertext`, constant
:mod:`~xenabi.analysis.families` and :mod:`~xenabi.analysis.flagfamilies`, record
comparison across targets (:mod:`~xenabi.analysis.compare`), implicit padding
(:mod:`~xenabi.analysis.holes`), xlat.lst (:mod:`~xenabi.analysis.xlat`) and the symbol
index of the docs rules (:mod:`~xenabi.analysis.symbols`).

No rule imports another rule: what two rules, or a rule and the gate, share lives here.
"""
