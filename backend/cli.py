"""The `coalition-hub` command: serve the hub, migrate its database, export its schema,
seed the demo and manage API tokens.

Commands that write act as the secretariat (backend.actors.SYSTEM) through the services, so
every rule and audit record applies; they read the database URL from Settings only.
"""

import asyncio
import datetime as dt
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import sqlalchemy as sa
import typer
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend import db, demo, migrations, models
from backend import imports as csv_imports
from backend.actors import SYSTEM
from backend.config import Settings
from backend.errors import DomainError, InvalidInput
from backend.graphql import read_cache
from backend.graphql.schema import schema as graphql_schema
from backend.graphql.trusted_documents import TrustedDocuments
from backend.reports import csv_exports, filters, iati
from backend.services import repin
from backend.services import tokens as token_service
from backend.web import exports as web_exports

T = TypeVar("T")

app = typer.Typer(
    help="Coalition Hub: members, pledges, deliveries and activities over GraphQL.",
    no_args_is_help=True,
    add_completion=False,
)
tokens = typer.Typer(
    help="Issue and revoke API tokens, acting as the secretariat.",
    no_args_is_help=True,
)
app.add_typer(tokens, name="tokens")
operations = typer.Typer(
    help="The portal's trusted documents (schema/operations/).", no_args_is_help=True
)
app.add_typer(operations, name="operations")
exports = typer.Typer(
    help="The secretariat's exports: CSV files and IATI 2.03 activity XML.", no_args_is_help=True
)
app.add_typer(exports, name="export")
imports = typer.Typer(
    help="Bring spreadsheets in (CSV): every row checked, nothing written unless all are valid.",
    no_args_is_help=True,
)
app.add_typer(imports, name="import")
rates = typer.Typer(help="Exchange rates to US dollars.", no_args_is_help=True)
app.add_typer(rates, name="fx")


# Service input fields, as the options that set them.
_OPTIONS = {
    "organisation_id": "--org",
    "name": "--name",
    "expires_at": "--expires-days",
    **{
        parameter: f"--{parameter.replace('_', '-')}"
        for parameter in (
            "coalition",
            "workstream",
            "organisation",
            "organisation_type",
            "stage",
            "resource_kind",
            "country",
            "sdg_target",
            "from",
            "to",
        )
    },
}


class Refused(Exception):
    """The command cannot do what was asked; the message says why."""


def _run(work: Callable[[db.SessionFactory], Awaitable[T]]) -> T:
    """Run `work` on an engine made from Settings, disposed of however it ends."""

    async def main() -> T:
        engine = db.create_engine(Settings())
        try:
            return await work(db.create_session_factory(engine))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except InvalidInput as error:
        problems = "; ".join(
            f"{_OPTIONS.get(issue.field, issue.field)}: {issue.message}" for issue in error.issues
        )
        typer.echo(f"error: {problems}", err=True)
    except (DomainError, Refused) as error:
        typer.echo(f"error: {error}", err=True)
    raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PORT", help="TCP port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    access_log: Annotated[
        bool,
        typer.Option(
            help="Log a line per request (uvicorn's access log). Behind a proxy that logs "
            "them already, --no-access-log saves about a tenth of a cached read's CPU."
        ),
    ] = True,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(
            envvar="FORWARDED_ALLOW_IPS",
            help="Comma-separated addresses (or networks) of proxies whose X-Forwarded-For "
            "and X-Forwarded-Proto are believed; '*' for any. Behind a proxy, list it: the "
            "rate limits key anonymous callers by the client address this yields.",
        ),
    ] = "127.0.0.1,::1",
) -> None:
    """Serve the GraphQL API (HTTP and websockets)."""
    settings = Settings()
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
        access_log=access_log,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        ws_per_message_deflate=settings.ws_compression,
        # A websocket message is held to the request body limit, as an HTTP body is.
        ws_max_size=settings.max_body_bytes,
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


@operations.command("manifest")
def operations_manifest() -> None:
    """Print the trusted documents' manifest (JSON, Apollo's persisted query manifest
    format): each operation's id (the SHA-256 of its body), name, type and body. The
    portal's build sends `{"documentId": "sha256:<id>"}` instead of the text."""
    manifest = TrustedDocuments().manifest()
    typer.echo(json.dumps(manifest, indent=2, ensure_ascii=False))


@app.command("seed-demo")
def seed_demo(
    scale: Annotated[
        int,
        typer.Option(
            min=1,
            help="Multiply organisations, commitments, deliveries and activities "
            "(1: 44 organisations and 160 commitments; 625: 100,000 commitments).",
        ),
    ] = 1,
    deliveries_per_commitment: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="Split delivery tranches until there are at least this many deliveries per "
            "commitment on average (the same amounts delivered); the demo's own is about 0.8.",
        ),
    ] = None,
    bulk: Annotated[
        bool | None,
        typer.Option(
            "--bulk/--services",
            help="Write the rows in bulk (SQLAlchemy Core, no audit record or feed event per "
            f"row) or through the services, one call each; default: in bulk above scale "
            f"{demo.BULK_ABOVE_SCALE}.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Fill the database with a fictional coalition and movement to explore.

    Safe to run again: when the demo coalition (learning-continuity) exists nothing is added.
    Every run prints fresh tokens (a secretariat admin and a partner editor) to try writes
    in GraphiQL, since a token's secret is shown only once.
    """
    settings = Settings()

    async def work(session_factory: db.SessionFactory) -> tuple[demo.Seeded, demo.DemoTokens]:
        try:
            with demo.bar() as bar:
                seeded = await demo.seed(
                    session_factory,
                    scale=scale,
                    progress=bar,
                    deliveries_per_commitment=deliveries_per_commitment,
                    bulk=bulk,
                    rate_window_days=settings.fx_rate_window_days,
                )
        finally:
            # Written outside any server (in batches, so even a seed that failed half-way
            # changed what readers see): servers sharing a Redis read cache drop what they
            # cached before. A server's memory cache is out of this process's reach.
            await read_cache.invalidate_shared(settings)
        return seeded, await demo.issue_tokens(session_factory)

    started = time.perf_counter()
    seeded, issued = _run(work)
    if seeded.created:
        typer.echo(
            f"Seeded the demo in {time.perf_counter() - started:.1f} s: "
            f"{seeded.organisations} organisations, {seeded.memberships} memberships, "
            f"{seeded.commitments} commitments, {seeded.deliveries} deliveries, "
            f"{seeded.activities} activities."
        )
    else:
        typer.echo(f"The demo is already seeded (coalition '{demo.SLUG}' exists): nothing added.")
    lifetime = demo.TOKEN_LIFETIME.days
    typer.echo(
        f"Fresh tokens to try the API, shown only now and valid for {lifetime} days; "
        "send one as `Authorization: Bearer <token>`:"
    )
    typer.echo(f"SECRETARIAT_ADMIN token: {issued.admin.secret}")
    typer.echo(
        f"PARTNER_EDITOR token for {issued.partner_organisation} "
        f"(an ACTIVE member of {demo.SLUG}): {issued.partner.secret}"
    )


@exports.command("iati")
def export_iati(
    slug: Annotated[str, typer.Argument(help="The coalition's slug.")],
    by_workstream: Annotated[
        bool,
        typer.Option(
            "--by-workstream",
            help="One activity per workstream (and one for commitments outside any).",
        ),
    ] = False,
    output: Annotated[
        Path | None, typer.Option(help="Write the XML there instead of to standard output.")
    ] = None,
) -> None:
    """Write the coalition's IATI 2.03 activity file, public data only (see README.md,
    "IATI 2.03 export")."""
    by = iati.Grouping.WORKSTREAM if by_workstream else iati.Grouping.COALITION

    async def work(session_factory: db.SessionFactory) -> bytes:
        async with session_factory() as session:
            return await iati.activity_file(session, slug=slug, by=by)

    body = _run(work)
    if output is None:
        typer.echo(body.decode("utf-8"), nl=False)
        return
    output.write_bytes(body)
    typer.echo(f"wrote {output}")


async def _organisation(session: AsyncSession, key: str) -> models.Organisation:
    """The one organisation whose IATI identifier, acronym or name is `key`, any case."""
    organisation = models.Organisation
    wanted = key.strip().lower()
    found = list(
        await session.scalars(
            sa.select(organisation)
            .where(
                sa.or_(
                    sa.func.lower(col(organisation.iati_identifier)) == wanted,
                    sa.func.lower(col(organisation.acronym)) == wanted,
                    sa.func.lower(col(organisation.name)) == wanted,
                )
            )
            .order_by(col(organisation.id))
            .limit(10)
        )
    )
    if not found:
        raise Refused(f"No organisation has '{key}' as its IATI identifier, acronym or name.")
    if len(found) > 1:
        names = "; ".join(
            f"{row.name} (acronym {row.acronym or '-'}, IATI {row.iati_identifier or '-'})"
            for row in found
        )
        raise Refused(f"'{key}' matches several organisations: {names}. Be more specific.")
    return found[0]


@tokens.command("create")
def create_token(
    role: Annotated[models.Role, typer.Option(case_sensitive=False, help="What the token may do.")],
    org: Annotated[
        str | None,
        typer.Option(
            help="The partner organisation, found by its IATI identifier, acronym or exact "
            "name (any case); it must match exactly one. Omit for secretariat roles."
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(help="Who holds it, shown in audit records; defaults to role and org."),
    ] = None,
    expires_days: Annotated[
        int | None, typer.Option(min=1, help="Days until it expires; never, if omitted.")
    ] = None,
) -> None:
    """Issue a token and print its secret, once."""

    async def work(
        session_factory: db.SessionFactory,
    ) -> tuple[token_service.IssuedToken, str | None]:
        async with session_factory() as session:
            organisation = await _organisation(session, org) if org is not None else None
            holder = name or (
                f"{role.value} for {organisation.name}"
                if organisation
                else f"{role.value} (command line)"
            )
            issued = await token_service.create(
                session,
                SYSTEM,
                name=holder,
                role=role,
                organisation_id=organisation.id if organisation else None,
                expires_at=(
                    models.utcnow() + dt.timedelta(days=expires_days) if expires_days else None
                ),
            )
            await session.commit()
        return issued, organisation.name if organisation else None

    issued, organisation_name = _run(work)
    token = issued.token
    expires = token.expires_at.isoformat(timespec="seconds") if token.expires_at else "never"
    typer.echo(f"token:        {issued.secret}")
    typer.echo(f"prefix:       {token.prefix}")
    typer.echo(f"name:         {token.name}")
    typer.echo(f"role:         {token.role.value}")
    typer.echo(f"organisation: {organisation_name or '-'}")
    typer.echo(f"expires:      {expires}")
    typer.echo(
        "Store the token now: only its hash is kept. "
        f"Revoke it with `coalition-hub tokens revoke {token.prefix}`."
    )


@tokens.command("revoke")
def revoke_token(
    prefix: Annotated[str, typer.Argument(help="The token's prefix, as `tokens create` showed.")],
) -> None:
    """Revoke a token: requests carrying it are refused from now on."""

    async def work(session_factory: db.SessionFactory) -> tuple[models.ApiToken, bool]:
        async with session_factory() as session:
            now = models.utcnow()
            token = await token_service.revoke(session, SYSTEM, prefix=prefix)
            await session.commit()
        assert token.revoked_at is not None
        return token, token.revoked_at < now

    token, earlier = _run(work)
    assert token.revoked_at is not None
    when = token.revoked_at.isoformat(timespec="seconds")
    if earlier:
        typer.echo(f"{token.prefix} ({token.name}) was already revoked at {when}.")
    else:
        typer.echo(f"Revoked {token.prefix} ({token.name}, {token.role.value}) at {when}.")


ImportFile = Annotated[
    Path,
    typer.Argument(
        exists=True, dir_okay=False, readable=True, help="The CSV file (UTF-8, header row)."
    ),
]
DryRun = Annotated[
    bool,
    typer.Option(
        "--dry-run", help="Check every row and list what would be created; write nothing."
    ),
]


def _import(
    import_file: Callable[..., Awaitable[csv_imports.Outcome]], path: Path, dry_run: bool
) -> None:
    """Run one file's import and print its outcome: every bad row on standard error (exit
    1, nothing written), else what was (or would be) created."""
    settings = Settings()

    async def work(session_factory: db.SessionFactory) -> csv_imports.Outcome:
        with demo.bar("Importing") as bar:
            outcome = await import_file(
                session_factory,
                path,
                dry_run=dry_run,
                progress=bar,
                rate_window_days=settings.fx_rate_window_days,
            )
        if outcome.written:
            await read_cache.invalidate_shared(settings)
        return outcome

    outcome = _run(work)
    for line in outcome.errors():
        typer.echo(line, err=True)
    for line in outcome.summary():
        typer.echo(line)
    if not outcome.ok:
        raise typer.Exit(1)


@imports.command("organisations")
def import_organisations(file: ImportFile, dry_run: DryRun = False) -> None:
    """Register the organisations of organisations.csv.

    Natural key: the IATI identifier, else name and country."""
    _import(csv_imports.organisations.import_file, file, dry_run)


@imports.command("commitments")
def import_commitments(file: ImportFile, dry_run: DryRun = False) -> None:
    """Record the commitments of commitments.csv, each at its stage.

    Natural key: the ref. The coalitions, workstreams and organisations named must exist."""
    _import(csv_imports.commitments.import_file, file, dry_run)


@imports.command("deliveries")
def import_deliveries(file: ImportFile, dry_run: DryRun = False) -> None:
    """Record the deliveries of deliveries.csv, reviewed as their status says.

    Natural key: the commitment's ref and the key (the delivery's idempotency key)."""
    _import(csv_imports.deliveries.import_file, file, dry_run)


@rates.command("import")
def import_rates(file: ImportFile, dry_run: DryRun = False) -> None:
    """Publish exchange rates from a CSV file: currency, date, rate_to_usd, source.

    rate_to_usd is US dollars per unit. A different rate for a currency and day already
    published corrects it (audited); rows pinned to the old rate keep it."""
    _import(csv_imports.rates.import_file, file, dry_run)


# The exports' filters, as the HTTP routes take them (`GET /exports/commitments.csv?...`).
Coalition = Annotated[str | None, typer.Option(help="The coalition's slug.")]
Workstream = Annotated[str | None, typer.Option(help="A workstream's name (in --coalition).")]
OrganisationKey = Annotated[
    str | None, typer.Option("--organisation", help="The organisation's IATI identifier or name.")
]
OrganisationType = Annotated[str | None, typer.Option(help="IATI organisation type code, e.g. 70.")]
Stages = Annotated[
    list[str] | None, typer.Option("--stage", help="Any of these stages (repeat the option).")
]
Kind = Annotated[str | None, typer.Option(help="FINANCIAL, IN_KIND or MIXED.")]
Country = Annotated[str | None, typer.Option(help="Targets this country (ISO 3166-1 alpha-2).")]
SdgTarget = Annotated[str | None, typer.Option(help="Targets this SDG target, e.g. 4.1.")]
From = Annotated[
    str | None,
    typer.Option(
        "--from",
        help="First day (YYYY-MM-DD): commitments by value date (or day "
        "recorded), deliveries by the day made.",
    ),
]
To = Annotated[str | None, typer.Option("--to", help="Last day (YYYY-MM-DD), inclusive.")]
Output = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="The file to write; standard output if omitted."),
]


def _export(name: str, wanted: filters.Filters, output: Path | None) -> None:
    """Write an export as the secretariat, chunk by chunk as it is read."""

    async def work(session_factory: db.SessionFactory) -> int:
        written = 0
        async with session_factory() as session:
            connection = await session.connection()
            scope, selection = await web_exports.prepare(connection, SYSTEM, wanted)
            # A file appears whole or not at all: written aside, renamed once complete.
            partial = output.with_name(f".{output.name}.partial") if output else None
            sink = partial.open("wb") if partial is not None else sys.stdout.buffer
            try:
                async for chunk in csv_exports.EXPORTS[name](connection, scope, selection):
                    sink.write(chunk)
                    written += len(chunk)
            except BaseException:
                if partial is not None:
                    sink.close()
                    partial.unlink()
                raise
            sink.flush()
            if partial is not None and output is not None:
                sink.close()
                partial.replace(output)
        return written

    written = _run(work)
    if output is not None:
        typer.echo(f"wrote {output} ({written} bytes)", err=True)


@exports.command("commitments")
def export_commitments(
    coalition: Coalition = None,
    workstream: Workstream = None,
    organisation: OrganisationKey = None,
    organisation_type: OrganisationType = None,
    stage: Stages = None,
    resource_kind: Kind = None,
    country: Country = None,
    sdg_target: SdgTarget = None,
    period_from: From = None,
    period_to: To = None,
    output: Output = None,
) -> None:
    """commitments.csv: one row per commitment, withdrawn and cancelled ones included."""
    wanted = filters.Filters(
        coalition=coalition,
        workstream=workstream,
        organisation=organisation,
        organisation_type=organisation_type,
        stages=stage or (),
        resource_kind=resource_kind,
        country=country,
        sdg_target=sdg_target,
        period_from=period_from,
        period_to=period_to,
    )
    _export("commitments", wanted, output)


@exports.command("deliveries")
def export_deliveries(
    coalition: Coalition = None,
    workstream: Workstream = None,
    organisation: OrganisationKey = None,
    organisation_type: OrganisationType = None,
    stage: Stages = None,
    resource_kind: Kind = None,
    country: Country = None,
    sdg_target: SdgTarget = None,
    period_from: From = None,
    period_to: To = None,
    output: Output = None,
) -> None:
    """deliveries.csv: the deliveries against the commitments that commitments.csv lists
    with the same filters, made within the period, every status included."""
    wanted = filters.Filters(
        coalition=coalition,
        workstream=workstream,
        organisation=organisation,
        organisation_type=organisation_type,
        stages=stage or (),
        resource_kind=resource_kind,
        country=country,
        sdg_target=sdg_target,
        period_from=period_from,
        period_to=period_to,
    )
    _export("deliveries", wanted, output)


@exports.command("organisations")
def export_organisations(
    coalition: Coalition = None,
    organisation: OrganisationKey = None,
    organisation_type: OrganisationType = None,
    output: Output = None,
) -> None:
    """organisations.csv: every organisation, or those taking part in --coalition."""
    wanted = filters.Filters(
        coalition=coalition, organisation=organisation, organisation_type=organisation_type
    )
    _export("organisations", wanted, output)


# `coalition-hub fx repin`: rates pinned on rows recorded before a usable rate existed.
@rates.command("repin")
def repin_rates(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be pinned; write nothing.")
    ] = False,
) -> None:
    """Pin USD rates on money rows still unconverted (commitments, valued in-kind lines,
    cash deliveries) for which a usable rate has been published since: the rate of the
    row's day, or the nearest earlier one within HUB_FX_RATE_WINDOW_DAYS. Rows already
    pinned never change. One transaction; every row changed gets an audit record."""
    settings = Settings()

    async def work(session_factory: db.SessionFactory) -> repin.Repinned:
        async with session_factory() as session:
            done = await repin.repin(session, SYSTEM, window_days=settings.fx_rate_window_days)
            if dry_run:
                await session.rollback()
            else:
                await session.commit()
        if done.changed and not dry_run:
            await read_cache.invalidate_shared(settings)
        return done

    done = _run(work)
    verb = "would pin" if dry_run else "pinned"
    left = done.still_unconverted
    typer.echo(f"Rates within {settings.fx_rate_window_days} days of each row's day:")
    for label, count, kind in (
        ("commitments", done.commitments, "commitments"),
        ("in-kind lines", done.in_kind_lines, "in_kind_lines"),
        ("deliveries", done.deliveries, "deliveries"),
    ):
        typer.echo(f"  {label:<19}{count:>8} {verb}, {left.get(kind, 0)} still unconverted")
    valued = "would be valued" if dry_run else "valued"
    typer.echo(
        f"  {'in-kind deliveries':<19}{done.in_kind_deliveries:>8} {valued} "
        "(their line has a USD value now)"
    )
    if done.missing_currencies:
        typer.echo(f"No usable rate yet for: {', '.join(done.missing_currencies)}.")
    if dry_run:
        typer.echo("Dry run: nothing written.")
