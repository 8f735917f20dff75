"""How every `truce` command ends, one convention for all of them:

- 0: done.
- 1: the command ran and found problems in what it checked (`agreements
  validate`, `audit verify`, `exchange pull` and `status` with alerts).
- 2: the command could not do what was asked: bad input, an unknown id, an
  unreadable file, a database it cannot use (the code Click uses for usage errors).

`fail(...)` prints `error: ...` on stderr and gives the exception to raise.
"""

from __future__ import annotations

import os
import sys

import typer
from rich.console import Console
from rich.markup import escape

OK = 0
PROBLEMS_FOUND = 1
ERROR = 2

err = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str | BaseException) -> typer.Exit:
    """`raise fail(exc) from None`: the message on stderr (markup-free), exit 2."""
    err.print(f"[bold red]error:[/] {escape(str(message))}")
    return typer.Exit(ERROR)


def problems_found() -> typer.Exit:
    """`raise problems_found()` after printing what was found: exit 1."""
    return typer.Exit(PROBLEMS_FOUND)


class OwnProcess:
    """The Click context's `obj` when `truce` runs as a process of its own (`truce.cli.main`),
    not inside a test's CliRunner or another program."""


def exit_now(ctx: typer.Context) -> None:
    """End a successful command at once when it runs as its own process.

    After `truce evaluate` at a million reports, freeing its millions of Python objects
    one by one (the interpreter's teardown) takes a second or more and gives the user
    nothing, so the output is flushed and the process ends without it. Inside another
    program (tests, `CliRunner`) this returns and the command ends as usual."""
    if isinstance(ctx.obj, OwnProcess):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(OK)
