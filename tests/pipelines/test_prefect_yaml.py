"""prefect.yaml points at real flows with the parameters the deployments pass."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import yaml
from prefect import Flow

ROOT = Path(__file__).resolve().parents[2]


def _load(entrypoint: str) -> Flow:
    path, name = entrypoint.split(":")
    module_name = path.removesuffix(".py").replace("/", ".")
    module = importlib.import_module(module_name)
    return getattr(module, name)


def test_every_deployment_entrypoint_is_a_flow() -> None:
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    names = [d["name"] for d in spec["deployments"]]
    assert names == ["ingest-exports", "month-end-features", "monthly-train-and-review",
                     "month-end-scoring"]
    for d in spec["deployments"]:
        flow = _load(d["entrypoint"])
        assert isinstance(flow, Flow), d["entrypoint"]
        assert (ROOT / d["entrypoint"].split(":")[0]).is_file()
        if d.get("schedules"):  # a scheduled run gets no parameters: none may be required
            required = [p for p in inspect.signature(flow.fn).parameters.values()
                        if p.default is inspect.Parameter.empty]
            assert required == [], d["name"]
