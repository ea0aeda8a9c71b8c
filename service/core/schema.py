"""Every table of the operational database in one metadata: the core tables and each workflow
domain's (``service/core/<domain>/tables.py``), imported here so Alembic and the schema test see
them all. A new domain adds its tables module to this list."""

from __future__ import annotations

import service.core.assessments.tables  # registers the assessment tables
import service.core.cases.tables  # registers the case tables
import service.core.monitoring.tables  # noqa: F401  (registers the monitoring tables)
from service.core.db.tables import Base

metadata = Base.metadata
