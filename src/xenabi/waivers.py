"""Waivers: a TOML file that accepts named findings, one rule and one symbol at a time.

.. code-block:: toml

    [[waiver]]
    rule = "flags"                 # one rule id
    symbol = "PSR_DBG_MASK"        # the finding's subject (its first symbol)
    arches = ["arm32", "arm64"]    # the targets it may cover
    views = ["tools"]              # the views it may cover
    reason = "why this is right"   # required, not empty
    evidence = "where that is shown: a header line, a manual, a commit"  # required
    found_in = "4.17"              # the Xen release it was found in (the shipped list: required)

There are no patterns. A waiver hides a finding when the rule and the
subject are equal and the finding's targets and views are all among the
waiver's; nothing hides a waiver's own error or a header that failed to
parse. A waiver without a reason or evidence hides nothing and is an
error. A waiver that hides nothing although its rule ran on all of its
targets (those the tree has) and views is *idle*: an error in a user's
file, and information on the list xenabi ships (``data/waivers.toml``,
findings of upstream Xen that follow the tree from the release they were
found in until they are fixed: "fixed since"). A file that is not TOML, or
an entry with an unknown key, a wrong type, an unknown target or view, a
release that is not ``X.Y``, or a rule that does not exist or that no
waiver may hide, is unusable input.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from xenabi.errors import UsageError
from xenabi.model import Finding, Severity
from xenabi.targets import TARGETS, VIEWS
from xenabi.tomlfile import table_lines

RULE = "waivers"

#: findings no waiver may hide: the waivers' own, and headers that failed to parse
NOT_WAIVABLE = frozenset({RULE, "headers"})

_KEYS = {"rule": str, "symbol": str, "arches": list, "views": list, "reason": str,
         "evidence": str, "found_in": str}
_REQUIRED = ("rule", "symbol", "arches", "views")


@dataclass(frozen=True, slots=True)
class Waiver:
    rule: str
    symbol: str
    arches: tuple[str, ...]
    views: tuple[str, ...]
    reason: str
    evidence: str
    file: str  #: as findings show it
    line: int  #: of the entry's ``[[waiver]]``
    found_in: str = ""  #: the Xen release the finding was found in (``4.17``)
    shipped: bool = False  #: from xenabi's own list: idle means fixed upstream, not wrong

    @property
    def complete(self) -> bool:
        return bool(self.reason.strip()) and bool(self.evidence.strip())

    def covers(self, f: Finding) -> bool:
        return (self.complete and f.rule == self.rule and f.rule not in NOT_WAIVABLE
                and bool(f.symbols) and f.symbols[0] == self.symbol
                and set(f.arches) <= set(self.arches) and set(f.views) <= set(self.views))

    def in_scope(self, arches: Iterable[str], views: Iterable[str], rules: Iterable[str],
                 have: Iterable[str] | None = None) -> bool:
        """Did its rule run on all of its targets that the tree has (``have``; default: all
        of its targets) and all of its views? A narrowed run cannot tell that it is idle."""
        ran = set(arches)
        mine = set(self.arches) if have is None else set(self.arches) & set(have)
        return (self.rule in set(rules) and bool(mine) and mine <= ran
                and set(self.views) <= set(views))

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.rule} {self.symbol}"


def parse(text: str, file: str, shipped: bool = False) -> tuple[Waiver, ...]:
    """The waivers of a TOML text; ``file`` is how findings name it; ``shipped``: xenabi's
    own list, where every entry says the release it was found in."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"{file}: not a waiver file: {e}") from None
    extra = set(data) - {"waiver"}
    if extra:
        raise UsageError(f"{file}: unknown top-level key '{min(extra)}' "
                         "(a waiver file holds [[waiver]] entries only)")
    entries = data.get("waiver", [])
    if not isinstance(entries, list):
        raise UsageError(f"{file}: 'waiver' must be an array of tables ([[waiver]])")
    lines = table_lines(text, "waiver")
    return tuple(_entry(e, file, lines[i] if i < len(lines) else 0, shipped)
                 for i, e in enumerate(entries))


def is_release(text: str) -> bool:
    """``4.17``: a Xen release as waivers and ``--xen-release`` name it."""
    return re.fullmatch(r"\d+\.\d+", text) is not None


def release_key(release: str) -> tuple[int, ...]:
    """``4.9`` < ``4.17``: a release as numbers, for comparing."""
    return tuple(int(p) for p in release.split("."))


def _entry(e: object, file: str, line: int, shipped: bool) -> Waiver:
    where = f"{file}:{line}"
    if not isinstance(e, dict):
        raise UsageError(f"{where}: a waiver must be a table")
    for key, value in e.items():
        if key not in _KEYS:
            raise UsageError(f"{where}: unknown key '{key}' (known: {', '.join(_KEYS)})")
        if not isinstance(value, _KEYS[key]):
            raise UsageError(f"{where}: '{key}' must be a {_KEYS[key].__name__}")
    for key in _REQUIRED + (("found_in",) if shipped else ()):
        if key not in e:
            raise UsageError(f"{where}: the waiver has no '{key}'")
    if "found_in" in e and not is_release(e["found_in"]):
        raise UsageError(f"{where}: 'found_in' must be a Xen release such as \"4.17\", "
                         f"not '{e['found_in']}'")
    from xenabi.rules import REGISTRY  # lazy: the rules are needed only to judge a file

    if e["rule"] not in REGISTRY:
        what = ("no waiver may hide it" if e["rule"] in NOT_WAIVABLE else "no such rule")
        raise UsageError(f"{where}: rule '{e['rule']}': {what} "
                         f"(the rules: {', '.join(sorted(REGISTRY))})")
    for key, known in (("arches", TARGETS), ("views", VIEWS)):
        bad = [v for v in e[key] if v not in known]
        if bad or not e[key]:
            raise UsageError(f"{where}: '{key}' must list some of {', '.join(known)}"
                             + (f", not '{bad[0]}'" if bad else ""))
    return Waiver(e["rule"], e["symbol"], tuple(e["arches"]), tuple(e["views"]),
                  e.get("reason", ""), e.get("evidence", ""), file, line,
                  e.get("found_in", ""), shipped)


def load(path: str | Path, label: str | None = None) -> tuple[Waiver, ...]:
    p = Path(path)
    try:
        text = p.read_bytes().decode("utf-8")
    except OSError as e:
        raise UsageError(f"{p}: cannot read: {e.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{p}: not UTF-8 text") from None
    return parse(text, label or str(path))


@dataclass(frozen=True, slots=True)
class Applied:
    kept: tuple[Finding, ...]  #: findings no waiver covers
    waived: tuple[tuple[Finding, Waiver], ...]  #: each waived finding (marked) and its waiver
    #: incomplete waivers, and waivers that matched nothing (on the shipped list: information)
    problems: tuple[Finding, ...]


def apply(findings: Sequence[Finding], waivers: Sequence[Waiver], *, arches: Iterable[str],
          views: Iterable[str], rules: Iterable[str], have: Iterable[str] | None = None
          ) -> Applied:
    """Split findings into kept and waived, and judge the waivers themselves (``have``: the
    tree's targets, see :meth:`Waiver.in_scope`)."""
    arches, views, rules = tuple(arches), tuple(views), tuple(rules)
    have = tuple(have) if have is not None else None
    kept: list[Finding] = []
    waived: list[tuple[Finding, Waiver]] = []
    used: set[int] = set()
    for f in findings:
        hit = next((i for i, w in enumerate(waivers) if w.covers(f)), None)
        if hit is None:
            kept.append(f)
        else:
            waived.append((replace(f, waived=True), waivers[hit]))
            used.add(hit)
    problems = []
    for i, w in enumerate(waivers):
        if not w.complete:
            missing = "reason" if not w.reason.strip() else "evidence"
            problems.append(_problem(w, f"the waiver of {w.rule} {w.symbol} has no {missing}"))
        elif i not in used and w.in_scope(arches, views, rules, have):
            problems.append(_idle(w))
    return Applied(tuple(kept), tuple(waived), tuple(problems))


def _idle(w: Waiver) -> Finding:
    if w.shipped:
        return _problem(w, f"fixed since Xen {w.found_in}: the {w.rule} finding on {w.symbol} "
                           "found there is not in this tree", Severity.INFO)
    return _problem(w, f"the waiver of {w.rule} {w.symbol} matches no finding")


def _problem(w: Waiver, message: str, severity: Severity = Severity.ERROR) -> Finding:
    return Finding(RULE, severity, message, w.file, w.line, (w.symbol,), w.arches, w.views)
