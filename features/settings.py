"""The one settings object of techcredit.

It lives in ``features`` because that is the package every other one may import (the layers
are checked by ``tests/test_layering.py``); every value has an embedded default so that
``make demo`` needs no configuration, and every value can be switched by a ``TECHCREDIT_*``
environment variable.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TECHCREDIT_", env_file=".env", extra="ignore")

    home: Path = Field(default=Path(".techcredit"), description="data directory")
    database_url: str | None = Field(default=None, description="default: SQLite in home")
    mlflow_uri: str | None = Field(default=None, description="default: SQLite in home")
    prefect_home: Path | None = Field(default=None, description="default: home/prefect")
    seed: int = 20261123
    store_keep_runs: int = Field(default=5, description="store versions kept for rollback")

    # models (issue 5): credit points, grades, review gate, anomaly review capacity
    mlflow_artifacts: str | None = Field(default=None, description="default: home/mlartifacts")
    points_base_score: float = Field(default=600.0, description="points at the base odds")
    points_base_odds: float = Field(default=50.0, description="good:bad odds at the base score")
    points_pdo: float = Field(default=20.0, description="points to double the odds")
    grade_a_min: float = Field(default=600.0, description="lowest points of grade A (PD < 2%)")
    grade_b_min: float = Field(default=575.0, description="lowest points of grade B (PD < 4.6%)")
    grade_c_min: float = Field(default=545.0, description="lowest points of grade C (PD < 12%)")
    gate_min_auc: float = Field(default=0.70, description="review gate: test-period AUC")
    gate_max_psi: float = Field(default=0.25, description="review gate: score PSI train→test")
    gate_min_calibration_ratio: float = Field(default=0.75, description="expected/observed bads")
    gate_max_calibration_ratio: float = Field(default=1.33, description="expected/observed bads")
    gate_auc_tolerance: float = Field(
        default=0.005, description="review gate: AUC allowed below the baseline or champion"
    )
    gate_min_rows: int = Field(
        default=30, description="review gate: fewer rows in a grade or segment are not judged"
    )
    gate_min_segment_auc: float = Field(default=0.60, description="review gate: AUC per segment")
    gate_segment: str = Field(
        default="entity_kind", description="review gate: segment column whose levels are checked"
    )
    office_review_capacity: int = Field(
        default=50, description="contracts one office reviews a year"
    )
    # batch scoring (issue 11): the entity warning rules before any are approved, a TOML file
    # like models/rules/entity.toml
    warning_rules: Path | None = Field(
        default=None, description="entity warning rules TOML in force until entity rules are "
        "approved; default: models/rules/entity.toml"
    )

    # the service (issue 11): limits, paging, model refresh
    serve_host: str = Field(default="127.0.0.1", description="address `techcredit serve` binds")
    serve_port: int = Field(default=8000, description="port `techcredit serve` binds")
    api_max_body_bytes: int = Field(
        default=1_048_576, description="larger request bodies are refused with 413"
    )
    auth_cache_seconds: float = Field(
        default=5.0, description="a token's check is reused this long (a revocation takes "
                                 "effect within it); 0: check every request"
    )
    api_batch_max: int = Field(default=1000, description="contracts in one batch check")
    api_page_max: int = Field(default=500, description="rows in one page of a list")
    model_poll_seconds: float = Field(
        default=30.0, description="how often the service looks for a new champion"
    )
    state_poll_seconds: float = Field(
        default=60.0, ge=0, description="how often the service looks for a new curated-store "
                                        "version or rule approval, and rebuilds its real-time "
                                        "registry state when one came (0: never)"
    )
    models_page_seconds: float = Field(
        default=5.0, ge=0, description="how long the reviewers' model catalog (versions, "
                                       "figures, gate, decisions) is reused before MLflow is "
                                       "read again; a decision made through the service "
                                       "shows at once (0: read it on every request)"
    )
    check_batch_wait_seconds: float = Field(
        default=0.001, ge=0, description="a contract check waits this long for others to be "
                                         "scored with it (0: those of the same loop turn)"
    )
    scores_poll_seconds: float = Field(
        default=1.0, gt=0, description="how often the service looks for new scores, warnings "
                                       "and overrides written by other processes"
    )
    contract_tier_red: float = Field(default=0.5, description="anomaly probability: red")
    contract_tier_orange: float = Field(default=0.2, description="anomaly probability: orange")
    contract_tier_yellow: float = Field(default=0.08, description="anomaly probability: yellow")
    contract_tier_blue: float = Field(default=0.03, description="anomaly probability: blue")

    # reports (issue 12): PDFs are printed by headless Chromium (Debian's chromium package)
    chromium_path: Path = Field(
        default=Path("/usr/bin/chromium"), description="Chromium; if absent, chromium on PATH"
    )

    # dishonesty cases (issue 12): legal windows in working days, publication periods in months
    case_objection_workdays: int = Field(
        default=15, ge=1, description="after notice, working days the subject has to object")
    case_answer_workdays: int = Field(
        default=10, ge=1, description="working days to answer an objection")
    case_repair_answer_workdays: int = Field(
        default=10, ge=1, description="working days to decide a repair application")
    case_publication_months: dict[str, tuple[int, int]] = Field(
        default={"minor": (0, 3), "general": (3, 12), "serious": (12, 36)},
        description="severity: (minimum, maximum) months of publication from the decision "
                    "date; repair may be applied for after the minimum, publication ends at "
                    "the maximum (national credit-repair measures in force from 2026-04-01)")
    case_publish_minor: bool = Field(
        default=False, description="minor dishonesty is in principle not published")
    case_open_tiers: tuple[str, ...] = Field(
        default=("red",), description="warning tiers that open a flagged case by themselves")

    # annual assessment (issue 12): the indicator system, appeals, the regulator's exit quota
    assessment_indicators: Path | None = Field(
        default=None, description="indicator system TOML; default: "
                                  "models/assessment/indicators.toml")
    assessment_appeal_days: int = Field(
        default=30, ge=1, description="days after publication an outcome may be appealed")
    assessment_quota: int = Field(
        default=0, ge=0, description="lowest totals that exit each year (末位淘汰); 0: none")

    # model monitoring (issue 13): monthly drift of the champion's score and top features
    monitor_psi_watch: float = Field(
        default=0.1, gt=0, description="PSI from which a variable is watched (inclusive)")
    monitor_psi_act: float = Field(
        default=0.25, gt=0, description="PSI from which a variable calls for action (inclusive)")
    monitor_alpha: float = Field(
        default=0.01, gt=0, le=1, description="a shift counts only if the Jensen–Shannon "
                                               "(G-) test's p-value is below this")
    monitor_top_features: int = Field(
        default=10, ge=1, description="features watched besides the score, by model importance")
    monitor_bins: int = Field(
        default=10, ge=2, description="quantile bins fixed on the training window")
    monitor_retrain: bool = Field(
        default=True, description="an act alert retrains and registers a challenger")

    @property
    def mlflow_artifact_root(self) -> str:
        return self.mlflow_artifacts or (self.home_dir / "mlartifacts").as_uri()

    @property
    def home_dir(self) -> Path:
        return self.home.expanduser().resolve()

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home_dir / 'techcredit.db'}"

    @property
    def tracking_uri(self) -> str:
        return self.mlflow_uri or f"sqlite:///{self.home_dir / 'mlflow.db'}"

    @property
    def prefect_dir(self) -> Path:
        return (self.prefect_home or self.home_dir / "prefect").expanduser().resolve()

    @property
    def market_dir(self) -> Path:
        """Where ``demo`` writes the synthetic market's raw exports."""
        return self.home_dir / "market"

    @property
    def curated_dir(self) -> Path:
        return self.home_dir / "curated"

    @property
    def quarantine_dir(self) -> Path:
        return self.home_dir / "quarantine"

    @property
    def reports_dir(self) -> Path:
        return self.home_dir / "reports"

    @property
    def features_dir(self) -> Path:
        return self.home_dir / "features"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
