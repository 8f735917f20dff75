"""UCDP GED importer on real rows (tests/fixtures/ucdp, CC BY 4.0; see its README)."""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from truce.domain.model import ATTACK, DIRECTIONS, EVENT_TYPES, MUTUAL
from truce.formats.importers.ucdp_ged import PRECISION_M, event_type_of
from truce.formats.reports import read_reports

SLICES = sorted((Path(__file__).parent / "fixtures" / "ucdp").glob("*.csv.gz"))
DAMASCUS = ZoneInfo("Asia/Damascus")


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def _csv(header: list[str], rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _utc(value: np.datetime64) -> datetime:
    return datetime.fromisoformat(str(value.astype("datetime64[s]"))).replace(tzinfo=UTC)


@pytest.fixture(scope="module", params=SLICES, ids=lambda p: p.name)
def sliced(request: pytest.FixtureRequest):
    header, rows = _rows(request.param)
    return request.param, header, rows, read_reports(request.param)


def test_the_slices_cover_what_the_mapping_must_handle() -> None:
    rows = [r for path in SLICES for r in _rows(path)[1]]
    assert {r["type_of_violence"] for r in rows} == {"1", "2", "3"}
    assert {r["where_prec"] for r in rows} == {"1", "2", "3", "4", "5", "6"}
    assert {r["event_clarity"] for r in rows} == {"1", "2"}
    assert any(r["date_start"] != r["date_end"] for r in rows)
    assert len(rows) >= 250


def test_every_real_row_is_read_and_accepted_and_keeps_its_original_row(sliced) -> None:
    _, header, rows, read = sliced
    assert read.rejected == [] and read.duplicates == 0
    assert len(read.reports) == len(rows)
    by_id = {r["id"]: r for r in rows}
    for original in read.reports.original:
        row = json.loads(original)
        assert list(row) == header
        assert row == by_id[row["id"]]
    assert list(read.reports.report_id) == [r["id"] for r in rows]


def test_sides_are_actor_and_target_and_only_one_sided_violence_has_an_attacker(sliced) -> None:
    _, _, rows, read = sliced
    t = read.reports
    for i, row in enumerate(rows):
        assert (t.actor[i], t.target[i]) == (row["side_a"], row["side_b"])
        expected = ATTACK if row["type_of_violence"] == "3" else MUTUAL
        assert t.direction[i] == expected, (row["id"], DIRECTIONS[t.direction[i]])
    assert {t.target[i] for i, r in enumerate(rows) if r["type_of_violence"] == "3"} == {
        "Civilians"
    }


def test_where_prec_becomes_a_radius_up_to_the_whole_country(sliced) -> None:
    _, _, rows, read = sliced
    radius = {"1": 1_000, "2": 25_000, "3": 50_000, "4": 150_000, "5": 150_000, "6": 450_000}
    assert radius == PRECISION_M
    got = {(r["where_prec"], float(read.reports.precision_m[i])) for i, r in enumerate(rows)}
    assert got == {(k, float(radius[k])) for k in {r["where_prec"] for r in rows}}


def test_a_country_level_event_keeps_its_coordinates_with_a_450_km_radius(sliced) -> None:
    _, _, rows, read = sliced
    country = [i for i, r in enumerate(rows) if r["where_prec"] == "6"]
    assert country
    for i in country:
        assert read.reports.precision_m[i] == 450_000
        assert read.reports.lat[i] == float(rows[i]["latitude"])
        assert "where_prec 6" in read.reports.notes[i]


def test_dates_are_whole_local_days_in_damascus_from_the_first_to_after_the_last(sliced) -> None:
    _, _, rows, read = sliced
    for i, row in enumerate(rows):
        first = datetime.fromisoformat(row["date_start"]).date()
        last = datetime.fromisoformat(row["date_end"]).date()
        start = datetime.combine(first, datetime.min.time(), DAMASCUS)
        end = datetime.combine(last + timedelta(days=1), datetime.min.time(), DAMASCUS)
        observed_at, observed_to = (
            _utc(read.reports.observed_at[i]),
            _utc(read.reports.observed_to[i]),
        )
        # within an hour of local midnight (the clocks change at midnight in Syria)
        assert timedelta(0) <= start - observed_at <= timedelta(hours=1), row["id"]
        assert timedelta(0) <= observed_to - end <= timedelta(hours=1), row["id"]


def test_a_one_day_event_spans_the_local_day_across_the_utc_date_boundary() -> None:
    header, rows = _rows(SLICES[0])
    row = next(r for r in rows if r["date_start"] == r["date_end"] < "2017-03-31")
    t = read_reports(_csv(header, [row])).reports
    day = datetime.fromisoformat(row["date_start"])
    # a winter day in Damascus (UTC+2) starts at 22:00 UTC the day before
    assert _utc(t.observed_at[0]) == (day - timedelta(hours=2)).replace(tzinfo=UTC)
    assert _utc(t.observed_to[0]) == (day + timedelta(hours=22)).replace(tzinfo=UTC)


def test_a_day_the_clocks_change_is_covered_whichever_way_midnight_is_read() -> None:
    header, rows = _rows(SLICES[0])
    row = next(r for r in rows if r["date_start"] == "2017-03-31")  # DST began at midnight
    t = read_reports(_csv(header, [row | {"date_end": "2017-03-31"}])).reports
    assert str(t.observed_at[0]) == "2017-03-30T21:00:00.000000000"  # 00:00+03, the earlier
    assert str(t.observed_to[0]) == "2017-03-31T21:00:00.000000000"  # 1 April 00:00+03


def test_a_multi_day_event_keeps_its_whole_window() -> None:
    header, rows = _rows(SLICES[0])
    row = next(r for r in rows if r["date_start"] != r["date_end"])
    t = read_reports(_csv(header, [row])).reports
    days = (_utc(t.observed_to[0]) - _utc(t.observed_at[0])).total_seconds() / 86400
    first = datetime.fromisoformat(row["date_start"]).date()
    last = datetime.fromisoformat(row["date_end"]).date()
    assert abs(days - ((last - first).days + 1)) <= 1 / 24


def test_an_unknown_country_reads_its_dates_over_every_time_zone() -> None:
    header, rows = _rows(SLICES[0])
    row = rows[0] | {
        "country": "Atlantis",
        "country_id": "999",
        "date_start": "2017-01-03",
        "date_end": "2017-01-03",
    }
    t = read_reports(_csv(header, [row])).reports
    assert str(t.observed_at[0]) == "2017-01-02T10:00:00.000000000"  # 00:00 at UTC+14
    assert str(t.observed_to[0]) == "2017-01-04T12:00:00.000000000"  # 24:00 at UTC-12
    assert "time zone of Atlantis unknown" in t.notes[0]


def test_where_prec_7_is_rejected_with_its_line_and_the_reason() -> None:
    header, rows = _rows(SLICES[0])
    altered = [rows[0], rows[1] | {"where_prec": "7"}, rows[2]]  # 7 is not in the data
    read = read_reports(_csv(header, altered))
    assert list(read.reports.report_id) == [rows[0]["id"], rows[2]["id"]]
    [rejection] = read.rejected
    assert (rejection.line, rejection.report_id, rejection.field) == (
        3,
        rows[1]["id"],
        "where_prec",
    )
    assert "international waters or airspace" in rejection.reason


def test_broken_codes_and_dates_are_rejected_each_with_its_reasons() -> None:
    header, rows = _rows(SLICES[0])
    altered = [
        rows[0] | {"type_of_violence": "4"},
        rows[1] | {"date_start": "2017-02-30"},
        rows[2] | {"date_start": "2017-05-02", "date_end": "2017-05-01"},
        rows[3] | {"best": "many"},
    ]
    read = read_reports(_csv(header, altered))
    assert len(read.reports) == 0
    reasons = {r.line: r.reason for r in read.rejected}
    assert "type_of_violence must be 1, 2 or 3: '4'" in reasons[2]
    assert "date_start is not a date" in reasons[3]
    assert "date_end 2017-05-01 is before date_start 2017-05-02" in reasons[4]
    assert "fatalities is not a non-negative integer: 'many'" in reasons[5]


def test_fatalities_are_best_with_low_and_high_as_the_range(sliced) -> None:
    _, _, rows, read = sliced
    t = read.reports
    for i, row in enumerate(rows):
        low, best, high = (int(row[k]) for k in ("low", "best", "high"))
        assert t.fatalities[i] == best
        assert t.fatalities_low[i] == min(low, best, high)
        assert t.fatalities_high[i] == max(low, best, high)


def test_a_range_out_of_order_in_ucdp_is_widened_to_hold_all_three_figures_and_said() -> None:
    header, rows = _rows(SLICES[0])
    row = rows[0] | {"low": "2", "best": "2", "high": "1"}
    read = read_reports(_csv(header, [row]))
    t = read.reports
    assert (t.fatalities_low[0], t.fatalities[0], t.fatalities_high[0]) == (1, 2, 2)
    assert "low/best/high 2/2/1 out of order: range read as 1-2" in t.notes[0]
    assert any("out of order in 1 row" in n for n in read.notices)


def test_grades_are_b2_for_clear_events_and_b3_for_unclear_ones_which_are_kept(sliced) -> None:
    _, _, rows, read = sliced
    t = read.reports
    assert set(t.reliability) == {"B"}
    for i, row in enumerate(rows):
        assert t.credibility[i] == (3 if row["event_clarity"] == "2" else 2)
    unclear = [i for i, r in enumerate(rows) if r["event_clarity"] == "2"]
    assert all("event_clarity 2" in t.notes[i] for i in unclear)


def test_source_and_dataset_name_ucdp_and_the_notes_keep_the_article_short(sliced) -> None:
    _, _, rows, read = sliced
    t = read.reports
    assert set(t.source) == set(t.dataset) == {"ucdp-ged"}
    assert set(t.source_url) == {""}
    for i, row in enumerate(rows):
        assert f"UCDP GED event {row['id']}" in t.notes[i]
        assert "headline: " in t.notes[i] and "article: " in t.notes[i]
        assert "\n" not in t.notes[i]
        assert len(t.notes[i]) < 1000


@pytest.mark.parametrize(
    ("text", "event_type", "word"),
    [
        ("Russian warplanes hit Idlib", "airstrike", "warplanes"),
        ("Air strike kills 3", "airstrike", "Air strike"),
        ("Regime helicopters drop barrel bombs", "airstrike", "helicopters"),
        ("Coalition airstrikes on Raqqa", "airstrike", "airstrikes"),
        ("Jets fired missiles at a village", "airstrike", "Jets"),
        ("Regime forces shelled Douma", "shelling", "shelled"),
        ("Mortar rounds fell on Damascus", "shelling", "Mortar"),
        ("Rocket attack on Aleppo", "shelling", "Rocket"),
        ("Clashes between SDF and IS", "armed_clash", None),
        ("An IED kills an Uzbek commander", "armed_clash", None),
    ],
)
def test_event_type_comes_from_the_first_weapon_word_and_says_so(
    text: str, event_type: str, word: str | None
) -> None:
    kind, how = event_type_of(text)
    assert kind == event_type
    assert (repr(word) in how) if word else ("names no air or artillery weapon" in how)


def test_every_event_type_derived_from_the_real_rows_is_explained_in_its_notes(sliced) -> None:
    _, _, _, read = sliced
    t = read.reports
    kinds = {EVENT_TYPES[c] for c in t.event_type}
    assert kinds == {"airstrike", "shelling", "armed_clash"}
    for i in range(len(t)):
        assert f"event_type {EVENT_TYPES[t.event_type[i]]}" in t.notes[i]
