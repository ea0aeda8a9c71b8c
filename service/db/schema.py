"""Every table of the operational database in one metadata: the core tables and each workflow
domain's (``service/<domain>/models.py``), imported here so Alembic and the schema test see
them all. A new domain adds its models module to this list."""

from __future__ import annotations

import service.assessments.models  # registers the assessment tables
import service.cases.models  # registers the case tables
import service.monitoring.models  # noqa: F401  (registers the monitoring tables)
from service.db.models import Base

metadata = Base.metadata
