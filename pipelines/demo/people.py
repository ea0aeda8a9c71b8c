"""The demo's people: one user per role, so the console can be tried at once and the four-eyes
steps of the demo have two different assessors. Tokens are printed once by ``users add``; the
demo keeps them in ``$TECHCREDIT_HOME/demo-logins.txt`` (readable by the owner only), which a
real installation never has."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from features.settings import Settings
from service.core.db.engine import make_engine, session_factory
from service.core.db.tables import User
from service.core.db.users import add_user

PEOPLE: tuple[tuple[str, str], ...] = (
    ("demo-regulator", "regulator"), ("demo-regulator-2", "regulator"),
    ("demo-office", "office"), ("demo-reviewer", "reviewer"), ("demo-auditor", "auditor"),
    ("demo-assessor-1", "assessor"), ("demo-assessor-2", "assessor"), ("demo-admin", "admin"),
)


@dataclass(frozen=True)
class Logins:
    path: Path
    created: list[str]  # users made by this run; the others existed (their tokens are in path)


def logins_path(settings: Settings) -> Path:
    return settings.home_dir / "demo-logins.txt"


def demo_offices(settings: Settings) -> tuple[str, ...]:
    """Every registration office of the market in the curated store: the demo's clerk checks
    contracts for all of them (a real clerk is bound to its own office)."""
    from pipelines.store.curated import snapshot

    current = snapshot(settings)
    if current.version("contracts") is None:
        return ()
    offices = current.read("contracts")["office_id"].dropna().astype("str").unique()
    return tuple(sorted(offices))


def ensure_people(settings: Settings) -> Logins:
    path = logins_path(settings)
    offices = demo_offices(settings)
    engine = make_engine(settings.db_url)
    created: list[str] = []
    try:
        with session_factory(engine).begin() as session:
            known = set(session.scalars(select(User.name)))
            lines = []
            for name, role in PEOPLE:
                if name in known:
                    continue
                _, token = add_user(session, name, role,
                                    offices=offices if role == "office" else (),
                                    actor="demo", source="demo")
                created.append(name)
                lines.append(f"{name}\t{role}\t{token}\n")
    finally:
        engine.dispose()
    if lines:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            f.writelines(lines)
    return Logins(path, created)
