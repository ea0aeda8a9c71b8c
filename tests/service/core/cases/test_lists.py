"""The case lists page by keyset on SQLite and PostgreSQL: the queue's urgency, computed in
SQL, orders exactly as :func:`queue_item` reads a case (overdue answers, ready for listing,
deadline, age), with many cases of equal urgency; the dishonesty list holds the published
listings in force and nothing else; the counts on the overview agree with the queue."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.core.cases import lists
from service.core.cases.enums import CLOSED, ON_LIST, CaseState
from service.core.cases.tables import Case
from service.core.paging import Page, PageRequest

TODAY = date(2026, 10, 23)


def case_rows(prefix: str, today: date, region: str | None = None) -> list[Case]:
    """Cases of made-up parties (``prefix`` + a number) in every open state, several of equal
    urgency, some deadlines passed and some not; listings published or not, in force or
    ended; closed cases."""
    day = timedelta(days=1)
    shapes: list[dict[str, object]] = [
        {"state": "flagged"}, {"state": "investigating"}, {"state": "determined"},
        {"state": "upheld"}, {"state": "flagged"}, {"state": "investigating"},
        {"state": "notified", "objection_due": today - 2 * day},  # ready for listing
        {"state": "notified", "objection_due": today - 2 * day},
        {"state": "notified", "objection_due": today},  # the window closes tonight
        {"state": "notified", "objection_due": today + 5 * day},
        {"state": "objection", "answer_due": today - day},  # overdue
        {"state": "objection", "answer_due": today - 3 * day},
        {"state": "objection", "answer_due": today + day},
        {"state": "repair_requested", "repair_due": today - day, "published": True,
         "publication_ends": today + 300 * day},  # overdue, and still on the list
        {"state": "repair_requested", "repair_due": today + day, "published": True,
         "publication_ends": today + 300 * day},
        {"state": "listed", "published": True, "publication_ends": today + 200 * day},
        {"state": "listed", "published": True, "publication_ends": today + 200 * day},
        {"state": "listed", "published": False, "publication_ends": today + 200 * day},
        {"state": "listed", "published": True, "publication_ends": today},  # ended today
        {"state": "repair_denied", "published": True, "publication_ends": today + 9 * day},
        {"state": "removed"}, {"state": "dismissed"}, {"state": "repaired"},
    ]
    now = datetime.combine(today, datetime.min.time(), UTC)
    out = []
    for n, shape in enumerate(shapes):
        state = CaseState(str(shape["state"]))
        listed = state in ON_LIST
        subject = f"{prefix}{n:05d}"
        out.append(Case(
            subject_kind="party", subject_id=subject, subject_name=f"测试主体{n}",
            region=region, conduct="breach_of_contract" if state != "flagged" else None,
            severity="general" if listed else None, state=state.value, source="manual",
            active_key=None if state in CLOSED else f"party:{subject}:breach_of_contract",
            opened_by="paging", opened_at=now, updated_at=now, evidence=[],
            basis="《测试》第一条" if listed else None,
            decision_number=f"测〔2026〕{n}号" if listed else None,
            decided_on=today - 100 * day if listed else None,
            listed_on=today - 50 * day if listed else None, deadline_provisional=False,
            objection_due=shape.get("objection_due"), answer_due=shape.get("answer_due"),
            repair_due=shape.get("repair_due"), published=bool(shape.get("published", False)),
            publication_ends=shape.get("publication_ends")))
    return out


def urgency(item: lists.QueueItem) -> tuple[bool, bool, date, int]:
    """The queue's order as it was defined before it moved into SQL: a sort of the items."""
    return (not item.overdue, not item.ready, item.due or date.max, item.case_id)


def walk_queue(session: Session, today: date, f: lists.QueueFilter, limit: int
               ) -> list[lists.QueueItem]:
    items, cursor = [], None
    while True:
        page = lists.queue(session, today, f, PageRequest(limit, cursor))
        assert page.total is not None and len(page.items) <= limit
        items += page.items
        if (cursor := page.next_cursor) is None:
            return items


@pytest.fixture
def filled(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    with sessions.begin() as session:
        session.add_all(case_rows("PQ", TODAY, "110000") + case_rows("PR", TODAY, "310000"))
    return sessions


@pytest.mark.parametrize("limit", [1, 2, 5])
def test_the_queue_pages_in_urgency_order_with_ties_by_id(filled: sessionmaker[Session],
                                                          limit: int) -> None:
    with filled() as session:
        items = walk_queue(session, TODAY, lists.QueueFilter(), limit)
        open_cases = list(session.scalars(select(Case).where(lists.IS_OPEN)))
    expected = sorted((lists.queue_item(c, TODAY) for c in open_cases), key=urgency)
    assert items == expected
    assert len({i.case_id for i in items}) == len(open_cases) == 2 * 15
    assert [i.overdue for i in items[:6]] == [True] * 6 and not any(
        i.overdue for i in items[6:])
    assert [i.ready for i in items[6:10]] == [True] * 4


def test_the_queue_is_filtered_in_sql(filled: sessionmaker[Session]) -> None:
    with filled() as session:
        late = walk_queue(session, TODAY, lists.QueueFilter(overdue_only=True), 2)
        beijing = walk_queue(session, TODAY, lists.QueueFilter(regions=("110000",)), 4)
        counts = lists.queue_counts(session, TODAY)
        later = walk_queue(session, TODAY + timedelta(days=4), lists.QueueFilter(), 3)
    assert len(late) == 6 and all(i.overdue for i in late)
    assert len(beijing) == 15 and {i.subject_id[:2] for i in beijing} == {"PQ"}
    assert (counts.open, counts.overdue) == (30, 6)
    assert sum(i.overdue for i in later) == 10  # answers due meanwhile are late too
    assert later == sorted(later, key=urgency)


def test_the_dishonesty_list_pages_the_published_listings_in_force(
        filled: sessionmaker[Session]) -> None:
    with filled() as session:
        entries, cursor, first = [], None, None
        while True:
            page: Page[lists.ListEntry] = lists.dishonesty_page(session, TODAY,
                                                                PageRequest(2, cursor))
            first = first or page
            entries += page.items
            if (cursor := page.next_cursor) is None:
                break
        whole = lists.dishonesty_list(session, TODAY)
        expected = [c.subject_id for c in session.scalars(select(Case).order_by(Case.id))
                    if CaseState(c.state) in ON_LIST and c.published and lists.in_force(c, TODAY)]
    assert [e.unified_code for e in entries] == [e.unified_code for e in whole] == expected
    assert first.total == len(expected) == 2 * 5
    assert {e.status for e in entries} == {"listed", "repair_requested", "repair_denied"}


def test_the_case_list_is_newest_first_within_the_scope(filled: sessionmaker[Session]) -> None:
    with filled() as session:
        ids, cursor = [], None
        while True:
            page = lists.cases(session, lists.CaseFilter(regions=("310000",)),
                               PageRequest(4, cursor))
            assert page.total == 23
            ids += [c.id for c in page.items]
            if (cursor := page.next_cursor) is None:
                break
        expected = list(session.scalars(select(Case.id).where(Case.region == "310000")
                                        .order_by(Case.id.desc())))
        own = lists.cases(session, lists.CaseFilter(own_institution="I00001"), PageRequest(9))
    assert ids == expected and len(ids) == 23
    assert (own.items, own.total) == ([], 0)  # parties are no institution's own cases
