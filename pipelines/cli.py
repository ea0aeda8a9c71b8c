"""The ``techcredit`` command line.

Commands import their heavy dependencies (Great Expectations, MLflow, Prefect) inside the
command body, so ``techcredit --help`` and unrelated commands stay fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
    from features.calibration import calibration_table, format_table, shape_figures
    from features.synthetic import MarketSpec, generate_market, write_market

    first, last = _years(years)
    if not 0 < scale <= 2:
        raise typer.BadParameter(f"--scale must be in (0, 2], got {scale}")
    if fmt not in ("parquet", "csv") or headers not in ("en", "zh"):
        raise typer.BadParameter(f"--format parquet|csv and --headers en|zh, got {fmt!r}, {headers!r}")
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
        typer.echo(format_table(calibration_table(market.tables, scale), shape_figures(market.tables)))


@app.command()
def docs(
    out: Annotated[Path, typer.Option(help="docs folder")] = Path("docs"),
) -> None:
    """Regenerate the documents derived from code (数据标准文档)."""
    from features.standard_doc import render_data_standard

    out.mkdir(parents=True, exist_ok=True)
    (out / "data-standard.md").write_text(render_data_standard(), encoding="utf-8")
    typer.echo(f"wrote {out / 'data-standard.md'}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
