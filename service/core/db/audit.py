"""The append-only, hash-chained audit log (审计日志).

Each entry's hash is SHA-256 over a canonical serialisation of the entry together with the
previous entry's hash, and ids are the chain positions 1, 2, 3, … assigned under a lock. So
editing an entry breaks its own hash, deleting one leaves a gap in the ids, and rewriting one
with a fresh hash breaks the link of the next: ``verify`` names the first such entry. Cutting
entries off the end leaves a valid shorter chain; only a head recorded elsewhere (printed by
``techcredit audit verify``, checked with ``--expect-head ID:HASH``) shows that.

Appends are serialised so that two writers never take the same previous hash (a fork): on
PostgreSQL by a transaction-scoped advisory lock taken before the last entry is read (a
``FOR UPDATE`` on the last row would hand the second writer the row it waited for, not the one
just added); on SQLite by the write lock every transaction takes at ``BEGIN IMMEDIATE``
(``service.core.db.engine``). The lock is held until the caller's transaction ends.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any, Literal, TypeVar

from sqlalchemy import Connection, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from service.core.db.tables import AuditEntry
from service.core.db.types import utcnow
from service.core.paging import Key, Keyset, Page, PageRequest, fetch

GENESIS = "0" * 64
HEAD_SQL = "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1"
# pg_advisory_xact_lock key: any fixed 64-bit number, the same for every writer of the log
_PG_LOCK_KEY = 0x7465636863726564  # "techcred"

Problem = Literal["edited", "deleted", "relinked", "truncated"]


@dataclass(frozen=True)
class AuditRecord:
    """What happened, as the caller knows it; time, id and hashes are added by ``append``."""

    actor: str
    action: str
    outcome: str
    role: str | None = None
    entity_kind: str | None = None
    entity_id: str | None = None
    source: str | None = None  # client address, or "cli"
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int  # entries read
    head_id: int | None  # last sound entry; keep (head_id, head_hash) elsewhere to detect cuts
    head_hash: str | None
    bad_id: int | None = None  # the first entry found edited, deleted or relinked
    problem: Problem | None = None
    reason: str = ""


def canonical_detail(detail: Mapping[str, Any]) -> str:
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def canonical(entry: AuditEntry) -> bytes:
    """The bytes hashed for ``entry``: every field but ``hash``, in a fixed form."""
    fields = {
        "id": entry.id,
        "at": entry.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": entry.actor,
        "role": entry.role,
        "action": entry.action,
        "entity_kind": entry.entity_kind,
        "entity_id": entry.entity_id,
        "source": entry.source,
        "outcome": entry.outcome,
        "detail": json.loads(canonical_detail(entry.detail)),
        "prev_hash": entry.prev_hash,
    }
    return canonical_detail(fields).encode("utf-8")


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(canonical(entry)).hexdigest()


def _lock_chain(session: Session | Connection) -> None:
    bind = session.connection() if isinstance(session, Session) else session
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})


def append(session: Session, record: AuditRecord, at: datetime | None = None) -> AuditEntry:
    """Add ``record`` at the end of the chain (flushed; the caller commits)."""
    return append_many(session, [record], at)[0]


def append_many(session: Session, records: Sequence[AuditRecord],
                at: datetime | None = None) -> list[AuditEntry]:
    """Add ``records`` in order: one read of the head, the links made in memory, one flush
    (what the service's group commit needs to keep the audit cheap per request)."""
    _lock_chain(session)
    last = session.execute(
        select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    next_id, prev = (last.id + 1, last.hash) if last else (1, GENESIS)
    when = (at or utcnow()).astimezone(UTC)
    entries = []
    for record in records:
        entry = AuditEntry(
            id=next_id, at=when, actor=record.actor, role=record.role, action=record.action,
            entity_kind=record.entity_kind, entity_id=record.entity_id, source=record.source,
            outcome=record.outcome,
            detail=json.loads(canonical_detail(record.detail)),  # stored as it is hashed
            prev_hash=prev)
        entry.hash = prev = entry_hash(entry)
        next_id += 1
        entries.append(entry)
    session.add_all(entries)
    session.flush()
    return entries


def append_rows(session: Session | Connection, records: Sequence[AuditRecord],
                at: datetime | None = None) -> int:
    """What :func:`append_many` does, without ORM objects: the same entries and hashes in one
    Core ``executemany``. Returns the last id written."""
    head = lock_head(session)
    rows = link(head, records, at)
    if rows:
        session.execute(insert(AuditEntry.__table__), rows)
    return rows[-1]["id"] if rows else head[0]


def lock_head(session: Session | Connection) -> tuple[int, str]:
    """Take the chain's lock and read its head: (last id, its hash), (0, genesis) if empty.
    The lock holds until the transaction ends, so the caller appends after this head."""
    _lock_chain(session)
    last = session.execute(text(HEAD_SQL)).first()
    return (last[0], last[1]) if last else (0, GENESIS)


def lock_head_raw(cursor: Any, dialect: str) -> tuple[int, str]:
    """:func:`lock_head` by a DBAPI cursor (the journal's writer, which bypasses SQLAlchemy)."""
    if dialect == "postgresql":
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (_PG_LOCK_KEY,))
    cursor.execute(HEAD_SQL)
    last = cursor.fetchone()
    return (last[0], last[1]) if last else (0, GENESIS)


def link(head: tuple[int, str], records: Sequence[AuditRecord],
         at: datetime | None = None) -> list[dict[str, Any]]:
    """The entries of ``records`` after ``head`` as column values, ids and hashes assigned:
    :func:`canonical` built by concatenation (a test holds the two equal), ``detail`` stored
    as it is hashed."""
    next_id, prev = head[0] + 1, head[1]
    when = (at or utcnow()).astimezone(UTC)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    rows = []
    for record in records:
        detail = canonical_detail(record.detail)
        digest = hashlib.sha256(_canonical_text(next_id, stamp, record, detail, prev)
                                .encode("utf-8")).hexdigest()
        rows.append({"id": next_id, "at": when, "actor": record.actor, "role": record.role,
                     "action": record.action, "entity_kind": record.entity_kind,
                     "entity_id": record.entity_id, "source": record.source,
                     "outcome": record.outcome, "detail": json.loads(detail),
                     "prev_hash": prev, "hash": digest})
        prev = digest
        next_id += 1
    return rows


def _canonical_text(entry_id: int, stamp: str, record: AuditRecord, detail: str,
                    prev_hash: str) -> str:
    """:func:`canonical` of the entry ``record`` becomes, built by concatenation: the same
    sorted keys and separators, ``detail`` already canonical (a test holds the two equal)."""
    dumps = _dumps
    return (f'{{"action":{dumps(record.action)},"actor":{dumps(record.actor)},"at":"{stamp}",'
            f'"detail":{detail},"entity_id":{dumps(record.entity_id)},'
            f'"entity_kind":{dumps(record.entity_kind)},"id":{entry_id},'
            f'"outcome":{dumps(record.outcome)},"prev_hash":"{prev_hash}",'
            f'"role":{dumps(record.role)},"source":{dumps(record.source)}}}')


def _dumps(value: str | None) -> str:
    """``json.dumps(value, ensure_ascii=False)`` of a string or None, by the C encoder json
    uses for it (a quarter of the cost)."""
    return "null" if value is None else encode_basestring(value)


def verify(session: Session, batch: int = 1000,
           expect: tuple[int, str] | None = None) -> VerifyResult:
    """Walk the chain from id 1 and stop at the first entry that does not hold. ``expect``:
    a head recorded earlier (id, hash), which the sound chain must still contain."""
    prev_id, prev_hash, checked = 0, GENESIS, 0
    seen_expected = expect is None
    rows = session.execute(
        select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=batch)
    ).scalars()
    for entry in rows:
        bad = _check(entry, prev_id, prev_hash)
        if bad is not None:
            break
        prev_id, prev_hash, checked = entry.id, entry.hash, checked + 1
        if expect is not None and entry.id == expect[0]:
            if entry.hash != expect[1]:
                bad = (entry.id, "relinked", f"entry {entry.id} is not the recorded head: its "
                       "hash differs, so the chain was rewritten from there")
                break
            seen_expected = True
    else:
        bad = None
    if bad is None and not seen_expected:
        assert expect is not None
        bad = (prev_id + 1, "truncated", f"the recorded head {expect[0]} is gone: the chain "
               f"ends at {prev_id or 'nothing'}, so entries {prev_id + 1}-{expect[0]} or more "
               "were cut off the end")
    head_id, head_hash = (prev_id, prev_hash) if prev_id else (None, None)
    if bad is None:
        return VerifyResult(True, checked, head_id, head_hash)
    return VerifyResult(False, checked, head_id, head_hash, *bad)


def _check(entry: AuditEntry, prev_id: int, prev_hash: str) -> tuple[int, Problem, str] | None:
    if entry.id != prev_id + 1:
        missing = (f"entry {prev_id + 1} is missing" if entry.id == prev_id + 2 else
                   f"entries {prev_id + 1}-{entry.id - 1} are missing")
        return prev_id + 1, "deleted", f"{missing}: the chain jumps from {prev_id} to {entry.id}"
    if entry_hash(entry) != entry.hash:
        return entry.id, "edited", f"entry {entry.id} was edited: its hash does not match it"
    if entry.prev_hash != prev_hash and prev_id == 0:
        return entry.id, "relinked", "entry 1 does not start from the genesis hash (0…0)"
    if entry.prev_hash != prev_hash:
        return entry.id, "relinked", (
            f"entry {entry.id} does not link to entry {prev_id}: entry {prev_id} was rewritten "
            f"with a new hash, or entry {entry.id} was inserted in its place")
    return None


CHAIN_ORDER = Keyset("audit", (Key(AuditEntry.id, int),))
NEWEST_FIRST = Keyset("audit:newest", (Key(AuditEntry.id, int, descending=True),))


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    entity_id: str | None = None
    outcome: str | None = None


def entries(session: Session, f: AuditFilter, ask: PageRequest, newest_first: bool = False
            ) -> Page[AuditEntry]:
    """Entries under ``f``, a page at a time: in chain order (a client re-checks each link
    as it reads), or newest first (what a person looks for). Not counted: the log only grows."""
    q = select(AuditEntry)
    for column, value in ((AuditEntry.actor, f.actor), (AuditEntry.action, f.action),
                          (AuditEntry.entity_id, f.entity_id), (AuditEntry.outcome, f.outcome)):
        if value is not None:
            q = q.where(column == value)
    return fetch(session, q, NEWEST_FIRST if newest_first else CHAIN_ORDER, ask)


T = TypeVar("T")


def audited(sessions: sessionmaker[Session], work: Callable[[Session], T],
            audits: Callable[[T], Sequence[AuditRecord]]) -> T:
    """Run ``work`` and append the audit entries of its result in one transaction, so the log
    never records a decision the database lacks, nor the reverse (the workflows' writes)."""
    with sessions() as session, session.begin():
        result = work(session)
        append_many(session, list(audits(result)))
        return result
