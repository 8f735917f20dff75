"""`make demo` installs what the server needs and builds the guide, not the test tools."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def dry_run(target: str) -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    done = subprocess.run(
        ["make", "-n", "-B", target], cwd=REPO, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_make_demo_installs_no_test_tools_and_builds_the_guide() -> None:
    commands = dry_run("demo")
    installs = re.findall(r"pip install -q -e '\.\[([^\]]*)\]'", commands)
    assert installs, commands
    assert all("test" not in extras.split(",") for extras in installs), installs
    assert "mkdocs build --strict" in commands
    assert commands.index("mkdocs build") < commands.index("truce serve --demo")


def test_make_test_installs_the_test_tools() -> None:
    installs = re.findall(r"pip install -q -e '\.\[([^\]]*)\]'", dry_run("test"))
    assert any("test" in extras.split(",") for extras in installs)
