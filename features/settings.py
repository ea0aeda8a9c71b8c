"""The one settings object of techcredit.

It lives in ``features`` because that is the package every other one may import
(see DESIGN.md); every value has an embedded default so that ``make demo`` needs no
configuration, and every value can be switched by a ``TECHCREDIT_*`` environment variable.
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
