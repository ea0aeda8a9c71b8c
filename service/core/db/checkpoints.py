"""Signed checkpoints of the audit chains, kept outside the database.

A chain verifies after its end is cut off: the shorter chain is sound. So writers append, now
and then, a line ``{chain, id, hash, at, key_id, hmac}`` to ``<home>/audit-checkpoints.jsonl``
(and to a mirror, if set): at most one every ``checkpoint_every`` entries or
``checkpoint_seconds`` seconds per process, plus one on each ``techcredit audit verify``. The
line is HMAC-signed with the audit key, so it cannot be forged by someone who can write the
file but not read the key; verify then requires every checkpointed entry to be in the chain
with that hash. Lines are appended with ``O_APPEND`` (one ``write`` each) and fsynced; the
files are 0600. Two chains are checkpointed: ``audit`` (the audit log) and ``rows`` (the row
hashes, :mod:`service.core.db.row_audit`).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from features.settings import get_settings
from service.core.db.audit_keys import KeyRing, load_ring

log = logging.getLogger("techcredit.audit")
Chain = Literal["audit", "rows"]


@dataclass(frozen=True)
class Checkpoint:
    chain: Chain
    id: int
    hash: str
    at: str
    key_id: str
    source: str  # "file line n", for messages


def paths() -> list[Path]:
    settings = get_settings()
    mirror = settings.audit.checkpoint_mirror
    return [settings.audit_checkpoints, *([mirror.expanduser()] if mirror else [])]


def _payload(chain: str, entry_id: int, entry_hash: str, at: str, key_id: str) -> bytes:
    return json.dumps({"chain": chain, "id": entry_id, "hash": entry_hash, "at": at,
                       "key_id": key_id}, sort_keys=True, separators=(",", ":")).encode()


def write(chain: Chain, head: tuple[int, str], ring: KeyRing | None = None) -> None:
    """Append a signed checkpoint of ``head`` to every checkpoint file, fsynced."""
    ring = ring or load_ring()
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    mac = ring.mac(ring.current, _payload(chain, head[0], head[1], at, ring.current))
    line = json.dumps({"chain": chain, "id": head[0], "hash": head[1], "at": at,
                       "key_id": ring.current, "hmac": mac}, separators=(",", ":")) + "\n"
    for path in paths():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)


_lock = threading.Lock()
_last: dict[tuple[str, Chain], tuple[int, float]] = {}  # (file, chain) → (id, monotonic time)


def note(chain: Chain, head: tuple[int, str]) -> None:
    """A writer committed up to ``head``: checkpoint it if enough entries or time passed
    since this process's last checkpoint. A failure is logged, never raised: the entries are
    committed, and the next checkpoint covers them."""
    settings = get_settings().audit
    key = (str(get_settings().audit_checkpoints), chain)
    now = time.monotonic()
    with _lock:
        last_id, last_at = _last.get(key, (0, -1e18))
        if (head[0] - last_id < settings.checkpoint_every
                and now - last_at < settings.checkpoint_seconds):
            return
        _last[key] = (head[0], now)
    try:
        write(chain, head)
    except (OSError, ValueError):  # an unwritable file, an unreadable key ring
        log.exception("audit checkpoint of %s entry %d not written", chain, head[0])


def read(ring: KeyRing | None = None) -> tuple[list[Checkpoint], list[str]]:
    """Every checkpoint in the files, and the problems found (a forged, edited or unreadable
    line; a key not in the ring)."""
    ring = ring or load_ring()
    found: list[Checkpoint] = []
    problems: list[str] = []
    for path in paths():
        if not path.exists():
            continue
        for number, text in enumerate(path.read_text().splitlines(), 1):
            where = f"{path} line {number}"
            if not text.strip():
                continue
            try:
                line = json.loads(text)
                chain, entry_id, entry_hash = line["chain"], int(line["id"]), line["hash"]
                at, key_id, mac = line["at"], line["key_id"], line["hmac"]
            except (ValueError, KeyError, TypeError):
                problems.append(f"checkpoint {where} is unreadable: the file was edited")
                continue
            if key_id not in ring.keys:
                problems.append(f"checkpoint {where} names key {key_id}, not in {ring.source}")
                continue
            if ring.mac(key_id, _payload(chain, entry_id, entry_hash, at, key_id)) != mac:
                problems.append(f"checkpoint {where} has a wrong signature: it was forged or "
                                "edited")
                continue
            found.append(Checkpoint(chain, entry_id, entry_hash, at, key_id, where))
    return found, problems
