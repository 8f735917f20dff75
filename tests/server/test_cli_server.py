"""`truce db upgrade`, `truce users add/list/revoke`, `truce ingest`."""

from __future__ import annotations

import json
import warnings

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import SAWarning
from tests.server.data import BASE_ROWS, many_rows, to_csv, to_jsonl
from typer.testing import CliRunner

from truce.cli import app as cli_app
from truce.store.engine import make_engine
from truce.store.migrate import current_revision, head_revision
from truce.store.schema import reports

runner = CliRunner()


def _count(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(reports)).scalar_one()
    engine.dispose()
    return n


def test_db_upgrade_creates_the_schema_and_is_idempotent(db_url):
    for _ in range(2):
        r = runner.invoke(cli_app, ["db", "upgrade", "--db", db_url])
        assert r.exit_code == 0, r.output
        assert "revision" in r.output
    engine = make_engine(db_url)
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {
        "reports",
        "users",
        "violation_reviews",
        "review_events",
        "audit_log",
        "derived",
    } <= tables
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # SQLAlchemy has no type for PostGIS geometry
        columns = {c["name"] for c in inspect(engine).get_columns("reports")}
    assert ("geom" in columns) == db_url.startswith("postgresql")
    engine.dispose()


def test_postgis_geometry_follows_lon_lat(db_url, service):
    if not db_url.startswith("postgresql"):
        return
    from sqlalchemy import text

    from truce.store.users import SYSTEM_USER

    service.ingest_reports(to_csv(BASE_ROWS[:1]).encode(), format="csv", user=SYSTEM_USER)
    with service.engine.connect() as conn:
        x, y, srid = conn.execute(
            text("SELECT ST_X(geom), ST_Y(geom), ST_SRID(geom) FROM reports")
        ).one()
    assert (round(x, 6), round(y, 6), srid) == (37.13, 36.25, 4326)


def test_users_add_list_revoke(db_url):
    r = runner.invoke(
        cli_app, ["users", "add", "amman", "--role", "centre", "--party", "opp", "--db", db_url]
    )
    assert r.exit_code == 0, r.output
    token = r.stdout.strip().splitlines()[-1]
    assert token.startswith("truce_")
    listed = runner.invoke(cli_app, ["users", "list", "--db", db_url])
    assert "amman" in listed.output and "centre" in listed.output and token not in listed.output
    again = runner.invoke(
        cli_app, ["users", "add", "amman", "--role", "centre", "--party", "opp", "--db", db_url]
    )
    assert again.exit_code == 2 and "already" in again.output
    bad = runner.invoke(cli_app, ["users", "add", "x", "--role", "centre", "--db", db_url])
    assert bad.exit_code == 2 and "party" in bad.output
    revoked = runner.invoke(cli_app, ["users", "revoke", "amman", "--db", db_url])
    assert revoked.exit_code == 0 and "revoked 1" in revoked.output
    assert runner.invoke(cli_app, ["users", "revoke", "amman", "--db", db_url]).exit_code == 2


def test_users_add_with_source_grants(db_url):
    args = ["users", "add", "imp", "--role", "secretariat", "--db", db_url]
    r = runner.invoke(cli_app, [*args, "--source", "acled", "--source", "ucdp-ged"])
    assert r.exit_code == 0, r.output
    listed = runner.invoke(cli_app, ["users", "list", "--db", db_url]).output
    assert "acled" in listed and "ucdp-ged" in listed  # (rich may wrap the cell)
    bad = ["users", "add", "o", "--role", "observer", "--source", "x", "--db", db_url]
    refused = runner.invoke(cli_app, bad)
    assert refused.exit_code == 2 and "cannot submit" in refused.output


def test_ingest_a_file_in_chunks_with_line_numbers_of_the_whole_file(db_url, tmp_path):
    rows = many_rows(250)
    rows[200]["lat"] = 500  # line 202 of the file (header is line 1)
    path = tmp_path / "reports.csv"
    path.write_text(to_csv(rows))
    r = runner.invoke(
        cli_app, ["ingest", str(path), "--db", db_url, "--chunk-rows", "60", "--format", "json"]
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["accepted"] == 249 and out["duplicate"] == 0
    assert [(x["line"], x["field"]) for x in out["rejected"]] == [(202, "lat")]
    assert _count(db_url) == 249
    again = runner.invoke(cli_app, ["ingest", str(path), "--db", db_url, "--chunk-rows", "100"])
    assert again.exit_code == 0 and "0 accepted, 249 duplicate, 1 rejected" in again.output


def test_ingest_jsonl_with_a_default_source(db_url, tmp_path):
    rows = [{k: v for k, v in row.items() if k != "source"} for row in BASE_ROWS]
    path = tmp_path / "reports.jsonl"
    path.write_text(to_jsonl(rows))
    r = runner.invoke(cli_app, ["ingest", str(path), "--source", "sarc", "--db", db_url])
    assert r.exit_code == 0, r.output
    assert "4 accepted" in r.output


def test_ingest_of_an_unusable_file_fails_with_a_message(db_url, tmp_path):
    path = tmp_path / "reports.csv"
    path.write_text("just,a,header\n1,2,3\n")
    r = runner.invoke(cli_app, ["ingest", str(path), "--db", db_url])
    assert r.exit_code == 2
    assert "error" in r.output


def test_ingest_of_a_deeply_nested_line_rejects_it_without_a_traceback(db_url, tmp_path):
    path = tmp_path / "reports.jsonl"
    deep = '{"report_id": "deep", "notes": ' + "[" * 100_000 + "]" * 100_000 + "}"
    path.write_text(deep + "\n" + to_jsonl(BASE_ROWS[:1]))
    r = runner.invoke(cli_app, ["ingest", str(path), "--db", db_url, "--format", "json"])
    assert r.exit_code == 0, r.output
    assert r.exception is None and "Traceback" not in r.output
    out = json.loads(r.stdout)
    assert out["accepted"] == 1 and [x["line"] for x in out["rejected"]] == [1]
    assert "nested too deeply" in out["rejected"][0]["reason"]


@pytest.mark.parametrize(
    ("name", "content"), [("e.csv", ""), ("e.jsonl", "\n \n"), ("b.csv", "\n")]
)
def test_ingest_of_an_empty_file_is_an_error_as_in_the_api(db_url, tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content)
    r = runner.invoke(cli_app, ["ingest", str(path), "--db", db_url])
    assert r.exit_code == 2 and "empty file: send at least one report" in r.output
