"""A newcomer's first commands: clear errors in a fresh directory, the demo's database
found from the repository, help without type noise, plural words."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from truce.cli.database import DEMO_DB_PATH, choose_database, existing_database
from truce.cli.text import plural

SRC = Path(__file__).resolve().parents[1] / "src"


def truce(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TRUCE_")}
    base["PYTHONPATH"] = os.pathsep.join([str(SRC), base.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "truce", *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def said(done: subprocess.CompletedProcess) -> str:
    """stderr with rich's line wrapping undone."""
    return " ".join(done.stderr.split())


@pytest.mark.parametrize(
    "command",
    [
        ("audit", "verify"),
        ("users", "list"),
        ("users", "revoke", "x"),
        ("users", "add", "a", "--role", "admin"),
    ],
)
def test_in_a_fresh_directory_commands_say_where_to_point_them_and_create_nothing(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    done = truce(tmp_path, *command)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "no truce database at truce.sqlite" in said(done).replace("./", "")
    assert "--db" in said(done) and "TRUCE_DB_PATH" in said(done)
    assert list(tmp_path.iterdir()) == []


def test_a_database_named_on_purpose_but_missing_is_reported_too(tmp_path: Path) -> None:
    done = truce(tmp_path, "audit", "verify", "--db", f"sqlite:///{tmp_path / 'other.sqlite'}")
    assert done.returncode == 2 and "given with --db" in said(done)
    assert not (tmp_path / "other.sqlite").exists()


def test_a_file_without_the_schema_is_reported_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "truce.sqlite").write_bytes(b"")
    done = truce(tmp_path, "audit", "verify")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "has no truce tables yet" in said(done) and "truce db upgrade" in said(done)


def test_after_make_demo_commands_find_the_demo_database(tmp_path: Path) -> None:
    demo = tmp_path / DEMO_DB_PATH
    demo.parent.mkdir()
    made = truce(tmp_path, "users", "add", "demo-x", "--role", "admin", "--db", f"sqlite:///{demo}")
    assert made.returncode == 0, made.stderr
    listed = truce(tmp_path, "users", "list")
    assert listed.returncode == 0, listed.stderr
    assert "demo-x" in listed.stdout
    assert "using the demo's database .demo/truce.sqlite" in said(listed)
    verified = truce(tmp_path, "audit", "verify")
    assert verified.returncode == 0 and "audit log OK: 1 entry," in verified.stdout
    assert not (tmp_path / "truce.sqlite").exists()


def test_database_choice_order(tmp_path: Path) -> None:
    (tmp_path / ".demo").mkdir()
    (tmp_path / DEMO_DB_PATH).touch()
    assert choose_database(None, {}, tmp_path).how == "demo"
    assert choose_database(None, {"TRUCE_DB_PATH": "x.sqlite"}, tmp_path).how == "TRUCE_DB_PATH"
    assert choose_database("sqlite:///y", {"TRUCE_DB_PATH": "x"}, tmp_path).how == "--db"
    (tmp_path / "truce.sqlite").touch()
    assert choose_database(None, {}, tmp_path).how == "default"
    assert existing_database("sqlite:///nope.sqlite", {}, create_when_named=True).how == "--db"


def test_help_shows_no_bool_type_beside_flags(tmp_path: Path) -> None:
    for args in (("serve", "--help"), ("--help",), ("users", "add", "--help")):
        done = truce(tmp_path, *args)
        assert done.returncode == 0
        assert "<bool>" not in done.stdout
    assert "<int" in truce(tmp_path, "serve", "--help").stdout  # other types stay


def test_counts_are_written_with_the_right_plural() -> None:
    assert plural(1, "violation") == "1 violation"
    assert plural(0, "violation") == "0 violations"
    assert plural(1200, "incident") == "1,200 incidents"


def test_evaluate_table_says_1_violation_not_1_violations(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text(
        "report_id,source,observed_at,lat,lon,event_type,actor\n"
        "a-1,amman,2016-09-13T04:10:00+03:00,36.25,37.13,shelling,Syrian Arab Army\n"
    )
    done = truce(
        tmp_path,
        "evaluate",
        "--agreement",
        "us-ru-2016-09",
        "--reports",
        "r.csv",
        "--as-of",
        "2016-09-20",
        "--format",
        "table",
    )
    assert done.returncode == 0, done.stderr
    assert "1 report accepted" in done.stdout and "1 incident," in done.stdout
    assert "1 violation\n" in done.stdout or "1 violation " in done.stdout


def test_evaluate_table_names_the_rules_people_read(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text(
        "report_id,source,observed_at,lat,lon,event_type,actor\n"
        "a-1,amman,2016-09-13T04:10:00+03:00,36.25,37.13,shelling,Syrian Arab Army\n"
    )
    done = truce(
        tmp_path,
        *("evaluate", "--agreement", "us-ru-2016-09", "--reports", "r.csv"),
        *("--as-of", "2016-09-20", "--format", "table"),
    )
    assert done.returncode == 0, done.stderr
    summary = done.stdout.split("Violations by party and rule")[1].split("Violations")[0]
    assert "r-cease" not in summary and "ease" in summary.lower()
