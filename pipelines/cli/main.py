"""The ``techcredit`` command line.

Commands import their heavy dependencies (Great Expectations, MLflow, Prefect) inside the
command body, so ``techcredit --help`` and unrelated commands stay fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipelines.cli.assess import mount as mount_assess
from pipelines.cli.cases import cases_app
from pipelines.cli.db import mount as mount_db
from pipelines.cli.docs import docs
from pipelines.cli.ingest import mount as mount_ingest
from pipelines.cli.monitor import mount as mount_monitor
from pipelines.cli.rescore import mount as mount_rescore
from pipelines.cli.reviews import mount as mount_reviews
from pipelines.cli.rules import rules_app
from pipelines.cli.score import score
from pipelines.cli.serve import serve
from pipelines.cli.stack import mount as mount_stack
from pipelines.cli.store import quarantine_app, store_app

app = typer.Typer(
    help="techcredit: credit scoring and risk warning for the technology market",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """techcredit: 科技市场信用评价与风险预警 / credit scoring and risk warning."""


def _years(text: str) -> tuple[int, int]:
    try:
        a, _, b = text.partition("-")
        first, last = int(a), int(b or a)
    except ValueError:
        raise typer.BadParameter(f"--years must look like 2011-2020, got {text!r}") from None
    if first > last:
        raise typer.BadParameter(f"--years {text!r}: first year after last year")
    return first, last


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="output folder, one Parquet file per table")] = Path(
        ".techcredit/market"
    ),
    years: Annotated[str, typer.Option(help="first-last registration year")] = "2011-2020",
    scale: Annotated[float, typer.Option(help="1 = the national market")] = 0.05,
    seed: Annotated[int, typer.Option(help="random seed; same seed, same bytes")] = 7,
    check: Annotated[bool, typer.Option(help="print generated vs published figures")] = False,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv")] = "parquet",
    encoding: Annotated[str, typer.Option(help="csv text encoding, e.g. utf-8, gb18030")] = "utf-8",
    headers: Annotated[str, typer.Option(help="column headers: en (codes) or zh (labels)")] = "en",
) -> None:
    """Generate a synthetic national technology market (生成合成技术市场)."""
    from features.synthetic.market import generate_market, write_market
    from features.synthetic.market_check import calibration_table, format_table, shape_figures
    from features.synthetic.spec import MarketSpec

    first, last = _years(years)
    if not 0 < scale <= 2:
        raise typer.BadParameter(f"--scale must be in (0, 2], got {scale}")
    if fmt not in ("parquet", "csv") or headers not in ("en", "zh"):
        raise typer.BadParameter(
            f"--format parquet|csv and --headers en|zh, got {fmt!r}, {headers!r}"
        )
    try:
        "".encode(encoding)
    except LookupError:
        raise typer.BadParameter(f"unknown --encoding {encoding!r}") from None
    market = generate_market(MarketSpec(first_year=first, last_year=last, scale=scale, seed=seed))
    paths = write_market(market, out, fmt=fmt, encoding=encoding, headers=headers)
    frames = {**market.tables, **{f"truth/{k}": v for k, v in market.truth.items()}}
    for name, path in paths.items():
        typer.echo(f"{name:<22} {len(frames[name]):>10,} rows  {path}")
    if check:
        typer.echo(
            format_table(calibration_table(market.tables, scale), shape_figures(market.tables))
        )


@app.command()
def features(
    as_of: Annotated[
        list[str] | None, typer.Option(help="as-of date YYYY-MM-DD (repeatable)")
    ] = None,
    month_ends: Annotated[
        str | None,
        typer.Option(help="every month end from YYYY-MM to YYYY-MM, e.g. 2020-01:2020-12"),
    ] = None,
    source: Annotated[
        Path | None,
        typer.Option(help="folder of standard Parquet tables; default: the curated store"),
    ] = None,
) -> None:
    """Build point-in-time feature tables and labels (构建时点特征与标签)."""
    import pandas as pd

    from features.point_in_time.build import month_ends as month_end_dates

    dates = []
    for text in as_of or []:
        try:
            dates.append(pd.Timestamp(text))
        except ValueError:
            raise typer.BadParameter(f"--as-of must look like 2020-12-31, got {text!r}") from None
    if month_ends:
        first, _, last = month_ends.partition(":")
        try:
            dates += month_end_dates(pd.Timestamp(first), pd.Timestamp(last or first))
        except ValueError:
            raise typer.BadParameter(
                f"--month-ends must look like 2020-01:2020-12, got {month_ends!r}"
            ) from None
    if not dates:
        raise typer.BadParameter("give --as-of YYYY-MM-DD or --month-ends YYYY-MM:YYYY-MM")
    if source is not None and not source.is_dir():
        raise typer.BadParameter(f"--source {source} is not a folder")
    from pipelines.runtime import configure, quiet_flow_failures

    settings = configure()
    from pipelines.build_features import NoPrefectServer, build_features_flow

    try:
        with quiet_flow_failures():
            written = build_features_flow(dates, source, settings)
    except NoPrefectServer as e:
        typer.echo(f"Error: {e}", err=True)
        raise typer.Exit(2) from None
    for path in written:
        typer.echo(str(path))


@app.command()
def train(
    features: Annotated[
        Path | None,
        typer.Option(
            help="any feature table (CSV/Parquet); default: the built point-in-time panel"
        ),
    ] = None,
    target: Annotated[
        str | None, typer.Option(help="binary 0/1 target column of --features")
    ] = None,
    bad: Annotated[
        str | None,
        typer.Option(help="the --target value that means bad, for a text target (e.g. bad)"),
    ] = None,
    time: Annotated[
        str | None,
        typer.Option(help="time column for an out-of-time split; none: stratified k-fold"),
    ] = None,
    segment: Annotated[
        list[str] | None, typer.Option(help="column to break performance down by (repeatable)")
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            "--model-name",
            help="registered model name with --features (default external-<file name>); "
            "never techcredit-credit / techcredit-anomaly",
        ),
    ] = None,
    source: Annotated[
        Path | None,
        typer.Option(
            help="panel mode: folder of standard Parquet tables; default: the curated store"
        ),
    ] = None,
) -> None:
    """Train, review and register models (训练、评审并登记模型); new versions become challenger.

    With --features the run goes to the experiment techcredit-external/<name>, never to the
    production models' experiment or names.
    """
    if features is not None:
        from models.registry import external_model_name

        try:
            name = external_model_name(features, name)
        except ValueError as e:
            typer.echo(f"Error: --name: {e}", err=True)
            raise typer.Exit(2) from None
    elif name is not None:
        raise typer.BadParameter("--name only applies with --features")
    from pipelines.runtime import configure

    configure()
    from pipelines.training.flows import train_panel_flow, train_table_flow
    from pipelines.training.run import format_summary

    if features is None:
        if target or time:
            raise typer.BadParameter("--target/--time only apply with --features")
        for summary in train_panel_flow(source):
            typer.echo(format_summary(summary) + "\n")
        return
    if not target:
        raise typer.BadParameter("--features needs --target COLUMN")
    if not features.exists():
        raise typer.BadParameter(f"--features {features} does not exist")
    from pipelines.training.run import external_table

    try:
        external_table(features, target, time, bad)  # answer bad input before the flow starts
    except ValueError as e:
        typer.echo(f"Error: {e}", err=True)
        raise typer.Exit(2) from None
    summary = train_table_flow(features, target, time, name, tuple(segment or ()), bad)
    typer.echo(format_summary(summary))


@app.command()
def demo(
    scale: Annotated[float, typer.Option(help="market size, 1 = national")] = 0.05,
    years: Annotated[str, typer.Option(help="first-last registration year")] = "2011-2020",
    seed: Annotated[int, typer.Option(help="random seed")] = 7,
    serve: Annotated[bool, typer.Option(help="leave the stack running (console, API, Prefect "
                                             "server and worker); --no-serve exits")] = True,
) -> None:
    """Run the whole story on embedded defaults (一键演示): market, ingest, features, models,
    scores, warnings, cases, assessment, monitoring; then start the stack (techcredit up)."""
    first, last = _years(years)
    if last - first < 4:
        raise typer.BadParameter("--years must span at least five years (train, validate, test)")
    from pipelines.runtime import configure

    settings = configure()
    from features.synthetic.spec import MarketSpec
    from pipelines.demo.run import run_demo

    ok = run_demo(settings, MarketSpec(first, last, scale, seed), typer.echo)
    if not ok:
        raise typer.Exit(code=1)
    if serve:
        from pipelines.cli.stack import up

        typer.echo("\n常驻服务 starting the stack (techcredit up; stop with techcredit down)")
        up()


app.add_typer(store_app, name="store")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(rules_app, name="rules")
app.add_typer(cases_app, name="cases")
mount_reviews(app)
mount_ingest(app)
mount_db(app)
mount_assess(app)
mount_monitor(app)
mount_rescore(app)
mount_stack(app)
app.command()(score)
app.command()(docs)
app.command()(serve)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
