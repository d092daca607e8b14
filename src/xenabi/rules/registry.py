"""The rule registry: every check over the model is a small function registered here.

A rule takes a :class:`Context` (the tree and its snapshots for every target
and view that was computed) and yields :class:`~xenabi.model.Finding`s. Rules
are registered with :func:`rule` in their own modules, which are imported at
the bottom of :mod:`xenabi.rules`: that import list is the one place a rule is enabled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from xenabi.analysis.context import Context
from xenabi.model import Finding, Severity
from xenabi.targets import VIEWS, tree_arches
from xenabi.tree import XenTree

if TYPE_CHECKING:  # the docs package (and pandoc) load only when a docs rule runs
    from xenabi.docs import Reading


def read_docs_early(tree: XenTree, rules: Iterable[str], use_cache: bool = True
                    ) -> Reading | None:
    """Start pandoc on the docs when one of ``rules`` needs them, so that it runs while
    the snapshots are computed."""
    if tree.docs is None or not any("docs" in REGISTRY[r].needs for r in rules):
        return None
    from xenabi.docs import start_loading

    return start_loading(tree, cache=use_cache)


RuleFn = Callable[[Context], Iterable[Finding]]


#: the parts of a tree that a rule may need besides the public headers: how to find
#: each (None when the tree lacks it), and how to name it to a user
INPUTS: Mapping[str, tuple[Callable[[XenTree], object], str]] = {
    "docs": (lambda tree: tree.docs, "docs/"),
    "xlat": (lambda tree: tree.xlat, "xen/include/xlat.lst"),
    "reference.size": (lambda tree: tree.reference_size,
                       "tools/include/xen-foreign/reference.size"),
}


@dataclass(frozen=True)
class Rule:
    id: str  #: the rule id findings carry: ``flags``, ``doc-refs``...
    summary: str  #: one line for ``xenabi rules`` and docs/rules.md
    fn: RuleFn
    #: what its findings can be, most severe first: declared with the rule, so that
    #: ``xenabi rules`` and docs/rules.md say it, and a test holds the rule to it
    severities: tuple[Severity, ...]
    needs: tuple[str, ...] = ()  #: keys of :data:`INPUTS` it reads (``docs``: pandoc runs)
    #: of ``target``, ``view``: it says what the headers do not define, which only every
    #: target (view) of the tree together can tell: a run narrowed there skips it
    whole: tuple[str, ...] = ()
    #: what its findings depend on, which says when a run may carry them over from the
    #: run before it (:mod:`xenabi.carry`): a key of :data:`SCOPES`
    scope: str = "tree"

    def missing(self, tree: XenTree) -> str | None:
        """What the tree lacks for this rule to run (an installed layout has no docs/, no
        xlat.lst), or None."""
        absent = [INPUTS[key][1] for key in self.needs if INPUTS[key][0](tree) is None]
        return f"no {', no '.join(absent)}" if absent else None


#: what a rule's findings may depend on, from the least to the most
SCOPES: Mapping[str, str] = {
    "header": "a header's findings read only that header's text and integer macros",
    "records": "only the records, the typedefs and the tree's tables (xlat.lst, reference.size)",
    "tree": "anything in the tree",
}

REGISTRY: dict[str, Rule] = {}


def rule(rule_id: str, summary: str, *, severities: tuple[Severity, ...],
         needs: tuple[str, ...] = (), whole: tuple[str, ...] = (), scope: str = "tree"
         ) -> Callable[[RuleFn], RuleFn]:
    """Register ``fn`` as the rule ``rule_id``."""
    order = list(Severity)  # each once, most severe first: as xenabi rules prints them
    assert severities and list(severities) == sorted(set(severities), key=order.index), severities
    assert all(key in INPUTS for key in needs), needs
    assert set(whole) <= {"target", "view"}, whole
    assert scope in SCOPES, scope

    def register(fn: RuleFn) -> RuleFn:
        assert rule_id not in REGISTRY, f"rule {rule_id} registered twice"
        REGISTRY[rule_id] = Rule(rule_id, summary, fn, severities, needs, whole, scope)
        return fn

    return register


def narrowed(tree: XenTree, arches: Iterable[str] | None, views: Iterable[str] | None
             ) -> dict[str, str]:
    """What a run on ``arches`` and ``views`` (None: all) leaves out of the tree's, by
    ``target`` and ``view``, in words (``needs every view: tools left out``)."""
    out = {}
    for what, have, asked in (("target", tree_arches(tree.headers), arches),
                              ("view", VIEWS, views)):
        chosen = set(have if asked is None else asked)
        left = [x for x in have if x not in chosen]
        if left:
            out[what] = f"needs every {what}: {', '.join(left)} left out"
    return out


def runnable(tree: XenTree, rules: Iterable[str], arches: Iterable[str] | None = None,
             views: Iterable[str] | None = None
             ) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """Of ``rules``, those the tree has the inputs of (and, for a rule that needs the
    whole tree, a run on every target and view: ``arches`` and ``views``, None for all),
    and (rule, why not) for the others: a rule that cannot run finds nothing, and its
    waivers are not idle."""
    ran, not_run = [], []
    narrow = narrowed(tree, arches, views)
    for r in rules:
        why = REGISTRY[r].missing(tree) or "; ".join(
            narrow[w] for w in REGISTRY[r].whole if w in narrow) or None
        if why is None:
            ran.append(r)
        else:
            not_run.append((r, why))
    return tuple(ran), tuple(not_run)


def run_rules(ctx: Context, only: Iterable[str] | None = None) -> list[Finding]:
    """Every registered rule (or those named in ``only``) over ``ctx``, findings sorted."""
    chosen = [REGISTRY[r] for r in only] if only is not None else list(REGISTRY.values())
    found = [f for r in chosen for f in r.fn(ctx)]
    return sorted(found, key=lambda f: (f.file or "", f.line or 0, f.rule, f.message))
