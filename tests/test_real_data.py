"""The shipped UCDP GED Syria extracts (data/ucdp/, CC BY 4.0: Sundberg & Melander 2013;
Högbladh 2019) through the built-in agreements, raw, as a user would run them."""

from __future__ import annotations

import json
import subprocess
import sys
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
