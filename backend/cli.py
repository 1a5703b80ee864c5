"""The `coalition-hub` command: serve the hub, migrate its database, export its schema."""

from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
import uvicorn

from backend import migrations
from backend.config import Settings
from backend.graphql.schema import schema as graphql_schema

app = typer.Typer(
    help="Coalition Hub: members, pledges, deliveries and activities over GraphQL.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PORT", help="TCP port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve the GraphQL API (HTTP and websockets)."""
    # Each worker process calls the factory, which reads its own Settings. uvloop and
    # httptools, never h11: h11 parses HTTP in pure Python and costs several times the CPU.
    uvicorn.run(
        "backend.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
    )


@app.command()
def migrate() -> None:
    """Bring the database schema to the latest revision."""
    database_url = Settings().database_url
    migrations.upgrade(database_url)
    shown = sa.make_url(database_url).render_as_string(hide_password=True)
    typer.echo(f"{shown} is at the latest revision")


@app.command("export-schema")
def export_schema(
    path: Annotated[Path, typer.Option(help="Where to write the SDL.")] = Path(
        "schema/schema.graphql"
    ),
) -> None:
    """Write the GraphQL schema as SDL: the contract the portal is built against."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(graphql_schema.as_str() + "\n", encoding="utf-8")
    typer.echo(f"wrote {path}")
