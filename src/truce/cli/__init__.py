"""The `truce` command. Thin: parse, call the service layer, print.

Each command group lives in its own module with a `register(app)` function;
add a module to COMMAND_MODULES to expose it.
"""

from __future__ import annotations

import importlib
from typing import Any

import typer
import typer.main

app = typer.Typer(
    name="truce",
    help="Monitor and verify ceasefires: agreements as data, reports in, incidents and violations out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

COMMAND_MODULES: tuple[str, ...] = (
    "truce.cli.agreements",
    "truce.cli.evaluate",
    "truce.cli.demo",
    "truce.cli.serve",
    "truce.cli.ingest",
    "truce.cli.export",
    "truce.cli.users",
    "truce.cli.audit",
    "truce.cli.db",
    "truce.cli.exchange",
)

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def command() -> Any:
    """The click command behind `app`, with flags shown without a `<bool>` type.

    Typer labels every option with its type; for on/off flags (`--demo`, `--help`)
    the label says nothing a reader needs, so it is blanked."""
    cmd = typer.main.get_command(app)

    def strip(c: Any) -> None:
        # Typer bundles its own click: duck-typed, not isinstance(click.Option).
        for param in c.params:
            if getattr(param, "is_flag", False):
                param.metavar = ""
        # `--help` is made on first use and then cached by the command: make it now.
        ctx = c.context_class(c, info_name=c.name, help_option_names=["--help"])
        help_option = c.get_help_option(ctx)
        if help_option is not None:
            help_option.metavar = ""
        for sub in getattr(c, "commands", {}).values():
            strip(sub)

    strip(cmd)
    return cmd


def main() -> None:
    from truce.cli.exits import OwnProcess

    command()(prog_name="truce", obj=OwnProcess())
