"""No function takes more than ten parameters, checked by parsing the code (nothing is run).

A long parameter list is usually several things travelling together without a name: they
belong in a typed dataclass (a model's spec, a fit's policy, a case's warning link). Route
handlers (functions decorated ``@router.<method>(...)``) are exempt: FastAPI reads each query
parameter from the signature itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("features", "models", "pipelines", "service", "benchmarks")
MAX_PARAMETERS = 10
HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}

Function = ast.FunctionDef | ast.AsyncFunctionDef


def parameter_count(node: Function) -> int:
    """Positional and keyword-only parameters, ``self``/``cls`` left out; ``*args`` and
    ``**kwargs`` count one each."""
    a = node.args
    named = [p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs)]
    return (len([n for n in named if n not in ("self", "cls")])
            + (a.vararg is not None) + (a.kwarg is not None))


def is_route(node: Function) -> bool:
    """Decorated ``@router.get(...)``, ``@router.post(...)`` and so on."""
    for d in node.decorator_list:
        if (isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute)
                and isinstance(d.func.value, ast.Name) and d.func.value.id == "router"
                and d.func.attr in HTTP_METHODS):
            return True
    return False


def too_long(source: str, where: str) -> list[str]:
    """``file:line:function (n parameters)`` for every function over the limit in ``source``."""
    functions = [node for node in ast.walk(ast.parse(source, filename=where))
                 if isinstance(node, Function) and not is_route(node)]
    return [f"{where}:{f.lineno}:{f.name} ({parameter_count(f)} parameters)"
            for f in sorted(functions, key=lambda f: f.lineno)
            if parameter_count(f) > MAX_PARAMETERS]


def test_no_function_takes_more_than_ten_parameters() -> None:
    found = [
        hit
        for pkg in PACKAGES
        for path in sorted((ROOT / pkg).rglob("*.py"))
        for hit in too_long(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    ]
    assert not found, "group these parameters into a dataclass:\n" + "\n".join(found)


def test_the_check_counts_every_kind_of_parameter_and_exempts_only_routes() -> None:
    names = ", ".join(f"p{i}" for i in range(8))
    source = (
        f"def eleven(self, {names}, *args, k=1, **kw): ...\n"
        f"def ten({names}, *, k=1, j=2): ...\n"
        f"class C:\n    async def method(self, {names}, a, b, c): ...\n"
        f"@router.get('/x')\nasync def route({names}, a, b, c): ...\n"
        f"@other.get('/x')\nasync def not_a_route({names}, a, b, c): ...\n"
    )
    assert too_long(source, "m.py") == [
        "m.py:1:eleven (11 parameters)",
        "m.py:4:method (11 parameters)",
        "m.py:8:not_a_route (11 parameters)",
    ]
