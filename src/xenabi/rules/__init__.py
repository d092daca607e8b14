"""The rules, one module per concern, and the registry they register with
(:mod:`xenabi.rules.registry`, re-exported here). A rule module imports the
registry and shared code (:mod:`xenabi.analysis`), never another rule module."""

from xenabi.rules.registry import (INPUTS, REGISTRY, Rule, read_docs_early, rule,  # noqa: F401
                                   run_rules, runnable)

__all__ = ["INPUTS", "REGISTRY", "Rule", "read_docs_early", "rule", "run_rules", "runnable"]

# The rules, one module per concern: importing a module registers its rules, so this
# list is the one place a rule is enabled.
from xenabi.rules import flags, unique, arch, compat, holes, refsize, doc_layout  # noqa: E402,F401
from xenabi.rules import doc_refs, doc_semantics, doc_coverage  # noqa: E402,F401
