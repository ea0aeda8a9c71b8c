"""Process-wide set-up that must happen before Prefect or MLflow are imported.

Prefect reads its home and server settings from the environment at import time, so the
CLI calls :func:`configure` first; flows then run against a temporary local Prefect server
whose database lives inside the project's data dir, never in the user's home.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

from features.settings import Settings, get_settings
from pipelines.stack import processes as stack


def configure(settings: Settings | None = None) -> Settings:
    s = settings or get_settings()
    s.home_dir.mkdir(parents=True, exist_ok=True)
    s.prefect_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_HOME", str(s.prefect_dir))
    if "PREFECT_API_URL" not in os.environ and (url := stack.prefect_api_url(s)):
        os.environ["PREFECT_API_URL"] = url  # `techcredit up` runs: its server, not a new one
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("MLFLOW_TRACKING_URI", s.tracking_uri)
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    # MLflow's INFO/WARNING lines (uv detection, cloudpickle notice) drown the review summary;
    # the review report and run metadata carry everything a reviewer needs. MLflow reads the
    # level when it is imported, so it must be set here, before any import of mlflow.
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")
    return s


@contextmanager
def quiet_flow_failures() -> Iterator[None]:
    """Keep Prefect from logging a failed run's exception with its traceback: the command
    that called the flow answers an expected refusal (a date outside the data, no champion)
    in one line, and an unexpected error still reaches it, traceback and all. The run's state
    on the Prefect server keeps the exception either way."""
    loggers = [logging.getLogger(name) for name in ("prefect.flow_runs", "prefect.task_runs")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
