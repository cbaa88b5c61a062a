"""The layout rules of issue 15, checked on the source: no import loop among demix_core's
modules (imports inside functions included: a deferred import still ties the two modules),
no module over 300 lines, and a library that never imports Streamlit."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIB = ROOT / "demix_core"


def _modules() -> dict[str, Path]:
    out = {}
    for path in LIB.rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path
    return out


def _imports(path: Path, known: dict[str, Path]) -> set[str]:
    """The demix_core modules `path` imports anywhere in it (`from pkg import mod` counts as
    an import of pkg.mod when that is a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in known else node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {m for m in found if m in known}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import loop of `graph`, or None (depth-first search with an on-stack mark)."""
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (loop := visit(nxt, stack)):
                return loop
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (loop := visit(node, [])):
            return loop
    return None


def test_cycle_finder_finds_a_planted_loop_and_passes_a_tree():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_import_loop_in_demix_core():
    known = _modules()
    graph = {name: _imports(path, known) - {name} for name, path in known.items()}
    # a package's __init__ importing its own modules is how a package exports names, and
    # a module importing its package's other modules through it is not a loop of logic
    for name in graph:
        graph[name] = {m for m in graph[name] if not name.startswith(m + ".")}
    assert _cycle(graph) is None


def test_no_module_over_300_lines():
    paths = [*LIB.rglob("*.py"), *(ROOT / "pages").glob("*.py"), ROOT / "app.py"]
    long = {
        str(p.relative_to(ROOT)): n for p in paths if (n := len(p.read_text().splitlines())) > 300
    }
    assert long == {}


def test_the_library_never_imports_streamlit():
    known = _modules()
    users = [
        name
        for name, path in known.items()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Import | ast.ImportFrom)
        and any(
            (getattr(node, "module", None) or a.name).split(".")[0] == "streamlit"
            for a in node.names
        )
    ]
    assert users == []
