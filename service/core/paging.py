"""One paging convention for every list the service answers: keyset pages behind an opaque
cursor.

A page ends at a row; the next page starts strictly after that row's sort key. The key always
ends with a unique column (the row id, or another column unique within the list), so rows
that share every other sort value still have one place in the order: across pages no row
repeats and none is skipped, and rows added while a client pages (a batch run, a new audit
entry) never shift a page the way an offset would.

The cursor carries the last row's key values (JSON) after a short BLAKE2b tag computed with
the list's name and order as the key. A cursor edited by hand, cut short, or taken from another
list or another sort order fails the tag and is refused (:class:`BadCursor`, answered 422 on
``query.cursor``). The tag is not a secret signature: the name is in the code, so a cursor can
be forged. That is harmless, because a cursor only says where to start; filters and the
caller's scope apply to every page anyway. So the values are checked against the key's
types and bounds too, and a forged cursor is refused as a bad cursor, never failing in the
database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, Self, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

T = TypeVar("T")
U = TypeVar("U")
KeyValue = int | float | str | date
KeyKind = type[int] | type[float] | type[str] | type[date]

CURSOR_MAX_CHARS = 512  # a cursor carries a few short sort values; anything longer is not ours
_TAG_BYTES = 8
_BIGINT = 2**63  # PostgreSQL's bigint: an id beyond it would fail in the database


class BadCursor(ValueError):
    """A cursor this service did not issue for this list and order."""


@dataclass(frozen=True)
class PageRequest:
    """What a client asks of a list: at most ``limit`` rows, after ``cursor`` (None: from the
    start). The web layer bounds ``limit`` by the configured page maximum."""

    limit: int
    cursor: str | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its rows in order, the cursor of the next page (None: this is the
    last), and how many rows the whole list holds where counting them is cheap (else None)."""

    items: list[T]
    next_cursor: str | None
    total: int | None = None

    def map(self, convert: Callable[[T], U]) -> Page[U]:
        return Page([convert(i) for i in self.items], self.next_cursor, self.total)


class PageOut(BaseModel, Generic[T]):
    """A page as every list endpoint answers it."""

    items: list[T]
    next_cursor: str | None = Field(
        description="pass as `cursor` for the next page; null: this is the last page")
    total: int | None = Field(default=None, description="rows of the whole list under these "
                                                         "filters, where counting is cheap; "
                                                         "else null")

    @classmethod
    def of(cls, page: Page[U], convert: Callable[[U], T], **more: Any) -> Self:
        """The answer for ``page``, each row converted (``more``: a subclass's fields)."""
        return cls(items=[convert(i) for i in page.items], next_cursor=page.next_cursor,
                   total=page.total, **more)


@dataclass(frozen=True)
class Codec:
    """Writes and checks the cursors of one list in one order: ``name`` names both (a cursor
    of another list or order fails its tag), ``kinds`` are the types of the key's values."""

    name: str
    kinds: tuple[KeyKind, ...]

    def __post_init__(self) -> None:
        if not 0 < len(self.name.encode("utf-8")) <= 64:  # BLAKE2b's key length
            raise ValueError(f"a list's name takes 1-64 bytes: {self.name!r}")

    def encode(self, values: Sequence[KeyValue]) -> str:
        payload = json.dumps([v.isoformat() if isinstance(v, date) else v for v in values],
                             separators=(",", ":"), ensure_ascii=False, allow_nan=False
                             ).encode("utf-8")
        return base64.urlsafe_b64encode(self._tag(payload) + payload).decode("ascii").rstrip("=")

    def decode(self, cursor: str) -> tuple[KeyValue, ...]:
        if len(cursor) > CURSOR_MAX_CHARS:
            raise BadCursor(f"cursor longer than {CURSOR_MAX_CHARS} characters / 游标无效")
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (ValueError, binascii.Error):
            raise BadCursor("cursor is not one this service issued / 游标无效") from None
        tag, payload = raw[:_TAG_BYTES], raw[_TAG_BYTES:]
        if not hmac.compare_digest(tag, self._tag(payload)):
            raise BadCursor("cursor was not issued for this list and order (pass back "
                            "`next_cursor` unchanged, with the same sort) / 游标无效")
        try:
            values = json.loads(payload)
        except ValueError:
            raise BadCursor("cursor is not one this service issued / 游标无效") from None
        if not isinstance(values, list) or len(values) != len(self.kinds):
            raise BadCursor("cursor does not match the list's order / 游标无效")
        return tuple(_checked(v, kind) for v, kind in zip(values, self.kinds, strict=True))

    def _tag(self, payload: bytes) -> bytes:
        return hashlib.blake2b(payload, digest_size=_TAG_BYTES,
                               key=self.name.encode("utf-8")).digest()


def _checked(value: object, kind: KeyKind) -> KeyValue:
    """``value`` as the key's type, or BadCursor: what the database could not compare (a NUL
    in a string, an integer beyond bigint, NaN) never reaches it."""
    if kind is int and type(value) is int and -_BIGINT <= value < _BIGINT:
        return value
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool) \
            and math.isfinite(value):
        return float(value)
    if kind is str and isinstance(value, str) and "\x00" not in value:
        return value
    if kind is date and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise BadCursor("cursor does not match the list's order / 游标无效")


@dataclass(frozen=True)
class Key:
    """One sort column of a list: what is compared, the type its values travel as in a cursor,
    and the direction."""

    column: ColumnElement[Any]
    kind: KeyKind
    descending: bool = False


@dataclass(frozen=True)
class Keyset:
    """A list's order in SQL: its sort keys, the last one unique within the list (the row id,
    or a column unique under the list's fixed filters). Every key is NOT NULL (a nullable value
    is sorted through ``coalesce``), since NULL compares as neither before nor after."""

    name: str
    keys: tuple[Key, ...]

    @property
    def codec(self) -> Codec:
        return Codec(self.name, tuple(k.kind for k in self.keys))

    def order_by(self) -> list[ColumnElement[Any]]:
        return [k.column.desc() if k.descending else k.column.asc() for k in self.keys]

    def after(self, values: Sequence[KeyValue]) -> ColumnElement[bool]:
        """Rows strictly after the row whose key is ``values``: for some key, every earlier
        key equal and this one past it in its direction (directions may differ by key)."""
        terms = []
        for i, key in enumerate(self.keys):
            past = key.column < values[i] if key.descending else key.column > values[i]
            terms.append(and_(*(k.column == v for k, v in zip(self.keys[:i], values, strict=False)),
                              past))
        return or_(*terms)


def fetch(session: Session, query: Select[Any], keyset: Keyset, ask: PageRequest, *,
          counted: bool = False) -> Page[Any]:
    """One page of ``query`` (its filters, no order) in ``keyset``'s order. Its items are the
    query's rows: the entity itself for a one-column select, else a tuple of its columns.
    ``counted``: also count the rows under the filters (one more query; for lists that stay
    small).

    The key's values are selected with the rows, so the next cursor carries exactly what the
    database compared, never a value recomputed beside it."""
    codec = keyset.codec
    width = len(query.column_descriptions)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())
                           ) if counted else None
    keyed = query.add_columns(*(k.column.label(f"page_key_{i}")
                                for i, k in enumerate(keyset.keys)))
    if ask.cursor is not None:
        keyed = keyed.where(keyset.after(codec.decode(ask.cursor)))
    rows = session.execute(keyed.order_by(*keyset.order_by()).limit(ask.limit + 1)).all()
    following = None
    if len(rows) > ask.limit:
        rows = rows[:ask.limit]
        following = codec.encode(tuple(rows[-1][width:]))
    return Page([r[0] if width == 1 else tuple(r[:width]) for r in rows], following, total)


def in_memory(items: Iterable[T], key: Callable[[T], tuple[KeyValue, ...]], codec: Codec,
              ask: PageRequest) -> Page[T]:
    """One page of a list held in memory (every item is there, so it is counted), in
    ascending ``key`` order; ``key`` must be unique per item, as a keyset's is."""
    ordered = sorted(items, key=key)
    total = len(ordered)
    if ask.cursor is not None:
        start = codec.decode(ask.cursor)
        ordered = [i for i in ordered if key(i) > start]
    shown = ordered[:ask.limit]
    following = codec.encode(key(shown[-1])) if len(ordered) > ask.limit else None
    return Page(shown, following, total)
