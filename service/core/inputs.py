"""Patterns every free-text and id input of the service is held to, declared once so the API,
the console and the schemas of every domain refuse the same values the same way."""

from __future__ import annotations

ENTITY_ID = r"^[A-Z]{1,3}[0-9A-Z]{4,20}$"  # the data standard's id pattern
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL: refused as input, not a failed write
