"""``techcredit db | audit | users …``: migrate the operational database, verify the audit
chain, manage the service's users and tokens.

Every refusal — an unreachable or unmigrated database, a bad URL, an unknown role — is one line
on stderr and exit code 2; ``audit verify`` exits 1 when the chain is broken.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from sqlalchemy import Engine

db_app = typer.Typer(help="the operational database: migrations (运营数据库)", no_args_is_help=True)
audit_app = typer.Typer(help="the hash-chained audit log (审计日志)", no_args_is_help=True)
users_app = typer.Typer(help="users of the service and their tokens (用户与令牌)",
                        no_args_is_help=True)


def mount(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.add_typer(audit_app, name="audit")
    app.add_typer(users_app, name="users")


def _fail(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(2)


@contextmanager
def _database(migrated: bool = True) -> Iterator[Engine]:
    """The settings' engine, with every database failure turned into one line and exit 2."""
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from features.settings import get_settings
    from service.core.db.engine import database_url, display_url, make_engine
    from service.core.db.migrate import NotMigrated, require_migrated
    from service.core.db.users import UserError

    try:
        url = display_url(database_url())
        engine = make_engine()
    except ArgumentError as e:
        _fail(f"bad database URL {get_settings().db_url!r}: {e}")
    try:
        if migrated:
            require_migrated(engine)
        yield engine
    except (NotMigrated, UserError) as e:
        _fail(str(e))
    except SQLAlchemyError as e:
        cause = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
        _fail(f"cannot use database {url}: {cause}")
    finally:
        engine.dispose()


def _known_institution(institution_id: str, source: Path | None) -> None:
    """Refuse (one line, exit 2) an institution the register does not hold: a user bound to
    a mistyped id would see nothing, or someone else's records once that id is issued.
    The register is a market folder's ``institutions.parquet`` or the curated store's."""
    import pandas as pd

    from pipelines.store.curated import read_curated, snapshot

    if source is not None:
        path = source / "institutions.parquet"
        if not path.exists():
            _fail(f"--source {source} holds no institutions.parquet")
        known = pd.read_parquet(path, columns=["institution_id"])["institution_id"]
    elif snapshot().version("institutions") is None:
        _fail("the curated store holds no institutions to check --institution against: run "
              "`techcredit ingest FILES` or give --source MARKET_FOLDER")
    else:
        known = read_curated("institutions")["institution_id"]
    if not known.eq(institution_id).any():
        _fail(f"unknown institution {institution_id!r}: not in the register's institutions")


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in a bare container
        return "cli"


@db_app.command("upgrade")
def upgrade() -> None:
    """Apply the migrations up to the code's revision (升级数据库结构)."""
    from service.core.db.engine import display_url
    from service.core.db.migrate import current_revision, upgrade

    with _database(migrated=False) as engine:
        upgrade(engine)
        typer.echo(f"database {display_url(engine.url)} is at revision "
                   f"{current_revision(engine)} (head)")


@db_app.command("current")
def current() -> None:
    """Print the database's revision and the code's (当前版本)."""
    from service.core.db.engine import display_url
    from service.core.db.migrate import current_revision, head_revision

    with _database(migrated=False) as engine:
        rev, head = current_revision(engine), head_revision()
        state = ("up to date" if rev == head
                 else f"the code needs {head}: run `techcredit db upgrade`")
        typer.echo(f"database {display_url(engine.url)} is at revision {rev or 'none (empty)'}, "
                   f"{state}")


@audit_app.command("verify")
def verify(
    expect_head: Annotated[str | None, typer.Option(
        help="a head printed by an earlier verify, as ID:HASH (the signed checkpoints under "
             "the home already detect entries cut off the end)"
    )] = None,
) -> None:
    """Verify the audit chain (keyed hashes, signed checkpoints) and every protected row
    against its recorded hash: OK with the heads, or the first problem (exit 1) (校验审计)."""
    import service.core.schema  # noqa: F401  (every table, so none reads as empty)
    from service.core.db import checkpoints
    from service.core.db.audit import Anchor, verify
    from service.core.db.audit_keys import AuditKeyError, load_ring
    from service.core.db.engine import session_factory
    from service.core.db.row_audit import verify_rows

    expect = None
    if expect_head is not None:
        head_id, _, head_hash = expect_head.partition(":")
        if not head_id.isdigit() or len(head_hash) != 64:
            _fail(f"--expect-head must look like 1234:<64 hex characters>, got {expect_head!r}")
        expect = (int(head_id), head_hash)
    try:
        ring = load_ring()
        marks, problems = checkpoints.read(ring)
    except (AuditKeyError, OSError) as e:
        _fail(str(e))
    if problems:
        typer.echo(f"BROKEN checkpoints: {problems[0]}", err=True)
        raise typer.Exit(1)
    anchors = [Anchor(m.id, m.hash, "the checkpointed head",
                      f" (checkpoint of {m.at}, {m.source})") for m in marks if m.chain == "audit"]
    row_anchors = {m.id: (m.hash, f"the checkpoint of {m.at} ({m.source})")
                   for m in marks if m.chain == "rows"}
    with _database() as engine, session_factory(engine)() as session:
        result = verify(session, expect=expect, anchors=anchors, ring=ring)
        rows = verify_rows(session.connection(), row_anchors, ring) if result.ok else None
    if not result.ok:
        typer.echo(f"BROKEN at entry {result.bad_id} ({result.problem}): {result.reason}; "
                   f"{result.checked} entries sound before it", err=True)
        raise typer.Exit(1)
    assert rows is not None
    if not rows.ok:
        typer.echo(f"BROKEN rows: {rows.reason}", err=True)
        for problem in rows.problems[1:]:
            typer.echo(f"  {problem.reason}", err=True)
        raise typer.Exit(1)
    if result.head_id is not None and result.head_hash is not None:
        checkpoints.write("audit", (result.head_id, result.head_hash), ring)
    if rows.head_id is not None and rows.head_hash is not None:
        checkpoints.write("rows", (rows.head_id, rows.head_hash), ring)
    head = (f"head {result.head_id}:{result.head_hash}" if result.head_id
            else "the log is empty")
    typer.echo(f"OK: {result.checked} entries, {head}")
    typer.echo(f"OK: {rows.rows} protected rows match the last of {rows.checked} row hashes")


@audit_app.command("rotate-key")
def rotate_key() -> None:
    """Add a new audit key: it signs from now on, the old ones still verify (轮换密钥)."""
    from service.core.db.audit_keys import AuditKeyError, rotate

    try:
        ring = rotate()
    except (AuditKeyError, OSError) as e:
        _fail(str(e))
    typer.echo(f"new audit key {ring.current} in {ring.source} ({len(ring.keys)} keys); "
               "back the file up now")


@audit_app.command("adopt")
def adopt() -> None:
    """Record the hash of every protected row that has none (rows written before row hashing),
    once, after checking them: from then on verify holds them (登记存量数据)."""
    import service.core.schema  # noqa: F401  (every table, so none reads as empty)
    from service.core.db.audit import AuditRecord, append
    from service.core.db.engine import session_factory
    from service.core.db.row_audit import adopt_rows

    with _database() as engine, session_factory(engine).begin() as session:
        counts = adopt_rows(session)
        append(session, AuditRecord(actor=_actor(), role="admin", action="audit.adopt",
                                    outcome="ok", source="cli", detail=counts))
    total = sum(counts.values())
    typer.echo(f"{total} rows adopted" + (f": {counts}" if counts else ""))


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="user name")],
    role: Annotated[str, typer.Option(help="regulator, office, institution, reviewer, "
                                           "auditor or admin")],
    regions: Annotated[str, typer.Option(help="a regulator's province codes, e.g. "
                                              "110000,310000; none: all")] = "",
    institution: Annotated[str | None, typer.Option(help="an institution user's id")] = None,
    offices: Annotated[str, typer.Option(help="an office user's registration office ids, e.g. "
                                              "OF11000001; none: refused every check")] = "",
    expires_days: Annotated[int | None, typer.Option(help="token lifetime in days")] = None,
    source: Annotated[Path | None, typer.Option(
        help="market folder whose institutions.parquet --institution is checked against; "
             "default: the curated store")] = None,
) -> None:
    """Add a user and print their token, once: only its hash is kept (添加用户)."""
    from service.core.db.engine import session_factory
    from service.core.db.users import add_user

    if institution is not None:
        _known_institution(institution, source)
    codes = [c.strip() for c in regions.split(",") if c.strip()]
    office_ids = [o.strip() for o in offices.split(",") if o.strip()]
    with _database() as engine, session_factory(engine).begin() as session:
        user, token = add_user(session, name, role, codes, institution, expires_days, office_ids,
                               actor=_actor(), source="cli")
    typer.echo(f"user {user.name} ({user.role}) added; token, shown only now:")
    typer.echo(token)


@users_app.command("offices")
def users_offices(
    name: Annotated[str, typer.Argument(help="an office user's name")],
    offices: Annotated[str, typer.Option(help="its registration office ids, e.g. OF11000001")],
) -> None:
    """Bind an office user to its registration offices (绑定登记机构); tokens keep working,
    within the new offices once the token cache expires."""
    from service.core.db.audit import AuditRecord, append
    from service.core.db.engine import session_factory
    from service.core.db.users import bind_offices

    office_ids = [o.strip() for o in offices.split(",") if o.strip()]
    with _database() as engine, session_factory(engine).begin() as session:
        user = bind_offices(session, name, office_ids)
        append(session, AuditRecord(
            actor=_actor(), role="admin", action="users.offices", outcome="ok",
            entity_kind="user", entity_id=user.name, source="cli",
            detail={"offices": user.offices}))
    typer.echo(f"user {name} registers for {', '.join(office_ids)}")


@users_app.command("list")
def users_list() -> None:
    """List users, their roles and scopes (用户列表)."""
    from service.core.db.engine import session_factory
    from service.core.db.users import list_users

    with _database() as engine, session_factory(engine)() as session:
        users = list_users(session)
    for u in users:
        scope = ",".join(u.regions) or u.institution_id or ",".join(u.offices) or "-"
        state = f"revoked {u.revoked_at:%Y-%m-%d}" if u.revoked_at else "active"
        typer.echo(f"{u.name:<24} {u.role:<12} {scope:<24} {u.created_at:%Y-%m-%d}  {state}")
    if not users:
        typer.echo("no users: add one with `techcredit users add NAME --role ROLE`")


@users_app.command("revoke")
def users_revoke(name: Annotated[str, typer.Argument(help="user name")]) -> None:
    """Revoke a user and all their tokens; the record stays (吊销用户)."""
    from service.core.db.engine import session_factory
    from service.core.db.users import revoke_user

    with _database() as engine, session_factory(engine).begin() as session:
        revoke_user(session, name, actor=_actor(), source="cli")
    typer.echo(f"user {name} and their tokens revoked")
