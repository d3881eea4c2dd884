"""The floor plan holds: imports point one way and nothing imports in a circle.

connectors → omnichannel (the core) ← router. The core never imports ``router`` or ``connectors``: the
daemon reaches plugins through ``omnichannel/registry.py`` strings, loaded lazily. Every ``import`` and
``from … import`` counts, inside functions and under ``TYPE_CHECKING`` too.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PACKAGES = ("omnichannel", "connectors", "router")


def modules(root: Path = REPO) -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            if "migrations" in path.parts:  # alembic's scripts, loaded by alembic
                continue
            name = ".".join(path.relative_to(root).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules ``name`` imports (a name imported from a package counts as its module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def graph(root: Path = REPO) -> dict[str, set[str]]:
    known = modules(root)
    return {name: imports(name, path, known) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def top(name: str) -> str:
    return name.split(".")[0]


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_the_core_imports_neither_router_nor_connectors():
    wrong = sorted(f"{m} imports {t}" for m, ts in graph().items() if top(m) == "omnichannel"
                   for t in ts if top(t) in ("router", "connectors"))
    assert wrong == []


def test_connectors_and_router_do_not_import_each_other():
    wrong = sorted(f"{m} imports {t}" for m, ts in graph().items() for t in ts
                   if {top(m), top(t)} == {"router", "connectors"})
    assert wrong == []


def test_registry_targets_exist():
    """Every plugin the registry names is importable at the path it gives (the layout moved files)."""
    from omnichannel import registry

    targets = [t for pair in registry.CONNECTORS.values() for t in pair]
    targets += [t for pair in registry.FORWARDERS.values() for t in pair]
    targets += list(registry.SECTIONS.values()) + list(registry.CLI_EXTENSIONS)
    targets += [registry.PIPELINE, registry.DISPATCHER, registry.ANSWERS, registry.EVAL_ROUTING, registry.EVAL_DEDUP]
    missing = []
    for target in targets:
        try:
            registry.load(target)
        except (ImportError, AttributeError) as exc:
            missing.append(f"{target}: {exc}")
    assert missing == []


def test_the_checks_catch_what_they_look_for(tmp_path):
    """The walker sees a cycle made of a type-only import and a function-level import, and a core module
    importing the router, so the tests above cannot pass for a wrong reason."""
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "omnichannel" / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from omnichannel.b import B\n")
    (tmp_path / "omnichannel" / "b.py").write_text("def f():\n    from omnichannel import a\n")
    (tmp_path / "omnichannel" / "c.py").write_text("from router.x import y\n")
    (tmp_path / "router" / "x.py").write_text("y = 1\n")
    edges = graph(tmp_path)
    assert cycles(edges) == [["omnichannel.a", "omnichannel.b"]]
    assert "router.x" in edges["omnichannel.c"]
