"""The settings: nested groups, each value declared once, read from the flat ``TECHCREDIT_*``
variables deployments already set; a bad value names its variable; the table in
docs/operations.md is the declarations'."""

from __future__ import annotations

import ast
import os
from pathlib import Path
from typing import Any

import pytest
from pydantic_settings import SettingsError

from features.settings import (
    TABLE_BEGIN,
    TABLE_END,
    DatabaseSettings,
    DriftSettings,
    GateThresholds,
    GradeSettings,
    PointsSettings,
    Settings,
    TierSettings,
    declared,
    is_group,
    settings_table,
    variable,
)
from models.monitoring.drift import Thresholds
from models.rules.contract_tier import TierBands
from models.scaling import GradeCuts, PointsScale

ROOT = Path(__file__).resolve().parents[2]

# Every variable read before the settings were grouped, where it lands now, a value to set it
# to (as text, as in the environment) and the value that must arrive. Written out rather than
# derived from the declarations, so that renaming a variable fails here.
FLAT: list[tuple[str, str, str, Any]] = [
    ("TECHCREDIT_HOME", "home", "/srv/tc", Path("/srv/tc")),
    ("TECHCREDIT_DATABASE_URL", "database.url", "postgresql+psycopg://u@h/tc",
     "postgresql+psycopg://u@h/tc"),
    ("TECHCREDIT_MLFLOW_URI", "mlflow.uri", "http://mlflow:5000", "http://mlflow:5000"),
    ("TECHCREDIT_PREFECT_HOME", "prefect.home", "/srv/prefect", Path("/srv/prefect")),
    ("TECHCREDIT_DASK_ADDRESS", "prefect.dask_address", "tcp://10.0.0.5:8786",
     "tcp://10.0.0.5:8786"),
    ("TECHCREDIT_SEED", "seed", "7", 7),
    ("TECHCREDIT_STORE_KEEP_RUNS", "store.keep_runs", "9", 9),
    ("TECHCREDIT_STORE_LEDGER_SNAPSHOT", "store.ledger_snapshot", "false", False),
    ("TECHCREDIT_STORE_LEDGER_DAYS", "store.ledger_days", "30", 30),
    ("TECHCREDIT_MLFLOW_ARTIFACTS", "mlflow.artifacts", "s3://bucket/ml", "s3://bucket/ml"),
    ("TECHCREDIT_POINTS_BASE_SCORE", "points.base_score", "500", 500.0),
    ("TECHCREDIT_POINTS_BASE_ODDS", "points.base_odds", "20", 20.0),
    ("TECHCREDIT_POINTS_PDO", "points.pdo", "40", 40.0),
    ("TECHCREDIT_GRADE_A_MAX_PD", "grades.a_max_pd", "0.015", 0.015),
    ("TECHCREDIT_GRADE_B_MAX_PD", "grades.b_max_pd", "0.05", 0.05),
    ("TECHCREDIT_GRADE_C_MAX_PD", "grades.c_max_pd", "0.09", 0.09),
    ("TECHCREDIT_GATE_MIN_AUC", "gate.min_auc", "0.8", 0.8),
    ("TECHCREDIT_GATE_MAX_PSI", "gate.max_psi", "0.2", 0.2),
    ("TECHCREDIT_GATE_MIN_CALIBRATION_RATIO", "gate.min_calibration_ratio", "0.8", 0.8),
    ("TECHCREDIT_GATE_MAX_CALIBRATION_RATIO", "gate.max_calibration_ratio", "1.25", 1.25),
    ("TECHCREDIT_GATE_AUC_TOLERANCE", "gate.auc_tolerance", "0.01", 0.01),
    ("TECHCREDIT_GATE_MIN_ROWS", "gate.min_rows", "40", 40),
    ("TECHCREDIT_GATE_MIN_SEGMENT_AUC", "gate.min_segment_auc", "0.65", 0.65),
    ("TECHCREDIT_GATE_SEGMENT", "gate.segment", "region", "region"),
    ("TECHCREDIT_OFFICE_REVIEW_CAPACITY", "offices.review_capacity", "80", 80),
    ("TECHCREDIT_WARNING_RULES", "warnings.rules", "/etc/tc/rules.toml",
     Path("/etc/tc/rules.toml")),
    ("TECHCREDIT_SERVE_HOST", "api.host", "0.0.0.0", "0.0.0.0"),
    ("TECHCREDIT_SERVE_PORT", "api.port", "9000", 9000),
    ("TECHCREDIT_API_MAX_BODY_BYTES", "api.max_body_bytes", "2048", 2048),
    ("TECHCREDIT_AUTH_CACHE_SECONDS", "api.auth_cache_seconds", "0", 0.0),
    ("TECHCREDIT_API_BATCH_MAX", "api.batch_max", "10", 10),
    ("TECHCREDIT_API_PAGE_MAX", "api.page_max", "20", 20),
    ("TECHCREDIT_MODEL_POLL_SECONDS", "polling.model_seconds", "3600", 3600.0),
    ("TECHCREDIT_STATE_POLL_SECONDS", "polling.state_seconds", "0", 0.0),
    ("TECHCREDIT_MODELS_PAGE_SECONDS", "polling.models_page_seconds", "0.5", 0.5),
    ("TECHCREDIT_CHECK_BATCH_WAIT_SECONDS", "api.check_batch_wait_seconds", "0", 0.0),
    ("TECHCREDIT_CONSOLE_HTTPS", "security.console_https", "true", True),
    ("TECHCREDIT_CONSOLE_SESSION_HOURS", "security.console_session_hours", "1.5", 1.5),
    ("TECHCREDIT_TRUSTED_PROXIES", "security.trusted_proxies", '["10.0.0.2"]', ["10.0.0.2"]),
    ("TECHCREDIT_AUTH_FAILURES_PER_MINUTE", "security.auth_failures_per_minute", "5", 5),
    ("TECHCREDIT_API_DOCS", "security.api_docs", "true", True),
    ("TECHCREDIT_SCORES_POLL_SECONDS", "polling.scores_seconds", "2.5", 2.5),
    ("TECHCREDIT_CONTRACT_TIER_RED", "tiers.red", "0.6", 0.6),
    ("TECHCREDIT_CONTRACT_TIER_ORANGE", "tiers.orange", "0.3", 0.3),
    ("TECHCREDIT_CONTRACT_TIER_YELLOW", "tiers.yellow", "0.1", 0.1),
    ("TECHCREDIT_CONTRACT_TIER_BLUE", "tiers.blue", "0.05", 0.05),
    ("TECHCREDIT_CHROMIUM_PATH", "reports.chromium", "/opt/chrome", Path("/opt/chrome")),
    ("TECHCREDIT_AUDIT_KEY", "audit.key", "/srv/keys/audit.key", "/srv/keys/audit.key"),
    ("TECHCREDIT_AUDIT_CHECKPOINTS", "audit.checkpoints", "/srv/cp.jsonl", Path("/srv/cp.jsonl")),
    ("TECHCREDIT_AUDIT_CHECKPOINT_MIRROR", "audit.checkpoint_mirror", "/mnt/cp.jsonl",
     Path("/mnt/cp.jsonl")),
    ("TECHCREDIT_AUDIT_CHECKPOINT_EVERY", "audit.checkpoint_every", "50", 50),
    ("TECHCREDIT_AUDIT_CHECKPOINT_SECONDS", "audit.checkpoint_seconds", "2.5", 2.5),
    ("TECHCREDIT_CASE_OBJECTION_WORKDAYS", "cases.objection_workdays", "20", 20),
    ("TECHCREDIT_CASE_ANSWER_WORKDAYS", "cases.answer_workdays", "12", 12),
    ("TECHCREDIT_CASE_REPAIR_ANSWER_WORKDAYS", "cases.repair_answer_workdays", "7", 7),
    ("TECHCREDIT_CASE_PUBLICATION_MONTHS", "cases.publication_months",
     '{"minor": [0, 6], "general": [6, 24], "serious": [24, 60]}',
     {"minor": (0, 6), "general": (6, 24), "serious": (24, 60)}),
    ("TECHCREDIT_CASE_PUBLISH_MINOR", "cases.publish_minor", "true", True),
    ("TECHCREDIT_CASE_OPEN_TIERS", "cases.open_tiers", '["red", "orange"]', ("red", "orange")),
    ("TECHCREDIT_ASSESSMENT_INDICATORS", "assessment.indicators", "/etc/tc/ind.toml",
     Path("/etc/tc/ind.toml")),
    ("TECHCREDIT_ASSESSMENT_APPEAL_DAYS", "assessment.appeal_days", "45", 45),
    ("TECHCREDIT_ASSESSMENT_QUOTA", "assessment.quota", "3", 3),
    ("TECHCREDIT_MONITOR_PSI_WATCH", "drift.watch", "0.15", 0.15),
    ("TECHCREDIT_MONITOR_PSI_ACT", "drift.act", "0.3", 0.3),
    ("TECHCREDIT_MONITOR_ALPHA", "drift.alpha", "0.05", 0.05),
    ("TECHCREDIT_MONITOR_TOP_FEATURES", "monitor.top_features", "5", 5),
    ("TECHCREDIT_MONITOR_BINS", "monitor.bins", "20", 20),
    ("TECHCREDIT_MONITOR_RETRAIN", "monitor.retrain", "false", False),
]


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No variable of the machine's and no ``.env`` of the checkout leaks in."""
    for name in [n for n in os.environ if n.upper().startswith("TECHCREDIT_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def at(settings: Settings, path: str) -> Any:
    value: Any = settings
    for name in path.split("."):
        value = getattr(value, name)
    return value


def test_every_variable_of_before_is_read_and_nothing_else_is_declared() -> None:
    assert sorted(variable(f) for _, f in declared()) == sorted(v for v, *_ in FLAT)
    assert {".".join(p): variable(f) for p, f in declared()} == {p: v for v, p, *_ in FLAT}


@pytest.mark.parametrize(("name", "path", "raw", "expected"), FLAT, ids=[v for v, *_ in FLAT])
def test_each_variable_lands_in_its_field(monkeypatch: pytest.MonkeyPatch, name: str, path: str,
                                          raw: str, expected: Any) -> None:
    default = at(Settings(), path)
    assert default != expected  # the value set is seen, not the default
    monkeypatch.setenv(name, raw)
    assert at(Settings(), path) == expected


def test_names_are_read_in_any_case_and_from_dotenv_below_the_environment(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TECHCREDIT_GATE_MIN_AUC=0.8\nTECHCREDIT_SERVE_PORT=9000\n")
    monkeypatch.setenv("techcredit_serve_port", "9100")
    s = Settings()
    assert (s.gate.min_auc, s.api.port) == (0.8, 9100)


def test_keywords_beat_variables_and_a_partial_group_keeps_the_rest(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TECHCREDIT_GATE_MIN_AUC", "0.8")
    monkeypatch.setenv("TECHCREDIT_GATE_MAX_PSI", "0.2")
    s = Settings(gate={"max_psi": 0.3})
    assert (s.gate.min_auc, s.gate.max_psi) == (0.8, 0.3)
    assert Settings(database=DatabaseSettings(url="sqlite://")).db_url == "sqlite://"


@pytest.mark.parametrize(("env", "named"), [
    ({"TECHCREDIT_GATE_MIN_AUC": "high"}, ["TECHCREDIT_GATE_MIN_AUC"]),
    ({"TECHCREDIT_MONITOR_BINS": "1"}, ["TECHCREDIT_MONITOR_BINS"]),
    ({"TECHCREDIT_CASE_OPEN_TIERS": "red"}, ["TECHCREDIT_CASE_OPEN_TIERS"]),  # not JSON
    # a group's own check names the group's variables
    ({"TECHCREDIT_GRADE_B_MAX_PD": "0.01"},
     ["TECHCREDIT_GRADE_A_MAX_PD", "TECHCREDIT_GRADE_B_MAX_PD"]),
    ({"TECHCREDIT_CONTRACT_TIER_BLUE": "0.9"}, ["TECHCREDIT_CONTRACT_TIER_BLUE"]),
])
def test_a_bad_value_names_its_variable(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                        named: list[str]) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(SettingsError) as e:
        Settings()
    assert all(n in str(e.value) for n in named), str(e.value)


def test_a_keyword_of_the_flat_shape_is_refused_not_ignored() -> None:
    with pytest.raises(SettingsError, match="database_url"):
        Settings(database_url="sqlite://")
    with pytest.raises(SettingsError, match="page"):
        Settings(api={"page": 10})


@pytest.mark.parametrize(("domain", "group"), [
    (PointsScale, PointsSettings), (GradeCuts, GradeSettings), (TierBands, TierSettings),
    (Thresholds, DriftSettings)])
def test_a_domain_object_is_its_group_and_declares_nothing_of_its_own(
        domain: type, group: type) -> None:
    assert issubclass(domain, group)
    assert domain.model_fields.keys() == group.model_fields.keys()
    assert not vars(domain).get("__annotations__")  # no field, hence no default, redeclared
    assert domain() == domain(**group().model_dump())


def test_the_domain_objects_are_built_from_the_settings_by_name() -> None:
    s = Settings(points={"pdo": 40}, tiers={"red": 0.6}, gate={"min_rows": 40})
    assert PointsScale(**s.points.model_dump()).pdo == 40
    assert TierBands.from_settings(s).red == 0.6
    assert isinstance(s.gate, GateThresholds) and s.gate.min_rows == 40


def _class_defaults(tree: ast.Module) -> dict[str, dict[str, Any]]:
    """Per class of a module, its fields written with a default (literal where it is one)."""
    out: dict[str, dict[str, Any]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            fields = {}
            for st in node.body:
                if (isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name)
                        and st.value is not None):
                    try:
                        fields[st.target.id] = ast.literal_eval(st.value)
                    except ValueError:
                        fields[st.target.id] = ast.unparse(st.value)
            out[node.name] = fields
    return out


def test_no_class_elsewhere_declares_a_settings_default_again() -> None:
    """A class that writes defaults for two fields of a group mirrors it (it should be, or be
    built from, the group), and a field with a setting's name and the same default repeats
    it: both drift apart the day the setting changes."""
    groups = {name: f.annotation for name, f in Settings.model_fields.items()
              if is_group(f.annotation)}
    defaults = {p[-1]: f.get_default(call_default_factory=True) for p, f in declared()}
    found = []
    for pkg in ("features", "models", "pipelines", "service"):
        for path in sorted((ROOT / pkg).rglob("*.py")):
            if path == ROOT / "features" / "settings.py":
                continue
            for cls, fields in _class_defaults(ast.parse(path.read_text(encoding="utf-8"))).items():
                where = f"{path.relative_to(ROOT)}:{cls}"
                for name, group in groups.items():
                    if len(fields.keys() & group.model_fields.keys()) >= 2:
                        found.append(f"{where} mirrors settings.{name}")
                found += [f"{where}.{k} repeats its setting's default {v!r}"
                          for k, v in fields.items() if k in defaults and defaults[k] == v]
    assert found == []


def test_variables_are_unique_and_prefixed() -> None:
    names = [variable(f) for _, f in declared()]
    assert len(names) == len(set(names))
    assert all(n.startswith("TECHCREDIT_") and n == n.upper() for n in names)


def test_operations_md_lists_the_settings_as_declared() -> None:
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    quoted = text.split(TABLE_BEGIN)[1].split(TABLE_END)[0]
    assert quoted == settings_table(), "docs/operations.md is stale: run `techcredit docs`"
    assert all(f"`{variable(f)}`" in quoted for _, f in declared())
