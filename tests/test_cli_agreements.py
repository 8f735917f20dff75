"""`truce agreements list|show|validate`, run in-process."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from truce.cli.agreements import register
from truce.library.catalog import list_agreements

FIXTURES = Path(__file__).parent / "fixtures" / "agreements"
SPEC_EXAMPLE = FIXTURES / "spec-example.yaml"
MANY_PROBLEMS = FIXTURES / "many-problems.yaml"
WIDE = {"COLUMNS": "400"}  # so Rich does not wrap the lines we look for

runner = CliRunner()


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        """A root so `agreements` is a sub-command, as in `truce`."""

    register(app)
    return app


def test_the_truce_command_has_the_agreements_group():
    from truce.cli import COMMAND_MODULES, app

    assert "truce.cli.agreements" in COMMAND_MODULES
    result = runner.invoke(app, ["agreements", "validate", str(SPEC_EXAMPLE)])
    assert result.exit_code == 0, result.output


def test_validate_a_good_file_says_ok(app):
    result = runner.invoke(app, ["agreements", "validate", str(SPEC_EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert f"{SPEC_EXAMPLE}: ok (us-ru-2016-09" in result.output


def test_validate_prints_every_problem_and_fails(app):
    result = runner.invoke(app, ["agreements", "validate", str(MANY_PROBLEMS), str(SPEC_EXAMPLE)])
    assert result.exit_code == 1
    problem_lines = [
        line for line in result.output.splitlines() if line.startswith(f"  {MANY_PROBLEMS}:")
    ]
    assert len(problem_lines) == 14
    assert f"{MANY_PROBLEMS}: 14 problem(s)" in result.output
    tank_line = next(
        i for i, line in enumerate(MANY_PROBLEMS.read_text().splitlines(), 1) if "tank:" in line
    )
    assert (
        f"  {MANY_PROBLEMS}:{tank_line}: rules[2].min_distance_m.tank: unknown weapon class 'tank'"
        in result.output
    )
    assert "cycle: a -> b -> a" in result.output
    # the good file is still checked and reported
    assert f"{SPEC_EXAMPLE}: ok" in result.output
    assert "1 of 2 file(s) have problems" in result.output


def test_validate_a_missing_file_fails(app, tmp_path):
    missing = tmp_path / "nope.yaml"
    result = runner.invoke(app, ["agreements", "validate", str(missing)])
    assert result.exit_code == 1
    assert "cannot read the file" in result.output


def test_show_a_file_prints_everything_in_plain_words(app):
    result = runner.invoke(app, ["agreements", "show", str(SPEC_EXAMPLE)], env=WIDE)
    assert result.exit_code == 0, result.output
    out = result.output
    for expected in [
        "Reducing Violence, Restoring Access (Aleppo), 9 Sep 2016",
        "signed: 2016-09-09",
        "timezone: +03:00",
        "crs: EPSG:32637",
        "gov: Government and associated forces (guarantor: RU)",
        "Syrian Arab Army, SAA, Syrian Air Force, NDF",
        "Jabhat al-Nusra",
        "castello_road",
        "within 1,000 m of line castello_road",
        "the area of aleppo_east",
        "34.9 km²",  # 0.07° x 0.05° at 36.2°N
        "2016-09-12T19:00+03:00",
        "when cessation ends",
        "when quiet-week is first met",
        "open-ended",
        "7 consecutive days with at most 5 violent incidents within east-aleppo",
        "heavy_vehicle 3,500 m",
        "At checkpoint cp_castello_1, at most 20 armed personnel per side",
    ]:
        assert expected in out, expected
    # sections come in reading order
    order = [
        out.index(s) for s in ("Parties", "Features", "Zones", "Phases", "Conditions", "Rules")
    ]
    assert order == sorted(order)


def test_show_keeps_square_brackets_in_text(app, tmp_path):
    text = SPEC_EXAMPLE.read_text(encoding="utf-8").replace(
        "rules:  ", 'notes: ["Distances from [S1], not verified [lon, lat]"]\nrules:  '
    )
    path = tmp_path / "notes.yaml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["agreements", "show", str(path)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "Distances from [S1], not verified [lon, lat]" in result.output


def test_show_a_broken_file_prints_its_problems(app):
    result = runner.invoke(app, ["agreements", "show", str(MANY_PROBLEMS)])
    assert result.exit_code == 2
    assert "14 problem(s)" in result.output


def test_show_an_unknown_id_lists_the_known_ones(app):
    result = runner.invoke(app, ["agreements", "show", "no-such-agreement"])
    assert result.exit_code == 2
    assert "known ids" in result.output
    for a in list_agreements():
        assert a.id in result.output


def test_list_shows_every_builtin(app):
    result = runner.invoke(app, ["agreements", "list"], env=WIDE)
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines()[1:] if line.strip()]
    agreements = list_agreements()
    assert len(rows) == len(agreements)
    for row, a in zip(rows, agreements, strict=True):
        assert row.split()[0] == a.id
        assert a.title in row
        assert row.rstrip().endswith(a.signed.isoformat() if a.signed else a.title)


def test_show_every_builtin_by_id(app):
    for a in list_agreements():
        result = runner.invoke(app, ["agreements", "show", a.id], env=WIDE)
        assert result.exit_code == 0, result.output
        assert a.title in result.output
        for rule in a.rules:
            assert rule.id in result.output


def test_show_describes_sign_ups_sites_convoys_checkpoints_and_composites(app):
    terms = Path(__file__).parent / "fixtures" / "agreements" / "terms-example.yaml"
    result = runner.invoke(app, ["agreements", "show", str(terms)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    for words in (
        "Jaysh al-Islam (opp): accepted through US 2016-09-12T20:00+03:00: bound from then",
        "Ahrar al-Sham (opp): declined 2016-09-12T11:00+03:00",
        "withdrew 2016-09-14T12:00+03:00: not bound from then",
        "Protected sites and declared positions (sensitive)",
        "hosp-1",
        "un-aleppo-1 (UN/SARC): along castello_road, protected within 1,000 m of the route",
        "cp_castello_2: Checkpoint 2",
        "all of these at once: Seven quiet days, Checkpoints set up, Forces withdrawn",
        "convoys delivered: un-aleppo-1",
        "between the parties (not involving an excluded group)",
    ):
        assert words in out, words
