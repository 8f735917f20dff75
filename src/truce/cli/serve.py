"""`truce serve`: the web server, one process or several sharing the port."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from truce.cli.db import DbOption
from truce.cli.exits import fail
from truce.errors import TruceError

AgreementFiles = Annotated[
    list[Path] | None,
    typer.Option(
        "--agreement", help="an agreement file to serve besides the built-in library (repeatable)"
    ),
]
# How long uvicorn's supervisor waits for a busy worker to answer its health check
# before replacing it: loading a 1M-incident snapshot holds the GIL for seconds.
WORKER_HEALTHCHECK_S = 300


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
    compute_process: Annotated[
        bool,
        typer.Option(
            "--compute-process/--compute-in-thread",
            envvar="TRUCE_COMPUTE_PROCESS",
            help="compute evaluations in a child process, so readers never wait for them",
        ),
    ] = True,
) -> None:
    """Run the web server (REST API, OpenAPI at /docs)."""
    import signal
    import socket

    import uvicorn

    from truce.api import Settings, create_app
    from truce.exchange.keys import KeyError_  # cryptography: loaded only where needed

    overrides: dict[str, object] = {"agreement_files": tuple(agreement or ())}
    if db:
        overrides["database_url"] = db
    if max_body_mb:
        overrides["max_body_bytes"] = int(max_body_mb * 1024 * 1024)
    if warm is not None:
        overrides["warm"] = warm
    overrides["compute_process"] = compute_process
    try:
        settings = Settings.from_env(**overrides)
        if demo:
            from truce.cli import demo_centre

            centre = demo_centre.prepare(settings.database_url)
            files = (*settings.agreement_files, centre.agreement_file)
            settings = settings.model_copy(update={"agreement_files": files})
        app = create_app(settings)
    except (TruceError, KeyError_) as exc:
        raise fail(str(exc)) from None
    service = app.state.service
    token = expires = None
    if demo:
        from truce.cli.demo_session import demo_token, load_demo_reports

        print(load_demo_reports(service).describe(), flush=True)
        issued = demo_centre.issue_bulletins(app.state.exchange)
        shown = service.agreements.get(demo_centre.DEMO_AGREEMENT).agreement
        print(demo_centre.describe(centre, issued, shown), flush=True)
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
            ENV_VARS["refresh_wait_ms"]: str(settings.refresh_wait_ms),
            ENV_VARS["compute_process"]: "1" if settings.compute_process else "0",
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


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
