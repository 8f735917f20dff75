"""Demo data: reproducible, realistic, and exercising every rule the agreement defines."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import shapely
from typer.testing import CliRunner

from truce.cli import app
from truce.cli.demo import render_rows
from truce.demodata import SOURCES, demo_period, generate
from truce.domain.geo import Projection
from truce.domain.timeparse import parse_local_datetime
from truce.formats.reports import read_reports
from truce.library.catalog import load_builtin
from truce.library.gazetteer import Gazetteer, place_resolver, resolve_place

US_RU = "us-ru-2016-09"


@pytest.fixture(scope="module")
def us_ru_rows() -> list[dict[str, str]]:
    return generate(load_builtin(US_RU), seed=0)


def test_same_seed_gives_a_byte_identical_file(tmp_path: Path) -> None:
    a = load_builtin(US_RU)
    first = render_rows(generate(a, seed=7), tmp_path / "x.csv")
    again = render_rows(generate(a, seed=7), tmp_path / "x.csv")
    other = render_rows(generate(a, seed=8), tmp_path / "x.csv")
    assert first == again
    assert first != other


def test_cli_writes_reproducible_csv_and_jsonl(tmp_path: Path) -> None:
    runner = CliRunner()
    paths = [tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.jsonl"]
    for p in paths:
        result = runner.invoke(
            app, ["demo-data", "--agreement", US_RU, "--out", str(p), "--seed", "5"]
        )
        assert result.exit_code == 0, result.output
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[2].read_text(encoding="utf-8").startswith("{")
    assert len(read_reports(paths[2], resolve_place=resolve_place).reports) == len(
        read_reports(paths[0], resolve_place=resolve_place).reports
    )


def test_period_is_10_to_20_september_for_us_ru(us_ru_rows: list[dict[str, str]]) -> None:
    a = load_builtin(US_RU)
    start, end = demo_period(a)
    assert start.astimezone(a.timezone).isoformat() == "2016-09-10T00:00:00+03:00"
    assert end.astimezone(a.timezone).isoformat() == "2016-09-20T00:00:00+03:00"
    times = [parse_local_datetime(r["observed_at"], None) for r in us_ru_rows if not r["report_id"].startswith("bad-")
             and r["observed_at"][-6] in "+-"]  # fmt: skip
    assert min(times) >= start - (end - start) / 20 and max(times) <= end + (end - start) / 20
    assert 200 <= len(us_ru_rows) <= 2000


def test_every_source_reports_and_events_are_seen_by_several(
    us_ru_rows: list[dict[str, str]],
) -> None:
    assert {r["source"] for r in us_ru_rows} == {s.id for s in SOURCES}
    r = read_reports(
        render_rows(us_ru_rows, Path("x.csv")), format="csv", resolve_place=resolve_place
    ).reports
    proj = Projection("EPSG:32637")
    x, y = proj.points(r.lon, r.lat)
    t = r.observed_at.astype("datetime64[m]").astype(np.int64)
    same_type = r.event_type[:, None] == r.event_type[None, :]
    other_source = r.source[:, None] != r.source[None, :]
    close = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :]) < 3000
    soon = np.abs(t[:, None] - t[None, :]) < 180
    assert (same_type & other_source & close & soon).sum() // 2 >= 50


def test_some_rows_give_only_a_place_and_it_resolves(us_ru_rows: list[dict[str, str]]) -> None:
    place_only = [r for r in us_ru_rows if r["place"] and not r["lat"]]
    assert len(place_only) >= 3
    assert any(
        r["place"] == "Big Orem" and r["event_type"] == "attack_on_humanitarian" for r in place_only
    )
    for r in place_only:
        resolve_place(r["place"])


def test_bad_rows_are_rejected_with_reasons_and_the_rest_go_in(
    us_ru_rows: list[dict[str, str]],
) -> None:
    read = read_reports(
        render_rows(us_ru_rows, Path("x.csv")), format="csv", resolve_place=resolve_place
    )
    assert len(read.rejected) == 5
    reasons = " | ".join(x.reason for x in read.rejected)
    assert "offset" in reasons and "lat out of range" in reasons
    assert {x.report_id for x in read.rejected} == {f"bad-{k:05d}" for k in range(1, 6)}
    assert len(read.reports) == len(us_ru_rows) - 5


def test_weapons_are_seen_both_inside_and_outside_the_withdrawal_distance(
    us_ru_rows: list[dict[str, str]],
) -> None:
    a = load_builtin(US_RU)
    proj = Projection("EPSG:32637")
    road = proj.geometry(a.features["castello_road"].geometry)
    deadline = datetime.fromisoformat("2016-09-15T19:00:00+03:00")
    heavy = [r for r in us_ru_rows if r["event_type"] == "weapon_sighting" and r["weapon"] == "heavy_vehicle"
             and r["lat"] and parse_local_datetime(r["observed_at"], None) > deadline]  # fmt: skip
    x, y = proj.points([float(r["lon"]) for r in heavy], [float(r["lat"]) for r in heavy])
    d = shapely.distance(shapely.points(x, y), road)
    assert (d < 2500).any() and (d > 4500).any()


def test_attacks_on_excluded_groups_and_aid_convoy_are_present(
    us_ru_rows: list[dict[str, str]],
) -> None:
    nusra = set(next(g for g in load_builtin(US_RU).excluded if g.id == "nusra").actors)
    assert any(r["target"] in nusra for r in us_ru_rows)
    big_orem = [r for r in us_ru_rows if r["place"] == "Big Orem"]
    assert len({r["source"] for r in big_orem}) >= 3
    assert all(r["observed_at"].startswith("2016-09-19") for r in big_orem)


@pytest.mark.parametrize("agreement_id", ["coh-2016-02", "sochi-2018-09", "moscow-2020-03"])
def test_any_agreement_gets_a_readable_demo_set(agreement_id: str) -> None:
    a = load_builtin(agreement_id)
    rows = generate(a, seed=1)
    read = read_reports(render_rows(rows, Path("x.csv")), format="csv",
                        resolve_place=place_resolver(Gazetteer.load().with_agreement(a)))  # fmt: skip
    assert len(read.rejected) == 5
    assert len(read.reports) > 150


def test_evaluate_over_demo_data_finds_violations_of_every_rule_kind_the_agreement_defines(
    tmp_path: Path,
) -> None:
    from truce.domain.evaluate import evaluate

    a = load_builtin(US_RU)
    path = tmp_path / "demo.csv"
    path.write_text(render_rows(generate(a, seed=0), path), encoding="utf-8")
    r = read_reports(path, resolve_place=place_resolver(Gazetteer.load().with_agreement(a)))
    ev = evaluate(
        a, r.reports, as_of=datetime.fromisoformat("2016-09-20T00:00:00+03:00"), rejected=r.rejected
    )

    status = {p.id: p.status for p in ev.phases}
    # The violence rises from 17 Sep, so the quiet week is never reached and the JIC never starts.
    assert status["joint-centre"] == "never"
    quiet = next(c for c in ev.conditions if c.id == "quiet-week")
    assert quiet.met_at is None
    # The next phase waits on the three-part condition; each part's state is known.
    nxt = next(c for c in ev.conditions if c.id == "next-phase")
    assert not nxt.met and "quiet-week" in nxt.waiting_for
    assert next(c for c in ev.conditions if c.id == "checkpoints-up").met
    # Every kind whose phases could be active is broken at least once; no_fly is tied to the JIC.
    found = {v.kind for v in ev.violations}
    expected = {rule.kind for rule in a.rules} - {"no_fly"}
    assert expected <= found, f"missing: {expected - found}"
    assert "no_fly" not in found
    # Attacks on Nusra are not cease_attacks violations.
    cease = [v for v in ev.violations if v.kind == "cease_attacks"]
    assert cease and all(ev.incidents.target[v.incident] not in ("nusra", "isil") for v in cease)
    assert any(t == "nusra" for t in ev.incidents.target)
    assert {"gov", "opp", "unattributed"} <= {v.party for v in cease}
    assert any(v.status == "corroborated" for v in ev.violations)
    assert len(ev.rejected) == 5


def test_demo_data_exercises_every_new_kind_of_term() -> None:
    """Sites (before and after notification), convoys (status, in and out of the window),
    checkpoints (status over time) and sign-ups (before and after being bound)."""
    from truce.domain.evaluate import evaluate
    from truce.formats.agreement import load_agreement

    a = load_agreement(Path(__file__).parent / "fixtures" / "agreements" / "terms-example.yaml")
    path_rows = generate(a, seed=0)
    r = read_reports(render_rows(path_rows, Path("demo.csv")), format="csv")
    assert not [x for x in r.rejected if x.field == "status"]
    ev = evaluate(a, r.reports, as_of=datetime.fromisoformat("2016-09-25T00:00:00+03:00"))
    found = {v.kind for v in ev.violations}
    assert {"protected_sites", "convoy_safety"} <= found
    outcome = ev.extra["terms"]
    assert {nc.group for nc in outcome.not_charged} >= {"Ahrar al-Sham", "Faylaq al-Sham"}
    assert [c.status for c in outcome.histories.convoy("un-aleppo-1")] == ["departed", "delivered"]
    for cp in ("cp_castello_1", "cp_castello_2"):
        assert [c.status for c in outcome.histories.checkpoint(cp)] == ["established", "staffed"]
    states = {c.id: c for c in ev.conditions}
    assert states["checkpoints-up"].met and states["aid-in"].met
