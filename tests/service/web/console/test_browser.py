"""The console in headless Chromium (Debian's, driven by Playwright): sign in, search an
entity, open a case and move it, see the audit log record it, switch language; a reviewer
reads a challenger's report, promotes it and acknowledges a drift alert. Screenshots of
the main pages go to docs/screenshots/ (linked from the README)."""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import APIResponse, Browser, Page, expect

from service.web.console.navigation import NAV
from tests.service.web.console.conftest import SCREENSHOTS, Live

pytestmark = pytest.mark.e2e


def sign_in(browser: Browser, live: Live, user: str, lang: str = "zh") -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live.url}/console?lang={lang}")
    expect(page).to_have_url(f"{live.url}/console/login?next=/console")
    page.fill("#token", live.tokens[user])
    page.click("#login")
    expect(page).to_have_url(f"{live.url}/console")
    return page


def form_post(page: Page, live: Live, path: str, form: dict[str, str] | None = None,
              multipart: dict[str, Any] | None = None) -> APIResponse:
    """A console POST made by hand as the page's own forms make it: from the console's origin,
    with the session's form token (read from the page's sign-out form)."""
    token = page.locator("header input[name=csrf]").get_attribute("value") or ""
    headers = {"Origin": live.url}
    if multipart is not None:
        return page.request.post(f"{live.url}{path}", multipart={**multipart, "csrf": token},
                                 headers=headers)
    return page.request.post(f"{live.url}{path}", form={**(form or {}), "csrf": token},
                             headers=headers)


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_a_wrong_token_stays_on_the_sign_in_page(browser: Browser, live: Live) -> None:
    page = browser.new_page()
    page.goto(f"{live.url}/console/login")
    page.fill("#token", "tc_not_a_real_token")
    page.click("#login")
    expect(page.locator("#flash")).to_contain_text("令牌无效")
    page.close()


def test_search_an_entity_then_open_move_and_audit_a_case(browser: Browser, live: Live) -> None:
    page = sign_in(browser, live, "regulator_all")
    expect(page.locator("#scored")).not_to_have_text("0")
    shot(page, "console-overview")

    entity = live.entities.institution_in
    page.click("#nav-search")
    page.fill("#q", entity)
    page.click("#search")
    page.click(f"#results a:has-text('{entity}')")
    expect(page.locator("#entity-title")).to_contain_text(entity)
    expect(page.locator("#grade")).to_have_text(re.compile(r"^[ABCD]$"))
    expect(page.locator("#points")).to_have_text(re.compile(r"^\d+$"))
    shot(page, "console-entity")

    page.goto(f"{live.url}/console/warnings")
    expect(page.locator("#by-region tr")).not_to_have_count(1)
    shot(page, "console-warnings")

    page.click("#nav-market")
    expect(page.locator("#market-flows tr")).not_to_have_count(1)
    expect(page.locator("svg")).not_to_have_count(0)
    shot(page, "console-market")

    page.click("#nav-assessments")
    expect(page.locator("#assessment-results tr")).not_to_have_count(1)
    # every scored institution's latest score beside its outcome; flagged passes counted
    flags = page.locator("#assessment-results tr.credit-flag")
    assert int(page.locator("#count-flagged").inner_text()) >= flags.count()
    expect(page.locator("#assessment-results td.credit").first).to_be_visible()
    shot(page, "console-assessment")

    page.click("#nav-cases")
    case_id = live.case_ids[0]
    page.click(f"#queue a.case-link:text-is('{case_id}')")
    expect(page.locator("#case-state")).to_have_text("待核查")
    page.fill("#assignee", "regulator_region")
    page.click("#do-assign")
    expect(page.locator("#flash")).to_contain_text("regulator_region")
    page.fill("#form-investigate input[name=reason]", "浏览器测试：立案核查")
    page.click("#do-investigate")
    expect(page.locator("#case-state")).to_have_text("核查中")
    expect(page.locator("#flash")).to_have_text("已完成: 立案核查")
    investigated = page.locator("#events td[data-action=investigate]")
    expect(investigated).to_have_text("立案核查")
    expect(page.locator("#events tr", has=page.locator("td[data-action=investigate]"))
           ).to_contain_text("待核查 → 核查中")
    shot(page, "console-case")
    page.close()

    auditor = sign_in(browser, live, "auditor")
    auditor.click("#nav-audit")
    row = auditor.locator("#audit tr", has_text="case.investigate")
    expect(row.first).to_contain_text("regulator_all")
    auditor.click("#lang-switch")
    expect(auditor.locator("h1")).to_have_text("Audit log")
    expect(auditor.locator("#nav-models")).to_have_text("Models")
    expect(auditor.locator("#nav-cases")).to_have_count(0)  # the queue is for case workers
    shot(auditor, "console-audit-en")
    auditor.close()


def test_roles_and_regions_hold_in_the_console(browser: Browser, live: Live) -> None:
    office = sign_in(browser, live, "office")
    office.goto(f"{live.url}/console/audit")
    expect(office.locator("#message")).to_contain_text("may not read_audit")
    office.close()
    regional = sign_in(browser, live, "regulator_region")
    regional.goto(f"{live.url}/console/entities/institution/{live.entities.institution_out}")
    expect(regional.locator("#message")).to_contain_text("outside this token's regions")
    regional.close()


def test_the_header_links_only_pages_the_role_may_open(browser: Browser, live: Live) -> None:
    """Every role sees the links whose pages answer it 200, and none that would answer 403."""
    every = {link.key: link.path for link in NAV}
    seen: dict[str, set[str]] = {}
    for user in sorted(set(live.tokens) - {"revoked", "expired"}):
        page = sign_in(browser, live, user)
        shown = {i.removeprefix("nav-") for i in page.locator("header a[id^=nav-]")
                 .evaluate_all("links => links.map(a => a.id)")}
        seen[user] = shown
        for key, path in every.items():
            answer = page.goto(f"{live.url}{path}")
            assert answer is not None
            assert (answer.status == 200) == (key in shown), (user, key, answer.status)
            if key not in shown:
                assert answer.status == 403, (user, key, answer.status)
        page.close()
    assert seen["admin"] == set(every) and seen["auditor"] >= {"audit", "models"}
    assert "audit" not in seen["office"] and "cases" not in seen["institution"]


def test_a_reviewer_reads_the_report_promotes_the_challenger_and_acknowledges_drift(
        browser: Browser, live: Live) -> None:
    page = sign_in(browser, live, "reviewer")
    page.click("#nav-models")
    champion, challenger = "#champion-techcredit-credit", "#challenger-techcredit-credit"
    expect(page.locator(champion)).to_contain_text("v1")
    expect(page.locator(challenger)).to_contain_text("v2")
    # its run was compared with no champion; v1 is champion now, so the gate fails
    expect(page.locator(f"{challenger} ul.failures")).to_contain_text("champion_compared")
    expect(page.locator(f"{challenger} ul.failures")).to_contain_text("未满足")
    expect(page.locator("#alerts")).to_contain_text("2020-12")
    expect(page.locator("#drift")).to_contain_text("inst_amount_365d")
    shot(page, "console-models")

    with page.expect_popup() as opened:  # the report link opens a tab of its own
        page.click(f"{challenger} a.report-link")
    report = opened.value
    expect(report.locator("img")).not_to_have_count(0)
    shot(report, "console-review-report")
    report.close()

    form = "#form-promote-techcredit-credit"
    page.fill(f"{form} input[name=note]", "浏览器测试：门槛未通过")
    page.click("#do-promote-techcredit-credit")
    expect(page.locator("#flash")).to_contain_text(
        "未执行：techcredit-credit v2 未通过评审门槛，冠军模型未变")
    expect(page.locator("#flash")).to_contain_text("champion_compared")
    expect(page.locator(champion)).to_contain_text("v1")
    page.fill(f"{form} input[name=note]", "浏览器测试：记录在案的例外晋升")
    page.check(f"{form} input[name=override]")
    page.click("#do-promote-techcredit-credit")
    expect(page.locator("#flash")).to_contain_text("门槛未通过仍晋升 → 现为冠军模型 (已在服务)")
    expect(page.locator(champion)).to_contain_text("v2")
    expect(page.locator(champion)).to_contain_text("浏览器测试：记录在案的例外晋升")
    request = urllib.request.Request(f"{live.url}/api/v1/models", headers={
        "Authorization": f"Bearer {live.tokens['reviewer']}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        served = {m["name"]: m["version"] for m in json.load(answer)["models"]}
    assert served == {"techcredit-anomaly": "1", "techcredit-credit": "2"}
    request = urllib.request.Request(f"{live.url}/metrics", headers={
        "Authorization": f"Bearer {live.tokens['auditor']}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        metrics = answer.read().decode()
    assert 'techcredit_model_loaded{alias="champion",name="techcredit-credit",version="2"} 1.0' \
        in metrics
    assert 'name="techcredit-credit",version="1"' not in metrics

    expect(page.locator("#alerts td[data-level=act]")).to_have_text("处置")
    page.fill("#alerts form input[name=note]", "   ")  # only spaces: the API's schema refuses
    page.click("#alerts form button")
    expect(page.locator("#flash")).to_contain_text("未执行：意见")
    expect(page.locator("#flash")).not_to_contain_text("422")
    expect(page.locator("#alerts form")).to_have_count(1)
    page.fill("#alerts form input[name=note]", "已核查：金额口径变化，重训后再评审")
    page.click("#alerts form button")
    expect(page.locator("#flash")).to_contain_text("已确认: #")
    expect(page.locator("#alerts")).to_contain_text("reviewer")
    expect(page.locator("#alerts form")).to_have_count(0)
    page.close()

    regulator = sign_in(browser, live, "regulator_all")
    regulator.goto(f"{live.url}/console/models")
    expect(regulator.locator("#champion-techcredit-credit")).to_contain_text("v2")
    expect(regulator.locator("main form")).to_have_count(0)  # reads, does not decide
    refused = form_post(regulator, live, "/console/models/techcredit-credit/2/promote",
                        form={"note": "not mine to take"})
    assert refused.status == 403 and "may not review_models" in refused.text()
    regulator.close()


def _rows(page: Page, live: Live, path: str, most: int | None = None) -> tuple[list[str], int]:
    """The ``data-id`` of every row of a console list, following its "next page" link (at most
    ``most`` pages); and how many pages were read."""
    ids: list[str] = []
    page.goto(f"{live.url}{path}")
    pages = 1
    while True:
        ids += [r.get_attribute("data-id") or "" for r in page.locator("tr[data-id]").all()]
        following = page.locator("#next-page")
        if following.count() == 0 or pages == most:
            return ids, pages
        href = following.get_attribute("href") or ""
        assert "cursor=" in href and "limit=" in href  # the filters and page size carry on
        page.goto(f"{live.url}{href}")
        expect(page.locator("#first-page")).to_have_count(1)
        pages += 1


def _api_pages(live: Live, user: str, path: str) -> list[dict[str, object]]:
    items, cursor = [], None
    while True:
        url = f"{live.url}/api/v1{path}" + (f"&cursor={cursor}" if cursor else "")
        request = urllib.request.Request(url, headers={
            "Authorization": f"Bearer {live.tokens[user]}"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            page = json.load(answer)
        items += page["items"]
        if (cursor := page["next_cursor"]) is None:
            return items


def test_every_console_list_pages_by_cursor_and_shows_every_row_once(browser: Browser,
                                                                      live: Live) -> None:
    page = sign_in(browser, live, "regulator_all")
    open_cases = int(page.locator("#open-cases").inner_text())

    queue, pages = _rows(page, live, "/console/cases?limit=4")
    assert pages > 1 and len(queue) == len(set(queue)) == open_cases
    assert queue == [str(i["case_id"]) for i in _api_pages(
        live, "regulator_all", "/cases/queue?limit=7")]  # the API's order, page for page

    warned, pages = _rows(page, live, "/console/warnings?limit=6")
    shown = int(page.locator("#warning-count").inner_text())
    by_region = sum(int(n) for n in page.locator("#by-region td:not(:first-child)")
                    .all_inner_texts() if n.strip())
    assert pages > 1 and len(warned) == len(set(warned)) == shown == by_region
    assert [int(i) for i in warned] == sorted((int(i) for i in warned), reverse=True)
    red, _ = _rows(page, live, "/console/warnings?tier=red&limit=2")
    assert set(red) < set(warned) and int(page.locator("#warning-count").inner_text()) == len(
        red)

    found, pages = _rows(page, live, "/console/search?q=I&limit=3")
    assert pages == -(-len(found) // 3) > 1 and len(found) == len(set(found))
    assert found == sorted(found, key=lambda k: (k.split("/")[1], k.split("/")[0]))

    ranked, pages = _rows(page, live, "/console/assessments?limit=6")
    counted = sum(int(page.locator(f"#count-{k}").inner_text())
                  for k in ("pass", "warning", "exit"))
    assert pages > 1 and len(ranked) == len(set(ranked)) == counted
    page.close()

    auditor = sign_in(browser, live, "auditor")
    logged, pages = _rows(auditor, live, "/console/audit?limit=5", most=3)
    newest = int(logged[0])
    assert pages == 3 and [int(i) for i in logged] == list(range(newest, newest - 15, -1))
    auditor.goto(f"{live.url}/console/audit?cursor=notacursor")
    expect(auditor.locator("body")).to_contain_text("query.cursor")
    auditor.close()


def test_pages_fit_a_phone_and_charts_say_what_they_show(browser: Browser, live: Live) -> None:
    """At 390 px no page scrolls sideways (wide tables scroll in their own box), and every
    chart's ``aria-label`` states its figures."""
    page = sign_in(browser, live, "regulator_all")
    page.set_viewport_size({"width": 390, "height": 844})
    entity = live.entities.institution_in
    for path in ("/console", "/console/search?q=1", f"/console/entities/institution/{entity}",
                 "/console/warnings", "/console/cases", f"/console/cases/{live.case_ids[0]}",
                 "/console/market", "/console/assessments", "/console/models", "/console/audit",
                 "/console/no-such-page"):
        page.goto(f"{live.url}{path}")
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= 390, (path, wide)
        for label in page.locator("svg[role=img]").evaluate_all(
                "svgs => svgs.map(s => s.getAttribute('aria-label'))"):
            assert label and re.search(r"\d", label), (path, label)
    page.goto(f"{live.url}/console/market")
    assert page.locator("svg[role=img]").count() == 5
    page.goto(f"{live.url}/console")
    grades = page.locator("svg[role=img]").first.get_attribute("aria-label")
    assert grades is not None and grades.startswith("等级分布：A ")
    page.close()
