"""The one settings object of techcredit.

It lives in ``features`` because that is the package every other one may import (the layers
are checked by ``tests/test_layering.py``). Settings come in groups, one per thing a reader
looks for (the review gate, the points scale, the service's limits, …), and each value is
declared once, here: its default, its environment variable and its meaning. The domain
objects that carry a group (``models.scaling.PointsScale``, ``models.contract_tier.TierBands``,
``models.monitoring.drift.Thresholds``) subclass it to add behaviour, and the gate's
thresholds are a group as they stand, so no default is written twice.

Every value has an embedded default so that ``make demo`` needs no configuration, and its own
``TECHCREDIT_*`` environment variable (or line in ``.env``) switches it. Deployments already
set those names, which are flat (``TECHCREDIT_GATE_MIN_AUC``, ``TECHCREDIT_SERVE_PORT``), so
each field names its variable rather than deriving one from its group.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import to_jsonable_python
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)


def setting(default: Any, variable: str, meaning: str, **constraints: Any) -> Any:
    """A settings field: its default, the environment variable that switches it, its meaning."""
    return Field(default, description=meaning, json_schema_extra={"variable": variable},
                 **constraints)


def variable(field: FieldInfo) -> str:
    """The environment variable a field declared with :func:`setting` is read from."""
    extra = field.json_schema_extra
    if not isinstance(extra, dict) or not isinstance(extra.get("variable"), str):
        raise TypeError(f"a settings field without a variable: {field!r}")
    return str(extra["variable"])


class Group(BaseModel):
    """A group of settings. Read-only once loaded; an unknown name is an error, so a stale or
    misspelt keyword fails where it is written instead of silently keeping the default."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def is_group(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, Group)


class DatabaseSettings(Group):
    url: str | None = setting(
        None, "TECHCREDIT_DATABASE_URL", "the operational database, e.g. "
        "`postgresql+psycopg://user@host/techcredit`; unset: SQLite `techcredit.db` in the home")


class MLflowSettings(Group):
    uri: str | None = setting(
        None, "TECHCREDIT_MLFLOW_URI", "MLflow tracking and registry, e.g. a remote server "
        "`http://mlflow:5000`; unset: SQLite `mlflow.db` in the home")
    artifacts: str | None = setting(
        None, "TECHCREDIT_MLFLOW_ARTIFACTS", "MLflow's artifact root (shared storage); "
        "unset: `mlartifacts/` in the home")


class PrefectSettings(Group):
    home: Path | None = setting(
        None, "TECHCREDIT_PREFECT_HOME", "Prefect's home for the temporary local server; "
        "unset: `prefect/` in the home (set `PREFECT_API_URL` to use a Prefect server instead)")
    dask_address: str | None = setting(
        None, "TECHCREDIT_DASK_ADDRESS", "a Dask scheduler, e.g. `tcp://10.0.0.5:8786`: the "
        "month-end feature panel builds its months in parallel there, one Prefect task a month "
        "(docs/operations.md, \"The panel on a Dask cluster\"); unset: in-process")


class StoreSettings(Group):
    keep_runs: int = setting(5, "TECHCREDIT_STORE_KEEP_RUNS",
                             "curated-store versions kept for `techcredit store rollback`")
    ledger_snapshot: bool = setting(
        True, "TECHCREDIT_STORE_LEDGER_SNAPSHOT", "save the real-time contract ledger's state "
        "with each store version the ingest publishes, so the service and `techcredit score "
        "--contract` load it in seconds instead of replaying the register (minutes at full "
        "scale); a version's snapshot is advanced from the previous one when the new version "
        "only adds to it")
    ledger_days: int = setting(
        90, "TECHCREDIT_STORE_LEDGER_DAYS", "days of recent contracts' features a ledger "
        "snapshot keeps, so any contract rule set counting that far back is warmed from it; "
        "rules counting further back make the service rebuild the ledger", ge=1)


class PointsSettings(Group):
    """Credit points: ``points = offset + factor · ln(good:bad odds)`` (models.scaling)."""

    base_score: float = setting(600.0, "TECHCREDIT_POINTS_BASE_SCORE", "points at the base odds")
    base_odds: float = setting(50.0, "TECHCREDIT_POINTS_BASE_ODDS",
                               "good:bad odds at the base score")
    pdo: float = setting(20.0, "TECHCREDIT_POINTS_PDO", "points to double the odds")

    @model_validator(mode="after")
    def _positive(self) -> PointsSettings:
        if self.pdo <= 0 or self.base_odds <= 0:
            raise ValueError(
                f"PDO and base odds must be positive, got {self.pdo}, {self.base_odds}")
        return self


class GradeSettings(Group):
    """The master scale: grades are bands of the probability of a confirmed dishonesty record
    within 12 months (docs/master-scale.md). A grade holds every PD below its upper bound and
    at or above the better grade's; D is everything from C's bound up."""

    a_max_pd: float = setting(0.04, "TECHCREDIT_GRADE_A_MAX_PD", "grade A: PD below this")
    b_max_pd: float = setting(0.06, "TECHCREDIT_GRADE_B_MAX_PD", "grade B: PD below this")
    c_max_pd: float = setting(0.10, "TECHCREDIT_GRADE_C_MAX_PD",
                              "grade C: PD below this; D at or above")

    @model_validator(mode="after")
    def _rising(self) -> GradeSettings:
        if not 0 < self.a_max_pd < self.b_max_pd < self.c_max_pd < 1:
            raise ValueError(
                f"grade bounds must rise strictly inside (0, 1): A {self.a_max_pd} < "
                f"B {self.b_max_pd} < C {self.c_max_pd}")
        return self


class GateThresholds(Group):
    """The review gate a model must pass before it may become champion (models.gate reads it
    as it stands)."""

    min_auc: float = setting(0.70, "TECHCREDIT_GATE_MIN_AUC", "review gate: test-period AUC")
    max_psi: float = setting(0.25, "TECHCREDIT_GATE_MAX_PSI",
                             "review gate: score PSI train → test")
    min_calibration_ratio: float = setting(
        0.75, "TECHCREDIT_GATE_MIN_CALIBRATION_RATIO",
        "review gate: lowest expected / observed bads on the test period")
    max_calibration_ratio: float = setting(
        1.33, "TECHCREDIT_GATE_MAX_CALIBRATION_RATIO",
        "review gate: highest expected / observed bads on the test period")
    auc_tolerance: float = setting(
        0.005, "TECHCREDIT_GATE_AUC_TOLERANCE",
        "review gate: AUC allowed below the baseline or champion")
    min_rows: int = setting(
        30, "TECHCREDIT_GATE_MIN_ROWS",
        "review gate: fewer rows in a grade or segment are not judged")
    min_segment_auc: float = setting(0.60, "TECHCREDIT_GATE_MIN_SEGMENT_AUC",
                                     "review gate: AUC per segment")
    segment: str = setting("entity_kind", "TECHCREDIT_GATE_SEGMENT",
                           "review gate: segment column whose levels are checked")


class OfficeSettings(Group):
    review_capacity: int = setting(
        50, "TECHCREDIT_OFFICE_REVIEW_CAPACITY", "contracts one registration office reviews a "
        "year (the k of the anomaly model's and the rules' precision at k)")


class TierSettings(Group):
    """Lowest anomaly probability of each contract warning tier; below ``blue`` no warning."""

    red: float = setting(0.5, "TECHCREDIT_CONTRACT_TIER_RED", "anomaly probability: red")
    orange: float = setting(0.2, "TECHCREDIT_CONTRACT_TIER_ORANGE", "anomaly probability: orange")
    yellow: float = setting(0.08, "TECHCREDIT_CONTRACT_TIER_YELLOW", "anomaly probability: yellow")
    blue: float = setting(0.03, "TECHCREDIT_CONTRACT_TIER_BLUE", "anomaly probability: blue")

    @model_validator(mode="after")
    def _rising(self) -> TierSettings:
        if not 0 < self.blue <= self.yellow <= self.orange <= self.red <= 1:
            raise ValueError(f"tier bands must rise blue ≤ yellow ≤ orange ≤ red in (0, 1]: "
                             f"{self}")
        return self


class WarningSettings(Group):
    rules: Path | None = setting(
        None, "TECHCREDIT_WARNING_RULES", "the entity warning rules (TOML) in force until entity "
        "rules are approved; unset: `models/rules/entity.toml`")


class CaseSettings(Group):
    """Dishonesty cases: legal windows in working days, publication periods in months."""

    objection_workdays: int = setting(
        15, "TECHCREDIT_CASE_OBJECTION_WORKDAYS",
        "after notice, working days the subject has to object", ge=1)
    answer_workdays: int = setting(10, "TECHCREDIT_CASE_ANSWER_WORKDAYS",
                                   "working days to answer an objection", ge=1)
    repair_answer_workdays: int = setting(10, "TECHCREDIT_CASE_REPAIR_ANSWER_WORKDAYS",
                                          "working days to decide a repair application", ge=1)
    publication_months: dict[str, tuple[int, int]] = setting(
        {"minor": (0, 3), "general": (3, 12), "serious": (12, 36)},
        "TECHCREDIT_CASE_PUBLICATION_MONTHS",
        "severity: (minimum, maximum) months of publication from the decision date; repair "
        "may be applied for after the minimum, publication ends at the maximum (national "
        "credit-repair measures in force from 2026-04-01)")
    publish_minor: bool = setting(False, "TECHCREDIT_CASE_PUBLISH_MINOR",
                                  "minor dishonesty is in principle not published")
    open_tiers: tuple[str, ...] = setting(
        ("red",), "TECHCREDIT_CASE_OPEN_TIERS",
        "warning tiers that open a flagged case by themselves")


class AssessmentSettings(Group):
    """The annual assessment: the indicator system, appeals, the regulator's exit quota."""

    indicators: Path | None = setting(
        None, "TECHCREDIT_ASSESSMENT_INDICATORS",
        "indicator system (TOML); unset: `models/assessment/indicators.toml`")
    appeal_days: int = setting(30, "TECHCREDIT_ASSESSMENT_APPEAL_DAYS",
                               "days after publication an outcome may be appealed", ge=1)
    quota: int = setting(0, "TECHCREDIT_ASSESSMENT_QUOTA",
                         "lowest totals that exit each year (末位淘汰); 0: none", ge=0)


class DriftSettings(Group):
    """When a monthly shift counts: PSI levels (both inclusive) and the test level a shift
    must pass (p-value strictly below ``alpha``)."""

    watch: float = setting(0.1, "TECHCREDIT_MONITOR_PSI_WATCH",
                           "PSI from which a variable is watched (inclusive)", gt=0)
    act: float = setting(0.25, "TECHCREDIT_MONITOR_PSI_ACT",
                         "PSI from which a variable calls for action (inclusive)", gt=0)
    alpha: float = setting(
        0.01, "TECHCREDIT_MONITOR_ALPHA",
        "a shift counts only if the Jensen–Shannon (G-) test's p-value is below this",
        gt=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> DriftSettings:
        if not self.watch < self.act:
            raise ValueError(f"PSI thresholds must satisfy 0 < watch < act, got watch "
                             f"{self.watch}, act {self.act}")
        return self


class MonitorSettings(Group):
    """The monthly monitoring run: what it watches besides the score, and what follows."""

    top_features: int = setting(
        10, "TECHCREDIT_MONITOR_TOP_FEATURES",
        "features watched besides the score, by model importance", ge=1)
    bins: int = setting(10, "TECHCREDIT_MONITOR_BINS",
                        "quantile bins fixed on the training window", ge=2)
    retrain: bool = setting(True, "TECHCREDIT_MONITOR_RETRAIN",
                            "an act alert retrains and registers a challenger")


class ApiSettings(Group):
    """The HTTP service: where `techcredit serve` binds, and the limits of a request."""

    host: str = setting("127.0.0.1", "TECHCREDIT_SERVE_HOST", "address `techcredit serve` binds")
    port: int = setting(8000, "TECHCREDIT_SERVE_PORT", "port `techcredit serve` binds")
    max_body_bytes: int = setting(1_048_576, "TECHCREDIT_API_MAX_BODY_BYTES",
                                  "larger request bodies are refused with 413")
    batch_max: int = setting(1000, "TECHCREDIT_API_BATCH_MAX", "contracts in one batch check")
    page_max: int = setting(500, "TECHCREDIT_API_PAGE_MAX", "rows in one page of a list")
    auth_cache_seconds: float = setting(
        5.0, "TECHCREDIT_AUTH_CACHE_SECONDS", "a token's check is reused this long (a "
        "revocation takes effect within it); 0: check every request")
    check_batch_wait_seconds: float = setting(
        0.001, "TECHCREDIT_CHECK_BATCH_WAIT_SECONDS", "a contract check waits this long for "
        "others to be scored with it (0: those of the same loop turn)", ge=0)


class SecuritySettings(Group):
    """What the service believes about its callers and how it guards the console."""

    console_https: bool = setting(
        False, "TECHCREDIT_CONSOLE_HTTPS", "the service is served over HTTPS (directly or "
        "behind a TLS proxy): the console's cookies are marked Secure, never sent in clear, "
        "and answers carry Strict-Transport-Security")
    console_session_hours: float = setting(
        8.0, "TECHCREDIT_CONSOLE_SESSION_HOURS", "a console sign-in lasts this long (never "
        "past its token's expiry); signing out or revoking the token ends it at once", gt=0)
    trusted_proxies: list[str] = setting(
        [], "TECHCREDIT_TRUSTED_PROXIES", "addresses (or networks) of the reverse proxies in "
        "front of the service, as a JSON list: only their X-Forwarded-For/-Proto are believed "
        "and written in the audit; empty: none, the peer's address is the caller's")
    auth_failures_per_minute: int = setting(
        20, "TECHCREDIT_AUTH_FAILURES_PER_MINUTE", "failed sign-ins from one address (or with "
        "one token prefix) in a minute before further attempts are answered 429", ge=1)
    api_docs: bool = setting(
        False, "TECHCREDIT_API_DOCS", "serve Swagger UI at /docs; its script and styles come "
        "from cdn.jsdelivr.net, so only where browsers reach it; /openapi.json is always "
        "served")


class PollingSettings(Group):
    """How often the service looks for what other processes wrote."""

    model_seconds: float = setting(30.0, "TECHCREDIT_MODEL_POLL_SECONDS",
                                   "how often the service looks for a new champion")
    state_seconds: float = setting(
        60.0, "TECHCREDIT_STATE_POLL_SECONDS", "how often the service looks for a new "
        "curated-store version or rule approval, and rebuilds its real-time contract ledger "
        "when one came (0: never)", ge=0)
    scores_seconds: float = setting(
        1.0, "TECHCREDIT_SCORES_POLL_SECONDS", "how often the service looks for new scores, "
        "warnings and overrides written by other processes", gt=0)
    models_page_seconds: float = setting(
        5.0, "TECHCREDIT_MODELS_PAGE_SECONDS", "how long the reviewers' model catalog "
        "(versions, figures, gate, decisions) is reused before MLflow is read again; a "
        "decision made through the service shows at once (0: read it on every request)", ge=0)


class ReportSettings(Group):
    chromium: Path = setting(
        Path("/usr/bin/chromium"), "TECHCREDIT_CHROMIUM_PATH",
        "the Chromium that prints reports to PDF; if absent, `chromium` on PATH")


class AuditSettings(Group):
    """The audit chain's key and the checkpoints kept outside the database."""

    key: str | None = setting(
        None, "TECHCREDIT_AUDIT_KEY", "the audit key ring: a path to a key file (one hex key a "
        "line, the last one signs), or one hex key itself; unset: `audit.key` in the home, "
        "created (0600) on first use")
    checkpoints: Path | None = setting(
        None, "TECHCREDIT_AUDIT_CHECKPOINTS", "the signed checkpoint file of the audit chain; "
        "unset: `audit-checkpoints.jsonl` in the home")
    checkpoint_mirror: Path | None = setting(
        None, "TECHCREDIT_AUDIT_CHECKPOINT_MIRROR", "a second checkpoint file, ideally on "
        "another machine's mount; unset: none")
    checkpoint_every: int = setting(
        1000, "TECHCREDIT_AUDIT_CHECKPOINT_EVERY", "a writer adds a checkpoint after this many "
        "new entries", ge=1)
    checkpoint_seconds: float = setting(
        10.0, "TECHCREDIT_AUDIT_CHECKPOINT_SECONDS", "… or when this long has passed since its "
        "last checkpoint", ge=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="forbid")

    home: Path = setting(Path(".techcredit"), "TECHCREDIT_HOME",
                         "data directory: curated store, features, reports, embedded databases")
    seed: int = setting(20261123, "TECHCREDIT_SEED",
                        "random seed of training and of the rows Great Expectations re-checks")
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    mlflow: MLflowSettings = Field(default_factory=MLflowSettings)
    prefect: PrefectSettings = Field(default_factory=PrefectSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    points: PointsSettings = Field(default_factory=PointsSettings)
    grades: GradeSettings = Field(default_factory=GradeSettings)
    gate: GateThresholds = Field(default_factory=GateThresholds)
    offices: OfficeSettings = Field(default_factory=OfficeSettings)
    tiers: TierSettings = Field(default_factory=TierSettings)
    warnings: WarningSettings = Field(default_factory=WarningSettings)
    cases: CaseSettings = Field(default_factory=CaseSettings)
    assessment: AssessmentSettings = Field(default_factory=AssessmentSettings)
    drift: DriftSettings = Field(default_factory=DriftSettings)
    monitor: MonitorSettings = Field(default_factory=MonitorSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    polling: PollingSettings = Field(default_factory=PollingSettings)
    reports: ReportSettings = Field(default_factory=ReportSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as e:  # say which variable to fix, not only which field
            raise SettingsError(_explain(e)) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keywords first, then the declared variables in the environment, then in ``.env``."""
        assert isinstance(env_settings, EnvSettingsSource)
        assert isinstance(dotenv_settings, DotEnvSettingsSource)
        return (init_settings, Variables(settings_cls, env_settings.env_vars),
                Variables(settings_cls, dotenv_settings.env_vars))

    @property
    def home_dir(self) -> Path:
        return self.home.expanduser().resolve()

    @property
    def audit_checkpoints(self) -> Path:
        return (self.audit.checkpoints or self.home_dir / "audit-checkpoints.jsonl").expanduser()

    @property
    def db_url(self) -> str:
        return self.database.url or f"sqlite:///{self.home_dir / 'techcredit.db'}"

    @property
    def tracking_uri(self) -> str:
        return self.mlflow.uri or f"sqlite:///{self.home_dir / 'mlflow.db'}"

    @property
    def mlflow_artifact_root(self) -> str:
        return self.mlflow.artifacts or (self.home_dir / "mlartifacts").as_uri()

    @property
    def prefect_dir(self) -> Path:
        return (self.prefect.home or self.home_dir / "prefect").expanduser().resolve()

    @property
    def market_dir(self) -> Path:
        """Where ``demo`` writes the synthetic market's raw exports."""
        return self.home_dir / "market"

    @property
    def curated_dir(self) -> Path:
        return self.home_dir / "curated"

    @property
    def reports_dir(self) -> Path:
        return self.home_dir / "reports"

    @property
    def features_dir(self) -> Path:
        return self.home_dir / "features"


def declared(model: type[BaseModel] = Settings, path: tuple[str, ...] = ()
             ) -> list[tuple[tuple[str, ...], FieldInfo]]:
    """Every setting as (path of names, field), groups opened, in declaration order."""
    out: list[tuple[tuple[str, ...], FieldInfo]] = []
    for name, field in model.model_fields.items():
        if is_group(field.annotation):
            out.extend(declared(field.annotation, (*path, name)))
        else:
            out.append(((*path, name), field))
    return out


class Variables(PydanticBaseSettingsSource):
    """The declared variables found in one mapping of names (the environment or ``.env``,
    lower-cased as pydantic-settings reads them), nested as the settings are."""

    def __init__(self, settings_cls: type[BaseSettings],
                 found: Mapping[str, str | None]) -> None:
        super().__init__(settings_cls)
        self.found = found

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self.found.get(variable(field).lower()), field_name, self.field_is_complex(field)

    def __call__(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for path, field in declared(self.settings_cls):
            value, name, is_complex = self.get_field_value(field, path[-1])
            if value is None:
                continue
            try:
                value = self.prepare_field_value(name, field, value, is_complex)
            except ValueError as e:  # JSON of a list or mapping
                raise SettingsError(f"{variable(field)}: not valid JSON ({e})") from None
            inner = out
            for group in path[:-1]:
                inner = inner.setdefault(group, {})
            inner[name] = value
        return out


def _explain(error: ValidationError) -> str:
    """Each error with the variable (or, for a group's own check, the variables) to fix."""
    lines = []
    for e in error.errors():
        lines.append(f"{_named(e['loc'])}: {e['msg']} (got {e['input']!r})")
    return "invalid settings:\n  " + "\n  ".join(lines)


def _named(loc: tuple[int | str, ...]) -> str:
    model: type[BaseModel] = Settings
    path: list[str] = []
    for part in loc:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        path.append(str(part))
        if field is None:
            return f"{'.'.join(path)} (no such setting)"
        if not is_group(field.annotation):
            return f"{variable(field)} ({'.'.join(path)})"
        model = field.annotation
    names = ", ".join(variable(f) for _, f in declared(model))
    return f"{names} ({'.'.join(path)})"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


# docs/operations.md is written by hand except for its table of settings, which
# ``techcredit docs`` rewrites between these lines (a test fails when it is stale)
TABLE_BEGIN = "<!-- settings:begin -->\n"
TABLE_END = "\n<!-- settings:end -->"


def _written(value: Any) -> str:
    """A default as one would write it in its variable."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float):
        return f"`{value:g}`"
    if isinstance(value, dict | tuple | list):
        return f"`{json.dumps(to_jsonable_python(value), ensure_ascii=False)}`"
    return f"`{value}`"


def settings_table() -> str:
    """Every setting: its group, name, variable, default and meaning, in declaration order."""
    lines = ["| group | setting | variable | default | meaning |",
             "| --- | --- | --- | --- | --- |"]
    for path, field in declared():
        default = field.get_default(call_default_factory=True)
        group = f"`{path[0]}`" if len(path) > 1 else "—"
        lines.append(f"| {group} | `{path[-1]}` | `{variable(field)}` | {_written(default)} "
                     f"| {field.description} |")
    return "\n".join(lines)


def with_settings_table(page: str) -> str:
    """``page`` with the current :func:`settings_table` between its ``settings:begin`` and
    ``settings:end`` markers."""
    head, begin, rest = page.partition(TABLE_BEGIN)
    _, end, tail = rest.partition(TABLE_END)
    if not begin or not end:
        raise ValueError(f"no {TABLE_BEGIN.strip()} … {TABLE_END.strip()} markers to write the "
                         "settings table between")
    return f"{head}{begin}{settings_table()}{end}{tail}"
