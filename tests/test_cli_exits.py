"""One way for a command to fail: `truce.cli.exits`, with one exit-code convention."""

from __future__ import annotations

import ast
from pathlib import Path

import typer
from typer.testing import CliRunner

import truce.cli
from truce.cli.exits import ERROR, PROBLEMS_FOUND, fail


def test_only_the_exits_module_makes_exit_codes():
    makers = []
    for path in sorted(Path(truce.cli.__file__).parent.glob("*.py")):
        if path.name == "exits.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "Exit"
            ):
                makers.append(f"{path.name}:{node.lineno}")
    assert makers == []


def test_fail_prints_the_message_as_text_and_exits_2():
    app = typer.Typer()

    @app.command()
    def broken() -> None:
        raise fail("distances from [S1] are not verified [lon, lat]")

    result = CliRunner().invoke(app, [])
    assert result.exit_code == ERROR == 2
    assert "error: distances from [S1] are not verified [lon, lat]" in result.output
    assert PROBLEMS_FOUND == 1
