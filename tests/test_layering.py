"""The house rules of the code base, checked by parsing imports (no import is executed).

``features`` imports nothing of ours; its sub-packages import the standard (and settings)
but never each other, except ``features.docs`` which renders documents from all of them;
``models`` imports only ``features``; ``service`` imports ``features`` and ``models``, never
``pipelines``; ``pipelines`` imports all three; and no two modules import each other, directly
or in a circle, even from inside a function.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("features", "models", "pipelines", "service")


@dataclass(frozen=True)
class Edge:
    source: str  # importing module
    target: str  # imported module of ours
    where: str  # file:line


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def resolve(name: str, known: dict[str, Path]) -> str | None:
    """The longest known module that ``name`` is or lies in (``a.b.c`` → ``a.b`` if a module)."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def edges(known: dict[str, Path]) -> list[Edge]:
    out = []
    for mod, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # "from pkg import mod" imports the module pkg.mod when there is one
                names = [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            for n in names:
                target = resolve(n, known)
                if target is not None and target != mod and not mod.startswith(target + "."):
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    out.append(Edge(mod, target, where))
    return out


def subpackage(mod: str) -> str:
    parts = mod.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 else mod


def allowed(e: Edge) -> bool:
    src, dst = e.source.split(".")[0], e.target.split(".")[0]
    if src == "features":
        if dst != "features":
            return False
        if e.source == "features.docs" or e.target == "features.settings":
            return True
        own, other = subpackage(e.source), subpackage(e.target)
        return own == other or other == "features.standard"
    if src == "models":
        return dst in ("features", "models")
    if src == "pipelines":
        return dst in ("features", "models", "pipelines", "service")
    if src == "service":
        return dst in ("features", "models", "service")
    return True


def cycles(es: list[Edge]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    graph: dict[str, set[str]] = {}
    for e in es:
        graph.setdefault(e.source, set()).add(e.target)
        graph.setdefault(e.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_every_import_respects_the_layers() -> None:
    bad = [f"{e.where}: {e.source} imports {e.target}" for e in edges(modules()) if not allowed(e)]
    assert not bad, "layering violations:\n" + "\n".join(bad)


def test_no_import_cycles() -> None:
    es = edges(modules())
    found = cycles(es)
    where = {(e.source, e.target): e.where for e in es}
    lines = []
    for comp in found:
        members = set(comp)
        lines += [
            f"{w}: {s} imports {t}" for (s, t), w in where.items() if s in members and t in members
        ]
    assert not found, "import cycles:\n" + "\n".join(lines)


def test_the_checker_catches_violations_and_cycles() -> None:
    """The rules are not vacuous: a forbidden edge and a circle are reported."""
    assert not allowed(Edge("features.point_in_time.build", "models.fit", "x:1"))
    assert not allowed(Edge("features.ingest.readers", "features.synthetic.market", "x:1"))
    assert not allowed(Edge("models.fit", "pipelines.training.flows", "x:1"))
    assert not allowed(Edge("service.api", "pipelines.ingest.flow", "x:1"))
    assert not allowed(Edge("models.scoring", "service.core.db.tables", "x:1"))
    assert not allowed(Edge("features.settings", "service.core.db.engine", "x:1"))
    assert allowed(Edge("service.core.db.users", "features.standard.enums", "x:1"))
    assert allowed(Edge("pipelines.cli.db", "service.core.db.audit", "x:1"))
    assert allowed(Edge("features.docs", "features.synthetic.fraud", "x:1"))
    assert allowed(Edge("pipelines.training.flows", "models.fit", "x:1"))
    circle = [Edge("a", "b", "a.py:1"), Edge("b", "c", "b.py:1"), Edge("c", "a", "c.py:1")]
    assert cycles(circle) == [["a", "b", "c"]]
    assert cycles(circle[:2]) == []
    assert len(edges(modules())) > 50
