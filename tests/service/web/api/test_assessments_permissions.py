"""Every role against every assessment route, as :data:`service.core.permissions.GRANTS` declares,
on the shared app: a granted call reaches the assessment's rules (which may still refuse with 409,
audited "refused"); a denied one is 403 before it, audited "denied"; a bad token is 401.
``ASSESSMENT_ENDPOINTS`` joins the route-coverage check of ``test_permissions``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from httpx import Response

from models.assessment.config import load_config
from pipelines.assess import compute, read_inputs, write
from service.core.assessments import records, service
from service.core.db.types import Role, utcnow
from service.core.db.users import add_user
from service.core.permissions import GRANTS
from service.core.permissions import Permission as P
from tests.service.web.api.conftest import BAD_TOKENS, USERS, Api

pytestmark = pytest.mark.e2e
ROLE_OF = {u.name: Role(u.role) for u in USERS}
YEAR = 2020
BASE = "/api/v1/assessments"
REASON = "permission matrix / 权限矩阵"


@dataclass(frozen=True)
class Ids:
    institution: str  # assessed, inside the regional regulator's region: the institution user's
    appeal_id: int  # an open appeal about another institution


@dataclass(frozen=True)
class AssessmentEndpoint:
    permission: P
    method: str
    template: str  # the route's path template
    body: dict[str, Any] | None = None
    ok: frozenset[int] = frozenset({200})
    audits: frozenset[tuple[str, str]] = frozenset({("read_assessments", "ok")})
    rules: frozenset[str] = frozenset()  # the 409 rules a granted call may meet

    def call(self, api: Api, ids: Ids, user: str | None,
             headers: dict[str, str] | None = None) -> Response:
        headers = headers if headers is not None else (api.auth(user) if user else {})
        path = self.template.format(year=YEAR, institution_id=ids.institution,
                                    appeal_id=ids.appeal_id)
        if self.method == "GET":
            return api.client.get(path, headers=headers)
        body = {k: (ids.institution if v == "{institution}" else v)
                for k, v in (self.body or {}).items()}
        return api.client.post(path, headers=headers, json=body)


def _did(action: str, *outcomes: str) -> frozenset[tuple[str, str]]:
    return frozenset((action, o) for o in outcomes)


ASSESSMENT_ENDPOINTS = {
    "assessments": AssessmentEndpoint(P.read_assessments, "GET", BASE),
    "year": AssessmentEndpoint(P.read_assessments, "GET", BASE + "/{year}"),
    "result": AssessmentEndpoint(P.read_assessments, "GET",
                                 BASE + "/{year}/results/{institution_id}"),
    "appeals": AssessmentEndpoint(P.read_assessments, "GET", BASE + "/{year}/appeals"),
    "adjust": AssessmentEndpoint(
        P.assess, "POST", BASE + "/{year}/results/{institution_id}/adjust",
        {"outcome": "exit", "reason": REASON, "version": 1}, frozenset({409}),
        _did("assessment.adjust", "refused"), frozenset({"published"})),
    "publish": AssessmentEndpoint(
        P.assess, "POST", BASE + "/{year}/publish", {"version": 1}, frozenset({409}),
        _did("assessment.publish", "refused"), frozenset({"published"})),
    "appeal": AssessmentEndpoint(
        P.appeal_assessment, "POST", BASE + "/{year}/appeals",
        {"institution_id": "{institution}", "reason": REASON}, frozenset({201, 409}),
        _did("assessment.appeal", "ok", "refused"), frozenset({"appeal_open"})),
    "decide": AssessmentEndpoint(
        P.assess, "POST", BASE + "/{year}/appeals/{appeal_id}/decide",
        {"decision": "rejected", "reason": REASON}, frozenset({200, 409}),
        _did("assessment.decide_appeal", "ok", "refused"), frozenset({"appeal_decided"})),
}


@pytest.fixture(scope="module")
def ids(api: Api) -> Ids:
    """The year published by two assessors of its own, with an appeal about another
    institution open."""
    with api.session() as session, session.begin():
        for name in ("matrix_runner", "matrix_publisher"):
            add_user(session, name, "assessor")
    config, tables = load_config(), dict(api.trained.tables())
    inputs = read_inputs(api.engine, tables, YEAR, date.today())
    draft = write(api.engine, config, compute(config, tables, inputs, YEAR, 0), inputs,
                  "matrix_runner")
    own = api.entities.institution_in
    with api.session() as session, session.begin():
        service.publish(session, YEAR, records.Actor("matrix_publisher", "assessor"),
                        draft.version, utcnow(), dict.fromkeys(draft.flagged, REASON))
        other = next(r.institution_id for r in records.results(
            session, records.require(session, YEAR).id) if r.institution_id != own)
        filed = service.file_appeal(session, YEAR, other, REASON, None,
                                    records.Actor("regulator_all", "regulator"), utcnow(), 30)
        assert own in {r.institution_id for r in records.results(session, filed.assessment.id)}
    assert filed.appeal is not None
    return Ids(own, filed.appeal.id)


@pytest.mark.parametrize("user", [u.name for u in USERS])
@pytest.mark.parametrize("name", list(ASSESSMENT_ENDPOINTS))
def test_role_against_assessment_endpoint(api: Api, ids: Ids, name: str, user: str) -> None:
    endpoint = ASSESSMENT_ENDPOINTS[name]
    granted = ROLE_OF[user] in GRANTS[endpoint.permission]
    mark = api.audit_mark()
    answer = endpoint.call(api, ids, user)
    audited = {(a.actor, a.action, a.outcome) for a in api.audit_since(mark)}
    if granted:
        assert answer.status_code in endpoint.ok, answer.text
        assert audited and {(a, o) for _, a, o in audited} <= endpoint.audits
        assert {u for u, _, _ in audited} == {user}
        if answer.status_code == 409:
            assert answer.json()["detail"]["rule"] in endpoint.rules
        return
    assert answer.status_code == 403, answer.text
    assert answer.json()["detail"].startswith(
        f"role {ROLE_OF[user].value} may not {endpoint.permission.value}")
    assert audited == {(user, endpoint.permission.value, "denied")}


@pytest.mark.parametrize("bad", list(BAD_TOKENS))
@pytest.mark.parametrize("name", list(ASSESSMENT_ENDPOINTS))
def test_bad_tokens_on_assessment_routes(api: Api, ids: Ids, name: str, bad: str) -> None:
    header = BAD_TOKENS[bad]
    if header in ("expired", "revoked"):
        header = f"Bearer {api.tokens[header]}"
    mark = api.audit_mark()
    answer = ASSESSMENT_ENDPOINTS[name].call(api, ids, None,
                                             {"Authorization": header} if header else {})
    assert answer.status_code == 401, answer.text
    assert [(a.actor, a.outcome) for a in api.audit_since(mark)] == [
        ("anonymous", "unauthenticated")]
