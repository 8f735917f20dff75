"""Reading SPEC §2 report files: acceptance, rejections with lines, duplicates, formats."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from truce.domain.model import EVENT_TYPES, NO_CODE, WEAPONS
from truce.errors import GazetteerError, ReportFormatError
from truce.formats.reports import COLUMNS, read_report_objects, read_reports

FIXTURES = Path(__file__).parent / "fixtures" / "reports"

GOOD = {
    "report_id": "r-1",
    "source": "amman",
    "observed_at": "2016-09-13T04:10:00+03:00",
    "lat": "36.25",
    "lon": "37.13",
    "place": "",
    "location_precision_m": "",
    "event_type": "shelling",
    "weapon": "mortar",
    "actor": "SAA",
    "side": "",
    "target": "",
    "count": "",
    "fatalities": "",
    "reliability": "",
    "credibility": "",
    "notes": "",
}


def to_csv(rows: list[dict[str, str]], columns: tuple[str, ...] = COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=list(columns), lineterminator="\r\n", extrasaction="ignore"
    )
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def row(**changes: str) -> dict[str, str]:
    return {**GOOD, **changes}


# --- each kind of bad row ------------------------------------------------------

BAD_ROWS = [
    ({"report_id": ""}, "report_id", "report_id is empty"),
    ({"source": ""}, "source", "source is empty"),
    ({"observed_at": ""}, "observed_at", "observed_at is empty"),
    (
        {"observed_at": "yesterday"},
        "observed_at",
        "observed_at is not an ISO 8601 time: 'yesterday'",
    ),
    (
        {"observed_at": "2016-09-13T04:10:00"},
        "observed_at",
        "observed_at has no UTC offset: 2016-09-13T04:10:00",
    ),
    ({"observed_at": "2016-09-13"}, "observed_at", "observed_at has no UTC offset: 2016-09-13"),
    ({"lat": "123.0"}, "lat", "lat out of range: 123.0"),
    ({"lon": "-181"}, "lon", "lon out of range: -181.0"),
    ({"lat": "north"}, "lat", "lat is not a number: 'north'"),
    ({"lon": "inf"}, "lon", "lon is not a number: 'inf'"),
    ({"lat": ""}, "lat", "lon given without lat"),
    ({"lon": " "}, "lon", "lat given without lon"),
    ({"lat": "", "lon": ""}, "lat", "no location: give lat and lon, or a place"),
    ({"event_type": ""}, "event_type", "event_type is empty"),
    (
        {"event_type": "bombing"},
        "event_type",
        "unknown event_type 'bombing'; expected one of airstrike",
    ),
    ({"weapon": "tank"}, "weapon", "unknown weapon 'tank'; expected one of aircraft"),
    ({"count": "-1"}, "count", "count is not a non-negative integer: '-1'"),
    ({"count": "2.5"}, "count", "count is not a non-negative integer: '2.5'"),
    ({"fatalities": "many"}, "fatalities", "fatalities is not a non-negative integer: 'many'"),
    (
        {"location_precision_m": "-5"},
        "location_precision_m",
        "location_precision_m is not a non-negative number: '-5'",
    ),
    ({"reliability": "G"}, "reliability", "reliability must be a grade A-F or empty: 'G'"),
    ({"credibility": "7"}, "credibility", "credibility must be a grade 1-6 or empty: '7'"),
    # Digits of the scale, but not one grade (once taken: "234" is in "123456").
    ({"credibility": "234"}, "credibility", "credibility must be a grade 1-6 or empty: '234'"),
    ({"credibility": "12"}, "credibility", "credibility must be a grade 1-6 or empty: '12'"),
]


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    BAD_ROWS,
    ids=[f"{f}-{i}" for i, (_, f, _) in enumerate(BAD_ROWS)],
)
def test_bad_row_is_rejected_with_line_and_reason_and_good_rows_kept(
    changes: dict[str, str], field: str, reason: str
) -> None:
    rows = [
        row(report_id="good-1"),
        row(**{"report_id": "bad", **changes}),
        row(report_id="good-2"),
    ]
    result = read_reports(to_csv(rows))
    assert list(result.reports.report_id) == ["good-1", "good-2"]
    assert list(result.reports.line) == [2, 4]
    assert len(result.rejected) == 1
    rejection = result.rejected[0]
    assert rejection.line == 3
    assert rejection.field == field
    assert rejection.reason.startswith(reason), rejection.reason
    assert result.duplicates == 0


def test_several_problems_in_one_row_are_joined_in_one_rejection() -> None:
    result = read_reports(to_csv([row(lat="123", event_type="bombing")]))
    [rejection] = result.rejected
    assert rejection.field == "lat"
    assert rejection.reason.startswith("lat out of range: 123.0")
    assert "; unknown event_type 'bombing'" in rejection.reason


def test_good_row_is_filled_as_the_model_documents() -> None:
    text = to_csv(
        [
            row(
                event_type=" Airstrike ",
                weapon="AIRCRAFT",
                reliability="b",
                credibility="2",
                count="3",
                fatalities="0",
                location_precision_m="250",
                side=" gov ",
                notes=" as given ",
            ),
            row(report_id="r-2", weapon="", observed_at="2016-09-13T01:10:00Z"),
        ]
    )
    t = read_reports(text).reports
    assert t.event_type.dtype == np.int8 and list(t.event_type) == [
        EVENT_TYPES.index("airstrike"),
        1,
    ]
    assert list(t.weapon) == [WEAPONS.index("aircraft"), NO_CODE]
    assert t.observed_at.dtype == np.dtype("datetime64[ns]")
    assert t.observed_at[0] == np.datetime64("2016-09-13T01:10:00") == t.observed_at[1]
    assert list(t.reliability) == ["B", ""]
    assert list(t.credibility) == [2, 0] and t.credibility.dtype == np.int8
    assert t.count[0] == 3 and np.isnan(t.count[1])
    assert t.fatalities[0] == 0 and np.isnan(t.fatalities[1])
    assert t.precision_m[0] == 250 and np.isnan(t.precision_m[1])
    assert list(t.side) == ["gov", ""]
    assert t.notes[0] == " as given "
    assert t.source.dtype == object and t.line.dtype == np.int64


# --- duplicates, line numbers, fixtures ---------------------------------------


def test_repeated_key_is_counted_as_duplicate_not_rejected() -> None:
    rows = [row(), row(notes="again"), row(source="other"), row()]
    result = read_reports(to_csv(rows))
    assert list(result.reports.source) == ["amman", "other"]
    assert result.reports.notes[0] == ""  # the first one wins
    assert result.duplicates == 2
    assert result.rejected == []


def test_csv_fixture_counts_physical_lines_across_quoted_newlines() -> None:
    result = read_reports(FIXTURES / "mixed.csv")
    assert list(result.reports.report_id) == ["a-1", "a-3"]
    assert list(result.reports.line) == [2, 4]
    assert result.reports.notes[1] == "seen from\nthe roof"
    assert [(r.line, r.report_id) for r in result.rejected] == [(3, "a-2"), (7, "a-4")]
    assert result.duplicates == 1


def test_jsonl_reads_the_same_rows_as_csv() -> None:
    from_csv = read_reports(FIXTURES / "mixed.csv")
    from_jsonl = read_reports(FIXTURES / "mixed.jsonl")
    for name in COLUMNS:
        if name in (
            "lat",
            "lon",
            "count",
            "fatalities",
            "location_precision_m",
            "observed_to",
            "fatalities_low",
            "fatalities_high",
        ):
            continue  # numbers and times: compared below, where NaN and NaT are equal
        # a status is kept as the first word of notes
        column = {"location_precision_m": "precision_m", "status": "notes"}.get(name, name)
        assert list(getattr(from_jsonl.reports, column)) == list(
            getattr(from_csv.reports, column)
        ), name
    for name in (
        "lat",
        "lon",
        "precision_m",
        "count",
        "fatalities",
        "observed_at",
        "weapon",
        "credibility",
        "observed_to",
        "fatalities_low",
        "fatalities_high",
    ):
        np.testing.assert_array_equal(
            getattr(from_jsonl.reports, name), getattr(from_csv.reports, name)
        )
    assert from_jsonl.duplicates == from_csv.duplicates == 1
    csv_reasons = {r.report_id: r.reason for r in from_csv.rejected}
    jsonl_reasons = {r.report_id: r.reason for r in from_jsonl.rejected if r.report_id}
    assert jsonl_reasons == csv_reasons
    assert list(from_jsonl.reports.line) == [1, 4]
    bad_lines = [
        (r.line, r.reason.split(":")[0]) for r in from_jsonl.rejected if r.report_id is None
    ]
    assert bad_lines == [(7, "not valid JSON"), (8, "not a JSON object")]


def test_parsed_objects_read_as_the_same_lines_of_json_would() -> None:
    """A bulletin's reports arrive parsed; they are checked exactly as a file of them."""
    objects = [
        GOOD,
        {**GOOD, "report_id": "r-2", "lat": 36.5, "lon": 37, "fatalities": 3},
        {**GOOD, "report_id": "r-3", "notes": "\ud800 unpaired"},
        {**GOOD, "report_id": "r-4", "lat": "north"},
        {**GOOD, "report_id": "r-5", "place": {"nested": [1, 2]}},
    ]
    text = "\n".join(json.dumps(o) for o in objects) + "\n"
    from_text = read_reports(text, format="jsonl")
    from_objects = read_report_objects(objects)
    assert list(from_objects.reports.report_id) == list(from_text.reports.report_id)
    assert list(from_objects.reports.report_id) == ["r-1", "r-2", "r-5"]
    np.testing.assert_array_equal(from_objects.reports.lat, from_text.reports.lat)
    np.testing.assert_array_equal(from_objects.reports.fatalities, from_text.reports.fatalities)
    assert [(r.line, r.reason) for r in from_objects.rejected] == [
        (r.line, r.reason) for r in from_text.rejected
    ]
    assert [r.line for r in from_objects.rejected] == [3, 4]
    assert "Unicode" in from_objects.rejected[0].reason


def test_format_is_sniffed_from_content_and_extension(tmp_path: Path) -> None:
    line = json.dumps(GOOD)
    assert len(read_reports(line + "\n").reports) == 1
    path = tmp_path / "reports.ndjson"
    path.write_text("\n" + line + "\n", encoding="utf-8")
    assert list(read_reports(path).reports.line) == [2]


def test_utf8_bom_is_accepted() -> None:
    data = b"\xef\xbb\xbf" + to_csv([row(actor="Jabhat al-Nuṣra")]).encode("utf-8")
    result = read_reports(data)
    assert list(result.reports.actor) == ["Jabhat al-Nuṣra"]


def test_non_utf8_file_is_a_format_error_with_the_line() -> None:
    data = to_csv([row(), row(report_id="r-2", actor="Jabhat al-Nuṣra")]).encode("utf-8")
    data = data.replace("ṣ".encode(), b"\xe7")
    with pytest.raises(ReportFormatError, match=r"line 3: not UTF-8"):
        read_reports(data)


def test_missing_required_columns_are_named() -> None:
    columns = tuple(c for c in COLUMNS if c not in ("observed_at", "lon"))
    with pytest.raises(ReportFormatError, match=r"missing required column.*observed_at, lon"):
        read_reports(to_csv([row()], columns))


def test_place_column_replaces_lat_lon_columns() -> None:
    columns = ("report_id", "source", "observed_at", "place", "event_type")
    result = read_reports(
        to_csv([row(place="Castello")], columns), resolve_place=lambda _: (37.1, 36.2, 800.0)
    )
    assert (result.reports.lon[0], result.reports.lat[0], result.reports.precision_m[0]) == (
        37.1,
        36.2,
        800.0,
    )


def test_place_is_resolved_once_per_name_and_gazetteer_errors_become_rejections() -> None:
    calls: list[str] = []

    def resolve(name: str) -> tuple[float, float, float | None]:
        calls.append(name)
        if name == "Springfield":
            raise GazetteerError("ambiguous place 'Springfield': 3 candidates", ["a", "b", "c"])
        return (37.15, 36.21, 2000.0)

    rows = [
        row(report_id="1", lat="", lon="", place="Bustan al-Qasr"),
        row(report_id="2", lat="", lon="", place="Springfield"),
        row(report_id="3", lat="", lon="", place="Bustan al-Qasr", location_precision_m="100"),
        row(report_id="4", lat="36.3", lon="37.2", place="Bustan al-Qasr"),
        row(report_id="5", lat="", lon="", place="Bustan al-Qasr", location_precision_m="5000"),
    ]
    result = read_reports(to_csv(rows), resolve_place=resolve)
    assert sorted(calls) == ["Bustan al-Qasr", "Springfield"]
    t = result.reports
    assert list(t.report_id) == ["1", "3", "4", "5"]
    assert list(t.lat) == [36.21, 36.21, 36.3, 36.21]
    assert list(t.precision_m[:2]) == [2000.0, 2000.0]  # widened to the gazetteer's
    assert np.isnan(t.precision_m[2]) and t.precision_m[3] == 5000.0
    [rejection] = result.rejected
    assert (rejection.line, rejection.field) == (3, "place")
    assert rejection.reason == "ambiguous place 'Springfield': 3 candidates"


def test_place_without_a_gazetteer_is_rejected() -> None:
    result = read_reports(to_csv([row(lat="", lon="", place="Castello")]))
    assert result.rejected[0].field == "place"
    assert "no gazetteer" in result.rejected[0].reason


def test_source_option_fills_missing_or_empty_source_but_file_value_wins() -> None:
    columns = tuple(c for c in COLUMNS if c != "source")
    assert list(read_reports(to_csv([row()], columns), source="cli").reports.source) == ["cli"]
    rows = [row(report_id="1", source=""), row(report_id="2", source="amman")]
    assert list(read_reports(to_csv(rows), source="cli").reports.source) == ["cli", "amman"]
    with pytest.raises(ReportFormatError, match="source"):
        read_reports(to_csv([row()], columns))


def test_extra_fields_reject_the_row_but_a_trailing_empty_field_does_not() -> None:
    text = to_csv([row(report_id="1"), row(report_id="2"), row(report_id="3")])
    lines = text.splitlines()
    lines[2] += ",surplus"
    lines[3] += ","
    result = read_reports("\n".join(lines) + "\n")
    assert list(result.reports.report_id) == ["1", "3"]
    assert [(r.line, r.report_id) for r in result.rejected] == [(3, "2")]
    assert (
        f"{len(COLUMNS) + 1} fields but the header has {len(COLUMNS)}" in result.rejected[0].reason
    )


def test_many_extra_fields_and_stray_quotes_fall_back_with_exact_lines() -> None:
    text = to_csv([row(report_id="1"), row(report_id="2", notes="multi\nline"), row(report_id="3")])
    lines = text.splitlines()
    lines[1] += "," * 20 + "x"  # too many fields for the fast parser
    result = read_reports("\n".join(lines))
    assert [(r.line, r.report_id) for r in result.rejected] == [(2, "1")]
    assert list(result.reports.line) == [3, 5]
    stray = to_csv([row(report_id="1", actor='say "hi'), row(report_id="2")]).replace(
        '"say ""hi"', 'say "hi'
    )
    result = read_reports(stray)
    assert list(result.reports.actor) == ['say "hi', "SAA"]
    assert list(result.reports.line) == [2, 3]


def test_blank_lines_are_skipped_and_header_only_file_is_empty() -> None:
    text = to_csv([row(report_id="1"), row(report_id="2")])
    head, first, second = text.splitlines()
    result = read_reports(f"\n{head}\n\n{first}\n   \n{second}\n\n")
    assert list(result.reports.line) == [4, 6]
    assert len(read_reports(head + "\n").reports) == 0
    with pytest.raises(ReportFormatError, match="empty file"):
        read_reports("\n\n")


# --- properties ----------------------------------------------------------------

junk_text = st.text(max_size=12)
junk_changes = st.dictionaries(st.sampled_from(COLUMNS), junk_text, min_size=1, max_size=5)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(st.none(), junk_changes), min_size=1, max_size=12),
    st.sampled_from(["csv", "jsonl"]),
)
def test_junk_rows_never_raise_and_every_row_is_accounted_for(
    plan: list[dict[str, str] | None], fmt: str
) -> None:
    rows = []
    for i, changes in enumerate(plan):
        if changes is None:
            rows.append(row(report_id=f"good-{i}", source="good-source"))
        else:
            rows.append({**row(report_id=f"junk-{i}", source="junk-source"), **changes})
    data = to_csv(rows) if fmt == "csv" else "".join(json.dumps(r) + "\n" for r in rows)
    result = read_reports(data, format=fmt)  # type: ignore[arg-type]
    assert len(result.reports) + len(result.rejected) + result.duplicates == len(rows)
    good = {f"good-{i}" for i, c in enumerate(plan) if c is None}
    accepted = set(result.reports.report_id[result.reports.source == "good-source"])
    assert good <= accepted
    assert len({r.line for r in result.rejected}) == len(result.rejected)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.one_of(st.none(), junk_changes), min_size=1, max_size=10).flatmap(
        lambda plan: st.tuples(st.just(plan), st.permutations(range(len(plan))))
    )
)
def test_row_order_does_not_change_the_accepted_set(
    plan_and_order: tuple[list[dict[str, str] | None], list[int]],
) -> None:
    plan, order = plan_and_order
    rows = [{**row(), **(changes or {}), "report_id": f"r-{i}"} for i, changes in enumerate(plan)]

    def accepted(rs: list[dict[str, str]]) -> set[tuple[object, ...]]:
        t = read_reports(to_csv(rs)).reports
        return set(
            zip(
                t.source,
                t.report_id,
                t.observed_at.tolist(),
                t.lat.tolist(),
                t.event_type,
                t.notes,
                strict=True,
            )
        )

    assert accepted(rows) == accepted([rows[i] for i in order])


# --- bad input (issue #13): a clear error or a per-row rejection, never a crash ---------

_HEAD = "report_id,source,observed_at,lat,lon,event_type,notes\n"


def _row(rid: str, notes: str = "", lat: str = "36.25") -> str:
    return f"{rid},amman,2016-09-13T04:10:00+03:00,{lat},37.13,shelling,{notes}\n"


def test_deeply_nested_json_line_is_a_rejection_not_a_recursion_error():
    deep = '{"report_id": "x", "notes": ' + "[" * 100_000 + "]" * 100_000 + "}"
    good = json.dumps({**GOOD, "report_id": "ok"})
    r = read_reports(f"{deep}\n{good}\n", format="jsonl")
    assert r.reports.report_id.tolist() == ["ok"]
    assert [(x.line, "nested too deeply" in x.reason) for x in r.rejected] == [(1, True)]


def test_an_integer_over_4300_digits_is_a_rejection():
    big = json.dumps({**GOOD, "report_id": "big"})[:-1] + ', "count": ' + "9" * 5000 + "}"
    r = read_reports(big + "\n", format="jsonl")
    assert len(r.reports) == 0
    [rej] = r.rejected
    assert "4300 digits" in rej.reason and "set_int_max_str_digits" not in rej.reason


@pytest.mark.parametrize("quote_elsewhere", [False, True])  # Arrow path; csv-module path
def test_a_field_over_128_kib_rejects_its_row_only(quote_elsewhere):
    first = _row("a-0", 'say "hi' if quote_elsewhere else "")
    text = _HEAD + first + _row("a-1", "x" * (128 * 1024 + 1)) + _row("a-2")
    r = read_reports(text)
    assert r.reports.report_id.tolist() == ["a-0", "a-2"]
    [rej] = r.rejected
    assert (rej.line, rej.field, rej.report_id) == (3, "notes", "a-1")
    assert "131,073 characters" in rej.reason and "128 KiB" in rej.reason
    assert len(read_reports(_HEAD + _row("a-1", "x" * 128 * 1024)).reports) == 1  # at the limit


def test_the_field_limit_counts_characters_not_bytes():
    # 100,000 characters of two bytes each: over the limit in bytes, within it in characters.
    wide = "é" * 100_000
    r = read_reports(_HEAD + _row("a-1", wide) + _row("a-2", wide + "é" * 31_073))
    assert r.reports.report_id.tolist() == ["a-1"]
    [rej] = r.rejected
    assert rej.field == "notes" and "131,073 characters" in rej.reason


def test_an_unclosed_quote_says_where_it_opened():
    text = _HEAD + _row("a-1") + '"a-2,amman,2016-09-13T04:10:00+03:00,36.25,37.13,shelling,\n'
    text += _row("a-3") + _row("a-4")
    r = read_reports(text)
    assert r.reports.report_id.tolist() == ["a-1"]
    [rej] = r.rejected
    assert rej.line == 3 and "quote opened on line 3 is never closed" in rej.reason
    assert "lines 3-5" in rej.reason


def test_a_closed_multiline_quote_at_the_end_is_fine():
    r = read_reports(_HEAD + _row("a-1", '"two\nlines"') + "\n\n")
    assert r.rejected == [] and r.reports.notes.tolist() == ["two\nlines"]


def test_a_duplicate_header_column_is_an_error_naming_it():
    with pytest.raises(ReportFormatError, match=r"'lat' \(columns 4, 8\)"):
        read_reports(_HEAD.replace("notes", "notes,LAT") + _row("a-1", ",1"))


@pytest.mark.parametrize(("lat", "ok"), [("1e-400", False), ("-0.0e-5", True), ("0", True)])
def test_a_coordinate_that_underflows_is_rejected_not_stored_as_zero(lat, ok):
    for fmt, text in (
        ("csv", _HEAD + _row("a-1", lat=lat)),
        ("jsonl", json.dumps({**GOOD, "lat": lat}) + "\n"),
    ):
        r = read_reports(text, format=fmt)
        assert len(r.reports) == int(ok), (fmt, r.rejected)
        if not ok:
            assert r.rejected[0].field == "lat" and "too small" in r.rejected[0].reason
