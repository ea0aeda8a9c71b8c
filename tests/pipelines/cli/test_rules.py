"""End to end: ``techcredit rules check | try | review | history`` on a small curated store, for
contract rules, and for entity warning rules on a market whose models are trained; ``history
--json`` on recorded tries and reviews."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from features.settings import Settings, get_settings
from features.standard.tables import LOAD_ORDER
from models.declared import load
from models.rules.contract import CONTRACT_RULES, ContractRules, parse_contract_rules
from models.rules.entity import ENTITY_RULES, parse_entity_rules
from models.rules.kinds import CONTRACT, ENTITY
from models.rules.reviews import RULES_EXPERIMENT, active_rules
from pipelines.cli.main import app
from pipelines.ingest.gx_worker import GXWorker
from tests.pipelines.ingest_support import run_ingest
from tests.trained import Trained, build, copy_home, shared_folder

DEFAULT = CONTRACT_RULES


def load_rules(path: Path) -> ContractRules:
    return load(path, parse_contract_rules)


def test_check_lists_a_good_file_and_refuses_a_bad_one_in_one_line(tmp_path: Path) -> None:
    good = CliRunner().invoke(app, ["rules", "check", str(DEFAULT)])
    assert good.exit_code == 0, good.output
    ruleset = load_rules(DEFAULT)
    assert f"version {ruleset.version}, {len(ruleset.rules)} rules" in good.output
    assert all(r.id in good.output for r in ruleset.rules)
    bad = tmp_path / "bad.toml"
    bad.write_text(DEFAULT.read_text(encoding="utf-8").replace(
        'tier = "orange"', 'tier = "urgent"', 1), encoding="utf-8")
    out = CliRunner().invoke(app, ["rules", "check", str(bad)])
    assert out.exit_code == 2 and isinstance(out.exception, SystemExit)  # no traceback
    assert out.output.strip() == (
        f"{bad}: rule 'cycle_close': tier: 'urgent' is not one of red, orange, yellow, blue")


@pytest.mark.e2e
def test_try_then_review_switches_the_rules_on(
    market: dict[str, pd.DataFrame], gx_worker: GXWorker, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home, src = tmp_path / "home", tmp_path / "src"
    src.mkdir()
    for name in LOAD_ORDER:
        market[name].to_parquet(src / f"{name}.parquet")
    run_ingest(home, [src / f"{name}.parquet" for name in LOAD_ORDER], gx_worker)
    for k, v in {
        "TECHCREDIT_HOME": str(home),
        "MLFLOW_TRACKING_URI": f"sqlite:///{home}/mlflow.db",
        "PREFECT_HOME": str(home / "prefect"),
    }.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    try:
        approve = ["rules", "review", str(DEFAULT), "--reviewer", "王审", "--note",
                   "precision acceptable on 2020 H1", "--approve"]
        untried = CliRunner().invoke(app, approve)
        assert untried.exit_code == 2 and isinstance(untried.exception, SystemExit)
        # one line (MLflow, imported earlier in this process, may log its database set-up)
        assert "was never tried" in untried.output.strip().splitlines()[-1]

        tried = CliRunner().invoke(app, ["rules", "try", str(DEFAULT), "--from", "2020-01",
                                         "--to", "2020-06"])
        assert tried.exit_code == 0, tried.output
        lines = tried.output.splitlines()
        assert "no champion techcredit-anomaly model: overlap with the model skipped" in lines
        months = lines.index("hits per month 每月命中数")
        assert [line.split()[0] for line in lines[months + 3:months + 9]] == [
            f"2020-0{m}" for m in range(1, 7)]
        summary = next(line for line in lines if line.split()[:1] == ["same_day_split"])
        assert summary.split()[1:3] == ["contract", "yellow"]

        client = MlflowClient(f"sqlite:///{home}/mlflow.db")
        experiment = client.get_experiment_by_name(RULES_EXPERIMENT)
        (run,) = client.search_runs([experiment.experiment_id])
        ruleset = load_rules(DEFAULT)
        assert run.data.tags["kind"] == "try" and run.data.tags["sha256"] == ruleset.sha256
        assert run.data.tags["rules_version"] == str(ruleset.version)
        assert run.data.tags["champion"] == "none"
        kept = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert {"rules.toml", "summary.txt", "hits_per_month.txt", "hits.csv"} <= kept

        approved = CliRunner().invoke(app, approve)
        assert approved.exit_code == 0 and "approved by 王审" in approved.output
        active = active_rules(Settings(home=home), CONTRACT)
        assert active is not None and active.sha256 == ruleset.sha256

        listed = CliRunner().invoke(app, ["rules", "history"])
        rows = listed.output.splitlines()[1:]
        assert [r.split()[2] for r in rows] == ["try", "review"]
        assert "王审" in rows[1] and "precision acceptable on 2020 H1" in rows[1]
    finally:
        get_settings.cache_clear()


def test_check_names_the_kind_and_refuses_a_file_of_the_other_kind() -> None:
    good = CliRunner().invoke(app, ["rules", "check", "--kind", "entity", str(ENTITY_RULES)])
    assert good.exit_code == 0, good.output
    rules = load(ENTITY_RULES, parse_entity_rules)
    assert f"entity rules version {rules.version}, {len(rules.rules)} rules" in good.output
    assert all(r.code in good.output for r in rules.rules)
    wrong = CliRunner().invoke(app, ["rules", "check", str(ENTITY_RULES)])  # default: contract
    assert wrong.exit_code == 2 and wrong.output.strip() == (
        f"{ENTITY_RULES}: unknown top-level key 'anomaly' (expected version, rule)")
    wrong = CliRunner().invoke(app, ["rules", "check", "--kind", "entity", str(DEFAULT)])
    assert wrong.exit_code == 2 and "anomaly: required table [anomaly]" in wrong.output


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    return build(shared_folder(tmp_path_factory))


@pytest.mark.e2e
def test_entity_rules_are_tried_on_the_champions_scores_then_switched_on(
    trained: Trained, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = copy_home(trained.settings.home_dir, tmp_path / "home")
    for k, v in {"TECHCREDIT_HOME": str(home), "MLFLOW_TRACKING_URI": f"sqlite:///{home}/mlflow.db",
                 "PREFECT_HOME": str(home / "prefect")}.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    try:
        rules = load(ENTITY_RULES, parse_entity_rules)
        approve = ["rules", "review", "--kind", "entity", str(ENTITY_RULES), "--reviewer", "王审",
                   "--note", "warnings as tried on 2020 Q2", "--approve"]
        untried = CliRunner().invoke(app, approve)
        assert untried.exit_code == 2
        assert "was never tried as entity rules" in untried.output.strip().splitlines()[-1]

        tried = CliRunner().invoke(app, ["rules", "try", "--kind", "entity", str(ENTITY_RULES),
                                         "--from", "2020-04", "--to", "2020-06",
                                         "--source", str(trained.source)])
        assert tried.exit_code == 0, tried.output
        lines = tried.output.splitlines()
        assert "scores: techcredit-credit v1 @champion at every month end" in lines
        months = lines.index("hits per month 每月命中数")
        assert [line.split()[0] for line in lines[months + 3:months + 6]] == [
            "2020-04", "2020-05", "2020-06"]
        summary = {tuple(line.split()[:3]) for line in lines[:months]}
        for r in rules.rules:  # a line per rule and kind of subject, with the rule's tier
            assert {(r.code, "institution", r.tier), (r.code, "broker", r.tier)} <= summary
        head = f"entity rules v{rules.version} ({rules.sha256[:12]}) on 2020-04 … 2020-06: "
        total = next(line for line in lines if line.startswith(head))
        table = [line.split() for line in lines[lines.index(total) + 1:months]]
        counted = sum(int(row[3]) for row in table if len(row) > 3 and row[3].isdigit())
        assert total == f"{head}{counted:,} hits"

        client = MlflowClient(f"sqlite:///{home}/mlflow.db")
        experiment = client.get_experiment_by_name(RULES_EXPERIMENT)
        (run,) = client.search_runs([experiment.experiment_id])
        assert run.data.tags["rule_kind"] == "entity" and run.data.tags["kind"] == "try"
        assert run.data.tags["sha256"] == rules.sha256
        assert run.data.tags["champion"] == "techcredit-credit v1 @champion"
        assert "grade_d_high_probability.institution.hits" in run.data.metrics
        # the warned share and precision per tier, beside everyone scored (the base rate)
        assert any(line.startswith("warned share and precision per tier") for line in lines)
        assert run.data.metrics["tier.scored.institution.share"] == 1.0
        assert 0 <= run.data.metrics["tier.warned.broker.share"] <= 1
        kept = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert {"rules.toml", "summary.txt", "hits_per_month.txt", "hits.csv",
                "tiers.txt"} <= kept

        approved = CliRunner().invoke(app, approve)
        assert approved.exit_code == 0, approved.output
        assert f"entity rules v{rules.version}" in approved.output
        assert "approved by 王审" in approved.output
        settings = Settings(home=home)
        active = active_rules(settings, ENTITY)
        assert active is not None and active.sha256 == rules.sha256
        assert active_rules(settings, CONTRACT) is None

        listed = CliRunner().invoke(app, ["rules", "history", "--kind", "entity"])
        rows = [r.split() for r in listed.output.splitlines()[1:]]
        assert [r[2:4] for r in rows] == [["try", "entity"], ["review", "entity"]]
        assert CliRunner().invoke(app, ["rules", "history", "--kind", "contract"]).output == (
            "no rule tries or reviews yet\n")
    finally:
        get_settings.cache_clear()


def test_history_as_json_holds_every_try_and_review(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Recorded as ``rules try`` and ``rules review`` record them (no store needed)."""
    from models.registry import tracking_for
    from models.rules.reviews import record_try, review

    monkeypatch.setenv("TECHCREDIT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    get_settings.cache_clear()
    try:
        tracking = tracking_for(get_settings())
        ruleset = load_rules(DEFAULT)
        record_try(tracking, CONTRACT, ruleset, {}, {}, {"hits": "17"})
        review(tracking, CONTRACT, ruleset, reviewer="王审", note="tried on 2020", approve=True)
        out = CliRunner().invoke(app, ["rules", "history", "--json"])
        text = CliRunner().invoke(app, ["rules", "history"])
        only_entity = CliRunner().invoke(app, ["rules", "history", "--kind", "entity", "--json"])
    finally:
        get_settings.cache_clear()
    assert out.exit_code == 0, out.output
    tried, reviewed = json.loads(out.stdout)
    assert (tried["kind"], tried["rule_kind"], tried["version"], tried["hits"]) == (
        "try", "contract", ruleset.version, 17)
    assert tried["sha256"] == ruleset.sha256  # all of it; the text shows 12 digits
    assert (reviewed["kind"], reviewed["outcome"], reviewed["reviewer"], reviewed["note"],
            reviewed["hits"]) == ("review", "approved", "王审", "tried on 2020", None)
    assert pd.Timestamp(reviewed["decided_at"]).tzinfo is not None
    assert text.exit_code == 0 and "17 hits" in text.output and "tried on 2020" in text.output
    assert json.loads(only_entity.stdout) == []
