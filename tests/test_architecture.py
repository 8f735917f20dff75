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


def test_the_cli_and_the_store_load_numba_and_alembic_only_when_used():
    """numba (0.6 s to import) loads with the first compiled pass or text export, and
    Alembic (some 10–30 MB per process) with the first migration: not with every
    `truce` command; nor Alembic in a server's worker processes, which never migrate."""
    import subprocess
    import sys

    loaded = "print(' '.join(m for m in ('numba', 'alembic') if m in sys.modules))\n"
    probe = "import sys, truce.cli\n" + loaded + "import truce.store, truce.api.app\n" + loaded
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    # The server's processes need numba (their compiled readers of packed rows).
    assert out.stdout.splitlines() == ["", "numba"]
    used = (
        "import sys\n"
        "import pyarrow as pa\n"
        "from truce.formats.exports.text import time_texts\n"
        "from truce.store.migrate import head_revision\n"
        "head_revision()\n"
        "time_texts(pa.array([0], pa.timestamp('us', tz='UTC')))\n"
        "print(' '.join(m for m in ('numba', 'alembic') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", used], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["numba", "alembic"]
