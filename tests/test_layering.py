"""The house rules of the code base, checked by parsing imports (no import is executed).

``features`` imports nothing of ours; its sub-packages import the standard (and settings)
but never each other, except ``features.docs`` which renders documents from all of them;
``models`` imports only ``features``; ``service`` imports ``features`` and ``models``, never
``pipelines``; ``pipelines`` imports all three; and no two modules import each other, directly
or in a circle, even from inside a function.

Inside ``service`` there are two layers. The domain core (``service.core``) imports no web
code: not ``service.web``, FastAPI, Starlette or Uvicorn (Jinja only in ``service.core.reports``,
which renders documents, not pages). The core itself is layered, lowest first, as
:data:`SERVICE_LAYERS` declares, and no module imports a higher layer than its own. Routers
(``service.web.api``) export nothing: only the app factory imports them. ``pipelines`` reaches
the service through the core and the app factory only.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
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


def imports(known: dict[str, Path]) -> Iterator[tuple[str, str, str]]:
    """(importing module, imported dotted name, file:line) of every absolute import, even
    inside a function; "from pkg import mod" names pkg.mod (the module, when there is one)."""
    for mod, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            for n in names:
                yield mod, n, f"{path.relative_to(ROOT)}:{node.lineno}"


def edges(known: dict[str, Path]) -> list[Edge]:
    out = []
    for mod, name, where in imports(known):
        target = resolve(name, known)
        if target is not None and target != mod and not mod.startswith(target + "."):
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


# Lowest first. A module belongs to the longest prefix naming it; the web layer is on top.
SERVICE_LAYERS: tuple[tuple[str, ...], ...] = (
    ("service.core.db", "service.core.inputs", "service.core.paging", "service.core.exports"),
    ("service.core.permissions", "service.core.token_cache", "service.core.metrics",
     "service.core.journal", "service.core.market_index", "service.core.reports",
     "service.core.monitoring", "service.core.champions",
     "service.core.model_registry.catalog_cache", "service.core.model_registry.schemas"),
    ("service.core.cases",),
    ("service.core.assessments",),
    ("service.core.contracts",),
    ("service.core.scores",),
    ("service.core.schema", "service.core.db.migrations", "service.core.context"),
    # what works on the whole service context
    ("service.core.contracts.check", "service.core.contracts.ledger",
     "service.core.scores.overrides", "service.core.cases.access",
     "service.core.model_registry.service"),
    ("service.web",),
)
WEB_LIBRARIES = {"fastapi", "starlette", "uvicorn", "jinja2"}
ROUTERS = "service.web.api"
APP_FACTORY = "service.web.app"


def layer(module: str) -> int | None:
    best, found = "", None
    for i, prefixes in enumerate(SERVICE_LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > len(best):
                best, found = p, i
    return found


def upward(es: list[Edge]) -> list[Edge]:
    """Imports inside ``service`` from a lower layer to a higher one."""
    out = []
    for e in es:
        if e.source.startswith("service.") and e.target.startswith("service."):
            a, b = layer(e.source), layer(e.target)
            if a is None or b is None or a < b:
                out.append(e)
    return out


def third_party(known: dict[str, Path]) -> list[tuple[str, str, str]]:
    """(module, top-level library, file:line) of every import of a library we do not own."""
    return [(mod, name.split(".")[0], where) for mod, name, where in imports(known)
            if name.split(".")[0] not in PACKAGES]


def web_in_core(found: list[tuple[str, str, str]]) -> list[str]:
    return [f"{where}: {mod} imports {lib}" for mod, lib, where in found
            if mod.startswith("service.core") and lib in WEB_LIBRARIES
            and not (lib == "jinja2" and mod.startswith("service.core.reports"))]


def service_use_allowed(e: Edge) -> bool:
    """The service-internal rules: core below web, routers imported by the app factory only,
    pipelines through the core and the app factory."""
    if e.source.startswith("service.core") and e.target.startswith("service.web"):
        return False
    if e.target.startswith(ROUTERS + ".") and e.source != APP_FACTORY:
        return False
    if e.source.startswith("pipelines") and e.target.startswith("service."):
        return e.target.startswith("service.core") or e.target == APP_FACTORY
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


def test_the_service_core_imports_no_web_code() -> None:
    known = modules()
    bad = [f"{e.where}: {e.source} imports {e.target}" for e in edges(known)
           if not service_use_allowed(e)] + web_in_core(third_party(known))
    assert not bad, "service layering violations:\n" + "\n".join(bad)


def test_no_service_module_imports_a_higher_layer() -> None:
    found = upward(edges(modules()))
    assert not found, "imports from a lower service layer back up (or of an unlayered " \
        "module):\n" + "\n".join(f"{e.where}: {e.source} imports {e.target}" for e in found)


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
    assert not service_use_allowed(Edge("service.core.cases.service", "service.web.deps", "x:1"))
    assert not service_use_allowed(Edge("service.web.console.views", "service.web.api.scores",
                                        "x:1"))
    assert not service_use_allowed(Edge("pipelines.cli.serve", "service.web.deps", "x:1"))
    assert service_use_allowed(Edge("service.web.app", "service.web.api.scores", "x:1"))
    assert service_use_allowed(Edge("pipelines.cli.serve", "service.web.app", "x:1"))
    assert web_in_core([("service.core.cases.service", "fastapi", "x:1")])
    assert not web_in_core([("service.core.reports.render", "jinja2", "x:1")])
    assert upward([Edge("service.core.db.tables", "service.core.cases.tables", "x:1")])
    assert not upward([Edge("service.core.cases.tables", "service.core.db.tables", "x:1")])
    assert upward([Edge("service.core.nowhere", "service.core.db.tables", "x:1")])


def test_pipelines_keeps_its_modules_in_rooms() -> None:
    """A newcomer finds a flow by its room (cli, ingest, store, training, scoring, stack,
    demo); only a few cross-room flows stay at the top."""
    flat = sorted(p.name for p in (ROOT / "pipelines").glob("*.py") if p.name != "__init__.py")
    assert len(flat) <= 12, f"{len(flat)} modules flat in pipelines/: {flat}"
