"""``techcredit docs``: the documents rendered from the code's declarations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def docs(
    out: Annotated[Path, typer.Option(help="docs folder")] = Path("docs"),
) -> None:
    """Regenerate the documents derived from code (数据标准文档, 特征目录, 失信案件流程,
    市场指数, 原因代码, 考核指标表, and the settings table of operations.md)."""
    from features.docs import render_data_standard
    from features.point_in_time.catalogue import render_features_doc

    out.mkdir(parents=True, exist_ok=True)
    (out / "data-standard.md").write_text(render_data_standard(), encoding="utf-8")
    typer.echo(f"wrote {out / 'data-standard.md'}")
    (out / "features.md").write_text(render_features_doc(), encoding="utf-8")
    typer.echo(f"wrote {out / 'features.md'}")
    from features.settings import Settings, with_settings_table

    operations = out / "operations.md"  # written by hand around the generated table
    if operations.exists():
        operations.write_text(with_settings_table(operations.read_text(encoding="utf-8")),
                              encoding="utf-8")
        typer.echo(f"wrote the settings table in {operations}")
    else:
        typer.echo(f"no {operations} to write the settings table in")
    from service.core.cases.docs import render_cases_doc
    from service.core.cases.policy import CasePolicy

    (out / "cases.md").write_text(render_cases_doc(CasePolicy.from_settings(Settings())),
                                  encoding="utf-8")
    typer.echo(f"wrote {out / 'cases.md'}")
    from service.core.market_index import render_index_doc

    (out / "market-index.md").write_text(render_index_doc(), encoding="utf-8")
    typer.echo(f"wrote {out / 'market-index.md'}")
    from models.reason_codes import render_reason_codes_doc

    (out / "reason-codes.md").write_text(render_reason_codes_doc(), encoding="utf-8")
    typer.echo(f"wrote {out / 'reason-codes.md'}")
    from models.assessment.config import load_config
    from models.assessment.texts import with_indicator_table

    path = out / "assessment.md"
    if path.exists():  # a written document: only the table between its markers is generated
        path.write_text(with_indicator_table(path.read_text(encoding="utf-8"), load_config()),
                        encoding="utf-8")
        typer.echo(f"updated the indicator table in {path}")
