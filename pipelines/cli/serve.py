"""``techcredit serve``: the API (OpenAPI at /docs) on the curated store and the champions.

The command checks the database before the server starts, so an unmigrated or unreachable
database is one line and exit code 2, not a traceback from inside the server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from features.settings import Settings


def data_version(settings: Settings, source: Path | None) -> str:
    """What the service's contract ledger is built from, as a name that changes with it: the
    curated store's published sequence, or the market folder's contracts file."""
    if source is None:
        from pipelines.store.curated import current_manifest

        manifest = current_manifest(settings)
        return f"store {manifest.sequence} ({manifest.run_id or 'empty'})"
    stat = (source / "contracts.parquet").stat()
    return f"folder {source} ({stat.st_mtime_ns}, {stat.st_size} bytes)"


def serve(
    host: Annotated[str | None, typer.Option(help="address to bind; default from settings")] = None,
    port: Annotated[int | None, typer.Option(help="port; default from settings (8000)")] = None,
    source: Annotated[
        Path | None,
        typer.Option(help="folder of standard Parquet tables; default: the curated store"),
    ] = None,
) -> None:
    """Serve scores, contract checks, warnings and the audit log (启动评分服务)."""
    from pipelines.runtime import configure

    settings = configure()
    from sqlalchemy.exc import SQLAlchemyError

    from service.core.db.engine import make_engine
    from service.core.db.migrate import NotMigrated, require_migrated

    engine = make_engine(settings.db_url)
    try:
        require_migrated(engine)
    except NotMigrated as e:
        typer.echo(f"Error: {e}", err=True)
        raise typer.Exit(2) from None
    except SQLAlchemyError as e:
        cause = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
        typer.echo(f"Error: cannot use the database: {cause}", err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    if source is not None and not (source / "contracts.parquet").is_file():
        typer.echo(f"Error: --source {source} holds no contracts.parquet", err=True)
        raise typer.Exit(2)

    import uvicorn

    from pipelines.scoring.adhoc import read_store
    from pipelines.store.ledger_snapshots import StorePin
    from service.web.app import create_app, server_options

    app = create_app(settings, lambda: read_store(settings, source),
                     fingerprint=lambda: data_version(settings, source),
                     store=None if source is not None else lambda: StorePin(settings))
    bind_host, bind_port = host or settings.api.host, port or settings.api.port
    typer.echo(f"serving on http://{bind_host}:{bind_port} (OpenAPI: /openapi.json); "
               "/readyz says when models and the contract ledger are loaded")
    uvicorn.run(app, host=bind_host, port=bind_port, access_log=False, log_level="info",
                **server_options(settings))
