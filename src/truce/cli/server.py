"""`truce serve`, `truce ingest`, `truce users ...`, `truce audit verify`, `truce db upgrade`.

Thin: parse, call `truce.service`, print. The database is `TRUCE_DATABASE_URL`
(or SQLite at `TRUCE_DB_PATH`, default ./truce.sqlite), or `--db URL`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from truce.cli.evaluate import InputFormat
from truce.cli.text import plural
from truce.errors import TruceError
from truce.store.engine import database_url_from_env

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="database URL (default: TRUCE_DATABASE_URL, else sqlite at TRUCE_DB_PATH)"
    ),
]
AgreementFiles = Annotated[
    list[Path] | None,
    typer.Option(
        "--agreement", help="an agreement file to serve besides the built-in library (repeatable)"
    ),
]
INGEST_CHUNK_ROWS = 50_000
# How long uvicorn's supervisor waits for a busy worker to answer its health check
# before replacing it: loading a 1M-incident snapshot holds the GIL for seconds.
WORKER_HEALTHCHECK_S = 300

err = Console(stderr=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def _service(  # type: ignore[no-untyped-def]
    db: str | None, *, migrate: bool = True, existing: bool = True, create_when_named: bool = False
):
    """The service on the database the command should use (see `truce.cli.database`).

    `existing`: the database must be there already (no empty one is created);
    `migrate=False`: its schema must be there too (read-only commands)."""
    from sqlalchemy.exc import DBAPIError

    from truce.cli.database import (
        DEMO_DB_PATH,
        DatabaseProblem,
        choose_database,
        existing_database,
        schema_missing_message,
    )
    from truce.service import Service
    from truce.store.migrate import current_revision, upgrade

    try:
        chosen = (
            existing_database(db, create_when_named=create_when_named)
            if existing
            else choose_database(db)
        )
    except DatabaseProblem as exc:
        raise _fail(str(exc)) from None
    if chosen.how == "demo":
        err.print(
            f"using the demo's database {DEMO_DB_PATH} (no ./truce.sqlite here; "
            "choose another with --db or TRUCE_DB_PATH)",
            highlight=False,
        )
    svc = Service.from_url(chosen.url)
    try:
        if migrate:
            upgrade(svc.engine)
        elif current_revision(svc.engine) is None:
            raise _fail(schema_missing_message(chosen))
    except DBAPIError as exc:
        raise _fail(f"cannot open the database {chosen.shown}: {exc.orig}") from None
    return svc


def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port (0: any free port)")] = 8000,
    agreement: AgreementFiles = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="load demo reports for us-ru-2016-09 and print a one-time sign-in link",
        ),
    ] = False,
    db: DbOption = None,
    max_body_mb: Annotated[
        float | None, typer.Option(help="largest request body in MB (413 beyond)")
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            envvar="TRUCE_WORKERS",
            help="server processes sharing the port (each keeps its own caches)",
        ),
    ] = 1,
    warm: Annotated[
        bool | None,
        typer.Option(
            "--warm/--no-warm",
            help="load snapshots and the OGC index at start-up (default: TRUCE_WARM)",
        ),
    ] = None,
) -> None:
    """Run the web server (REST API, OpenAPI at /docs)."""
    import signal
    import socket

    import uvicorn

    from truce.api import Settings, create_app

    overrides: dict[str, object] = {"agreement_files": tuple(agreement or ())}
    if db:
        overrides["database_url"] = db
    if max_body_mb:
        overrides["max_body_bytes"] = int(max_body_mb * 1024 * 1024)
    if warm is not None:
        overrides["warm"] = warm
    try:
        settings = Settings.from_env(**overrides)
        app = create_app(settings)
    except TruceError as exc:
        raise _fail(str(exc)) from None
    service = app.state.service
    token = expires = None
    if demo:
        from truce.cli.demo_session import demo_token, load_demo_reports

        print(load_demo_reports(service).describe(), flush=True)
        token, expires = demo_token(service)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    # Listen now: connections made once the URL is printed wait in the backlog until
    # the server (or its workers, which take a few seconds to start) accepts them.
    sock.listen(2048)
    bound_port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{bound_port}/"
    print(
        f"truce serving {settings.database_url.split('@')[-1]} at {url} "
        f"(API docs: {url}docs, guide: {url}guide/)",
        flush=True,
    )
    if token and expires:
        _print_demo_links(app, url, token, expires, workers)
    if workers > 1:
        service.engine.dispose()  # the workers open their own
        _run_workers(settings, workers, sock)
        print("truce stopped", flush=True)
        return
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then re-raises the signal to the
    # handler that was there before; a no-op one lets `truce serve` exit with status 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    uvicorn.Server(config).run(sockets=[sock])
    print("truce stopped", flush=True)


def _run_workers(settings, workers: int, sock) -> None:  # type: ignore[no-untyped-def]
    """`workers` uvicorn processes on one socket, each `create_app()` from the environment.

    App processes keep no state of their own beyond caches, so they need no
    coordination; this (parent) process has migrated the schema already."""
    import os

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from truce.api.settings import ENV_VARS

    os.environ.update(
        {
            ENV_VARS["database_url"]: settings.database_url,
            ENV_VARS["agreement_files"]: os.pathsep.join(map(str, settings.agreement_files)),
            ENV_VARS["max_body_bytes"]: str(settings.max_body_bytes),
            ENV_VARS["migrate"]: "0",
            ENV_VARS["ogc_public"]: "1" if settings.ogc_public else "0",
            ENV_VARS["freshness_ms"]: str(settings.freshness_ms),
            ENV_VARS["warm"]: "1" if settings.warm else "0",
        }
    )
    config = uvicorn.Config(
        "truce.api.app:create_app_from_env",
        factory=True,
        workers=workers,
        log_level="warning",
        lifespan="on",
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
    )
    Multiprocess(config, sockets=[sock]).run()


def _print_demo_links(app, url: str, token: str, expires: datetime, workers: int) -> None:  # type: ignore[no-untyped-def]
    from truce.api.signin import DEFAULT_TTL_S

    if workers == 1 and hasattr(app.state, "signin_links"):
        code = app.state.signin_links.issue(token)
        print(
            f"open {url}signin#code={code} to sign in as the demo admin "
            f"(link works once, for {DEFAULT_TTL_S // 60} minutes)",
            flush=True,
        )
    else:  # worker processes cannot see this process's one-time codes
        print(f"open {url} and sign in with the admin token below", flush=True)
    print(f"admin token: {token} (expires {expires:%Y-%m-%d %H:%M} UTC)", flush=True)
    print(
        f"try: curl -H 'Authorization: Bearer {token}' {url}api/agreements/us-ru-2016-09/evaluation",
        flush=True,
    )


def ingest(
    file: Annotated[
        Path,
        typer.Argument(
            help="report file: SPEC §2 CSV or JSON Lines, or UCDP GED, ACLED or HXL CSV "
            "(.gz read as is)",
            exists=True,
            dir_okay=False,
        ),
    ],
    source: Annotated[
        str | None, typer.Option(help="source for rows that do not state one")
    ] = None,
    agreement: Annotated[
        str | None, typer.Option(help="resolve place names against this agreement's features too")
    ] = None,
    db: DbOption = None,
    as_user: Annotated[str, typer.Option("--as", help="recorded as the submitter")] = "cli",
    chunk_rows: Annotated[int, typer.Option(help="rows per committed batch")] = INGEST_CHUNK_ROWS,
    output: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    input_format: Annotated[
        InputFormat,
        typer.Option(help="the file's format; auto recognises each by its header"),
    ] = InputFormat.auto,
) -> None:
    """Store reports from a file, in committed batches, with a progress bar."""
    from truce.formats.reports.chunks import file_chunks, plan_chunks
    from truce.store.users import SYSTEM_USER

    try:
        plan = plan_chunks(file, input_format.value)
    except TruceError as exc:
        raise _fail(str(exc)) from None
    fmt = plan.format
    notices: dict[str, None] = {}
    svc = _service(db, existing=False)
    user = SYSTEM_USER.__class__(**{**SYSTEM_USER.__dict__, "name": as_user})
    total = file.stat().st_size
    accepted = duplicate = 0
    rejected: list[dict[str, object]] = []
    columns = (
        TextColumn("ingest"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}% {task.fields[rows]} rows"),
        TimeRemainingColumn(),
    )
    try:
        with Progress(*columns, console=err, transient=True, disable=output == "json") as progress:
            task = progress.add_task("ingest", total=total, rows=0)
            for data, offset, done in file_chunks(file, plan.header_lines, chunk_rows):
                result = svc.ingest_reports(
                    data,
                    format=fmt,
                    user=user,
                    source=source,
                    agreement_id=agreement,
                    line_offset=offset,
                )
                accepted += result.accepted
                duplicate += result.duplicate
                rejected.extend(result.rejected)
                notices.update(dict.fromkeys(result.notices))
                bad_rows = len({r["line"] for r in rejected})  # one entry per bad field
                progress.update(task, completed=done, rows=accepted + duplicate + bad_rows)
    except TruceError as exc:
        raise _fail(str(exc)) from None
    if output == "json":
        print(
            json.dumps(
                {
                    "accepted": accepted,
                    "duplicate": duplicate,
                    "rejected": rejected,
                    "notices": list(notices),
                }
            )
        )
        return
    console = Console()
    bad_rows = len({r["line"] for r in rejected})
    console.print(f"{accepted:,} accepted, {duplicate:,} duplicate, {bad_rows:,} rejected")
    for notice in notices:
        console.print(f"note: {notice}", highlight=False)
    if rejected:
        table = Table("line", "report_id", "field", "reason", title="Rejected rows")
        for r in rejected[:200]:
            table.add_row(
                str(r["line"]), str(r["report_id"] or ""), str(r["field"] or ""), str(r["reason"])
            )
        console.print(table)
        if len(rejected) > 200:
            console.print(f"... and {len(rejected) - 200} more")


users_app = typer.Typer(help="Users and their API tokens.", no_args_is_help=True)


@users_app.command("add")
def users_add(
    name: str,
    role: Annotated[str, typer.Option(help="admin, secretariat, centre, humanitarian or observer")],
    party: Annotated[str | None, typer.Option(help="the party a centre belongs to")] = None,
    expires_days: Annotated[
        float | None, typer.Option(help="token lifetime in days (default: no expiry)")
    ] = None,
    db: DbOption = None,
) -> None:
    """Create a user and print its token (shown once; only its hash is stored)."""
    svc = _service(db, create_when_named=True)
    expires = datetime.now(UTC) + timedelta(days=expires_days) if expires_days else None
    try:
        user, token = svc.add_user(name, role, party, expires_at=expires)
    except TruceError as exc:
        raise _fail(str(exc)) from None
    err.print(
        f"user {user.name} ({user.role}{', ' + user.party if user.party else ''}) created; token:"
    )
    print(token)


@users_app.command("list")
def users_list(db: DbOption = None) -> None:
    """Every user and token state (tokens themselves are never shown again)."""
    svc = _service(db)
    table = Table("name", "role", "party", "created", "expires", "revoked")
    for u in svc.list_users():
        table.add_row(
            u.name,
            u.role,
            u.party or "",
            u.created_at.isoformat(timespec="seconds"),
            u.expires_at.isoformat(timespec="seconds") if u.expires_at else "",
            u.revoked_at.isoformat(timespec="seconds") if u.revoked_at else "",
        )
    Console().print(table)


@users_app.command("revoke")
def users_revoke(name: str, db: DbOption = None) -> None:
    """Revoke every active token of a user."""
    svc = _service(db)
    try:
        n = svc.revoke_user(name)
    except TruceError as exc:
        raise _fail(str(exc)) from None
    print(f"revoked {plural(n, 'token')} of {name}")


audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(db: DbOption = None) -> None:
    """Recompute the chain; exit 1 naming each edited, removed or reordered entry."""
    svc = _service(db, migrate=False)
    result = svc.verify_audit()
    if result.ok:
        print(f"audit log OK: {plural(result.entries, 'entry', 'entries')}, chain intact")
        return
    for p in result.problems:
        err.print(f"[bold red]{p}[/]", highlight=False)
    err.print(
        f"audit log BROKEN: {plural(len(result.problems), 'problem')} "
        f"in {plural(result.entries, 'entry', 'entries')}"
    )
    raise typer.Exit(1)


db_app = typer.Typer(help="The database schema.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Apply the Alembic migrations (the server also does this at start-up)."""
    from truce.store.engine import make_engine
    from truce.store.migrate import upgrade

    url = db or database_url_from_env()
    rev = upgrade(make_engine(url))
    print(f"database at revision {rev}: {url.split('@')[-1]}")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("ingest")(ingest)
    app.add_typer(users_app, name="users")
    app.add_typer(audit_app, name="audit")
    app.add_typer(db_app, name="db")
