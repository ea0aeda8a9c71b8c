"""The append-only, keyed, hash-chained audit log (审计日志).

Each entry's hash is an HMAC-SHA256, under a key kept outside the database
(:mod:`service.core.db.audit_keys`), over a canonical serialisation of the entry together with
the previous entry's hash; ids are the chain positions 1, 2, 3, … assigned under a lock. So
editing an entry breaks its own hash, deleting one leaves a gap in the ids, and rewriting one
with a fresh hash needs the key. Cutting entries off the end leaves a valid shorter chain:
signed checkpoints written outside the database (:mod:`service.core.db.checkpoints`) show that,
as does a head recorded by hand (``--expect-head ID:HASH``).

A chain written before keying (``key_id`` None, plain SHA-256) is re-anchored once: the first
keyed entry links to the old head, so its HMAC seals everything before it; a keyed chain never
accepts an unkeyed entry after a keyed one.

Appends are serialised so that two writers never take the same previous hash (a fork): on
PostgreSQL by a transaction-scoped advisory lock taken before the last entry is read (a
``FOR UPDATE`` on the last row would hand the second writer the row it waited for, not the one
just added); on SQLite by the write lock every transaction takes at ``BEGIN IMMEDIATE``
(``service.core.db.engine``). The lock is held until the caller's transaction ends.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any, Literal, TypeVar

from sqlalchemy import Connection, event, select, text
from sqlalchemy.orm import Session, sessionmaker

from service.core.db import checkpoints
from service.core.db.audit_keys import KeyRing, load_ring
from service.core.db.tables import AuditEntry
from service.core.db.types import utcnow
from service.core.paging import Key, Keyset, Page, PageRequest, fetch

GENESIS = "0" * 64
HEAD_SQL = "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1"
# pg_advisory_xact_lock key: any fixed 64-bit number, the same for every writer of the log
_PG_LOCK_KEY = 0x7465636863726564  # "techcred"

Problem = Literal["edited", "deleted", "relinked", "truncated", "unkeyed"]


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
    """The bytes hashed for ``entry``: every field but ``hash``, in a fixed form (``key_id``
    only on keyed entries, so entries written before keying keep their bytes)."""
    fields: dict[str, Any] = {
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
    if entry.key_id is not None:
        fields["key_id"] = entry.key_id
    return canonical_detail(fields).encode("utf-8")


def entry_hash(entry: AuditEntry, ring: KeyRing | None = None) -> str:
    """HMAC under the entry's key; plain SHA-256 for an entry written before keying."""
    if entry.key_id is None:
        return hashlib.sha256(canonical(entry)).hexdigest()
    return (ring or load_ring()).mac(entry.key_id, canonical(entry))


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
    ring = load_ring()
    session.flush()  # the protected rows first: their row hashes take the lock too
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
            prev_hash=prev, key_id=ring.current)
        entry.hash = prev = entry_hash(entry, ring)
        next_id += 1
        entries.append(entry)
    session.add_all(entries)
    session.flush()
    if entries:
        session.info["audit_head"] = (entries[-1].id, entries[-1].hash)
    return entries


def lock_head_raw(cursor: Any, dialect: str) -> tuple[int, str]:
    """Take the chain's lock and read its head, (last id, its hash) or (0, genesis), by a
    DBAPI cursor (the journal's writer, which bypasses SQLAlchemy). The lock holds until the
    transaction ends, so the caller appends after this head."""
    if dialect == "postgresql":
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (_PG_LOCK_KEY,))
    cursor.execute(HEAD_SQL)
    last = cursor.fetchone()
    return (last[0], last[1]) if last else (0, GENESIS)


def link(head: tuple[int, str], records: Sequence[AuditRecord], at: datetime | None = None,
         ring: KeyRing | None = None) -> list[dict[str, Any]]:
    """The entries of ``records`` after ``head`` as column values, ids and hashes assigned:
    :func:`canonical` built by concatenation (a test holds the two equal), ``detail`` stored
    as it is hashed."""
    ring = ring or load_ring()
    kid, key = ring.current, ring.keys[ring.current]
    mac = hmac.new(key, digestmod=hashlib.sha256)
    next_id, prev = head[0] + 1, head[1]
    when = (at or utcnow()).astimezone(UTC)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    rows = []
    for record in records:
        detail = canonical_detail(record.detail)
        one = mac.copy()  # the key's pads computed once per batch, not per entry
        one.update(_canonical_text(next_id, stamp, record, detail, prev, kid).encode("utf-8"))
        digest = one.hexdigest()
        rows.append({"id": next_id, "at": when, "actor": record.actor, "role": record.role,
                     "action": record.action, "entity_kind": record.entity_kind,
                     "entity_id": record.entity_id, "source": record.source,
                     "outcome": record.outcome, "detail": json.loads(detail),
                     "prev_hash": prev, "hash": digest, "key_id": kid})
        prev = digest
        next_id += 1
    return rows


def _canonical_text(entry_id: int, stamp: str, record: AuditRecord, detail: str,
                    prev_hash: str, key_id: str) -> str:
    """:func:`canonical` of the entry ``record`` becomes, built by concatenation: the same
    sorted keys and separators, ``detail`` already canonical (a test holds the two equal)."""
    dumps = _dumps
    return (f'{{"action":{dumps(record.action)},"actor":{dumps(record.actor)},"at":"{stamp}",'
            f'"detail":{detail},"entity_id":{dumps(record.entity_id)},'
            f'"entity_kind":{dumps(record.entity_kind)},"id":{entry_id},"key_id":"{key_id}",'
            f'"outcome":{dumps(record.outcome)},"prev_hash":"{prev_hash}",'
            f'"role":{dumps(record.role)},"source":{dumps(record.source)}}}')


def _dumps(value: str | None) -> str:
    """``json.dumps(value, ensure_ascii=False)`` of a string or None, by the C encoder json
    uses for it (a quarter of the cost)."""
    return "null" if value is None else encode_basestring(value)


@dataclass(frozen=True)
class Anchor:
    """A head recorded outside the database: entry ``id`` had ``hash`` when ``what`` was
    taken (a signed checkpoint, or ``--expect-head``)."""

    id: int
    hash: str
    what: str  # "the recorded head"
    where: str = ""  # " (checkpoint of <time>, <file> line <n>)"


def verify(session: Session, batch: int = 1000, expect: tuple[int, str] | None = None,
           anchors: Sequence[Anchor] = (), ring: KeyRing | None = None) -> VerifyResult:
    """Walk the chain from id 1 and stop at the first entry that does not hold. ``expect``
    and ``anchors``: heads recorded earlier, which the sound chain must still contain with
    the same hashes (a shorter chain was cut; another hash was rewritten)."""
    ring = ring or load_ring()
    marks: dict[int, list[Anchor]] = {}
    for anchor in [*anchors, *([Anchor(expect[0], expect[1], "the recorded head")]
                                if expect else [])]:
        marks.setdefault(anchor.id, []).append(anchor)
    prev_id, prev_hash, checked, keyed = 0, GENESIS, 0, False
    rows = session.execute(
        select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=batch)
    ).scalars()
    bad: tuple[int, Problem, str] | None = None
    for entry in rows:
        bad = _check(entry, prev_id, prev_hash, ring, keyed)
        if bad is None:
            bad = next(((entry.id, "relinked", f"entry {entry.id} is not {m.what}{m.where}: "
                         "its hash differs, so the chain was rewritten from there")
                        for m in marks.get(entry.id, ()) if m.hash != entry.hash), None)
        if bad is not None:
            break
        prev_id, prev_hash, checked = entry.id, entry.hash, checked + 1
        keyed = keyed or entry.key_id is not None
    if bad is None and marks and max(marks) > prev_id:
        last = max(marks)
        mark = marks[last][-1]  # the latest checkpoint of that head
        bad = (prev_id + 1, "truncated", f"{mark.what} {last} is gone{mark.where}: the chain "
               f"ends at {prev_id or 'nothing'}, so entries {prev_id + 1}-{last} or more were "
               "cut off the end")
    head_id, head_hash = (prev_id, prev_hash) if prev_id else (None, None)
    if bad is None:
        return VerifyResult(True, checked, head_id, head_hash)
    return VerifyResult(False, checked, head_id, head_hash, *bad)


def _check(entry: AuditEntry, prev_id: int, prev_hash: str, ring: KeyRing, keyed: bool
           ) -> tuple[int, Problem, str] | None:
    if entry.id != prev_id + 1:
        missing = (f"entry {prev_id + 1} is missing" if entry.id == prev_id + 2 else
                   f"entries {prev_id + 1}-{entry.id - 1} are missing")
        return prev_id + 1, "deleted", f"{missing}: the chain jumps from {prev_id} to {entry.id}"
    if entry.key_id is None and keyed:
        return entry.id, "unkeyed", (f"entry {entry.id} has no key after keyed entries: it was "
                                     "written or rewritten without the audit key")
    if entry.key_id is not None and entry.key_id not in ring.keys:
        return entry.id, "edited", (f"entry {entry.id} names key {entry.key_id}, which is not "
                                    f"in the key ring {ring.source}")
    if not hmac.compare_digest(entry_hash(entry, ring), entry.hash):
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


@event.listens_for(Session, "after_commit")
def _checkpoint_after_commit(session: Session) -> None:
    """A committed append may be due for a checkpoint outside the database (throttled)."""
    head = session.info.pop("audit_head", None)
    rows = session.info.pop("rows_head", None)
    if head is not None:
        checkpoints.note("audit", head)
    if rows is not None:
        checkpoints.note("rows", rows)


@event.listens_for(Session, "after_rollback")
def _forget_heads(session: Session) -> None:
    session.info.pop("audit_head", None)
    session.info.pop("rows_head", None)
