"""SPEC §3 JSON: the dicts, and the text written column by column, which must be byte for
byte what json.dumps writes for those dicts."""

from __future__ import annotations

import io
import json
import math
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from bench.scenario import AS_OF, generate
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.geoms import CASTELLO_ROAD, offset_from
from tests.scenario import at, run

from truce.domain.evaluate import evaluate
from truce.domain.timeparse import from_utc64, iso, iso_many
from truce.formats.agreement import parse_agreement
from truce.formats.evaluation_json import (
    evaluation_json,
    evaluation_json_parts,
    evaluation_to_dict,
    write_evaluation_json,
)
from truce.formats.json_columns import (
    Categories,
    JsonStyle,
    floats,
    records,
    round_like_python,
    string_lists,
)
from truce.formats.reports import read_reports

CITY = (37.16117, 36.20124)
STYLES = [
    pytest.param({}, id="json.dumps defaults"),
    pytest.param({"indent": 1, "ensure_ascii": False}, id="as truce evaluate prints"),
    pytest.param({"indent": 3, "ensure_ascii": True}, id="indent 3, ascii"),
]

# Sources and report ids that test the sort order and the escaping: a source that is a
# prefix of another, one with a ":" in it, quotes, backslashes, control characters and
# non-ASCII text.
AWKWARD = [
    ("sarc", "r-10"),
    ("sarc", "r-9"),
    ("sarc", "r-1"),
    ("sarc-x", "r-2"),
    ("a:b", "z"),
    ("a", "c"),
    ("a", "b:9"),
    ('quote"d', "back\\slash"),
    ("ünïcode", "é-1"),
    ("ctl", "tab\there\x01"),
    ("sarc", "r-100"),
]


def awkward_rows() -> list[dict]:
    rows = []
    for k, (source, report_id) in enumerate(AWKWARD):
        rows.append(
            {
                "source": source,
                "report_id": report_id,
                "observed_at": f"2016-09-13T04:{10 + k:02d}:00+03:00",
                **at(CITY),
                "event_type": "shelling",
                "actor": "Syrian Arab Army",
                "fatalities": str(k % 3) if k % 2 else "",
                "location_precision_m": "150.5" if k == 3 else "",
            }
        )
    near_road = offset_from(CASTELLO_ROAD, 1240)
    rows += [
        {
            "source": "amman",
            "report_id": "s-1",
            "observed_at": "2016-09-16T10:00:00+03:00",
            **at(near_road),
            "event_type": "weapon_sighting",
            "weapon": "artillery",
            "actor": "SAA",
            "count": "3",
        },
        {
            "source": "hmeimim",
            "report_id": "s-2",
            "observed_at": "2016-09-16T10:05:00+03:00",
            **at(near_road),
            "event_type": "weapon_sighting",
            "weapon": "artillery",
            "actor": "SAA",
        },
    ]
    return rows


@pytest.fixture(scope="module")
def awkward():
    return run(awkward_rows())


@pytest.mark.parametrize("style", STYLES)
def test_json_text_is_byte_for_byte_what_json_dumps_writes_for_the_dicts(awkward, style):
    assert evaluation_json(awkward, **style) == json.dumps(evaluation_to_dict(awkward), **style)


# Sources json writes as they are, none holding ":": the report keys are sorted and joined
# by Arrow. Ids out of order within a source (a run of four), one a prefix of another,
# and non-ASCII ones, which must sort as Python compares them.
PLAIN = [
    ("sarc", "r-9"),
    ("sarc-x", "r-2"),
    ("sarc", "r-10"),
    ("sarc", "é-1"),
    ("sarc", "r-1"),
    ("a", "c"),
    ("a", "b:9"),
    ("zz", "ﬀ-2"),
    ("zz", "z-2"),
]


@pytest.mark.parametrize(
    "pairs",
    [
        pytest.param(PLAIN, id="plain"),
        pytest.param([*PLAIN, ("sarc", 'quote"d')], id="an id json escapes"),
    ],
)
@pytest.mark.parametrize("style", STYLES)
def test_report_keys_sorted_and_joined_by_arrow_are_what_json_dumps_writes(pairs, style):
    rows = [
        {
            "source": source,
            "report_id": report_id,
            "observed_at": f"2016-09-13T04:{10 + k:02d}:00+03:00",
            **at(CITY),
            "event_type": "shelling",
            "actor": "Syrian Arab Army",
        }
        for k, (source, report_id) in enumerate(pairs)
    ]
    ev = run(rows)
    (incident,) = evaluation_to_dict(ev)["incidents"]
    assert incident["report_ids"] == sorted(f"{s}:{r}" for s, r in pairs)
    for block_rows in (1, 1 << 14):
        text = "".join(evaluation_json_parts(ev, block_rows=block_rows, **style))
        assert text == json.dumps(evaluation_to_dict(ev), **style)


@pytest.mark.parametrize("style", STYLES)
def test_an_evaluation_with_no_reports_writes_the_same_text(style):
    ev = run([])
    assert evaluation_json(ev, **style) == json.dumps(evaluation_to_dict(ev), **style)


@pytest.mark.parametrize("block_rows", [1, 2, 3])
@pytest.mark.parametrize("style", STYLES)
def test_json_written_in_blocks_of_rows_is_the_same_text(awkward, style, block_rows):
    parts = list(evaluation_json_parts(awkward, block_rows=block_rows, **style))
    assert "".join(parts) == json.dumps(evaluation_to_dict(awkward), **style)
    assert len(parts) == 3 + -(-len(awkward.incidents) // block_rows) + max(
        -(-len(awkward.violations) // block_rows), 1
    )


@pytest.fixture(scope="module")
def bench_evaluation():
    """A thousand incidents and violations of every rule kind, from the benchmark's scenario."""
    scenario = generate(3_000, seed=2)
    text = scenario.reports.to_csv(index=False, lineterminator="\n")
    read = read_reports(text, format="csv")
    agreement = parse_agreement(scenario.agreement_yaml)
    return evaluate(agreement, read.reports, as_of=AS_OF, rejected=read.rejected)


@pytest.mark.parametrize("block_rows", [97, 1 << 15])
def test_streamed_document_of_a_real_evaluation_is_what_json_dumps_writes(
    bench_evaluation, block_rows
):
    ev = bench_evaluation
    assert len(ev.incidents) > 1_000 and len(ev.violations) > 100
    out = io.StringIO()
    if block_rows == 1 << 15:
        write_evaluation_json(ev, out, indent=1, ensure_ascii=False)
    else:
        out.writelines(
            evaluation_json_parts(ev, block_rows=block_rows, indent=1, ensure_ascii=False)
        )
    expected = evaluation_to_dict(ev)
    assert json.loads(out.getvalue()) == expected
    assert out.getvalue() == json.dumps(expected, indent=1, ensure_ascii=False)


def test_report_ids_and_sources_are_sorted_as_plain_strings(awkward):
    data = evaluation_to_dict(awkward)
    reports = awkward.reports
    for i, incident in enumerate(data["incidents"]):
        members = awkward.incidents.member_indices(i)
        keys = [f"{reports.source[m]}:{reports.report_id[m]}" for m in members]
        assert incident["report_ids"] == sorted(keys)
        assert incident["sources"] == sorted({str(reports.source[m]) for m in members})
    shelling = next(inc for inc in data["incidents"] if inc["event_type"] == "shelling")
    assert len(shelling["report_ids"]) == len(AWKWARD)  # all in one incident


@pytest.mark.parametrize("reverse", [False, True])
def test_two_reports_of_one_source_in_an_incident_are_in_key_order(reverse):
    rows = [
        {
            "source": source,
            "report_id": report_id,
            "observed_at": f"2016-09-13T04:1{k}:00+03:00",
            **at(CITY),
            "event_type": "shelling",
            "actor": "SAA",
        }
        for k, (source, report_id) in enumerate(
            [("sarc", "r-9"), ("sarc-x", "r-1"), ("sarc", "r-10")]
        )
    ]
    ev = run(rows[::-1] if reverse else rows)
    (incident,) = evaluation_to_dict(ev)["incidents"]
    assert incident["report_ids"] == ["sarc-x:r-1", "sarc:r-10", "sarc:r-9"]
    assert json.loads(evaluation_json(ev))["incidents"] == [incident]


def test_violations_point_at_their_incident_and_carry_the_measured_distance(awkward):
    data = evaluation_to_dict(awkward)
    by_id = {inc["id"]: inc for inc in data["incidents"]}
    for v in data["violations"]:
        assert v["id"] in by_id[v["incident"]]["violations"]
        assert v["at"] == by_id[v["incident"]]["observed_at"]
    (withdrawal,) = [v for v in data["violations"] if v["kind"] == "withdrawal"]
    assert withdrawal["measured_m"] == pytest.approx(1240, abs=1)
    assert withdrawal["status"] == "corroborated"
    assert all(v["measured_m"] is None for v in data["violations"] if v["kind"] == "cease_attacks")


# --- the column writer on its own ---------------------------------------------------------

TEXT = st.text(st.characters(codec="utf-8"), max_size=8)
SCALAR = st.one_of(
    st.none(),
    TEXT,
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**70), 2**70),
)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(TEXT, SCALAR, st.lists(TEXT, max_size=4), st.sampled_from(["x", "y", None])),
        max_size=12,
    ),
    indent=st.sampled_from([None, 0, 1, 2]),
    ensure_ascii=st.booleans(),
    level=st.integers(0, 3),
)
def test_records_are_what_json_dumps_writes(rows, indent, ensure_ascii, level):
    style = JsonStyle(indent, ensure_ascii)
    names, scalars, lists, few = zip(*rows, strict=True) if rows else ((), (), (), ())
    offsets = np.concatenate([[0], np.cumsum([len(x) for x in lists])]).astype(np.int64)
    flat = np.array([s for x in lists for s in x], dtype=object)
    scalar_texts = np.array([json.dumps(v, ensure_ascii=ensure_ascii) for v in scalars], object)
    fields = [
        ("name", style.strings(np.array(names, dtype=object))),
        ("value", scalar_texts),
        ("items", string_lists(flat, offsets, level + 2, style)),
        ("few", style.few_strings(np.array(few, dtype=object))),
        ("fixed", Categories(np.zeros(len(rows), dtype=np.int64), np.array(['"k"'], object))),
    ]
    dicts = [
        {"name": n, "value": v, "items": list(x), "few": f, "fixed": "k"}
        for n, v, x, f in zip(names, scalars, lists, few, strict=True)
    ]
    # Nest the list at `level` the way json.dumps would reach it.
    wrapped: object = dicts
    for _ in range(level):
        wrapped = [wrapped]
    expected = json.dumps(wrapped, indent=indent, ensure_ascii=ensure_ascii)
    text = "".join(records(fields, level, style))
    start = -1
    for _ in range(level + 1):  # the list's own bracket: the first ones are the wrappers'
        start = expected.find("[", start + 1)
    assert expected[start : start + len(text)] == text


@pytest.mark.parametrize("block_rows", [1, 2, 4, 7])
def test_records_written_in_blocks_of_rows_join_to_the_whole_array(block_rows):
    style = JsonStyle(1, False)
    n = 7
    offsets = np.array([0, 2, 2, 3, 6, 6, 7, 9], dtype=np.int64)
    items = np.array([f"s-{k}" for k in range(9)], dtype=object)
    fields = [
        ("id", style.strings(np.array([f"i-{k}" for k in range(n)], dtype=object))),
        ("items", string_lists(items, offsets, 3, style)),
        ("few", style.few_strings(np.array(["x", "y", None, "x", "y", "x", None], dtype=object))),
    ]
    whole = "".join(records(fields, 1, style))
    parts = []
    for a in range(0, n, block_rows):
        b = min(a + block_rows, n)
        block = [
            (name, col[a:b] if isinstance(col, np.ndarray) else col.rows(a, b))
            for name, col in fields
        ]
        parts += records(block, 1, style, opens=a == 0, closes=b == n)
    assert "".join(parts) == whole
    assert json.loads(whole)[3] == {"id": "i-3", "items": ["s-3", "s-4", "s-5"], "few": "x"}


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.integers(-(10**9), 10**9).map(lambda k: k / 2e6),  # exact halves at 6 digits
            st.floats(-180, 180),
        ),
        max_size=40,
    ),
    digits=st.sampled_from([1, 6]),
)
def test_rounding_columns_matches_pythons_round(values, digits):
    got = round_like_python(np.array(values, dtype=np.float64), digits)
    for v, g in zip(values, got.tolist(), strict=True):
        r = round(v, digits)
        assert (math.isnan(r) and math.isnan(g)) or (repr(r) == repr(g))


def test_floats_are_written_as_json_writes_them():
    # Beside and across the bounds where Arrow's digits are used (repr's are the same there).
    edges = [75.0, 1e-4, 1e-4 * 0.99, 999_999_999.5, 1e9 + 0.5, 123456789012345.6, 6.8e-05]
    values = np.array([0.1, -0.0, 1e16, 1e-5, math.nan, math.inf, -math.inf, 37.123456, *edges])
    assert floats(values).tolist() == [json.dumps(v) for v in values.tolist()]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.floats()
        | st.floats(-1e10, 1e10)
        | st.builds(round, st.floats(-200, 200), st.integers(0, 9))
        | st.builds(lambda m, e: m * 10.0**e, st.floats(-10, 10), st.integers(-6, 10)),
        max_size=50,
    )
)
def test_any_floats_are_written_as_json_writes_them(values):
    assert floats(np.array(values, dtype=np.float64)).tolist() == [json.dumps(v) for v in values]


# --- local times for whole columns ---------------------------------------------------------

ZONES = [
    UTC,
    timezone(timedelta(hours=3)),
    timezone(-timedelta(hours=5, minutes=30)),
    ZoneInfo("Asia/Damascus"),
    ZoneInfo("America/St_Johns"),
    ZoneInfo("Australia/Lord_Howe"),
]


@settings(max_examples=60, deadline=None)
@given(
    instants=st.lists(
        st.datetimes(datetime(1950, 1, 1), datetime(2040, 1, 1)), min_size=1, max_size=30
    ),
    zone=st.sampled_from(ZONES),
)
def test_iso_many_is_iso_of_each_instant(instants, zone):
    values = np.array(instants, dtype="datetime64[ns]")
    assert iso_many(values, zone).tolist() == [iso(from_utc64(v, zone)) for v in values]


def test_iso_many_across_a_daylight_saving_change():
    damascus = ZoneInfo("Asia/Damascus")  # 2016-03-25 00:00 local: +02:00 -> +03:00
    values = np.arange(
        np.datetime64("2016-03-24T21:00"), np.datetime64("2016-03-24T23:00"), np.timedelta64(7, "m")
    ).astype("datetime64[ns]")
    texts = iso_many(values, damascus).tolist()
    assert texts == [iso(from_utc64(v, damascus)) for v in values]
    assert texts[0].endswith("+02:00") and texts[-1].endswith("+03:00")


@pytest.mark.parametrize("start", [0, 1, 500])
def test_incidents_made_in_blocks_are_the_incidents_made_at_once(bench_evaluation, start):
    """What a computing process stores (`IncidentBlocks`, a block at a time) is the
    incidents `evaluation_to_dict` makes from that position on, violations left to the
    store; so are the violations and the rest."""
    from truce.formats.evaluation_dicts import IncidentBlocks

    ev = bench_evaluation
    whole = evaluation_to_dict(ev, incidents_from=start) if start else evaluation_to_dict(ev)
    made = evaluation_to_dict(ev, incidents_from=start, blocks=True)
    assert isinstance(made["incidents"], IncidentBlocks)
    made["incidents"].rows = 97  # several blocks, the last one short
    got = list(made["incidents"])
    assert len(got) == len(made["incidents"]) == len(ev.incidents) - start
    expected = [{**inc, "violations": []} for inc in whole["incidents"]]
    assert got == expected
    assert list(made["incidents"]) == got  # made again on each reading
    assert {k: v for k, v in made.items() if k != "incidents"} == {
        k: v for k, v in whole.items() if k != "incidents"
    }
