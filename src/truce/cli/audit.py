"""`truce audit verify`: the hash-chained audit log."""

from __future__ import annotations

import typer

from truce.cli.db import DbOption, open_service
from truce.cli.exits import err, problems_found
from truce.cli.text import plural

audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(db: DbOption = None) -> None:
    """Recompute the chain; exit 1 naming each edited, removed or reordered entry."""
    svc = open_service(db, migrate=False)
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
    raise problems_found()


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
