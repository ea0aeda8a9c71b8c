"""Files declared as data (声明文件): the rule sets and the assessment's indicator system, in TOML.

Policy people change these files, not code, and read the refusals in a terminal, not a
traceback: so every mistake is one line naming the file, the item (a rule, an indicator, a
table) and the field, and reading stops at the first one. What was read goes with the sha256
of the exact bytes, because reviews, batch runs and assessments record which file they used.
One reader serves every such file, so they all refuse the same mistakes in the same words.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
ID = re.compile(r"^[a-z][a-z0-9_]*$")  # the ids of rules and indicators: snake_case
_REQUIRED = object()


class DeclarationError(ValueError):
    """A declared file that cannot be used; the message is one line naming file, item and
    field."""


@dataclass(frozen=True)
class Declared:
    """A parsed file: its top-level table, its version and the bytes it was read from."""

    source: str  # file path, or the recorded artifact it was loaded from
    version: int
    sha256: str  # of ``data``
    data: bytes = field(repr=False)
    doc: Mapping[str, Any] = field(repr=False)


def read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise DeclarationError(f"{path}: cannot read: {e.strerror}") from None


def load(path: Path, parse: Callable[[bytes, str], T]) -> T:
    """The file at ``path`` through its kind's ``parse(data, source)``."""
    return parse(read(path), str(path))


def parse(data: bytes, source: str, keys: tuple[str, ...]) -> Declared:
    """UTF-8 TOML whose top-level keys are among ``keys`` (``version`` first) and whose
    ``version`` is an integer >= 1, raised with every change."""
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise DeclarationError(f"{source}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as e:
        raise DeclarationError(f"{source}: not valid TOML: {' '.join(str(e).split())}"
                               ) from None
    extra = sorted(set(doc) - set(keys))
    if extra:
        raise DeclarationError(f"{source}: unknown top-level key {extra[0]!r} (expected "
                               f"{', '.join(keys)})")
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise DeclarationError(f"{source}: version: must be an integer >= 1, got {version!r}")
    return Declared(source, version, hashlib.sha256(data).hexdigest(), data, doc)


@dataclass(frozen=True)
class Table:
    """One table of a declared file and where it is, so that each refusal names it.

    ``noun`` is what the file's own documentation calls a key of this table (a rule has
    fields, an indicator system has keys).
    """

    body: Mapping[str, Any]
    where: str  # e.g. "rules.toml: rule 'cycle_close'"
    noun: str = "field"

    def fail(self, key: str, message: str) -> DeclarationError:
        return DeclarationError(f"{self.where}: {key}: {message}")

    def known(self, keys: tuple[str, ...]) -> None:
        """Refuse the first key (alphabetically) not among ``keys``: a typo is not ignored."""
        extra = sorted(set(self.body) - set(keys))
        if extra:
            raise self.fail(extra[0], f"unknown {self.noun} (expected {', '.join(keys)})")

    def text(self, key: str) -> str:
        """Required, not blank; returned as written."""
        value = self.body.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "required text")
        return value

    def integer(self, key: str, low: int, high: int | None = None,
                default: Any = _REQUIRED) -> int:
        value = self.body.get(key, None if default is _REQUIRED else default)
        if (isinstance(value, bool) or not isinstance(value, int) or value < low
                or (high is not None and value > high)):
            bounds = f">= {low}" if high is None else f"from {low} to {high}"
            raise self.fail(key, f"must be an integer {bounds}, got {value!r}")
        return value

    def number(self, key: str, low: float, high: float, default: Any = _REQUIRED) -> float:
        value = self.body.get(key, None if default is _REQUIRED else default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not (
                low <= value <= high):
            raise self.fail(key, f"must be a number from {low:g} to {high:g}, got {value!r}")
        return float(value)

    def choice(self, key: str, options: tuple[str, ...]) -> str:
        value = self.body.get(key)
        if value not in options:
            raise self.fail(key, f"{value!r} is not one of {', '.join(options)}")
        return str(value)


def table(declared: Declared, key: str, keys: tuple[str, ...], noun: str = "field") -> Table:
    """A required top-level table such as ``[method]``, checked for unknown keys."""
    body = declared.doc.get(key)
    if not isinstance(body, dict):
        raise DeclarationError(f"{declared.source}: {key}: required table [{key}] with "
                               f"{', '.join(keys)}")
    found = Table(body, f"{declared.source}: {key}", noun)
    found.known(keys)
    return found


def items(declared: Declared, key: str, id_key: str, *, required: bool, noun: str = "field"
          ) -> list[tuple[str, Table]]:
    """The ``[[key]]`` tables in order, each with its snake_case id (``id_key``); an id may
    appear once. With ``required``, at least one table."""
    source = declared.source
    tables = declared.doc.get(key, [])
    if not isinstance(tables, list) or (required and not tables):
        least = "at least one" if required else "each"
        raise DeclarationError(f"{source}: {key}: write {least} {key} as a [[{key}]] table")
    out: list[tuple[str, Table]] = []
    for n, body in enumerate(tables, 1):
        if not isinstance(body, dict):
            raise DeclarationError(f"{source}: {key} #{n}: not a table")
        ident = body.get(id_key)
        if not isinstance(ident, str) or not ID.match(ident):
            raise DeclarationError(f"{source}: {key} #{n}: {id_key}: must be snake_case text, "
                                   f"got {ident!r}")
        one = Table(body, f"{source}: {key} {ident!r}", noun)
        if any(ident == seen for seen, _ in out):
            raise one.fail(id_key, f"duplicate {id_key}")
        out.append((ident, one))
    return out
