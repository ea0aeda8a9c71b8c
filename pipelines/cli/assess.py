"""``techcredit assess`` and ``techcredit report``: a year's assessment draft, and its reports.

Heavy imports (Prefect, the report renderer) happen inside the commands; every refusal — an
unknown assessor, a published year, a year outside the data, an unmigrated database — is one
line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer


def mount(app: typer.Typer) -> None:
    app.command()(assess)
    app.command()(report)


def _fail(message: str) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(2)


def assess(
    year: Annotated[int, typer.Option(help="the year to assess, e.g. 2020")],
    by: Annotated[str, typer.Option(help="the assessor running it (a user with role "
                                         "assessor); another one publishes")],
    quota: Annotated[int | None, typer.Option(
        min=0, help="how many of the lowest totals exit (末位淘汰); default from settings")] = None,
    source: Annotated[Path | None, typer.Option(
        help="folder of standard Parquet tables; default: the curated store")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the draft's summary as "
                                                         "JSON")] = False,
) -> None:
    """Compute the annual assessment of a year as a draft (年度考核): indicators, groups,
    ranks and proposed outcomes with reasons, for the assessors to adjust and publish."""
    if source is not None and not source.is_dir():
        _fail(f"--source {source} is not a folder")
    from pipelines.runtime import configure, quiet_flow_failures

    settings = configure()
    from sqlalchemy.exc import SQLAlchemyError

    from models.assessment.config import load_config
    from models.assessment.measures import AssessmentDataError
    from models.declared import DeclarationError
    from models.scoring import ScoringError
    from pipelines.assess import AssessError, assess_flow, assess_json, format_summary
    from service.core.db.engine import make_engine
    from service.core.db.migrate import NotMigrated, require_migrated

    try:
        load_config(settings.assessment.indicators)
        engine = make_engine(settings.db_url)
        try:
            require_migrated(engine)
        finally:
            engine.dispose()
        with quiet_flow_failures():
            summary = assess_flow(year, by, quota, source, settings)
    except (AssessError, DeclarationError, AssessmentDataError, ScoringError,
            NotMigrated) as e:
        _fail(str(e))
    except SQLAlchemyError as e:
        _fail(f"cannot use the database: {str(getattr(e, 'orig', None) or e).splitlines()[0]}")
    if as_json:
        from pipelines.cli.as_json import dumps

        typer.echo(dumps(assess_json(summary)))
        return
    typer.echo(format_summary(summary))


def report(
    year: Annotated[int, typer.Option(help="the assessed year")],
    institution: Annotated[str | None, typer.Option(
        help="one institution's report (with the year's); default: every institution")] = None,
    lang: Annotated[str | None, typer.Option(help="zh or en; default: both")] = None,
    out: Annotated[Path | None, typer.Option(
        help="output folder; default: <home>/reports/assessment-<year>")] = None,
    pdf: Annotated[bool, typer.Option(help="also print PDFs (needs Chromium)")] = True,
) -> None:
    """Write the assessment reports of a year (考核报告): the year's overview and each
    institution's indicators, reasons and trend, as HTML and PDF."""
    if lang not in (None, "zh", "en"):
        _fail(f"--lang must be zh or en, got {lang!r}")
    from pipelines.runtime import configure

    settings = configure()
    from sqlalchemy.exc import SQLAlchemyError

    from service.core.assessments.records import NotFound
    from service.core.assessments.report_data import reports
    from service.core.db.engine import make_engine, session_factory
    from service.core.db.migrate import NotMigrated, require_migrated
    from service.core.reports.pdf import MissingPackage
    from service.core.reports.write import write_reports

    folder = out or settings.reports_dir / f"assessment-{year}"
    engine = make_engine(settings.db_url)
    try:
        require_migrated(engine)
        with session_factory(engine)() as session:
            pages, overview = reports(session, year, institution)
        written = write_reports(pages, overview, folder, [lang] if lang else ["zh", "en"], pdf)
    except (NotFound, NotMigrated, MissingPackage) as e:
        _fail(str(e))
    except SQLAlchemyError as e:
        _fail(f"cannot use the database: {str(getattr(e, 'orig', None) or e).splitlines()[0]}")
    finally:
        engine.dispose()
    typer.echo(f"考核报告 reports of {year} ({overview.state}): {len(written)} files in {folder}")
