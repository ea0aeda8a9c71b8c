"""Every list endpoint pages the same way, on both backends: following ``next_cursor`` walks
every row exactly once, in the list's order and under its filters and scope; a page over the
configured maximum is a 422 naming ``query.limit``, and a cursor the service did not issue for
that list and order is a 422 naming ``query.cursor``.

Rows of their own (cases of made-up parties, an assessment year nobody else uses, drift
alerts of an old model version) are added once per app, so the lists have many pages and rows
with equal sort values; what other modules assert about the shared app is left alone (no
listing ends before 2036, no status of record is written)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from models.registry import CREDIT_MODEL
from service.core.assessments.tables import (
    Assessment,
    AssessmentAppeal,
    AssessmentResult,
)
from service.core.cases import lists
from service.core.cases.enums import ON_LIST, CaseState
from service.core.cases.tables import Case
from service.core.db.tables import AuditEntry, RiskWarning, Score
from service.core.monitoring.tables import MonitorAlert
from tests.service.core.cases.test_lists import case_rows, urgency
from tests.service.web.api.conftest import AS_OF, REGION, Api

pytestmark = pytest.mark.e2e
YEAR = 1999  # an assessment year of these tests only
GROUPS = ("cro/large", "cro/small", "university")


@dataclass(frozen=True)
class Walk:
    items: list[dict[str, Any]]
    total: int | None  # as the first page said
    pages: int


def walk(api: Api, path: str, user: str, limit: int, **params: Any) -> Walk:
    """Every page of a list, following ``next_cursor`` until it is null."""
    items: list[dict[str, Any]] = []
    cursor, total, pages = None, None, 0
    while True:
        query = {**params, "limit": limit} | ({"cursor": cursor} if cursor else {})
        answer = api.get(path, user, params=query)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert set(page) >= {"items", "next_cursor", "total"}
        assert len(page["items"]) <= limit and (page["items"] or pages == 0)
        total = page["total"] if pages == 0 else total
        assert page["total"] == total  # nothing was added meanwhile
        items += page["items"]
        pages += 1
        if (cursor := page["next_cursor"]) is None:
            return Walk(items, total, pages)


@dataclass(frozen=True)
class Added:
    cases: list[int]
    assessment: int
    alerts: list[int]


@pytest.fixture(scope="module")
def added(api: Api) -> Added:
    today = api.ctx.today()
    rows = [c for c in case_rows("PL", today, REGION) + case_rows("PM", today)
            if c.publication_ends is None or c.publication_ends > today]
    for c in rows:  # in force well past any day the case tests move their clock to
        if c.publication_ends is not None:
            c.publication_ends = today + timedelta(days=3650)
    now = datetime.now(UTC)
    with api.session() as session, session.begin():
        session.add_all(rows)
        a = Assessment(year=YEAR, state="published", config_version=1, config_sha256="0" * 64,
                       quota=0, indicator_system=[], created_by="paging", created_at=now,
                       updated_by="paging", updated_at=now, published_by="paging2",
                       published_at=now)
        session.add(a)
        session.flush()
        for n in range(23):  # equal ranks within a group, tied by the institution
            session.add(AssessmentResult(
                assessment_id=a.id, institution_id=f"IPG{22 - n:05d}", name=f"机构{n}",
                institution_type="cro", region=REGION if n % 3 else "310000", tier="t",
                group_key=GROUPS[n % 3], group_size=8, rank=1 + n % 4, total=60.0 + n,
                report_year=YEAR, failed=False, model_outcome="pass",
                outcome=("pass", "warning", "exit")[n % 3 if n < 9 else 0], basis=[],
                reasons_zh=[], reasons_en=[], indicators=[]))
        for n in range(9):
            session.add(AssessmentAppeal(
                assessment_id=a.id, institution_id=f"IPG{n:05d}",
                state="filed" if n % 2 else "rejected",
                open_key=f"{a.id}:IPG{n:05d}" if n % 2 else None, filed_by="paging",
                filed_at=now, reason="paging test", deadline=now + timedelta(days=30),
                outcome_before="pass"))
        alerts = [MonitorAlert(month=f"1990-{n + 1:02d}", model_name=CREDIT_MODEL,
                               model_version="9", level="watch", variables=["score"],
                               message_zh="分页测试", message_en="paging test",
                               state="acknowledged" if n % 3 == 0 else "open")
                  for n in range(11)]
        session.add_all(alerts)
        session.flush()
        return Added([c.id for c in rows], a.id, [x.id for x in alerts])


@pytest.mark.parametrize("sort", ["-points", "points", "entity_id"])
def test_scores_page_through_every_entity_once_in_order(api: Api, sort: str) -> None:
    rows, cursor = [], None
    while True:
        query = f"/api/v1/scores?sort={sort}&limit=7" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(query, "reviewer").json()
        assert page["as_of"] == AS_OF and len(page["items"]) <= 7
        rows += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    with api.session() as session:
        total = session.scalar(select(func.count()).select_from(Score))
    assert len(rows) == len({r["id"] for r in rows}) == total
    key = {"-points": lambda r: (-r["points"], -r["id"]),
           "points": lambda r: (r["points"], r["id"]),
           "entity_id": lambda r: (r["entity_id"], r["id"])}[sort]
    assert rows == sorted(rows, key=key)


def test_warnings_page_newest_first_and_the_page_maximum_holds(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    ids, cursor = [], None
    while True:
        query = "/api/v1/warnings?limit=20" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(query, "regulator_all").json()
        ids += [w["id"] for w in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    with api.session() as session:
        expected = list(session.scalars(select(RiskWarning.id).where(
            RiskWarning.state == "open").order_by(RiskWarning.id.desc())))
    assert ids == expected and len(ids) == sum(api.batch.warnings.values())

    monkeypatch.setattr(api.ctx.settings, "api",
                        api.ctx.settings.api.model_copy(update={"page_max": 10}))
    for path in ("/api/v1/warnings?limit=11", "/api/v1/scores?limit=11"):
        over = api.get(path, "regulator_all")
        assert over.status_code == 422
        assert over.json()["detail"] == [{"field": "query.limit", "rule": "less_than_equal",
                                          "message": "at most 10 rows per page"}]
    most = api.get("/api/v1/scores?limit=10", "regulator_all").json()
    assert len(most["items"]) == 10 and most["next_cursor"] is not None


def test_warnings_of_a_regional_regulator_page_within_its_regions(api: Api) -> None:
    w = walk(api, "/api/v1/warnings", "regulator_region", 3, tier="blue", state="open")
    with api.session() as session:
        expected = list(session.scalars(select(RiskWarning.id).where(
            RiskWarning.state == "open", RiskWarning.tier == "blue",
            RiskWarning.region == REGION).order_by(RiskWarning.id.desc())))
    assert [x["id"] for x in w.items] == expected and w.total is None  # history: not counted


def test_the_audit_log_pages_in_chain_order_under_a_filter(api: Api) -> None:
    for _ in range(5):
        assert api.get("/api/v1/warnings?limit=1", "regulator_all").is_success
    w = walk(api, "/api/v1/audit", "auditor", 2, action="read_warnings", outcome="ok")
    with api.session() as session:
        expected = list(session.scalars(select(AuditEntry.id).where(
            AuditEntry.action == "read_warnings", AuditEntry.outcome == "ok",
            AuditEntry.id <= w.items[-1]["id"]).order_by(AuditEntry.id)))
    assert [e["id"] for e in w.items] == expected and len(expected) >= 5 and w.pages >= 3


def test_cases_page_newest_first_within_the_scope(api: Api, added: Added) -> None:
    mine = walk(api, "/api/v1/cases", "regulator_region", 4, subject_kind="party")
    every = walk(api, "/api/v1/cases", "regulator_all", 5, subject_kind="party")
    with api.session() as session:
        parties = list(session.scalars(select(Case).where(Case.subject_kind == "party")
                                       .order_by(Case.id.desc())))
    assert [c["id"] for c in every.items] == [c.id for c in parties] == sorted(
        {c["id"] for c in every.items}, reverse=True)
    assert every.total == len(parties) and set(added.cases) <= {c.id for c in parties}
    assert [c["id"] for c in mine.items] == [c.id for c in parties if c.region == REGION]
    assert mine.total == len(mine.items) < every.total
    institution = walk(api, "/api/v1/cases", "institution", 2)
    assert {(c["subject_kind"], c["subject_id"]) for c in institution.items} <= {
        ("institution", api.entities.institution_in)}


def test_the_queue_pages_in_urgency_order(api: Api, added: Added) -> None:
    w = walk(api, "/api/v1/cases/queue", "regulator_all", 3)
    today = api.ctx.today()
    with api.session() as session:
        open_cases = list(session.scalars(select(Case).where(lists.IS_OPEN)))
    expected = sorted((lists.queue_item(c, today) for c in open_cases), key=urgency)
    assert [i["case_id"] for i in w.items] == [i.case_id for i in expected]
    assert w.total == len(open_cases) and w.pages >= 10
    late = walk(api, "/api/v1/cases/queue", "regulator_region", 2, overdue="true")
    assert [i["case_id"] for i in late.items] == [
        i.case_id for i in expected if i.overdue and any(
            c.id == i.case_id and c.region == REGION for c in open_cases)]
    assert late.items and all(i["overdue"] for i in late.items)


@pytest.mark.parametrize("format", ["json", "csv"])
def test_the_dishonesty_list_pages_in_both_formats(api: Api, added: Added, format: str
                                                   ) -> None:
    today = api.ctx.today()
    with api.session() as session:
        expected = [c.subject_id for c in session.scalars(select(Case).order_by(Case.id))
                    if CaseState(c.state) in ON_LIST and c.published and lists.in_force(c, today)]
    assert len(expected) >= 8
    if format == "json":
        w = walk(api, "/api/v1/dishonesty-list", "auditor", 3)
        assert [e["unified_code"] for e in w.items] == expected and w.total == len(expected)
        return
    codes, url, pages = [], "/api/v1/dishonesty-list?format=csv&limit=3", 0
    while url:
        answer = api.get(url, "auditor")
        assert answer.status_code == 200 and answer.headers["content-type"].startswith(
            "text/csv")
        rows = list(csv.DictReader(io.StringIO(answer.text)))
        assert 0 < len(rows) <= 3
        codes += [r["unified_code"] for r in rows]
        pages += 1
        link = answer.headers.get("link")
        url = link.split(";")[0].strip("<>") if link else ""
        assert not link or link.endswith('; rel="next"')
    assert codes == expected and pages == -(-len(expected) // 3)


def test_assessment_years_results_and_appeals_page(api: Api, added: Added) -> None:
    years = walk(api, "/api/v1/assessments", "auditor", 1)
    with api.session() as session:
        expected_years = list(session.scalars(select(Assessment.year).order_by(
            Assessment.year.desc())))
        results = list(session.scalars(select(AssessmentResult).where(
            AssessmentResult.assessment_id == added.assessment)))
        appeals = list(session.scalars(select(AssessmentAppeal.id).where(
            AssessmentAppeal.assessment_id == added.assessment).order_by(AssessmentAppeal.id)))
    assert [a["year"] for a in years.items] == expected_years and years.total == len(
        expected_years)

    order = sorted(results, key=lambda r: (r.group_key, r.rank, r.institution_id))
    assert len({(r.group_key, r.rank) for r in results}) < len(results)  # ties
    year = walk(api, f"/api/v1/assessments/{YEAR}", "auditor", 4)
    assert [r["institution_id"] for r in year.items] == [r.institution_id for r in order]
    assert year.total == len(results) == 23
    first = api.get(f"/api/v1/assessments/{YEAR}?limit=4", "auditor").json()
    assert (first["assessment"]["year"], first["assessment"]["counts"]) == (
        YEAR, {"pass": 17, "warning": 3, "exit": 3})
    regional = walk(api, f"/api/v1/assessments/{YEAR}", "regulator_region", 3,
                    outcome="pass")
    assert [r["institution_id"] for r in regional.items] == [
        r.institution_id for r in order if r.region == REGION and r.outcome == "pass"]

    filed = walk(api, f"/api/v1/assessments/{YEAR}/appeals", "auditor", 2)
    assert [p["id"] for p in filed.items] == appeals and filed.total == 9
    open_in_region = walk(api, f"/api/v1/assessments/{YEAR}/appeals", "regulator_region", 1,
                          state="filed")
    in_region = {r.institution_id for r in results if r.region == REGION}
    assert [p["institution_id"] for p in open_in_region.items] == [
        f"IPG{n:05d}" for n in range(9) if n % 2 and f"IPG{n:05d}" in in_region]
    assert walk(api, f"/api/v1/assessments/{YEAR}/appeals", "institution", 5).items == []


def test_drift_alerts_page_open_first_then_newest(api: Api, added: Added) -> None:
    w = walk(api, "/api/v1/monitoring/alerts", "reviewer", 4)
    with api.session() as session:
        alerts = list(session.scalars(select(MonitorAlert)))
    expected = sorted(alerts, key=lambda a: (a.state != "open", -a.id))
    assert [a["id"] for a in w.items] == [a.id for a in expected]
    assert w.total == len(alerts) and set(added.alerts) <= {a["id"] for a in w.items}


@pytest.mark.parametrize("path", [
    "/api/v1/scores", "/api/v1/warnings", "/api/v1/audit", "/api/v1/cases",
    "/api/v1/cases/queue", "/api/v1/dishonesty-list", "/api/v1/assessments",
    f"/api/v1/assessments/{YEAR}", f"/api/v1/assessments/{YEAR}/appeals",
    "/api/v1/monitoring/alerts"])
def test_a_cursor_of_another_list_is_422_naming_the_cursor(api: Api, added: Added,
                                                           path: str) -> None:
    """Each list refuses a cursor issued by another (here: the scores' by entity id, and for
    the scores themselves the same cursor under another sort)."""
    cursor = api.get("/api/v1/scores?sort=entity_id&limit=1", "admin").json()["next_cursor"]
    query = {"cursor": cursor} | ({"sort": "points"} if path.endswith("/scores") else {})
    answer = api.get(path, "admin", params=query)
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["detail"]
    assert (problem["field"], problem["rule"]) == ("query.cursor", "cursor")
    assert "cursor" in problem["message"]
