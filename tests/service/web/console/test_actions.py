"""The console's forms in headless Chromium, checked against the API they stand for: an
override read back through ``GET /score``, a manual opening and its merge, evidence kept with
its SHA-256 and downloaded byte for byte, a joint-punishment measure once the subject is
listed; refusals of the grant, the region and the schema, each where the API has them."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, Page, expect

from features.settings import ApiSettings
from service.core import context
from service.core.cases.access import max_file_bytes
from service.core.cases.calendar import china_day
from tests.service.web.console.conftest import Live
from tests.service.web.console.test_browser import form_post, shot, sign_in

pytestmark = pytest.mark.e2e
FILE_LIMIT = max_file_bytes(ApiSettings().max_body_bytes)


def api(live: Live, user: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """The API's JSON answer to ``user`` (a POST when ``body`` is given)."""
    request = urllib.request.Request(
        f"{live.url}/api/v1{path}", data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {live.tokens[user]}",
                 "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        data = answer.read()
    return json.loads(data) if data[:1] in (b"{", b"[") else data


def audit(live: Live, **query: str) -> list[dict[str, Any]]:
    return api(live, "auditor", f"/audit?{urlencode({**query, 'limit': 500})}")["items"]


def open_by_api(live: Live, kind: str, subject_id: str, conduct: str) -> int:
    return int(api(live, "regulator_all", "/cases", {
        "subject_kind": kind, "subject_id": subject_id, "conduct": conduct,
        "reason": "registry audit finding"})["case"]["id"])


def act(page: Page, action: str, reason: str, **fields: str) -> None:
    """Fill and send one of the case page's action forms."""
    form = f"#form-{action}"
    page.fill(f"{form} input[name=reason]", reason)
    for name, value in fields.items():
        if name in ("conduct", "severity"):
            page.select_option(f"{form} select[name={name}]", value)
        else:
            page.fill(f"{form} input[name={name}]", value)
    page.click(f"#do-{action}")


def test_an_override_from_the_entity_page_is_the_apis_override(browser: Browser,
                                                               live: Live) -> None:
    entity = live.entities.institution_in
    page = sign_in(browser, live, "regulator_all")
    page.goto(f"{live.url}/console/entities/institution/{entity}")
    model_grade = page.locator("#grade").inner_text()
    grade = "D" if model_grade != "D" else "A"
    expect(page.locator("#effective-grade")).to_have_count(0)

    page.select_option("#override-grade", grade)
    page.fill("#override-reason", "浏览器测试：现场核查发现合同异常")
    page.fill("#override-days", "30")
    page.click("#do-override")
    expect(page.locator("#flash")).to_have_text(f"已设置人工调整: {grade}")
    expect(page.locator("#effective-grade")).to_have_text(grade)
    expect(page.locator("#grade")).to_have_text(model_grade)
    expect(page.locator("#override")).to_contain_text("现场核查发现合同异常")
    shot(page, "console-entity-actions")
    page.reload()  # the banner is shown once
    expect(page.locator("#flash")).to_have_count(0)
    # a link cannot show the console's banner: ?msg= is not read
    page.goto(f"{live.url}/console/entities/institution/{entity}?msg=201%20已设置人工调整: A")
    expect(page.locator("#flash")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text("已设置人工调整: A")

    score = api(live, "regulator_all", f"/institutions/{entity}/score")
    assert (score["grade"], score["effective_grade"]) == (model_grade, grade)
    assert {k: score["override"][k] for k in ("grade", "reason", "set_by")} == {
        "grade": grade, "reason": "浏览器测试：现场核查发现合同异常", "set_by": "regulator_all"}
    expires = date.fromisoformat(score["override"]["expires_at"][:10])
    created = date.fromisoformat(score["override"]["created_at"][:10])
    assert expires - created == timedelta(days=30)
    [entry] = audit(live, action="override", entity_id=entity, outcome="ok")
    assert (entry["actor"], entry["detail"]["grade"], entry["detail"]["days"],
            entry["detail"]["model_grade"], entry["detail"]["console"]) == (
        "regulator_all", grade, 30, model_grade, True)

    # the form checks what the API's schema checks: a short reason is not even sent
    page.fill("#override-reason", "短")
    page.fill("#override-days", "731")
    page.click("#do-override")
    assert page.eval_on_selector("#override-reason", "e => e.validity.tooShort")
    assert page.eval_on_selector("#override-days", "e => e.validity.rangeOverflow")
    # sent anyway, the server refuses it in a sentence naming the fields
    refused = form_post(page, live, f"/console/entities/institution/{entity}/override",
                        form={"grade": grade, "reason": "短", "days": "731"})
    assert ('<div class="flash error" id="flash">未执行：理由至少需要5个字；有效天数不能大于730。<'
            in refused.text())
    assert api(live, "regulator_all", f"/institutions/{entity}/score")["override"][
        "reason"] == "浏览器测试：现场核查发现合同异常"
    page.close()


def test_overrides_are_refused_without_the_grant_or_outside_the_region(browser: Browser,
                                                                      live: Live) -> None:
    e = live.entities
    form = {"grade": "D", "reason": "should never be recorded", "days": "30"}
    office = sign_in(browser, live, "office")
    refused = form_post(office, live, f"/console/entities/institution/{e.institution_in}"
                        "/override", form=form)
    assert refused.status == 403
    assert "role office may not override" in refused.text()
    office.close()

    regional = sign_in(browser, live, "regulator_region")
    regional.goto(f"{live.url}/console/entities/institution/{e.institution_in}")
    expect(regional.locator("#form-override")).to_be_visible()  # inside its region
    outside = form_post(
        regional, live, f"/console/entities/institution/{e.institution_out}/override", form=form)
    assert outside.status == 403
    assert "outside this token" in outside.text()
    opening = form_post(
        regional, live, f"/console/entities/institution/{e.institution_out}/cases",
        form={"conduct": "split_contracts", "reason": "should never be opened"})
    assert opening.status == 403
    assert "outside this token" in opening.text()
    regional.close()

    assert api(live, "regulator_all", f"/institutions/{e.institution_out}/score")[
        "override"] is None
    assert {c["source"] for c in api(live, "regulator_all", "/cases?subject_kind=institution"
                                     f"&subject_id={e.institution_out}")["items"]} <= {"warning"}
    denied = {(a["actor"], a["entity_id"], a["action"])
              for a in audit(live, outcome="denied")}
    assert {("office", e.institution_in, "override"),
            ("regulator_region", e.institution_out, "override"),
            ("regulator_region", e.institution_out, "work_cases")} <= denied

    auditor = sign_in(browser, live, "auditor")
    auditor.goto(f"{live.url}/console/audit")
    row = auditor.locator("#audit tr", has_text="office (office)").filter(has_text="override")
    expect(row.first).to_contain_text("denied")
    auditor.close()


def test_opening_a_case_creates_it_and_a_second_opening_merges(browser: Browser,
                                                               live: Live) -> None:
    entity = live.entities.broker_in
    page = sign_in(browser, live, "regulator_all")
    page.goto(f"{live.url}/console/entities/broker/{entity}")
    page.select_option("#open-conduct", "split_contracts")
    page.fill("#open-reason", "举报线索：拆分合同")
    page.click("#do-open-case")
    flash = page.locator("#flash")
    expect(flash).to_contain_text("已立案 #")
    case_id = int(flash.inner_text().rsplit("#", 1)[1])
    expect(page.locator("#flash-case")).to_have_text(f"失信案件 #{case_id}")
    page.click("#flash-case")
    expect(page).to_have_url(f"{live.url}/console/cases/{case_id}")
    expect(page.locator("#case-state")).to_have_text("待核查")

    page.goto(f"{live.url}/console/entities/broker/{entity}?lang=en")
    page.select_option("#open-conduct", "split_contracts")
    page.fill("#open-reason", "second report of the same conduct")
    page.click("#do-open-case")
    expect(page.locator("#flash")).to_have_text(f"Merged into the open case #{case_id}")
    page.click("#flash-case")
    expect(page.locator("#events td[data-action=merge]")).to_have_text("merged in")
    page.close()

    case = api(live, "regulator_all", f"/cases/{case_id}")
    assert (case["state"], case["source"], case["conduct"], case["subject_id"]) == (
        "flagged", "manual", "split_contracts", entity)
    assert [(v["kind"], v["note"]) for v in case["evidence"]] == [
        ("manual", "举报线索：拆分合同"), ("manual", "second report of the same conduct")]
    steps = {(a["action"], a["detail"]["case_id"], a["detail"].get("console"))
             for a in audit(live, entity_id=entity, outcome="ok")
             if a["action"] in ("case.open", "case.merge")}
    assert {("case.open", case_id, True), ("case.merge", case_id, True)} <= steps


def test_evidence_is_kept_with_its_sha256_and_downloads_identical(browser: Browser,
                                                                  live: Live,
                                                                  tmp_path: Path) -> None:
    case_id = open_by_api(live, "institution", live.entities.institution_in,
                          "inflated_amount")
    content = "现场核查记录：合同金额虚增。\n".encode() + bytes(range(256)) * 40
    page = sign_in(browser, live, "regulator_all")
    page.goto(f"{live.url}/console/cases/{case_id}")
    expect(page.locator("#files tr")).to_have_count(1)
    page.set_input_files("#upload-file", files=[
        {"name": "核查记录.bin", "mimeType": "application/octet-stream", "buffer": content}])
    page.click("#do-upload")
    expect(page.locator("#flash")).to_have_text(f"已上传: 核查记录.bin ({len(content)} 字节)")
    row = page.locator("#files tr").nth(1)
    digest = hashlib.sha256(content).hexdigest()
    assert row.locator(".sha256").get_attribute("data-sha256") == digest
    expect(row.locator(".sha256")).to_have_text(f"{digest[:12]}…")
    expect(row.locator(".size")).to_have_text(str(len(content)))
    with page.expect_download() as download:
        row.locator("a.download").click()
    saved = tmp_path / "downloaded"
    download.value.save_as(saved)
    assert (download.value.suggested_filename, saved.read_bytes()) == ("核查记录.bin", content)
    [kept] = api(live, "regulator_all", f"/cases/{case_id}")["files"]
    assert (kept["sha256"], kept["size"], kept["uploaded_by"]) == (
        digest, len(content), "regulator_all")
    assert api(live, "regulator_all", f"/cases/{case_id}/files/{kept['id']}") == content

    for name, data, code in (("empty.txt", b"", "未执行：文件内容至少需要1个字"),
                             ("big.bin", b"x" * (FILE_LIMIT + 1), "未执行：文件过大")):
        page.set_input_files("#upload-file", files=[
            {"name": name, "mimeType": "text/plain", "buffer": data}])
        page.click("#do-upload")
        expect(page.locator("#flash")).to_contain_text(code)
        assert "error" in (page.locator("#flash").get_attribute("class") or "")
        expect(page.locator("#files tr")).to_have_count(2)
    page.close()

    auditor = sign_in(browser, live, "auditor")  # reads cases, answers none
    auditor.goto(f"{live.url}/console/cases/{case_id}")
    expect(auditor.locator("#files tr")).to_have_count(2)
    expect(auditor.locator("#form-upload")).to_have_count(0)
    refused = form_post(auditor, live, f"/console/cases/{case_id}/files", multipart={
        "file": {"name": "x.txt", "mimeType": "text/plain", "buffer": b"not allowed"}})
    assert refused.status == 403 and "may not answer_case" in refused.text()
    auditor.close()
    assert len(api(live, "regulator_all", f"/cases/{case_id}")["files"]) == 1
    [stored] = audit(live, action="answer_case", entity_id=live.entities.institution_in,
                     outcome="ok")
    assert (stored["detail"]["sha256"], stored["detail"]["console"]) == (digest, True)


def test_a_measure_is_added_once_the_subject_is_listed(browser: Browser, live: Live,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    case_id = open_by_api(live, "broker", live.entities.broker_out, "circular_trade")
    officer = sign_in(browser, live, "regulator_all")
    officer.goto(f"{live.url}/console/cases/{case_id}")
    expect(officer.locator("#form-measure")).to_have_count(0)
    early = form_post(officer, live, f"/console/cases/{case_id}/measures", form={
        "measure": "restrict_funding", "agency": "科技部资源配置与管理司",
        "starts": "2026-01-01"})
    assert ('id="flash">未执行：joint punishment applies only to a listed subject'
            in early.text())

    act(officer, "investigate", "立案核查")
    expect(officer.locator("#case-state")).to_have_text("核查中")
    act(officer, "determine", "循环交易", conduct="circular_trade", severity="general",
        basis="《技术合同认定登记管理办法》第二十条", decision_number=f"京科信〔2026〕{case_id}号")
    expect(officer.locator("#flash")).to_have_text("待第二人批准")
    second = sign_in(browser, live, "admin")
    second.goto(f"{live.url}/console/cases/{case_id}")
    act(second, "determine", "同意", basis="同上", decision_number="同上")
    expect(second.locator("#case-state")).to_have_text("已认定")
    act(second, "notify", "已送达告知书")
    expect(second.locator("#case-state")).to_have_text("已告知")

    # the objection window passes: the service's day moves on (its clock is not reachable
    # from here, but its day is counted by this function)
    monkeypatch.setattr(context, "china_day",
                        lambda moment: china_day(moment) + timedelta(days=60))
    officer.goto(f"{live.url}/console/cases/{case_id}")
    act(officer, "list", "异议期届满未提出异议")
    expect(officer.locator("#flash")).to_have_text("待第二人批准")
    second.goto(f"{live.url}/console/cases/{case_id}")
    act(second, "list", "同意")
    expect(second.locator("#case-state")).to_have_text("已列入失信名单")
    second.close()

    officer.goto(f"{live.url}/console/cases/{case_id}")
    officer.select_option("#measure-kind", "restrict_funding")
    officer.fill("#measure-agency", "科技部资源配置与管理司")
    officer.fill("#measure-ends", "2030-12-31")
    officer.click("#do-measure")
    expect(officer.locator("#flash")).to_have_text("已添加惩戒措施: 限制申请财政科研资金")
    expect(officer.locator("#measures tr")).to_have_count(2)
    expect(officer.locator("#measures tr").nth(1)).to_contain_text("科技部资源配置与管理司")
    expect(officer.locator("#measures .measure-state")).to_have_text("实施中")
    officer.fill("#measure-agency", "国家税务总局")
    officer.fill("#measure-ends", "2000-01-01")  # before it starts: the store refuses it
    officer.click("#do-measure")
    expect(officer.locator("#flash")).to_have_text("未执行：截止日不能早于起始日。")
    expect(officer.locator("#measures tr")).to_have_count(2)
    officer.close()

    [measure] = api(live, "regulator_all", f"/cases/{case_id}")["measures"]
    assert (measure["measure"], measure["agency"], measure["ends"], measure["lifted_at"],
            measure["added_by"]) == ("restrict_funding", "科技部资源配置与管理司",
                                     "2030-12-31", None, "regulator_all")
    entries = audit(live, action="case.add_measure", entity_id=live.entities.broker_out)
    assert [(a["outcome"], a["detail"].get("rule"), a["detail"]["console"])
            for a in entries] == [("refused", "not_listed", True), ("ok", None, True)]


def test_a_missing_case_or_file_is_a_page_not_a_traceback(browser: Browser,
                                                          live: Live) -> None:
    page = sign_in(browser, live, "regulator_all", "en")
    missing = page.request.get(f"{live.url}/console/cases/{2**40}/files/1")
    assert missing.status == 404 and "case 1099511627776" in missing.text()
    case_id = live.case_ids[-1]
    gone = page.request.get(f"{live.url}/console/cases/{case_id}/files/{2**40}")
    assert gone.status == 404 and f"file {2**40} of case {case_id}" in gone.text()
    page.close()
    with pytest.raises(urllib.error.HTTPError) as e:
        api(live, "regulator_all", f"/cases/{case_id}/files/{2**40}")
    assert e.value.code == 404
