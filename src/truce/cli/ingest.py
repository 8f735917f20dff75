"""`truce ingest FILE`: store reports from a file, in committed batches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from truce.cli.db import DbOption, open_service
from truce.cli.evaluate import InputFormat
from truce.cli.exits import err, fail
from truce.errors import TruceError

INGEST_CHUNK_ROWS = 50_000


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
    from truce.formats.reports.chunks import file_chunks, merge_notices, plan_chunks
    from truce.store.users import SYSTEM_USER

    try:
        plan = plan_chunks(file, input_format.value)
    except TruceError as exc:
        raise fail(str(exc)) from None
    fmt = plan.format
    notices: list[str] = []
    svc = open_service(db, existing=False)
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
                notices.extend(result.notices)
                bad_rows = len({r["line"] for r in rejected})  # one entry per bad field
                progress.update(task, completed=done, rows=accepted + duplicate + bad_rows)
    except TruceError as exc:
        raise fail(str(exc)) from None
    notices = merge_notices(notices)
    if output == "json":
        print(
            json.dumps(
                {
                    "accepted": accepted,
                    "duplicate": duplicate,
                    "rejected": rejected,
                    "notices": notices,
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


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
