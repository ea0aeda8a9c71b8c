"""Column types that behave the same on SQLite and PostgreSQL.

SQLite has no time zone type: it hands back naive datetimes. Every timestamp of ours is UTC,
aware on the way in and on the way out, so the audit hash of an entry is the same whichever
backend stored it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Integer
from sqlalchemy.types import TypeDecorator

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: timestamps must carry a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class EntityKind(StrEnum):
    institution = "institution"
    broker = "broker"


class CheckSource(StrEnum):
    """Where a contract score came from: a real-time check at registration, or the batch run
    over contracts registered since the last one."""

    check = "check"
    batch = "batch"


class WarningState(StrEnum):
    open = "open"
    closed = "closed"


class Role(StrEnum):
    regulator = "regulator"
    office = "office"
    institution = "institution"
    reviewer = "reviewer"
    auditor = "auditor"
    assessor = "assessor"  # 考核评价组: runs the annual assessment
    admin = "admin"


class RescoreCause(StrEnum):
    """What new evidence asks for an entity to be re-scored the day it arrives."""

    red_contract = "red_contract"  # a contract it handled was checked red at registration
    listed = "listed"  # a related entity was put on the dishonesty list


def one_of(column: str, values: type[StrEnum]) -> str:
    """A CHECK constraint's SQL text: ``column`` holds one of the enum's values."""
    listed = ", ".join(f"'{v.value}'" for v in values)
    return f"{column} IN ({listed})"
