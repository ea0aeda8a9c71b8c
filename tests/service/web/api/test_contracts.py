"""Real-time contract checks through the app, and bad input on every kind of endpoint: a check
answers probability, tier and reasons and is recorded (row + audit entry); a registered
contract joins its seller's state while a dry run does not; batches keep their order and
their limit; every validation error is a 422 naming the field and the rule; unknown ids 404;
a body over the limit 413."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from service.core.contracts.schemas import ContractIn
from service.core.db.tables import ContractCheck, Score
from service.core.db.users import add_user
from tests.service.web.api.conftest import Api, contract_body, market_offices

pytestmark = pytest.mark.e2e

TIERS = {"red", "orange", "yellow", "blue", None}


def _ids(prefix: str) -> Iterator[str]:
    n = 0
    while True:
        n += 1
        yield f"{prefix}{n:07d}"


def _checks(api: Api, contract_id: str) -> list[ContractCheck]:
    with api.session() as session:
        return list(session.scalars(select(ContractCheck).where(
            ContractCheck.contract_id == contract_id).order_by(ContractCheck.id)))


def _features(api: Api, body: dict[str, Any]) -> dict[str, float | None]:
    """The features the service would compute for ``body`` now (NaN as None, to compare)."""
    checker = api.ctx.checker
    assert checker is not None
    features = checker.state.features(ContractIn(**body).record())
    return {k: None if math.isnan(v) else v for k, v in features.items()}


def test_a_check_answers_and_is_recorded(api: Api) -> None:
    body = contract_body(api.trained, "CK00000001")
    mark = api.audit_mark()
    answer = api.post("/api/v1/contracts/check", "office", json=body)
    assert answer.status_code == 200, answer.text
    out = answer.json()
    assert out["contract_id"] == "CK00000001" and out["registered"] is True
    assert out["registered_date"] == body["registered_date"]
    assert 0.0 <= out["probability"] <= 1.0 and out["tier"] in TIERS
    assert out["reasons"] and all(r["zh"] and r["en"] and r["feature"] for r in out["reasons"])
    assert (out["model_name"], out["model_version"], out["alias"]) == (
        "techcredit-anomaly", "1", "champion")

    [row] = _checks(api, "CK00000001")
    assert (row.probability, row.tier, row.model_version, row.source, row.checked_by) == (
        out["probability"], out["tier"], "1", "check", "office")
    assert row.reasons_zh == [r["zh"] for r in out["reasons"]]
    assert row.rule_hits == [h["rule_id"] for h in out["rule_hits"]]
    assert (row.institution_id, row.broker_id, row.region) == (
        body["institution_id"], body["broker_id"], body["seller_region"])
    [entry] = api.audit_since(mark)
    assert (entry.actor, entry.action, entry.outcome, entry.entity_kind, entry.entity_id) == (
        "office", "check_contract", "ok", "contract", "CK00000001")
    assert entry.detail == {"path": "/api/v1/contracts/check",
                            "probability": round(out["probability"], 6), "tier": out["tier"],
                            "model_version": "1", "registered": True}


def test_a_registered_contract_changes_the_sellers_next_check_and_a_dry_run_does_not(
        api: Api) -> None:
    ids = _ids("CR")
    first = contract_body(api.trained, next(ids), row=-2)
    probe = {**first, "contract_id": next(ids)}  # the seller's next contract
    before = _features(api, probe)

    dry = api.post("/api/v1/contracts/check?register=false", "office", json=first)
    assert dry.status_code == 200 and dry.json()["registered"] is False
    assert _features(api, probe) == before

    done = api.post("/api/v1/contracts/check", "office", json=first)
    assert done.status_code == 200 and done.json()["registered"] is True
    after = _features(api, probe)
    assert after["ctr_seller_prior"] == before["ctr_seller_prior"] + 1
    assert after["ctr_pair_prior"] == before["ctr_pair_prior"] + 1  # same buyer
    assert after["ctr_buyer_prior"] == before["ctr_buyer_prior"] + 1

    again = api.post("/api/v1/contracts/check", "office", json=first)  # known: not twice
    assert again.status_code == 200 and again.json()["registered"] is False
    assert _features(api, probe) == after
    assert len(_checks(api, first["contract_id"])) == 3  # every check is recorded


def test_a_batch_answers_in_order_and_later_contracts_see_earlier_ones(api: Api) -> None:
    ids = _ids("CB")
    template = contract_body(api.trained, "CB0", row=-3)
    batch = [{**template, "contract_id": next(ids)} for _ in range(5)]
    before = _features(api, {**template, "contract_id": "CBPROBE01"})
    mark = api.audit_mark()
    answer = api.post("/api/v1/contracts/check/batch", "admin", json={"contracts": batch})
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["contract_id"] for r in results] == [c["contract_id"] for c in batch]
    assert all(r["registered"] for r in results)
    after = _features(api, {**template, "contract_id": "CBPROBE01"})
    assert after["ctr_seller_prior"] == before["ctr_seller_prior"] + 5
    audited = api.audit_since(mark)
    assert [(a.entity_id, a.actor) for a in audited] == [(c["contract_id"], "admin")
                                                         for c in batch]
    for c, r in zip(batch, results, strict=True):
        [row] = _checks(api, c["contract_id"])
        assert row.probability == r["probability"]


def test_a_check_that_fails_to_journal_leaves_no_contract_in_the_ledger(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Single checks and batches alike; the checks committed before stay in the ledger."""
    ids = _ids("CJ")
    kept = contract_body(api.trained, next(ids), row=-4)
    probe = {**kept, "contract_id": next(ids)}
    assert api.post("/api/v1/contracts/check", "office", json=kept).status_code == 200
    before = _features(api, probe)
    journal = api.ctx.journal
    write = journal.write

    async def no_check_rows(rows: Any = (), audits: Any = ()) -> None:
        if rows:  # the check's rows; the refusal's own audit entry still goes through
            raise OSError("disk full")
        await write(rows, audits)

    monkeypatch.setattr(journal, "write", no_check_rows)
    lost = {**kept, "contract_id": next(ids)}
    assert api.post("/api/v1/contracts/check", "office", json=lost).status_code == 500
    assert _features(api, probe) == before
    batch = [{**kept, "contract_id": next(ids)} for _ in range(2)]  # the second sees the first
    with pytest.raises(OSError, match="disk full"):  # the route's 500: the client raises it
        api.post("/api/v1/contracts/check/batch", "admin", json={"contracts": batch})
    monkeypatch.undo()
    assert _features(api, probe) == before
    assert api.ctx.checker is not None and lost["contract_id"] not in api.ctx.checker.known
    again = api.post("/api/v1/contracts/check", "office", json=lost)
    assert again.status_code == 200 and again.json()["registered"] is True
    assert _features(api, probe)["ctr_seller_prior"] == before["ctr_seller_prior"] + 1


def test_a_batch_over_the_limit_is_422(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    one = contract_body(api.trained, "CL0000001")
    over = api.post("/api/v1/contracts/check/batch", "office",
                    json={"contracts": [one] * 1001})
    assert over.status_code == 422
    assert [(p["field"], p["rule"]) for p in over.json()["detail"]] == [
        ("body.contracts", "too_long")]
    monkeypatch.setattr(api.ctx.settings, "api",  # the configured limit
                        api.ctx.settings.api.model_copy(update={"batch_max": 3}))
    ids = _ids("CL")
    mark = api.audit_mark()
    configured = api.post("/api/v1/contracts/check/batch", "office", json={
        "contracts": [{**one, "contract_id": next(ids)} for _ in range(4)]})
    assert configured.status_code == 422
    assert configured.json()["detail"] == [{"field": "body.contracts", "rule": "too_long",
                                            "message": "at most 3 contracts per batch"}]
    # nothing checked; the refusal itself is on the record, under the caller's name
    assert [(a.actor, a.action, a.outcome) for a in api.audit_since(mark)] == [
        ("office", "check_contract", "invalid")]
    assert _checks(api, "CL0000001") == []


BAD_CONTRACTS: dict[str, tuple[dict[str, Any], list[tuple[str, str]]]] = {
    "negative amount": ({"amount_yuan": -1}, [("body.amount_yuan", "greater_than_equal")]),
    "infinite amount": ({"amount_yuan": "inf"}, [("body.amount_yuan", "finite_number")]),
    "amount as text": ({"amount_yuan": "many"}, [("body.amount_yuan", "float_parsing")]),
    "unknown type": ({"contract_type": "loan"}, [("body.contract_type", "literal_error")]),
    "bad id": ({"contract_id": "c-1"}, [("body.contract_id", "string_pattern_mismatch")]),
    "unknown field": ({"foo": 1}, [("body.foo", "extra_forbidden")]),
    "missing field": ({"seller_id": ...}, [("body.seller_id", "missing")]),
    "bad date": ({"registered_date": "2020-13-01"}, [("body.registered_date", "date_from_"
                                                                              "datetime_parsing")]),
    "future date": ({"registered_date": "2099-01-01", "signed_date": "2098-12-01"},
                    [("body.signed_date", "not_in_future"),
                     ("body.registered_date", "not_in_future")]),
    "tech over amount": ({"amount_yuan": 100.0, "tech_amount_yuan": 200.0},
                         [("body.tech_amount_yuan", "tech_within_amount")]),
    "before the market opened": ({"signed_date": "0001-01-01", "registered_date": "1900-01-01"},
                                 [("body.signed_date", "greater_than_equal"),
                                  ("body.registered_date", "greater_than_equal")]),
    "signed after registered": ({"signed_date": "2020-12-31", "registered_date": "2020-12-01"},
                                [("body.registered_date", "signed_before_registered")]),
    "two problems": ({"amount_yuan": -1, "tech_field": "astrology"},
                     [("body.amount_yuan", "greater_than_equal"),
                      ("body.tech_field", "literal_error")]),
}


@pytest.mark.parametrize("case", list(BAD_CONTRACTS))
def test_a_bad_contract_is_422_naming_the_field_and_the_rule(api: Api, case: str) -> None:
    changes, expected = BAD_CONTRACTS[case]
    body = contract_body(api.trained, "CV0000001")
    body = {k: v for k, v in {**body, **changes}.items() if v is not ...}
    answer = api.post("/api/v1/contracts/check", "office", json=body)
    assert answer.status_code == 422, answer.text
    problems = answer.json()["detail"]
    assert [(p["field"], p["rule"]) for p in problems] == expected
    assert all(p["message"] for p in problems)
    assert _checks(api, "CV0000001") == []


@pytest.mark.parametrize(("path", "expected"), [
    ("/api/v1/institutions/bad-id/score", ("path.entity_id", "string_pattern_mismatch")),
    ("/api/v1/brokers/B1/score", ("path.entity_id", "string_pattern_mismatch")),
    ("/api/v1/scores?limit=0", ("query.limit", "greater_than_equal")),
    ("/api/v1/scores?sort=points;drop", ("query.sort", "literal_error")),
    ("/api/v1/scores?cursor=notacursor", ("query.cursor", "cursor")),
    ("/api/v1/scores?as_of=yesterday", ("query.as_of", "date_from_datetime_parsing")),
    ("/api/v1/scores?region=11", ("query.region", "string_pattern_mismatch")),
    ("/api/v1/warnings?tier=purple", ("query.tier", "literal_error")),
    ("/api/v1/warnings?cursor=notacursor", ("query.cursor", "cursor")),
    ("/api/v1/warnings?limit=0", ("query.limit", "greater_than_equal")),
    ("/api/v1/audit?cursor=" + "A" * 513, ("query.cursor", "string_too_long")),
    ("/api/v1/audit?limit=100000", ("query.limit", "less_than_equal")),
])
def test_bad_query_and_path_values_are_422_naming_them(
        api: Api, path: str, expected: tuple[str, str]) -> None:
    answer = api.get(path, "admin")
    assert answer.status_code == 422, answer.text
    assert [(p["field"], p["rule"]) for p in answer.json()["detail"]] == [expected]


def test_bad_override_and_register_flag_are_422(api: Api) -> None:
    e = api.entities
    bad = api.post(f"/api/v1/scores/company/{e.institution_in}/override", "admin",
                   json={"grade": "E", "reason": "why", "days": 0, "extra": 1})
    assert bad.status_code == 422
    assert [(p["field"], p["rule"]) for p in bad.json()["detail"]] == [
        ("path.kind", "literal_error"), ("body.grade", "literal_error"),
        ("body.reason", "string_too_short"), ("body.days", "greater_than_equal")]
    flag = api.post("/api/v1/contracts/check?register=maybe", "office",
                    json=contract_body(api.trained, "CF0000001"))
    assert [(p["field"], p["rule"]) for p in flag.json()["detail"]] == [
        ("query.register", "bool_parsing")]
    broken = api.client.post("/api/v1/contracts/check", content=b"{not json",
                             headers={**api.auth("office"), "Content-Type": "application/json"})
    assert broken.status_code == 422
    assert [p["rule"] for p in broken.json()["detail"]] == ["json_invalid"]


def test_input_postgresql_cannot_store_is_422_not_500(api: Api) -> None:
    """Found by the schema test on PostgreSQL: a NUL character (which PostgreSQL text cannot
    hold) or an id longer than its column failed the write, answered 500."""
    e = api.entities
    nul = api.post(f"/api/v1/scores/institution/{e.institution_in}/override", "admin",
                   json={"grade": "A", "reason": "reason\u0000hidden", "days": 1})
    assert [(p["field"], p["rule"]) for p in nul.json()["detail"]] == [
        ("body.reason", "string_pattern_mismatch")]
    for value in ("I" + "0" * 40, "I00000\u00001"):  # longer than any id; a NUL in it
        body = contract_body(api.trained, "CN0000001", institution_id=value)
        answer = api.post("/api/v1/contracts/check", "office", json=body)
        assert [(p["field"], p["rule"]) for p in answer.json()["detail"]] == [
            ("body.institution_id", "string_pattern_mismatch")], answer.text
    filtered = api.get("/api/v1/audit?actor=%00", "auditor")
    assert [(p["field"], p["rule"]) for p in filtered.json()["detail"]] == [
        ("query.actor", "string_pattern_mismatch")]
    cursor = base64.urlsafe_b64encode(b'["I\\u0000", 1]').decode().rstrip("=")
    paged = api.get(f"/api/v1/scores?sort=entity_id&cursor={cursor}", "admin")
    assert [(p["field"], p["rule"]) for p in paged.json()["detail"]] == [
        ("query.cursor", "cursor")]
    mark = api.audit_mark()  # a refusal of a path with a NUL in it is still audited
    refused = api.get("/api/v1/institutions/I%00/score", None)
    assert refused.status_code == 401
    [entry] = api.audit_since(mark)
    assert entry.detail["path"] == "/api/v1/institutions/I\x00/score"


def test_unknown_ids_are_404(api: Api) -> None:
    for path in ("/api/v1/institutions/I999999/score", "/api/v1/brokers/B99999999/score"):
        answer = api.get(path, "admin")
        assert answer.status_code == 404, answer.text
        assert answer.json()["detail"].startswith("no ")
    unscored = sorted(key for key in api.ctx.directory if not _scored(api, *key))
    if unscored:  # known to the register, but no batch scored it: 404 that says so
        kind, entity_id = unscored[0]
        answer = api.get(f"/api/v1/{kind}s/{entity_id}/score", "admin")
        assert answer.status_code == 404
        assert answer.json()["detail"] == f"{kind} {entity_id} has no score yet / 尚未评分"
    override = api.post("/api/v1/scores/broker/B99999999/override", "admin",
                        json={"grade": "A", "reason": "no such broker", "days": 1})
    assert override.status_code == 404
    assert api.get("/api/v1/nothing-here", "admin").status_code == 404


def _scored(api: Api, kind: str, entity_id: str) -> bool:
    with api.session() as session:
        return session.scalar(select(Score.id).where(
            Score.entity_kind == kind, Score.entity_id == entity_id).limit(1)) is not None


def test_a_body_over_the_limit_is_413(api: Api) -> None:
    limit = api.settings.api.max_body_bytes
    one = contract_body(api.trained, "CZ0000001")
    size = len(json.dumps(one))
    over = json.dumps({"contracts": [one] * (limit // size + 1)}).encode("utf-8")
    assert len(over) > limit
    mark = api.audit_mark()
    declared = api.client.post("/api/v1/contracts/check/batch", content=over,
                               headers={**api.auth("office"),
                                        "Content-Type": "application/json"})
    assert declared.status_code == 413
    assert declared.json() == {"detail": f"request body over {limit} bytes / 请求体过大"}

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit counts what arrives
        yield b'{"contracts": ['
        for _ in range(limit // 1000 + 1):
            yield b" " * 1000
        yield b"]}"

    chunked = api.client.post("/api/v1/contracts/check/batch", content=chunks(),
                              headers={**api.auth("office"),
                                       "Content-Type": "application/json"})
    assert chunked.status_code == 413
    assert api.audit_since(mark) == [] and _checks(api, "CZ0000001") == []
    padded = json.dumps(one).encode("utf-8")
    padded += b" " * (limit - len(padded))  # exactly at the limit: served
    at_limit = api.client.post("/api/v1/contracts/check?register=false", content=padded,
                               headers={**api.auth("office"),
                                        "Content-Type": "application/json"})
    assert at_limit.status_code == 200, at_limit.text
    assert at_limit.json()["contract_id"] == "CZ0000001"


def test_an_office_token_registers_for_its_own_office_only(api: Api) -> None:
    """Another office's contract is a 403, audited, from the route and the fast lane alike
    (the lane falls through), and nothing is checked; the token's own office is answered."""
    own = contract_body(api.trained, "OW00000001")
    foreign = sorted(set(market_offices(api.trained)) - {own["office_id"]})[0]
    with api.session() as session, session.begin():
        _, token = add_user(session, "office_one", "office", offices=[own["office_id"]])
    headers = {"Authorization": f"Bearer {token}"}
    assert api.client.post("/api/v1/contracts/check", headers=headers,
                           json=own).status_code == 200  # the lane learns the route
    mark = api.audit_mark()
    for path, body in (("/api/v1/contracts/check", {"office_id": foreign}),
                       ("/api/v1/contracts/check", {"office_id": "OF65000001"}),
                       ("/api/v1/contracts/check/batch", None)):
        sent = contract_body(api.trained, "OW00000002", **(body or {}))
        if body is None:
            sent = {"contracts": [own | {"contract_id": "OW00000003"},
                                  sent | {"office_id": foreign}]}
        answer = api.client.post(path, headers=headers, json=sent)
        assert answer.status_code == 403, answer.text
        assert "not this token's office" in answer.json()["detail"]
    assert _checks(api, "OW00000002") == [] and _checks(api, "OW00000003") == []
    denials = api.audit_since(mark)
    assert [(e.actor, e.action, e.outcome) for e in denials] == [
        ("office_one", "check_contract", "denied")] * 3
    with api.session() as session, session.begin():
        _, unbound = add_user(session, "office_none", "office")
    refused = api.client.post("/api/v1/contracts/check", json=own | {"contract_id": "OW00000004"},
                              headers={"Authorization": f"Bearer {unbound}"})
    assert refused.status_code == 403, refused.text


@pytest.mark.parametrize("text", ["escape \u001b[2J cleared", "right \u202eexe.txt",
                                  "two\r\nlines", "next\u0085line", "isolate \u2066x\u2069"])
def test_controls_and_bidi_overrides_are_refused_in_free_text(api: Api, text: str) -> None:
    """What a reader would be shown differently from what is stored never is stored: an
    override reason, a case's name and the audit filter refuse it; a case reason written
    as paragraphs keeps its line breaks, and nothing else."""
    e = api.entities
    override = api.post(f"/api/v1/scores/institution/{e.institution_in}/override", "admin",
                        json={"grade": "A", "reason": text, "days": 1})
    assert [(p["field"], p["rule"]) for p in override.json()["detail"]] == [
        ("body.reason", "string_pattern_mismatch")], override.text
    case = api.post("/api/v1/cases", "regulator_all", json={
        "subject_kind": "institution", "subject_id": e.institution_in, "conduct": None,
        "subject_name": text, "reason": "a reason"})
    assert [(p["field"], p["rule"]) for p in case.json()["detail"]] == [
        ("body.subject_name", "string_pattern_mismatch")], case.text
    filtered = api.get("/api/v1/audit", "auditor", params={"actor": text})
    assert filtered.status_code == 422, filtered.text


def test_a_case_reason_keeps_its_paragraphs() -> None:
    from service.core.cases.schemas import CaseOpenIn

    opened = CaseOpenIn(subject_kind="institution", subject_id="I0000001",
                        reason="first paragraph\r\nsecond\nthird")
    assert opened.reason.count("\n") == 2
