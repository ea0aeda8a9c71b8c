"""The demo's annual assessment of the last year: computed as a draft by one demo assessor,
published by another (four eyes) with a written reason for each pass despite grade D or a red
warning, its reports written in Chinese and English."""

from __future__ import annotations

from collections.abc import Callable

from features.settings import Settings
from pipelines.assess import assess_flow, format_summary
from service.core.assessments import service
from service.core.assessments.records import Actor
from service.core.assessments.report_data import reports
from service.core.db.audit import AuditRecord
from service.core.db.engine import make_engine, session_factory
from service.core.db.types import utcnow
from service.core.reports.pdf import MissingPackage
from service.core.reports.write import write_reports

RUNNER, PUBLISHER = "demo-assessor-1", "demo-assessor-2"
DEMO_REASON = ("演示：考核指标达标，信用风险由预警与失信案件另行处理 / demo: the indicators are "
               "met; the credit risk is handled by its warning and case")


def demo_assessment(settings: Settings, year: int, echo: Callable[[str], None]) -> None:
    summary = assess_flow(year, RUNNER, settings=settings)
    echo(f"$ techcredit assess --year {year} --by {RUNNER}\n{format_summary(summary)}")
    engine = make_engine(settings.db_url)
    try:
        sessions = session_factory(engine)
        actor = Actor(PUBLISHER, "assessor")
        reasons = dict.fromkeys(summary.flagged, DEMO_REASON)
        decision = service.transact(
            sessions, lambda s: service.publish(s, year, actor, summary.version, utcnow(),
                                                reasons),
            lambda d: [AuditRecord(actor=PUBLISHER, role="assessor", action="assessment.publish",
                                   outcome="ok", source="demo",
                                   detail={"year": year, "statuses": d.statuses,
                                           "pass_reasons": reasons})])
        echo(f"发布 published by {PUBLISHER} (four eyes: run by {RUNNER}); "
             f"{decision.statuses} institution statuses recorded; {len(reasons)} flagged passes "
             "published with a written reason / 逐一填写通过理由")
        with sessions() as session:
            pages, overview = reports(session, year)
        folder = settings.reports_dir / f"assessment-{year}"
        try:
            written = write_reports(pages, overview, folder, ["zh", "en"], pdf=True)
        except MissingPackage as e:  # no Chromium here: HTML only, and say why
            echo(f"PDF skipped: {e}")
            written = write_reports(pages, overview, folder, ["zh", "en"], pdf=False)
        echo(f"考核报告 reports: {len(written)} files in {folder}")
    finally:
        engine.dispose()
