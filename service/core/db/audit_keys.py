"""The audit chain's keys, kept outside the database.

A chain hashed with plain SHA-256 can be rewritten by anyone who can write the database: edit
an entry, recompute the later hashes, and it verifies. So each entry's hash is an HMAC-SHA256
under a key the database never holds: a file ``<home>/audit.key`` (created 0600 on first use),
or the file or key named by ``TECHCREDIT_AUDIT_KEY``. The file holds one hex key a line; the
last line signs new entries, every line verifies old ones, so rotating is appending a line
(``techcredit audit rotate-key``) and old entries keep verifying. An entry names its key by
``key_id``, the first 16 hex digits of the key's SHA-256 (not secret, and needs no naming).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import string
from dataclasses import dataclass
from pathlib import Path

from features.settings import get_settings

KEY_BYTES = 32


class AuditKeyError(ValueError):
    """The key ring cannot be read: a one-line reason for the command line."""


@dataclass(frozen=True)
class KeyRing:
    """Every key that verifies, by id; ``current`` signs."""

    keys: dict[str, bytes]
    current: str
    source: str  # the file, or "TECHCREDIT_AUDIT_KEY", for messages

    def mac(self, key_id: str, data: bytes) -> str:
        return hmac.new(self.keys[key_id], data, hashlib.sha256).hexdigest()


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]


def _parse(text: str, source: str) -> KeyRing:
    keys: dict[str, bytes] = {}
    current = ""
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if len(line) < 32 or set(line) - set(string.hexdigits):
            raise AuditKeyError(f"{source} line {number}: not a hex key of at least 16 bytes")
        key = bytes.fromhex(line)
        current = key_id(key)
        keys[current] = key
    if not keys:
        raise AuditKeyError(f"{source} holds no key")
    return KeyRing(keys, current, source)


def _write_new(path: Path, existing: str = "") -> None:
    """Write ``existing`` plus a fresh key to ``path``, 0600 from the first byte, fsynced."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(existing + secrets.token_hex(KEY_BYTES) + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def key_path() -> Path | None:
    """The key file in use, or None when the setting holds the key itself."""
    settings = get_settings()
    value = settings.audit.key
    if value is None:
        return settings.home_dir / "audit.key"
    if len(value) >= 32 and not set(value.strip()) - set(string.hexdigits):
        return None
    return Path(value).expanduser()


_cache: dict[tuple[str, float], KeyRing] = {}


def load_ring(create: bool = True) -> KeyRing:
    """The key ring of the settings; the home's key file is created when missing."""
    path = key_path()
    if path is None:
        return _parse(get_settings().audit.key or "", "TECHCREDIT_AUDIT_KEY")
    if not path.exists():
        if not create or get_settings().audit.key is not None:
            raise AuditKeyError(f"audit key file {path} is missing: restore it from the backup; "
                            "without it the chain cannot be verified")
        _write_new(path)
    stat = path.stat()
    if stat.st_mode & 0o077:
        raise AuditKeyError(f"audit key file {path} is readable by others "
                        f"({stat.st_mode & 0o777:o}): chmod 600 it")
    cached = _cache.get((str(path), stat.st_mtime))
    if cached is None:
        cached = _cache[(str(path), stat.st_mtime)] = _parse(path.read_text(), str(path))
    return cached


def rotate() -> KeyRing:
    """Append a new key to the key file: it signs from now on; the old ones still verify."""
    path = key_path()
    if path is None:
        raise AuditKeyError("TECHCREDIT_AUDIT_KEY holds a key, not a file: rotate by writing a key "
                        "file with the old key and a new one, and pointing the setting at it")
    existing = path.read_text() if path.exists() else ""
    if existing and not existing.endswith("\n"):
        existing += "\n"
    _write_new(path, existing)
    return load_ring()
