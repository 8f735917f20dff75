"""The `truce` command. Thin: parse, call the service layer, print.

Each command group lives in its own module with a `register(app)` function;
add a module to COMMAND_MODULES to expose it.
"""

from __future__ import annotations

import importlib

import typer

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
    "truce.cli.server",
)

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main() -> None:
    app()
