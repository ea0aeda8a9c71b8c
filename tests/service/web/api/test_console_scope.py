"""The console's overview and search hold what the role and its regions may read, and are
audited: an office sees no national figures, a Beijing regulator Beijing's only, an
institution its own; the entity directory is for the roles that read scores."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from service.core.db.tables import RiskWarning, Score
from tests.service.web.api.conftest import REGION, Api, login_form

pytestmark = pytest.mark.e2e


def console(api: Api, user: str, path: str = "/console", **params: str) -> tuple[int, str]:
    """A page as ``user`` sees it, signed in through the console's own form."""
    api.client.cookies.clear()
    signed = api.client.post("/console/login", data=login_form(api.client, api.tokens[user]),
                             headers={"Origin": "http://testserver"}, follow_redirects=False)
    assert signed.status_code == 303, signed.text
    try:
        answer = api.client.get(path, params=params)
    finally:
        api.client.cookies.clear()
    return answer.status_code, answer.text


def scored(html: str) -> int | None:
    found = re.search(r'id="scored">(\d+)<', html)
    return int(found.group(1)) if found else None


def counted(api: Api, column: object, table: type, region: str | None) -> int:
    with api.session() as session:
        as_of = session.scalar(select(func.max(Score.as_of)))
        q = select(func.count()).select_from(table).where(table.as_of == as_of)  # type: ignore[attr-defined]
        if region is not None:
            q = q.where(column == region)
        return session.scalar(q) or 0


def test_the_overview_holds_only_what_the_role_may_read_and_is_audited(api: Api) -> None:
    mark = api.audit_mark()
    code, office = console(api, "office")
    assert code == 200
    assert scored(office) is None and "tier-red" not in office and 'id="open-cases"' not in office
    assert "<svg" not in office  # no grade chart

    _, beijing = console(api, "regulator_region")
    _, national = console(api, "regulator_all")
    in_beijing = counted(api, Score.region, Score, REGION)
    assert scored(beijing) == in_beijing < scored(national) == counted(api, None, Score, None)
    assert 'id="open-cases"' in beijing and "tier-red" in beijing

    _, own = console(api, "institution")
    assert scored(own) == 1 and "tier-red" not in own  # institutions read no warnings

    homes = [e for e in api.audit_since(mark) if e.action == "console.home"]
    assert [(e.actor, e.outcome, e.detail["shown"]) for e in homes] == [
        ("office", "ok", []),
        ("regulator_region", "ok", ["scores", "warnings", "cases"]),
        ("regulator_all", "ok", ["scores", "warnings", "cases"]),
        ("institution", "ok", ["scores", "cases"])]
    assert homes[1].detail["regions"] == [REGION]
    assert counted(api, RiskWarning.region, RiskWarning, REGION) <= counted(
        api, None, RiskWarning, None)


def test_search_is_for_the_roles_that_read_scores_and_audited(api: Api) -> None:
    mark = api.audit_mark()
    for user in ("office", "auditor"):
        code, _ = console(api, user, "/console/search", q="I")
        assert code == 403
    code, html = console(api, "regulator_region", "/console/search",
                         q=api.entities.institution_out)
    assert code == 200
    assert f"/console/entities/institution/{api.entities.institution_out}" not in html
    code, _ = console(api, "regulator_all", "/console/search", q="x\u202ey")
    assert code == 422
    searches = [(e.actor, e.action, e.outcome, e.detail.get("q"))
                for e in api.audit_since(mark) if e.action == "console.search"]
    assert searches == [("office", "console.search", "denied", None),
                        ("auditor", "console.search", "denied", None),
                        ("regulator_region", "console.search", "ok", api.entities.institution_out)]
