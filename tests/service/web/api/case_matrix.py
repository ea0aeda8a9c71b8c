"""The case routes in the permission matrix: who may read, work and answer cases, as
:data:`service.core.permissions.GRANTS` declares. A granted call reaches the case rules (which may
still refuse with 409, audited "refused"); a denied one is 403 before it."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from httpx import Response

from service.core.permissions import Permission as P
from tests.service.web.api.conftest import Api


@dataclass(frozen=True)
class CaseIds:
    case_id: int
    file_id: int


@dataclass(frozen=True)
class CaseEndpoint:
    permission: P
    method: str
    template: str  # the route's path template
    fill: dict[str, str] = field(default_factory=dict)  # other path parameters
    body: dict[str, Any] | None = None
    ok: frozenset[int] = frozenset({200})
    audits: frozenset[tuple[str, str]] | None = None  # (action, outcome); None: not audited

    def path(self, ids: CaseIds) -> str:
        return self.template.format(case_id=ids.case_id, file_id=ids.file_id, **self.fill)

    def call(self, api: Api, ids: CaseIds, user: str | None,
             headers: dict[str, str] | None = None) -> Response:
        headers = headers if headers is not None else (api.auth(user) if user else {})
        if self.method == "GET":
            return api.client.get(self.path(ids), headers=headers)
        return api.client.post(self.path(ids), headers=headers, json=self.body or {})


def _ok(action: str, outcome: str = "ok") -> frozenset[tuple[str, str]]:
    return frozenset({(action, outcome)})


BASE = "/api/v1/cases"
CASE_ENDPOINTS = {
    "transitions": CaseEndpoint(P.read_cases, "GET", f"{BASE}/transitions"),
    "cases": CaseEndpoint(P.read_cases, "GET", BASE, audits=_ok("read_cases")),
    "case": CaseEndpoint(P.read_cases, "GET", BASE + "/{case_id}", audits=_ok("read_cases")),
    "file": CaseEndpoint(P.read_cases, "GET", BASE + "/{case_id}/files/{file_id}",
                         audits=_ok("read_cases")),
    "list": CaseEndpoint(P.read_cases, "GET", "/api/v1/dishonesty-list",
                         audits=_ok("export_list")),
    "queue": CaseEndpoint(P.work_cases, "GET", f"{BASE}/queue", audits=_ok("read_cases")),
    "open": CaseEndpoint(P.work_cases, "POST", BASE, body={
        "subject_kind": "institution", "subject_id": "{institution}",
        "conduct": "misreported_performance", "reason": "permission matrix"},
        ok=frozenset({200, 201}),
        audits=frozenset({("case.open", "ok"), ("case.merge", "ok")})),
    "assign": CaseEndpoint(P.work_cases, "POST", BASE + "/{case_id}/assign",
                           body={"assignee": "regulator_all"}, audits=_ok("case.assign")),
    "officer_action": CaseEndpoint(P.work_cases, "POST", BASE + "/{case_id}/actions/{action}",
                                   {"action": "remove"}, {"reason": "not yet"},
                                   frozenset({409}), _ok("case.remove", "refused")),
    "subject_action": CaseEndpoint(P.answer_case, "POST", BASE + "/{case_id}/actions/{action}",
                                   {"action": "object"}, {"reason": "not notified yet"},
                                   frozenset({409}), _ok("case.object", "refused")),
    "upload": CaseEndpoint(P.answer_case, "POST", BASE + "/{case_id}/files", body={
        "name": "note.txt", "media_type": "text/plain",
        "content_base64": base64.b64encode(b"matrix").decode()}, ok=frozenset({201}),
        audits=_ok("answer_case")),
    "measure": CaseEndpoint(P.work_cases, "POST", BASE + "/{case_id}/measures", body={
        "measure": "restrict_funding", "agency": "某部门", "starts": "2026-01-01"},
        ok=frozenset({409}), audits=_ok("case.add_measure", "refused")),
    "sweep": CaseEndpoint(P.work_cases, "POST", f"{BASE}/sweep", audits=_ok("case.sweep")),
}


def matrix_case(api: Api) -> CaseIds:
    """A flagged case about the institution user's own institution (inside the regional
    regulator's region), with one file."""
    subject = api.entities.institution_in
    opened = api.post(BASE, "admin", json={"subject_kind": "institution", "subject_id": subject,
                                          "conduct": "breach_of_contract",
                                          "reason": "permission matrix"})
    assert opened.status_code in (200, 201), opened.text
    case_id = opened.json()["case"]["id"]
    upload = api.post(f"{BASE}/{case_id}/files", "admin", json={
        "name": "seed.txt", "content_base64": base64.b64encode(b"seed").decode()})
    assert upload.status_code == 201, upload.text
    return CaseIds(case_id, upload.json()["id"])


def with_subject(endpoint: CaseEndpoint, api: Api) -> CaseEndpoint:
    if endpoint.body is None or "subject_id" not in endpoint.body:
        return endpoint
    body = {**endpoint.body, "subject_id": api.entities.institution_in}
    return CaseEndpoint(endpoint.permission, endpoint.method, endpoint.template, endpoint.fill,
                        body, endpoint.ok, endpoint.audits)
