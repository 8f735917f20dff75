"""The shipped UCDP GED Syria extracts (data/ucdp/, CC BY 4.0: Sundberg & Melander 2013;
Högbladh 2019) through the built-in agreements, raw, as a user would run them."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from truce.cli import app

ROOT = Path(__file__).resolve().parents[1]
DATA_2019 = ROOT / "data" / "ucdp" / "ucdp_ged_syria_2019-03_2019-11.csv.gz"


@pytest.fixture(scope="module")
def sochi_2019() -> dict:
    result = CliRunner().invoke(
        app,
        [
            "evaluate",
            "--agreement",
            "sochi-2018-09",
            "--reports",
            str(DATA_2019),
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_raw_ucdp_export_charges_or_names_the_parties_of_nearly_every_violation(sochi_2019):
    violations = sochi_2019["violations"]
    assert len(violations) > 500
    blind = [v for v in violations if v["party"] == "unattributed" and not v["involved"]]
    assert len(blind) <= 0.1 * len(violations)
    assert any(v["party"] == "gov" for v in violations)
    assert any(v["party"] == "opp" for v in violations)


def test_no_two_events_of_one_dataset_share_an_incident(sochi_2019):
    incidents = sochi_2019["incidents"]
    assert all(len(i["report_ids"]) == 1 for i in incidents)
    assert len(incidents) == 1742 - len(sochi_2019["rejected"])


def test_no_certain_verdict_rests_on_a_location_coarser_than_its_margin(sochi_2019):
    incidents = {i["id"]: i for i in sochi_2019["incidents"]}
    for v in sochi_2019["violations"]:
        if v["certainty"] == "certain":
            # the Idlib area is drawn to ±15 km: a coarser event cannot be surely inside it
            assert incidents[v["incident"]]["location_precision_m"] < 15_000


def test_nothing_is_charged_outside_the_area_or_after_the_end():
    result = CliRunner().invoke(
        app,
        [
            "evaluate",
            "--agreement",
            "us-ru-2016-09",
            "--reports",
            str(DATA_2019),
            "--format",
            "json",
        ],
    )
    out = json.loads(result.stdout)
    assert out["ended"] == "2016-09-19T19:00:00+03:00"
    assert out["violations"] == [] and len(out["incidents"]) > 1000


def test_agreements_show_says_where_and_until_when_the_terms_bind():
    result = CliRunner().invoke(app, ["agreements", "show", "us-ru-2016-09"])
    assert "ends: 2016-09-19T19:00+03:00: nothing after it is a violation" in result.stdout
    result = CliRunner().invoke(app, ["agreements", "show", "sochi-2018-09"])
    assert "area: idlib_area: incidents outside it are listed" in result.stdout


def test_the_real_data_page_says_what_the_code_does_today():
    check = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "real_data_report.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert check.returncode == 0, check.stderr


def _evaluate_2019(reports: str, stdin: bytes | None = None) -> tuple[int, str, dict | None]:
    result = CliRunner().invoke(
        app,
        [
            "evaluate",
            "-a",
            "sochi-2018-09",
            "-r",
            reports,
            "--as-of",
            "2019-12-01T00:00:00",
            "--format",
            "json",
        ],
        input=stdin,
    )
    parsed = json.loads(result.stdout) if result.exit_code == 0 else None
    return result.exit_code, result.output, parsed


def test_the_raw_ucdp_file_reads_alike_gzipped_zipped_or_on_standard_input(tmp_path):
    """UCDP publishes GED as a zip holding one CSV (and people pipe files): each form of
    the same rows gives the same evaluation as the .gz shipped in data/ucdp."""
    text = gzip.decompress(DATA_2019.read_bytes())
    archive = tmp_path / "ged191-csv.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("ged191.csv", text)
        z.writestr("README.txt", "codebook: see ucdp.uu.se")
        z.writestr("__MACOSX/._ged191.csv", b"\x00")
    code, output, want = _evaluate_2019(str(DATA_2019))
    assert code == 0, output
    assert want is not None and len(want["incidents"]) > 1000 and want["violations"]
    for reports, stdin in ((str(archive), None), ("-", text), ("-", DATA_2019.read_bytes())):
        code, output, got = _evaluate_2019(reports, stdin)
        assert code == 0, output
        assert got == want


def test_a_zip_holding_several_report_files_is_refused_clearly(tmp_path):
    archive = tmp_path / "two.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a.csv", gzip.decompress(DATA_2019.read_bytes()))
        z.writestr("b.csv", "report_id,source\n")
    code, output, _ = _evaluate_2019(str(archive))
    assert code == 2
    assert "a.csv, b.csv" in output and "Traceback" not in output


def test_the_reports_file_may_be_named_as_truce_ingest_takes_it():
    """`truce ingest FILE` takes the file as an argument: `truce evaluate -a ID FILE`
    reads it the same as `-r FILE`; none, or two different ones, is a clear error."""
    code, output, want = _evaluate_2019(str(DATA_2019))
    assert code == 0, output
    runner = CliRunner()
    args = ["evaluate", "-a", "sochi-2018-09", "--as-of", "2019-12-01T00:00:00"]
    named = runner.invoke(app, [*args, "--format", "json", str(DATA_2019)])
    assert named.exit_code == 0, named.output
    assert json.loads(named.stdout) == want
    both = runner.invoke(app, [*args, str(DATA_2019), "-r", str(DATA_2019)])
    assert both.exit_code == 0, both.output  # the same file twice is still one
    for extra, message in (([], "no reports given"), (["a.csv", "-r", "b.csv"], "give one")):
        result = runner.invoke(app, [*args, *extra])
        assert result.exit_code == 2 and message in result.output
        assert "Traceback" not in result.output


def test_the_reports_may_be_piped_in_and_the_evaluation_written_to_a_file(tmp_path):
    """`truce evaluate -a ID < FILE` reads standard input when it is not a terminal, and
    `-o FILE` writes the evaluation there (JSON unless --format table); an unwritable
    path is a clear error."""
    code, output, want = _evaluate_2019(str(DATA_2019))
    assert code == 0, output
    runner = CliRunner()
    args = ["evaluate", "-a", "sochi-2018-09", "--as-of", "2019-12-01T00:00:00"]
    piped = runner.invoke(
        app, [*args, "--format", "json"], input=gzip.decompress(DATA_2019.read_bytes())
    )
    assert piped.exit_code == 0, piped.output
    assert json.loads(piped.stdout) == want
    out = tmp_path / "evaluation.json"
    written = runner.invoke(app, [*args, str(DATA_2019), "-o", str(out)])
    assert written.exit_code == 0, written.output
    assert json.loads(out.read_text(encoding="utf-8")) == want
    table = tmp_path / "evaluation.txt"
    runner.invoke(app, [*args, str(DATA_2019), "-o", str(table), "--format", "table"])
    assert "1,742 reports accepted" in table.read_text(encoding="utf-8")
    bad = runner.invoke(app, [*args, str(DATA_2019), "-o", str(tmp_path / "no" / "x.json")])
    assert bad.exit_code == 2 and "cannot write" in bad.output
    assert "Traceback" not in bad.output
