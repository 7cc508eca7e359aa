"""memcalc's modules import each other in one direction only: no cycle, counting the
imports made inside functions (issue 24: estimate <-> lora, gpus <-> guess <-> report,
each replay <-> its backward)."""

from __future__ import annotations

import ast
from pathlib import Path

import dlprep.memcalc

ROOT = Path(dlprep.memcalc.__file__).parent


def _name(path: Path) -> str:
    parts = ("dlprep", "memcalc", *path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    modules = {_name(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module in modules:
                deps.add(node.module)
                deps |= {f"{node.module}.{a.name}" for a in node.names
                         if f"{node.module}.{a.name}" in modules}
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name in modules}
        # A package's own __init__ runs first anyway: importing it is no back edge.
        graph[name] = {d for d in deps if not name.startswith(d + ".")} - {name}
    return graph


def test_no_import_cycles() -> None:
    graph = imports()
    assert "dlprep.memcalc.estimate" in graph and len(graph) > 20
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[str] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycles.append(" -> ".join([*path[path.index(dep):], dep]))
            elif dep not in state:
                visit(dep, [*path, dep])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, cycles
