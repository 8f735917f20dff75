"""The pure core stays pure: truce.domain imports no adapter library and does no I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import truce.domain
import truce.errors

FORBIDDEN = {
    "sqlalchemy",
    "fastapi",
    "starlette",
    "typer",
    "httpx",
    "uvicorn",
    "requests",
    "psycopg",
    "rich",
    "alembic",
}
IO_CALLS = {"open"}
# What the core may import from truce: itself and the error tree (pure, no I/O).
PURE = ("truce.domain", "truce.errors")


def domain_modules() -> list[Path]:
    pure = [*Path(truce.domain.__file__).parent.rglob("*.py"), Path(truce.errors.__file__)]
    return sorted(pure)


def test_domain_imports_no_adapter_library():
    offenders = []
    for path in domain_modules():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("truce.")
            ) and not node.module.startswith(PURE):
                offenders.append(f"{path.name}: {node.module} (the core must not import adapters)")
    assert offenders == []


def test_domain_opens_no_files():
    calls = []
    for path in domain_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in IO_CALLS
            ):
                calls.append(f"{path.name}:{node.lineno}")
    assert calls == []
