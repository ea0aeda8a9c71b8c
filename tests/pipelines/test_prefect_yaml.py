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
                     "month-end-scoring", "monthly-monitoring"]
    for d in spec["deployments"]:
        flow = _load(d["entrypoint"])
        assert isinstance(flow, Flow), d["entrypoint"]
        assert (ROOT / d["entrypoint"].split(":")[0]).is_file()
        if d.get("schedules"):  # a scheduled run gets no parameters: none may be required
            required = [p for p in inspect.signature(flow.fn).parameters.values()
                        if p.default is inspect.Parameter.empty]
            assert required == [], d["name"]


def test_monitoring_runs_on_the_second_of_each_month_and_monitors_last_month() -> None:
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    monitoring = next(d for d in spec["deployments"] if d["name"] == "monthly-monitoring")
    assert [s["cron"] for s in monitoring["schedules"]] == ["0 6 2 * *"]
    flow = _load(monitoring["entrypoint"])
    assert flow.name == "monitor"
    month = inspect.signature(flow.fn).parameters["month"]
    assert month.default is None  # no month: the calendar month before the run
