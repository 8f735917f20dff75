"""`truce evaluate` end to end: SPEC §3 JSON, the table for people, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.scenario import SPEC_AGREEMENT
from typer.testing import CliRunner

from truce.cli import app

REPORTS = """report_id,source,observed_at,lat,lon,event_type,weapon,actor,target,reliability,credibility
a-1,amman,2016-09-13T04:10:00+03:00,36.25,37.13,shelling,artillery,Syrian Arab Army,,B,2
h-7,hmeimim,2016-09-13T01:40:00Z,36.251,37.131,shelling,artillery,SAA,,C,3
a-2,amman,2016-09-13T09:00:00+03:00,36.20,37.16,airstrike,aircraft,Russian jets,Jabhat Fateh al-Sham,B,2
a-3,amman,2016-09-13T09:00:00,36.20,37.16,shelling,,SAA,,B,2
a-4,amman,2016-09-13T09:00:00+03:00,123.0,37.16,shelling,,SAA,,B,2
"""


@pytest.fixture
def reports_csv(tmp_path: Path) -> Path:
    path = tmp_path / "reports.csv"
    path.write_text(REPORTS)
    return path


def invoke(*args: str):
    return CliRunner().invoke(app, ["evaluate", *args])


def test_json_output_follows_spec_section_3(reports_csv):
    result = invoke(
        "--agreement", str(SPEC_AGREEMENT), "--reports", str(reports_csv),
        "--as-of", "2016-09-20T00:00:00+03:00", "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["agreement"] == "us-ru-2016-09"
    assert out["as_of"] == "2016-09-20T00:00:00+03:00"
    assert [(r["line"], r["report_id"]) for r in out["rejected"]] == [(5, "a-3"), (6, "a-4")]
    assert "offset" in out["rejected"][0]["reason"] and "123.0" in out["rejected"][1]["reason"]
    shelling = next(i for i in out["incidents"] if i["event_type"] == "shelling")
    assert shelling["report_ids"] == ["amman:a-1", "hmeimim:h-7"]
    assert shelling["sources"] == ["amman", "hmeimim"]
    assert shelling["corroboration"] == 2 and shelling["party"] == "gov"
    assert shelling["observed_at"] == "2016-09-13T04:10:00+03:00"
    (v,) = out["violations"]
    assert (
        v["rule"] == "r-cease" and v["incident"] == shelling["id"] and v["status"] == "corroborated"
    )
    assert v["evidence"] == "shelling by gov during phase cessation"
    assert [(p["id"], p["status"]) for p in out["phases"]] == [
        ("cessation", "ended"), ("extension", "ended"), ("joint-centre", "never"),
    ]  # fmt: skip
    assert out["conditions"][0]["id"] == "quiet-week" and out["conditions"][0]["met_at"] is None
    accepted = {rid for i in out["incidents"] for rid in i["report_ids"]}
    assert accepted == {
        "amman:a-1",
        "hmeimim:h-7",
        "amman:a-2",
    }  # each accepted report in one incident


def test_table_output_for_people(reports_csv):
    result = invoke(
        "--agreement", str(SPEC_AGREEMENT), "--reports", str(reports_csv), "--as-of", "2016-09-20"
    )
    assert result.exit_code == 0, result.output
    assert "Timeline" in result.stdout and "cessation" in result.stdout
    assert "shelling by gov during phase cessation" in result.stdout
    assert "3 reports accepted, 2 rejected" in result.stdout


def test_builtin_agreement_by_id(reports_csv):
    result = invoke(
        "--agreement",
        "us-ru-2016-09",
        "--reports",
        str(reports_csv),
        "--as-of",
        "2016-09-20",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["agreement"] == "us-ru-2016-09"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--agreement", "no-such-agreement"], "no-such-agreement"),
        (["--agreement", "us-ru-2016-09", "--as-of", "yesterday"], "yesterday"),
    ],
)
def test_unusable_input_exits_non_zero_with_a_message(reports_csv, args, message):
    result = invoke(*args, "--reports", str(reports_csv))
    assert result.exit_code != 0
    assert message in result.output


def test_missing_reports_file(tmp_path):
    result = invoke("--agreement", "us-ru-2016-09", "--reports", str(tmp_path / "nope.csv"))
    assert result.exit_code != 0 and "no such reports file" in result.output


def test_broken_agreement_file_lists_its_problems(tmp_path, reports_csv):
    bad = tmp_path / "bad.yaml"
    bad.write_text(SPEC_AGREEMENT.read_text().replace("distance_m: 1000", "distance_m: -5"))
    result = invoke("--agreement", str(bad), "--reports", str(reports_csv))
    assert result.exit_code != 0 and "distance_m" in result.output


def test_installed_command_runs_as_a_process(reports_csv):
    proc = subprocess.run(
        [sys.executable, "-m", "truce", "evaluate", "--agreement", str(SPEC_AGREEMENT),
         "--reports", str(reports_csv), "--as-of", "2016-09-20", "--format", "json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["violations"]) == 1


def test_the_process_writes_the_whole_document_before_it_exits(reports_csv):
    """As its own process the command ends without the interpreter's teardown
    (`exit_now`): everything written must still reach the file, byte for byte."""
    from truce.cli.evaluate import run_evaluate
    from truce.formats.evaluation_json import evaluation_to_dict

    as_of = "2016-09-20T00:00:00+03:00"
    proc = subprocess.run(
        [sys.executable, "-m", "truce", "evaluate", "--agreement", str(SPEC_AGREEMENT),
         "--reports", str(reports_csv), "--as-of", as_of, "--format", "json"],
        capture_output=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    ev = run_evaluate(str(SPEC_AGREEMENT), reports_csv, as_of, None)
    expected = json.dumps(evaluation_to_dict(ev), indent=1, ensure_ascii=False) + "\n"
    assert proc.stdout.decode("utf-8") == expected
