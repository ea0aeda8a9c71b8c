"""The annual assessment through the real app on both backends, on the tiny trained market:
warnings and exits explained indicator by indicator, an adjustment, four-eyes publication
(refused, then accepted; of two concurrent publications one wins), a published exit appealed
and changed with the institution's status, an institution seeing only its own published result,
and the next year's failures after a warning becoming exits."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select

from models.assessment.config import load_config
from pipelines.assess import AssessSummary, Inputs, compute, read_inputs, write
from pipelines.scoring.batch_db import exited_institutions
from service.core.assessments.tables import InstitutionStatusRecord
from service.core.db.tables import AuditEntry, RiskWarning, Score
from service.core.db.users import add_user
from tests.service.backends import BACKENDS, fresh_postgres_database
from tests.service.web.api.conftest import Api, start_api
from tests.trained import Trained

pytestmark = pytest.mark.e2e
BASE = "/api/v1/assessments"
NAMES = [i.name_en for i in load_config().indicators]
ALL = 500  # the page maximum: every result of the tiny market on one page


@pytest.fixture(scope="module", params=BACKENDS)
def api(request: pytest.FixtureRequest, trained: Trained,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """An app of its own: the assessment's decisions change the state for good."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('assess') / 'techcredit.db'}"
        yield from start_api("sqlite", url, trained)
        return
    with fresh_postgres_database("assess") as url:
        yield from start_api("postgresql", url, trained)


def users(api: Api, **roles: tuple[str, str | None]) -> None:
    with api.session() as session, session.begin():
        for name, (role, institution) in roles.items():
            _, api.tokens[name] = add_user(session, name, role, institution_id=institution)


def market(api: Api) -> dict[str, pd.DataFrame]:
    """The tiny market with its weakest institution of 2019 (the lowest total among those
    failing on the indicators) recorded in the register as warned on 2019-06-30: the exit path
    needs an institution that fails again while under a warning, which a 1 % market's own
    draw may not hold (its one warned institution is warned in 2020)."""
    config, tables = load_config(), dict(api.trained.tables())
    nobody = Inputs(pd.DataFrame(), frozenset(), frozenset(), frozenset())
    failing = [r for r in compute(config, tables, nobody, 2019, 0).results if r.failed]
    weakest = min(failing, key=lambda r: (r.standing.total, r.standing.institution_id))
    inst = tables["institutions"].copy()
    row = inst["institution_id"] == weakest.standing.institution_id
    inst.loc[row, "status"] = "warned"
    inst.loc[row, "status_date"] = date(2019, 6, 30)
    return {**tables, "institutions": inst}


def draft(api: Api, year: int, by: str = "alice") -> AssessSummary:
    """What ``techcredit assess`` does, without Prefect's orchestration."""
    config, tables = load_config(), market(api)
    inputs = read_inputs(api.engine, tables, year, date.today())
    return write(api.engine, config, compute(config, tables, inputs, year, 0), inputs, by)


def explained(result: dict[str, Any]) -> bool:
    """A warning or an exit names at least one indicator in its reasons."""
    return any(line.startswith(n) for n in NAMES for line in result["reasons_en"])


def ok(response: Any, code: int = 200) -> Any:
    assert response.status_code == code, response.text
    return response.json()


def refused(response: Any, rule: str) -> None:
    assert response.status_code == 409, response.text
    assert response.json()["detail"]["rule"] == rule


def red_warning(api: Api, institution_id: str) -> None:
    """A grade-D score of the institution after the batch's date (so the latest, and not one
    the year's indicators read), with a red warning."""
    day = date(2020, 7, 31)
    with api.session() as session, session.begin():
        session.add(Score(entity_kind="institution", entity_id=institution_id, as_of=day,
                          model_name="techcredit-credit", model_version="9", probability=0.4,
                          points=520.0, grade="D", reasons_zh=[], reasons_en=[],
                          feature_as_of=day))
        session.add(RiskWarning(entity_kind="institution", entity_id=institution_id,
                                tier="red", reason_codes=["grade_d_high_probability"],
                                reasons_zh=["信用等级D"], reasons_en=["grade D"], as_of=day,
                                model_name="techcredit-credit", model_version="9"))


def test_assess_adjust_publish_appeal_and_exit(api: Api) -> None:
    users(api, alice=("assessor", None), bob=("assessor", None), carol=("assessor", None))
    draft(api, 2019)
    passing = ok(api.get(f"{BASE}/2019", "bob", params={"limit": ALL, "outcome": "pass"}))
    red = passing["items"][0]["institution_id"]
    red_warning(api, red)  # read by the next draft, which replaces this one
    first = draft(api, 2019)
    mark = api.audit_mark()

    # the draft: every warning and exit explained indicator by indicator
    listed = ok(api.get(BASE, "regulator_all"))["items"]
    assert [(a["year"], a["state"], a["counts"]) for a in listed] == [
        (2019, "draft", first.counts)]
    assert ok(api.get(BASE, "institution"))["items"] == []  # an institution never sees a draft
    assert api.get(f"{BASE}/2019", "institution").status_code == 404
    year = ok(api.get(f"{BASE}/2019", "bob", params={"limit": ALL}))
    assert year["next_cursor"] is None and year["total"] == len(year["items"])
    results = {r["institution_id"]: r for r in year["items"]}
    assert first.counts["exit"] >= 1 and first.counts["warning"] >= 1
    failing = [r for r in results.values() if r["outcome"] != "pass"]
    assert failing and all(explained(r) for r in failing)
    exits = sorted(i for i, r in results.items() if r["outcome"] == "exit")
    gone = exits[0]
    assert results[gone]["basis"][0] == "after_warning"  # warned in the register, failed again
    assert results[gone]["reasons_en"][0] == "failed again while under a warning: exit"
    detail = ok(api.get(f"{BASE}/2019/results/{gone}", "regulator_all"))
    assert [i["code"] for i in detail["indicators"]] == [i.code for i in
                                                         load_config().indicators]
    assert detail["trend"] == [{"year": 2019, "state": "draft", "total": results[gone]["total"],
                                "rank": results[gone]["rank"],
                                "group_size": results[gone]["group_size"], "outcome": "exit"}]
    filtered = ok(api.get(f"{BASE}/2019", "bob",
                          params={"outcome": "exit", "limit": ALL}))["items"]
    assert sorted(r["institution_id"] for r in filtered) == exits

    # an adjustment, with a reason, on the version seen
    warned = sorted(i for i, r in results.items() if r["outcome"] == "warning")[0]
    body = {"outcome": "pass", "reason": "整改已完成，材料核实 / remediation verified",
            "version": first.version + 5}
    refused(api.post(f"{BASE}/2019/results/{warned}/adjust", "bob", json=body), "stale_version")
    body["version"] = first.version
    adjusted = ok(api.post(f"{BASE}/2019/results/{warned}/adjust", "bob", json=body))
    assert adjusted["result"]["outcome"] == "pass" and adjusted["result"]["adjusted"]
    assert adjusted["result"]["model_outcome"] == "warning"
    assert adjusted["events"][-1] | {"id": 0, "at": 0} == {
        "id": 0, "at": 0, "kind": "adjust", "actor": "bob", "role": "assessor",
        "reason": body["reason"], "before": "warning", "after": "pass", "appeal_id": None}
    version = adjusted["version"]
    assert version == first.version + 1

    # a pass despite grade D or a red warning is flagged, and needs a written reason
    year = ok(api.get(f"{BASE}/2019", "bob", params={"limit": ALL}))
    flagged = sorted(r["institution_id"] for r in year["items"] if r["credit_flag"])
    assert red in flagged and year["flagged"] == len(flagged)
    shown = next(r for r in year["items"] if r["institution_id"] == red)
    assert (shown["credit"]["grade"], shown["credit"]["tier"], shown["credit"]["as_of"]) == (
        "D", "red", "2020-07-31")
    assert shown["pass_reason"] is None
    answer = api.post(f"{BASE}/2019/publish", "carol", json={"version": version})
    refused(answer, "reason_required")
    assert red in answer.json()["detail"]["message"]
    refused(api.post(f"{BASE}/2019/publish", "carol", json={
        "version": version, "reasons": dict.fromkeys(flagged, "ok")}), "reason_too_short")
    reasons = dict.fromkeys(flagged, "指标达标，预警另案处理 / indicators met, warning in its case")

    # four-eyes: not who ran it, not who adjusted it; of two at once, one wins
    refused(api.post(f"{BASE}/2019/publish", "alice", json={"version": version}), "four_eyes")
    refused(api.post(f"{BASE}/2019/publish", "bob", json={"version": version}), "four_eyes")
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda user: api.post(f"{BASE}/2019/publish", user,
                                                      json={"version": version,
                                                            "reasons": reasons}),
                                ["carol", "admin"]))
    assert sorted(a.status_code for a in answers) == [200, 409]
    won = next(a.json() for a in answers if a.status_code == 200)
    lost = next(a.json() for a in answers if a.status_code == 409)
    assert lost["detail"]["rule"] in ("stale_version", "published")
    publisher = won["published_by"]
    assert won["state"] == "published" and publisher in ("carol", "admin")
    kept = ok(api.get(f"{BASE}/2019/results/{red}", "regulator_all"))["result"]
    assert kept["pass_reason"] == reasons[red] and kept["credit_flag"]
    with api.session() as session:
        published = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "assessment.publish", AuditEntry.outcome == "ok")).one()
        assert published.detail["pass_reasons"] == reasons
    with api.session() as session:
        statuses = {r.institution_id: r.status for r in session.scalars(
            select(InstitutionStatusRecord).where(InstitutionStatusRecord.year == 2019))}
        assert exited_institutions(session) == {("institution", i) for i in exits}
    assert statuses[gone] == "exited" and statuses[warned] == "active"
    assert set(statuses) == set(results)
    beside = api.get(f"/api/v1/institutions/{gone}/score", "regulator_all").json()
    assert (beside["status_of_record"]["status"], beside["status_of_record"]["year"]) == (
        "exited", 2019)  # shown beside the model's score as soon as it is published
    assert beside["status_of_record"]["basis"] == (
        "assessment 2019 published, outcome exit / 2019年度考核发布，结果退出")

    # the institution sees its own published result only, and appeals it
    users(api, gone_inst=("institution", gone))
    assert [a["year"] for a in ok(api.get(BASE, "gone_inst"))["items"]] == [2019]
    own = ok(api.get(f"{BASE}/2019", "gone_inst"))["items"]
    assert [r["institution_id"] for r in own] == [gone]
    assert api.get(f"{BASE}/2019/results/{warned}", "gone_inst").status_code == 403
    appeal = {"institution_id": gone, "reason": "培训记录漏报，已补正 / training records were "
              "left out of the report", "requested_outcome": "warning"}
    assert api.post(f"{BASE}/2019/appeals", "gone_inst",
                    json={**appeal, "institution_id": warned}).status_code == 403
    filed = ok(api.post(f"{BASE}/2019/appeals", "gone_inst", json=appeal), 201)
    assert (filed["state"], filed["outcome_before"], filed["filed_by"]) == (
        "filed", "exit", "gone_inst")
    refused(api.post(f"{BASE}/2019/appeals", "regulator_all", json=appeal), "appeal_open")

    # decided by someone other than the publisher: upheld, the outcome and status change
    decide = {"decision": "upheld", "outcome": "warning",
              "reason": "补正材料属实，改为警告 / the corrected records hold: warning"}
    refused(api.post(f"{BASE}/2019/appeals/{filed['id']}/decide", publisher, json=decide),
            "four_eyes")
    decided = ok(api.post(f"{BASE}/2019/appeals/{filed['id']}/decide", "bob", json=decide))
    assert (decided["state"], decided["outcome_after"], decided["decided_by"]) == (
        "upheld", "warning", "bob")
    refused(api.post(f"{BASE}/2019/appeals/{filed['id']}/decide", "alice", json=decide),
            "appeal_decided")
    after = ok(api.get(f"{BASE}/2019/results/{gone}", "gone_inst"))
    assert after["result"]["outcome"] == "warning" and after["result"]["model_outcome"] == "exit"
    assert [e["kind"] for e in after["events"]] == ["appeal", "decide"]
    with api.session() as session:
        assert ("institution", gone) not in exited_institutions(session)
        latest = session.scalars(select(InstitutionStatusRecord).where(
            InstitutionStatusRecord.institution_id == gone).order_by(
            InstitutionStatusRecord.id.desc())).first()
        assert latest is not None and (latest.status, latest.decided_by) == ("warned", "bob")
    beside = api.get(f"/api/v1/institutions/{gone}/score", "regulator_all").json()
    assert beside["status_of_record"]["status"] == "warned"

    # the window closes
    days, clock = api.ctx.settings.assessment.appeal_days, api.ctx.clock
    api.ctx.clock = lambda: datetime.fromisoformat(won["published_at"]) + timedelta(
        days=days, seconds=1)
    try:
        late = {**appeal, "institution_id": exits[-1]}
        refused(api.post(f"{BASE}/2019/appeals", "regulator_all", json=late),
                "appeal_window_closed")
    finally:
        api.ctx.clock = clock

    # the next year: the exited are not assessed; a failure while warned is an exit
    warned_2020 = read_inputs(api.engine, market(api), 2020, date.today()).warned
    assert gone in warned_2020 and warned not in warned_2020  # the appeal and the adjustment
    draft(api, 2020, by="carol")
    nxt = {r["institution_id"]: r for r in ok(api.get(f"{BASE}/2020", "bob",
                                                      params={"limit": ALL}))["items"]}
    assert not (set(exits) - {gone}) & set(nxt) and gone in nxt
    for iid, r in nxt.items():
        fails = [b for b in r["basis"] if b in ("below_pass_mark", "bottom_share")
                 or b.startswith("limit:")]
        assert ("after_warning" in r["basis"]) == (iid in warned_2020 and bool(fails))
        if r["outcome"] != "pass":
            assert explained(r), r
    refused(api.post(f"{BASE}/2020/appeals", "regulator_all",
                     json={**appeal, "institution_id": next(iter(nxt))}), "not_published")

    actions = {(e.action, e.outcome) for e in api.audit_since(mark)}
    assert {("assessment.adjust", "ok"), ("assessment.adjust", "refused"),
            ("assessment.publish", "ok"), ("assessment.publish", "refused"),
            ("assessment.appeal", "ok"), ("assessment.appeal", "refused"),
            ("assessment.decide_appeal", "ok"), ("read_assessments", "ok"),
            ("assessment.appeal", "denied")} <= actions

