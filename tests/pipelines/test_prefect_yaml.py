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
                     "month-end-scoring", "event-rescoring", "monthly-monitoring", "daily",
                     "yearly-assessment"]
    for d in spec["deployments"]:
        flow = _load(d["entrypoint"])
        assert isinstance(flow, Flow), d["entrypoint"]
        assert (ROOT / d["entrypoint"].split(":")[0]).is_file()
        if d.get("schedules"):  # a scheduled run gets only the deployment's parameters
            required = [p.name for p in inspect.signature(flow.fn).parameters.values()
                        if p.default is inspect.Parameter.empty]
            assert set(required) <= set(d.get("parameters") or {}), d["name"]
            assert all(s["active"] and s["timezone"] == "Asia/Shanghai"
                       for s in d["schedules"]), d["name"]


def test_monitoring_runs_on_the_second_of_each_month_and_monitors_last_month() -> None:
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    monitoring = next(d for d in spec["deployments"] if d["name"] == "monthly-monitoring")
    assert [s["cron"] for s in monitoring["schedules"]] == ["0 6 2 * *"]
    flow = _load(monitoring["entrypoint"])
    assert flow.name == "monitor"
    month = inspect.signature(flow.fn).parameters["month"]
    assert month.default is None  # no month: the calendar month before the run


def _deployment(name: str) -> dict:
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    return next(d for d in spec["deployments"] if d["name"] == name)


def test_the_daily_run_fires_every_morning_for_today() -> None:
    daily = _deployment("daily")
    assert [s["cron"] for s in daily["schedules"]] == ["30 5 * * *"]
    flow = _load(daily["entrypoint"])
    assert flow.name == "daily"
    assert inspect.signature(flow.fn).parameters["day"].default is None  # today in China


def test_the_yearly_assessment_drafts_last_year_in_january_as_an_assessor() -> None:
    yearly = _deployment("yearly-assessment")
    assert [s["cron"] for s in yearly["schedules"]] == ["0 4 10 1 *"]
    assert yearly["parameters"] == {"by": "demo-assessor-1"}
    flow = _load(yearly["entrypoint"])
    assert inspect.signature(flow.fn).parameters["year"].default is None  # last year
