"""Every role against every case route (allowed: the route's answer; denied: 403, audited),
and bad tokens refused and audited, as the score routes are in ``test_permissions``."""

from __future__ import annotations

import pytest

from service.core.db.types import Role
from service.core.permissions import GRANTS
from tests.service.web.api.case_matrix import CASE_ENDPOINTS, CaseIds, matrix_case, with_subject
from tests.service.web.api.conftest import BAD_TOKENS, USERS, Api

pytestmark = pytest.mark.e2e
ROLE_OF = {u.name: Role(u.role) for u in USERS}


@pytest.fixture(scope="module")
def ids(api: Api) -> CaseIds:
    return matrix_case(api)


@pytest.mark.parametrize("user", [u.name for u in USERS])
@pytest.mark.parametrize("name", list(CASE_ENDPOINTS))
def test_role_against_case_endpoint(api: Api, ids: CaseIds, name: str, user: str) -> None:
    endpoint = with_subject(CASE_ENDPOINTS[name], api)
    granted = ROLE_OF[user] in GRANTS[endpoint.permission]
    mark = api.audit_mark()
    answer = endpoint.call(api, ids, user)
    audited = {(a.actor, a.action, a.outcome) for a in api.audit_since(mark)}
    if granted:
        assert answer.status_code in endpoint.ok, answer.text
        if endpoint.audits is None:
            assert audited == set()
        else:
            assert audited and {(a, o) for _, a, o in audited} <= endpoint.audits
            assert {u for u, _, _ in audited} == {user}
        if answer.status_code == 409:
            assert answer.json()["detail"]["rule"] in ("transition_not_allowed", "not_listed")
        return
    assert answer.status_code == 403, answer.text
    assert answer.json()["detail"].startswith(
        f"role {ROLE_OF[user].value} may not {endpoint.permission.value}")
    assert audited == {(user, endpoint.permission.value, "denied")}


@pytest.mark.parametrize("bad", list(BAD_TOKENS))
@pytest.mark.parametrize("name", list(CASE_ENDPOINTS))
def test_bad_tokens_on_case_routes(api: Api, ids: CaseIds, name: str, bad: str) -> None:
    endpoint = with_subject(CASE_ENDPOINTS[name], api)
    header = BAD_TOKENS[bad]
    if header in ("expired", "revoked"):
        header = f"Bearer {api.tokens[header]}"
    mark = api.audit_mark()
    answer = endpoint.call(api, ids, None, {"Authorization": header} if header else {})
    assert answer.status_code == 401, answer.text
    assert [(a.actor, a.outcome) for a in api.audit_since(mark)] == [
        ("anonymous", "unauthenticated")]
