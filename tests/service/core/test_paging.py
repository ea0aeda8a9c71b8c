"""The paging convention: cursors round-trip and refuse what this service did not issue for
the list and order; keyset pages over rows with equal sort values give every row once, in
order, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import date
from itertools import pairwise

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.core.db.tables import Score
from service.core.paging import (
    CURSOR_MAX_CHARS,
    BadCursor,
    Codec,
    Key,
    Keyset,
    PageRequest,
    fetch,
    in_memory,
)
from service.core.scores import queries

CODEC = Codec("things", (float, str, date, int))
VALUES = (412.5, "I00042 北京", date(2020, 6, 30), 2**62)


def forged(name: str, payload: bytes) -> str:
    """A cursor with a valid tag around any payload: what someone who read the code can
    make, so the values are checked, not trusted."""
    tag = hashlib.blake2b(payload, digest_size=8, key=name.encode()).digest()
    return base64.urlsafe_b64encode(tag + payload).decode().rstrip("=")


def test_a_cursor_round_trips_every_kind_of_value() -> None:
    cursor = CODEC.encode(VALUES)
    assert CODEC.decode(cursor) == VALUES
    assert cursor.isascii() and "=" not in cursor and len(cursor) < CURSOR_MAX_CHARS
    assert Codec("ints", (int, float)).decode(Codec("ints", (int, float)).encode((1, 2))) == (
        1, 2.0)  # a whole float may travel as an integer


def test_a_forged_cursor_with_the_right_tag_round_trips() -> None:
    """The forging helper is the format: what it makes, the codec reads."""
    assert CODEC.decode(forged("things", json.dumps(
        [412.5, "I00042 北京", "2020-06-30", 2**62], ensure_ascii=False).encode())) == VALUES


_GOOD = CODEC.encode(VALUES)
NOT_OURS = {
    "no tag of ours": "notacursor",
    "empty": "",
    "not ASCII": "é" * 10,
    "not one byte": "a",
    "cut short": _GOOD[:-3],
    "one character edited": _GOOD[:12] + ("A" if _GOOD[12] != "A" else "B") + _GOOD[13:],
    "another list's": Codec("other", (float, str, date, int)).encode(VALUES),
    "untagged payload": base64.urlsafe_b64encode(b'["I\\u0000", 1]').decode(),
    "too long": "A" * (CURSOR_MAX_CHARS + 1),
}


@pytest.mark.parametrize("cursor", list(NOT_OURS.values()), ids=list(NOT_OURS))
def test_a_cursor_not_issued_for_this_list_is_refused(cursor: str) -> None:
    with pytest.raises(BadCursor):
        CODEC.decode(cursor)


@pytest.mark.parametrize("payload", [
    b"not json",
    b'{"a": 1}',  # not a list
    b"[412.5, \"x\", \"2020-06-30\"]",  # too few values
    b"[412.5, \"x\", \"2020-06-30\", 1, 2]",  # too many
    b"[\"412.5\", \"x\", \"2020-06-30\", 1]",  # a number as a string
    b"[412.5, 7, \"2020-06-30\", 1]",  # a string as a number
    b"[412.5, \"x\", \"2020-13-40\", 1]",  # no such day
    b"[412.5, \"x\", 20200630, 1]",  # a day as a number
    b"[412.5, \"x\", \"2020-06-30\", 1.5]",  # an id that is not whole
    b"[412.5, \"x\", \"2020-06-30\", true]",  # a boolean for an id
    b"[412.5, \"x\", \"2020-06-30\", 9223372036854775808]",  # beyond PostgreSQL's bigint
    b"[NaN, \"x\", \"2020-06-30\", 1]",  # not a number
    b"[Infinity, \"x\", \"2020-06-30\", 1]",
    b"[412.5, \"I\\u0000\", \"2020-06-30\", 1]",  # a NUL, which PostgreSQL text cannot hold
])
def test_a_forged_cursor_is_refused_before_the_database(payload: bytes) -> None:
    with pytest.raises(BadCursor):
        CODEC.decode(forged("things", payload))


def test_a_cursor_of_one_sort_order_is_refused_by_another() -> None:
    points = queries.ORDERS["points"].codec
    cursor = points.encode((500.0, 1))
    assert points.decode(cursor) == (500.0, 1)
    for other in ("-points", "entity_id"):
        with pytest.raises(BadCursor):
            queries.ORDERS[other].codec.decode(cursor)


def _scores(session: Session, points: list[float]) -> None:
    """Scores with few distinct points: most rows share their sort value with others."""
    session.add_all([Score(entity_kind="institution", entity_id=f"I{i % 4:05d}", region=None,
                           as_of=date(2020, 6, 30), model_name="m", model_version=str(i),
                           probability=0.5, points=p, grade="B", reasons_zh=[], reasons_en=[],
                           feature_as_of=date(2020, 6, 30))
                     for i, p in enumerate(points)])


ORDERS = {
    "-points": Keyset("t:-points", (Key(Score.points, float, descending=True),
                                    Key(Score.id, int, descending=True))),
    "entity_id": Keyset("t:entity_id", (Key(Score.entity_id, str), Key(Score.id, int))),
    # mixed directions: a descending key before an ascending one
    "mixed": Keyset("t:mixed", (Key(Score.points, float, descending=True),
                                Key(Score.entity_id, str), Key(Score.id, int))),
}
PYTHON = {"-points": lambda s: (-s.points, -s.id), "entity_id": lambda s: (s.entity_id, s.id),
          "mixed": lambda s: (-s.points, s.entity_id, s.id)}


@pytest.mark.parametrize("order", list(ORDERS))
@pytest.mark.parametrize("limit", [1, 2, 3, 7])
def test_rows_with_equal_sort_values_come_once_each_in_order(
        sessions: sessionmaker[Session], order: str, limit: int) -> None:
    with sessions.begin() as session:
        _scores(session, [700.0, 650.5, 700.0, 650.5, 700.0, 610.0, 650.5, 700.0, 610.0,
                          700.0, 650.5, 700.0, 700.0])
    keyset = ORDERS[order]
    with sessions() as session:
        everything = list(session.scalars(select(Score)))
        seen, cursor, pages = [], None, 0
        while True:
            page = fetch(session, select(Score), keyset, PageRequest(limit, cursor),
                         counted=True)
            assert page.total == len(everything) and 0 < len(page.items) <= limit
            seen += page.items
            pages += 1
            cursor = page.next_cursor
            if cursor is None:
                break
    assert [s.id for s in seen] == [s.id for s in sorted(everything, key=PYTHON[order])]
    assert pages == -(-len(everything) // limit)  # no empty last page


def test_a_page_of_an_empty_list_and_a_last_page_have_no_cursor(
        sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        empty = fetch(session, select(Score), ORDERS["-points"], PageRequest(5), counted=True)
    assert (empty.items, empty.next_cursor, empty.total) == ([], None, 0)
    with sessions.begin() as session:
        _scores(session, [1.0, 2.0])
    with sessions() as session:
        whole = fetch(session, select(Score), ORDERS["-points"], PageRequest(2))
    assert [s.points for s in whole.items] == [2.0, 1.0] and whole.next_cursor is None
    assert whole.total is None  # not counted unless asked


@pytest.mark.parametrize("sort", ["points", "-points", "entity_id"])
def test_the_score_list_pages_ties_by_id(sessions: sessionmaker[Session], sort: str) -> None:
    """The scores endpoint's own query: the latest score per entity, equal points tied by id."""
    with sessions.begin() as session:
        session.add_all([Score(entity_kind="broker", entity_id=f"B{i:05d}", region="110000",
                               as_of=date(2020, 6, 30), model_name="m", model_version="1",
                               probability=0.1, points=600.0 + i % 2, grade="B",
                               reasons_zh=[], reasons_en=[], feature_as_of=date(2020, 6, 30))
                         for i in range(9)])
    seen, cursor = [], None
    with sessions() as session:
        while True:
            day, page = queries.page(session, queries.ScoreFilter(), sort,
                                     PageRequest(2, cursor))
            assert day == date(2020, 6, 30)
            seen += [s for s, _ in page.items]
            if (cursor := page.next_cursor) is None:
                break
        everything = list(session.scalars(select(Score)))
    key = {"points": lambda s: (s.points, s.id), "-points": lambda s: (-s.points, -s.id),
           "entity_id": lambda s: (s.entity_id, s.id)}[sort]
    assert [s.id for s in seen] == [s.id for s in sorted(everything, key=key)]


def test_a_list_in_memory_pages_the_same_way() -> None:
    items = [("b", 2), ("a", 1), ("b", 1), ("a", 3), ("c", 1), ("a", 2)]
    codec = Codec("pairs", (str, int))
    seen, cursor = [], None
    while True:
        page = in_memory(items, lambda x: x, codec, PageRequest(4, cursor))
        assert page.total == len(items)
        seen += page.items
        if (cursor := page.next_cursor) is None:
            break
    assert seen == sorted(items) and all(a < b for a, b in pairwise(seen))
    with pytest.raises(BadCursor):
        in_memory(items, lambda x: x, codec, PageRequest(4, CODEC.encode(VALUES)))
