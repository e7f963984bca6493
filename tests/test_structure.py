"""The engine's shape, as its readers rely on it: composer/ never imports the widgets, its modules
import each other at the top (no import hidden in a function to dodge a cycle), and those imports
form no cycle. Only the command line defers its imports, so that `--help` starts at once."""

from __future__ import annotations

import ast
from pathlib import Path

import composer

ENGINE = Path(composer.__file__).parent
DEFERRING = {"composer.cli", "composer"}  # the command line; the package's lazy public names


def _modules() -> dict[str, ast.Module]:
    out = {}
    for path in sorted(ENGINE.rglob("*.py")):
        parts = path.relative_to(ENGINE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = ast.parse(path.read_text(encoding="utf-8"))
    return out


def _imported(node: ast.AST, known: set[str] = frozenset()) -> list[str]:
    """The modules an import statement names: ``from composer.sections import config`` names the
    submodule (its package is imported first in any case, and is no edge of its own)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom) and not node.level:
        subs = [f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in known]
        return subs if len(subs) == len(node.names) else [node.module, *subs]
    return []


def _ours(name: str, known: set[str]) -> str | None:
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def test_the_engine_never_imports_the_widgets():
    for name, tree in _modules().items():
        for node in ast.walk(tree):
            assert not any(n.split(".")[0] == "widgets" for n in _imported(node)), name


def test_no_engine_module_imports_another_inside_a_function():
    modules = _modules()
    hidden = []
    for name, tree in modules.items():
        if name in DEFERRING:
            continue
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(fn):
                    if any(n.split(".")[0] == "composer" for n in _imported(node)):
                        hidden.append(f"{name}.{fn.name}")
    assert hidden == []


def test_the_engine_modules_import_each_other_without_a_cycle():
    modules = _modules()
    known = set(modules)
    graph = {name: set() for name in modules}
    for name, tree in modules.items():
        for node in tree.body:  # module level: what runs at import
            for imported in _imported(node, known):
                target = _ours(imported, known)
                if target and target != name and target != "composer":
                    graph[name].add(target)
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
