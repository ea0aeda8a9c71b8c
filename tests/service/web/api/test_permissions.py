"""Every role against every endpoint, as :data:`service.core.permissions.GRANTS` declares: allowed
requests answer with their values, denied ones 403 and are audited "denied"; missing, malformed,
unknown, expired and revoked tokens 401 and are audited "unauthenticated"; institutions see
only themselves and regulators with regions only their regions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from httpx import Response
from sqlalchemy import func, select

from models.registry import CREDIT_MODEL
from service.core.db.tables import AuditEntry, RiskWarning, Score
from service.core.db.types import Role
from service.core.monitoring.tables import MonitorAlert
from service.core.permissions import GRANTS, Permission
from tests.service.web.api.case_matrix import CASE_ENDPOINTS
from tests.service.web.api.conftest import AS_OF, BAD_TOKENS, REGION, USERS, Api, contract_body
from tests.service.web.api.test_assessments_permissions import ASSESSMENT_ENDPOINTS

pytestmark = pytest.mark.e2e

P = Permission


@dataclass(frozen=True)
class Endpoint:
    permission: P
    method: str
    template: str  # the route's path template
    entity: str | None = None  # which of ``Api.entities`` fills {entity_id}
    query: str = ""
    ok: int = 200

    def path(self, api: Api, user: str | None = None) -> str:
        entity_id = getattr(api.entities, self.entity) if self.entity else ""
        alert_id = alert_for(api, user or "anon") if "/alerts" in self.template else ""
        return self.template.format(entity_id=entity_id, kind="institution", name=CREDIT_MODEL,
                                    version="1", alert_id=alert_id)

    def body(self, api: Api, user: str) -> Any:
        if self.permission is P.check_contract:
            one = contract_body(api.trained, f"CP{user.upper()[:3]}000001")
            if self.template.endswith("/batch"):
                return {"contracts": [one, {**one, "contract_id": f"CP{user.upper()[:3]}000002"}]}
            return one
        if self.permission is P.override:
            return {"grade": "B", "reason": f"matrix test by {user}", "days": 1}
        if self.permission is P.review_models:  # promote the champion again, recorded
            return {"note": f"matrix test by {user}", "override": True}
        return None

    def call(self, api: Api, user: str | None) -> Response:
        url = self.path(api, user) + self.query
        body = self.body(api, user or "anon")
        if self.method == "GET":
            return api.get(url, user)
        return api.post(url, user, json=body)


ENDPOINTS = {
    "institution_score": Endpoint(P.read_score, "GET", "/api/v1/institutions/{entity_id}/score",
                                  "institution_in"),
    "broker_score": Endpoint(P.read_score, "GET", "/api/v1/brokers/{entity_id}/score",
                             "broker_in"),
    "scores": Endpoint(P.list_scores, "GET", "/api/v1/scores", query="?limit=500"),
    "check": Endpoint(P.check_contract, "POST", "/api/v1/contracts/check",
                      query="?register=false"),
    "check_batch": Endpoint(P.check_contract, "POST", "/api/v1/contracts/check/batch",
                            query="?register=false"),
    "warnings": Endpoint(P.read_warnings, "GET", "/api/v1/warnings", query="?limit=500"),
    "models": Endpoint(P.read_models, "GET", "/api/v1/models"),
    "override": Endpoint(P.override, "POST", "/api/v1/scores/{kind}/{entity_id}/override",
                         "institution_in", ok=201),
    "audit": Endpoint(P.read_audit, "GET", "/api/v1/audit", query="?limit=5"),
    "model_versions": Endpoint(P.read_models, "GET", "/api/v1/models/{name}/versions"),
    "review_report": Endpoint(P.read_models, "GET",
                              "/api/v1/models/{name}/versions/{version}/review"),
    "promote": Endpoint(P.review_models, "POST",
                        "/api/v1/models/{name}/versions/{version}/promote"),
    "alerts": Endpoint(P.read_models, "GET", "/api/v1/monitoring/alerts"),
    "acknowledge": Endpoint(P.review_models, "POST",
                            "/api/v1/monitoring/alerts/{alert_id}/acknowledge"),
    "metrics": Endpoint(P.read_metrics, "GET", "/metrics"),
}
_ALERTS: dict[tuple[str, str], int] = {}


def alert_for(api: Api, user: str) -> int:
    """A drift alert of the user's own, so each granted role acknowledges an open one."""
    key = (api.settings.database.url or "", user)
    if key not in _ALERTS:
        with api.session() as session, session.begin():
            alert = MonitorAlert(month=f"2000-{len(_ALERTS) + 1:02d}", model_name=CREDIT_MODEL,
                                 model_version="1", level="watch", variables=["score"],
                                 message_zh="测试预警", message_en="test alert")
            session.add(alert)
            session.flush()
            _ALERTS[key] = alert.id
    return _ALERTS[key]
ROLE_OF = {u.name: Role(u.role) for u in USERS}


def test_the_matrix_covers_every_permission_and_every_api_route(api: Api) -> None:
    """This module's endpoints and the workflow modules' matrices together."""
    matrices = [*ENDPOINTS.values(), *CASE_ENDPOINTS.values(), *ASSESSMENT_ENDPOINTS.values()]
    assert {e.permission for e in matrices} == set(P)
    paths = api.app.openapi()["paths"]
    routes = {(method.upper(), path) for path, methods in paths.items()
              if path.startswith("/api/") or path == "/metrics" for method in methods}
    assert routes == {(e.method, e.template) for e in matrices}


def _check_allowed(api: Api, name: str, user: str, answer: Any) -> None:
    """The value each endpoint answers, for a user it serves."""
    e = api.entities
    if name in ("institution_score", "broker_score"):
        kind, entity_id = (("institution", e.institution_in) if name == "institution_score"
                           else ("broker", e.broker_in))
        with api.session() as session:
            row = session.scalars(select(Score).where(
                Score.entity_kind == kind, Score.entity_id == entity_id)).one()
        assert (answer["entity_kind"], answer["entity_id"], answer["as_of"]) == (
            kind, entity_id, AS_OF)
        assert (answer["points"], answer["grade"], answer["probability"]) == (
            row.points, row.grade, row.probability)
        assert answer["reasons_zh"] == row.reasons_zh and answer["reasons_en"] == row.reasons_en
        assert (answer["model_name"], answer["model_version"]) == ("techcredit-credit", "1")
        assert [h["as_of"] for h in answer["history"]] == [AS_OF]
    elif name == "scores":
        assert answer["as_of"] == AS_OF and answer["items"]
        regions = {row["region"] for row in answer["items"]}
        if user == "regulator_region":
            assert regions == {REGION}
        else:
            assert len(regions) > 1
    elif name == "check":
        assert answer["contract_id"] == f"CP{user.upper()[:3]}000001"
        assert 0.0 <= answer["probability"] <= 1.0 and answer["registered"] is False
        assert (answer["model_name"], answer["model_version"]) == ("techcredit-anomaly", "1")
    elif name == "check_batch":
        assert [r["contract_id"] for r in answer["results"]] == [
            f"CP{user.upper()[:3]}00000{i}" for i in (1, 2)]
    elif name == "warnings":
        assert answer["items"] and all(w["state"] == "open" for w in answer["items"])
        regions = {w["region"] for w in answer["items"]}
        assert regions == {REGION} if user == "regulator_region" else len(regions) > 1
    elif name == "models":
        assert [(m["name"], m["version"], m["alias"]) for m in answer["models"]] == [
            ("techcredit-anomaly", "1", "champion"), ("techcredit-credit", "1", "champion")]
        assert answer["registry_problem"] is None
    elif name == "override":
        assert (answer["grade"], answer["set_by"]) == ("B", user)
    elif name == "model_versions":
        assert (answer["name"], answer["champion"]) == (CREDIT_MODEL, "1")
        [v1] = answer["versions"]
        assert v1["report"] == f"/api/v1/models/{CREDIT_MODEL}/versions/1/review"
        assert 0.0 <= v1["figures"]["test_auc"] <= 1.0 and v1["reviews"]
    elif name == "review_report":
        assert "<html" in answer.lower() and "data:image/png;base64," in answer
    elif name == "promote":
        assert (answer["name"], answer["version"], answer["serving"]) == (CREDIT_MODEL, "1",
                                                                          True)
        assert answer["outcome"] in ("promoted", "overridden")
    elif name == "alerts":
        assert {a["model_name"] for a in answer["items"]} == {CREDIT_MODEL}
        assert alert_for(api, user) in {a["id"] for a in answer["items"]}
    elif name == "acknowledge":
        assert (answer["state"], answer["acknowledged_by"]) == ("acknowledged", user)
    elif name == "audit":
        ids = [entry["id"] for entry in answer["items"]]
        assert ids == list(range(1, len(ids) + 1)) and len(ids) == 5


@pytest.mark.parametrize("user", [u.name for u in USERS])
@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_role_against_endpoint(api: Api, name: str, user: str) -> None:
    endpoint = ENDPOINTS[name]
    granted = ROLE_OF[user] in GRANTS[endpoint.permission]
    # the institution user may read scores, but only its own institution's
    out_of_scope = user == "institution" and name == "broker_score"
    mark = api.audit_mark()
    answer = endpoint.call(api, user)
    audited = api.audit_since(mark)
    if granted and not out_of_scope:
        assert answer.status_code == endpoint.ok, answer.text
        json = answer.headers["content-type"].startswith("application/json")
        _check_allowed(api, name, user, answer.json() if json else answer.text)
        assert audited and {(a.actor, a.role, a.action, a.outcome) for a in audited} == {
            (user, ROLE_OF[user].value, endpoint.permission.value, "ok")}
        return
    assert answer.status_code == 403, answer.text
    reason = answer.json()["detail"]
    if out_of_scope:
        assert reason.startswith("an institution sees only its own score")
    else:
        assert reason.startswith(f"role {ROLE_OF[user].value} may not {endpoint.permission}")
    assert [(a.actor, a.role, a.action, a.outcome, a.detail) for a in audited] == [
        (user, ROLE_OF[user].value, endpoint.permission.value, "denied",
         {"path": endpoint.path(api, user), "reason": reason})]


@pytest.mark.parametrize("bad", list(BAD_TOKENS))
@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_bad_tokens_are_refused_and_audited(api: Api, name: str, bad: str) -> None:
    endpoint = ENDPOINTS[name]
    header = BAD_TOKENS[bad]
    if header in ("expired", "revoked"):
        header = f"Bearer {api.tokens[header]}"
    path = endpoint.path(api)
    mark = api.audit_mark()
    if endpoint.method == "GET":
        answer = api.client.get(path, headers={"Authorization": header} if header else None)
    else:
        answer = api.client.post(path + endpoint.query, json=endpoint.body(api, "anon"),
                                 headers={"Authorization": header} if header else None)
    assert answer.status_code == 401, answer.text
    assert answer.headers["www-authenticate"] == "Bearer"
    reason = answer.json()["detail"]
    expected = ("a bearer token is required" if bad in ("none", "not bearer")
                else "the token is unknown, expired or revoked")
    assert reason.startswith(expected)
    audited = api.audit_since(mark)
    assert [(a.actor, a.role, a.outcome, a.detail) for a in audited] == [
        ("anonymous", None, "unauthenticated", {"path": path, "reason": reason})]


def test_institution_sees_only_itself(api: Api) -> None:
    e = api.entities
    own = api.get(f"/api/v1/institutions/{e.institution_in}/score", "institution")
    assert own.status_code == 200 and own.json()["entity_id"] == e.institution_in
    for path, entity_id in ((f"/api/v1/institutions/{e.institution_out}/score",
                             e.institution_out),
                            (f"/api/v1/brokers/{e.broker_in}/score", e.broker_in)):
        mark = api.audit_mark()
        other = api.get(path, "institution")
        assert other.status_code == 403, other.text
        [entry] = api.audit_since(mark)
        assert (entry.outcome, entry.entity_id, entry.action) == ("denied", entity_id,
                                                                  "read_score")


def _count(api: Api, model: type[Score] | type[RiskWarning], *where: Any) -> int:
    with api.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_regulator_with_regions_sees_only_its_regions(api: Api) -> None:
    e = api.entities
    user = "regulator_region"
    for path in (f"/api/v1/institutions/{e.institution_in}/score",
                 f"/api/v1/brokers/{e.broker_in}/score"):
        inside = api.get(path, user)
        assert inside.status_code == 200 and inside.json()["region"] == REGION
    for kind, entity_id in (("institutions", e.institution_out), ("brokers", e.broker_out)):
        mark = api.audit_mark()
        outside = api.get(f"/api/v1/{kind}/{entity_id}/score", user)
        assert outside.status_code == 403, outside.text
        assert f"outside this token's regions {REGION}" in outside.json()["detail"]
        [entry] = api.audit_since(mark)
        assert (entry.actor, entry.outcome, entry.entity_id) == (user, "denied", entity_id)

    listed = api.get("/api/v1/scores?limit=500", user).json()
    assert {r["region"] for r in listed["items"]} == {REGION}
    assert len(listed["items"]) == _count(api, Score, Score.region == REGION)
    everyone = api.get("/api/v1/scores?limit=500", "regulator_all").json()
    assert len(everyone["items"]) == _count(api, Score) == api.batch.scored > len(
        listed["items"])

    warned = api.get("/api/v1/warnings?limit=500", user).json()
    assert {w["region"] for w in warned["items"]} == {REGION}
    assert len(warned["items"]) == _count(api, RiskWarning, RiskWarning.region == REGION)

    own_region = api.get(f"/api/v1/scores?region={REGION}&limit=500", user)
    assert own_region.json()["items"] == listed["items"]
    elsewhere = next(r["region"] for r in everyone["items"] if r["region"] != REGION)
    for path, action in ((f"/api/v1/scores?region={elsewhere}", "list_scores"),
                         (f"/api/v1/warnings?region={elsewhere}", "read_warnings")):
        mark = api.audit_mark()
        refused = api.get(path, user)
        assert refused.status_code == 403, refused.text
        assert refused.json()["detail"].startswith(f"region {elsewhere} is outside")
        [entry] = api.audit_since(mark)
        assert (entry.action, entry.outcome) == (action, "denied")

    mark = api.audit_mark()
    override = api.post(f"/api/v1/scores/institution/{e.institution_out}/override", user,
                        json={"grade": "D", "reason": "outside my region", "days": 1})
    assert override.status_code == 403, override.text
    [entry] = api.audit_since(mark)
    assert (entry.action, entry.outcome, entry.entity_id) == ("override", "denied",
                                                              e.institution_out)


def test_an_override_shows_beside_the_model_score(api: Api) -> None:
    e = api.entities
    before = api.get(f"/api/v1/brokers/{e.broker_out}/score", "admin").json()
    assert before["override"] is None and before["effective_grade"] == before["grade"]
    grade = "A" if before["grade"] != "A" else "D"
    made = api.post(f"/api/v1/scores/broker/{e.broker_out}/override", "regulator_all",
                    json={"grade": grade, "reason": "on-site inspection 2020-07", "days": 30})
    assert made.status_code == 201, made.text
    after = api.get(f"/api/v1/brokers/{e.broker_out}/score", "admin").json()
    assert after["override"]["grade"] == grade == after["effective_grade"]
    assert after["override"]["set_by"] == "regulator_all"
    assert (after["grade"], after["points"]) == (before["grade"], before["points"])
    with api.session() as session:
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "override", AuditEntry.entity_id == e.broker_out)).one()
    assert entry.detail["model_grade"] == before["grade"] and entry.detail["grade"] == grade
