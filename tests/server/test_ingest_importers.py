"""Real event data in through the API and `truce ingest` (SPEC §4): ?format=, gzip bodies,
the original row kept with the report, --input-format, chunked gzip and HXL files."""

from __future__ import annotations

import csv
import gzip
import io
import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from truce.cli import app as cli_app
from truce.store.engine import make_engine
from truce.store.schema import reports

FIXTURES = Path(__file__).parent.parent / "fixtures"
UCDP = FIXTURES / "ucdp" / "ged_syria_2019_slice.csv.gz"
HXL = FIXTURES / "hxl" / "hxl_madeup.csv"
runner = CliRunner()


def _ucdp_rows() -> list[dict[str, str]]:
    with gzip.open(UCDP, "rt", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _post(client, tokens, body: bytes, content_type: str, query: str = ""):
    return client.post(
        f"/api/reports{query}",
        content=body,
        headers={**tokens.headers("admin"), "Content-Type": content_type},
    )


@pytest.mark.parametrize(
    ("content_type", "query", "body"),
    [
        ("text/csv", "?format=ucdp-ged", "plain"),
        ("text/csv; format=ucdp-ged", "", "plain"),
        ("text/csv", "", "plain"),  # auto
        ("application/gzip", "?format=ucdp-ged", "gzip"),
        ("text/csv", "", "gzip"),  # a gzip body whatever the type says
    ],
)
def test_a_ucdp_export_is_ingested_by_format_or_recognised(
    client, tokens, content_type: str, query: str, body: str
) -> None:
    data = UCDP.read_bytes() if body == "gzip" else gzip.decompress(UCDP.read_bytes())
    r = _post(client, tokens, data, content_type, query)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert (answer["accepted"], answer["rejected"]) == (len(_ucdp_rows()), [])
    assert any("out of order" in n for n in answer["notices"])


def test_the_original_row_and_spec4_fields_come_back_with_the_report(
    client, tokens, service
) -> None:
    rows = _ucdp_rows()
    r = _post(client, tokens, UCDP.read_bytes(), "application/gzip")
    assert r.status_code == 200, r.text
    evaluation = client.get(
        "/api/agreements/sochi-2018-09/evaluation", headers=tokens.headers("admin")
    ).json()
    key = next(i["key"] for i in evaluation["incidents"] if i["key"].startswith("ucdp-ged:"))
    detail = client.get(
        f"/api/agreements/sochi-2018-09/incidents/{key}", headers=tokens.headers("admin")
    ).json()
    report = next(x for x in detail["reports"] if x["key"] == key)
    row = next(x for x in rows if x["id"] == report["report_id"])
    assert report["original"] == row
    assert report["dataset"] == "ucdp-ged"
    assert report["direction"] == ("attack" if row["type_of_violence"] == "3" else "mutual")
    assert report["fatalities"] == float(row["best"])
    assert report["observed_to"] > report["observed_at"]
    assert report["observed_to"].endswith("+03:00") or report["observed_to"].endswith("+02:00")


def test_a_wrong_format_is_one_clear_error_for_the_batch(client, tokens, service) -> None:
    r = _post(client, tokens, gzip.decompress(UCDP.read_bytes()), "text/csv", "?format=acled")
    assert r.status_code == 400, r.text
    assert "not an ACLED file" in r.text


@pytest.mark.parametrize(
    ("content_type", "query", "status", "says"),
    [
        ("application/json", "?format=ucdp-ged", 415, "send it as text/csv"),
        ("text/csv; format=hxl", "?format=acled", 400, "disagree"),
        ("text/csv", "?format=gdelt", 400, "unknown format 'gdelt'"),
    ],
)
def test_format_and_content_type_that_cannot_go_together_are_refused(
    client, tokens, content_type: str, query: str, status: int, says: str
) -> None:
    r = _post(client, tokens, b"[]", content_type, query)
    assert r.status_code == status and says in r.text


def test_a_truncated_gzip_body_is_refused_as_truncated(client, tokens) -> None:
    data = UCDP.read_bytes()
    r = _post(client, tokens, data[: len(data) // 2], "application/gzip")
    assert r.status_code == 400 and "truncated" in r.text


def test_a_gzip_body_is_limited_by_its_decompressed_size(app, client, tokens) -> None:
    limit = app.state.settings.max_body_bytes
    bomb = gzip.compress(b"report_id\n" + b"x\n" * (limit // 2 + 1))
    assert len(bomb) < limit
    r = _post(client, tokens, bomb, "application/gzip")
    assert r.status_code == 413


def _count(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(reports)).scalar_one()
    engine.dispose()
    return int(n)


def test_truce_ingest_reads_a_gzipped_ucdp_export_in_chunks_with_the_files_lines(
    db_url, tmp_path
) -> None:
    r = runner.invoke(
        cli_app,
        [
            *("ingest", str(UCDP), "--db", db_url, "--input-format", "ucdp-ged"),
            *("--chunk-rows", "40", "--format", "json"),
        ],
    )
    assert r.exit_code == 0, r.output
    answer = json.loads(r.stdout)
    assert (answer["accepted"], answer["rejected"]) == (len(_ucdp_rows()), [])
    assert _count(db_url) == len(_ucdp_rows())
    out_of_order = sum(
        1 for x in _ucdp_rows() if not int(x["low"]) <= int(x["best"]) <= int(x["high"])
    )
    # one notice for the file, its count summed over the chunks
    assert answer["notices"] == [
        f"UCDP low/best/high out of order in {out_of_order} row(s): each range was widened "
        "to hold all three figures (see the rows' notes)"
    ]
    # a row altered to where_prec 7 is rejected with its line in the whole file
    text = gzip.decompress(UCDP.read_bytes()).decode()
    records = list(csv.reader(io.StringIO(text, newline="")))
    records[100][records[0].index("where_prec")] = "7"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(records)
    altered = tmp_path / "altered.csv.gz"
    altered.write_bytes(gzip.compress(out.getvalue().encode()))
    line = out.getvalue().split(records[100][0] + ",", 1)[0].count("\n") + 1
    r = runner.invoke(
        cli_app,
        ["ingest", str(altered), "--db", db_url, "--chunk-rows", "30", "--format", "json"],
    )
    assert r.exit_code == 0, r.output
    [rejection] = json.loads(r.stdout)["rejected"]
    assert (rejection["line"], rejection["field"]) == (line, "where_prec")


def test_truce_ingest_reads_the_csv_inside_a_zip_as_ucdp_publishes_it(db_url, tmp_path) -> None:
    """GED comes from UCDP as a zip holding one CSV, with other files beside it; the CSV
    is ingested in chunks as if it had been given itself (auto-detected)."""
    archive = tmp_path / "ged-csv.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("ged/ged_syria.csv", gzip.decompress(UCDP.read_bytes()))
        z.writestr("ged/codebook.txt", "see ucdp.uu.se")
    r = runner.invoke(
        cli_app,
        ["ingest", str(archive), "--db", db_url, "--chunk-rows", "40", "--format", "json"],
    )
    assert r.exit_code == 0, r.output
    answer = json.loads(r.stdout)
    assert (answer["accepted"], answer["rejected"]) == (len(_ucdp_rows()), [])
    assert _count(db_url) == len(_ucdp_rows())


def test_truce_ingest_repeats_the_hxl_header_rows_in_every_chunk(db_url) -> None:
    r = runner.invoke(
        cli_app, ["ingest", str(HXL), "--db", db_url, "--chunk-rows", "2", "--format", "json"]
    )
    assert r.exit_code == 0, r.output
    answer = json.loads(r.stdout)
    assert answer["accepted"] == 4
    assert [(x["line"], x["report_id"]) for x in answer["rejected"]] == [(8, "H-5"), (9, "H-6")]
    assert any("Looting" in n for n in answer["notices"])


def test_truce_ingest_of_a_truncated_gzip_fails_without_a_traceback(db_url, tmp_path) -> None:
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(UCDP.read_bytes()[:6000])
    r = runner.invoke(cli_app, ["ingest", str(cut), "--db", db_url, "--chunk-rows", "10"])
    assert r.exit_code == 2
    assert "ends early or is damaged" in " ".join(r.output.split())
    assert "Traceback" not in r.output
