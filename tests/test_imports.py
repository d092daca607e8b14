"""The package's layering, read from its source: no import cycle among xenabi's
modules, and pycparser's internals read in one module only.

Every ``import xenabi...`` and ``from xenabi... import`` counts, wherever it stands:
at the top, inside a function (a lazy import still makes the importing module
depend on the imported one, it only defers the cost) and under ``TYPE_CHECKING``
(a type annotation naming a module above you is a layer that goes up too). Only
imports of xenabi's own modules make edges.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import xenabi

PACKAGE = Path(xenabi.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imported(name: str, path: Path, modules: set[str]) -> set[str]:
    """The xenabi modules that module ``name`` imports, anywhere in its text."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            # ``from xenabi import cexpr`` imports the module xenabi.cexpr (and runs
            # xenabi/__init__, which is Python's doing, not an edge); a name that is no
            # module is read from ``base`` itself
            subs = {f"{base}.{a.name}" for a in node.names}
            found.update(subs)
            if not subs <= modules:
                found.add(base)
    # a module imports its packages' __init__ too, but that is Python's doing, not an edge
    return {m for m in found if m in modules and m != name}


def import_graph() -> dict[str, set[str]]:
    sources = _sources()
    modules = set(sources)
    return {name: _imported(name, path, modules) for name, path in sources.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph``, as the modules along it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return path[path.index(n):] + [n]
            if n not in state and (found := visit(n)) is not None:
                return found
        path.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (found := visit(m)) is not None:
            return found
    return None


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycle(graph) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_sees_lazy_and_type_checking_imports():
    graph = import_graph()
    # snapshot imports the pipeline inside compute() and cparse under TYPE_CHECKING
    assert "xenabi.pipeline" in graph["xenabi.snapshot"]
    assert "xenabi.cparse" in graph["xenabi.snapshot"]


def test_the_package_has_no_import_cycle():
    graph = import_graph()
    cycle = _cycle(graph)
    edges = sum(len(v) for v in graph.values())
    assert cycle is None, (f"import cycle among {len(graph)} modules, {edges} edges: "
                           + " -> ".join(cycle))


def test_no_rule_module_imports_another():
    graph = import_graph()
    rules = {m for m in graph if m.startswith("xenabi.rules.")} - {"xenabi.rules.registry"}
    reach = {m: sorted(graph[m] & rules) for m in sorted(rules) if graph[m] & rules}
    assert not reach, reach


def test_layout_knows_nothing_of_parsing_or_snapshots():
    graph = import_graph()
    assert not graph["xenabi.layout"] & {"xenabi.cparse", "xenabi.snapshot", "xenabi.pipeline"}
    assert "xenabi.layout" not in graph["xenabi.cparse"]


#: pycparser's private names (its modules' and its classes'): an underscore, then a letter
_PRIVATE = re.compile(r"\b(?:c_lexer|c_parser|c_ast|c_generator|pycparser)\._[A-Za-z]"
                      r"|\bself\._(?:lexdata|pos|lineno|line_start|pending_tok|peek|tok_coord|"
                      r"parse_error|scope_stack|is_type_in_scope)\b")


def test_only_pycparser_ext_reads_pycparsers_internals():
    readers = {name for name, path in _sources().items() if _PRIVATE.search(path.read_text())}
    assert readers == {"xenabi.pycparser_ext"}
