"""The report reader's fast paths (pyarrow) agree with its exact references.

The CSV fast path must give the same rows, lines and rejections as the
csv-module fallback; the Arrow casts of times and coordinates must accept
only what the reference parsers (pandas) accept, with the same values.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from truce.formats import reports
from truce.formats.reports import checks as report_checks
from truce.formats.reports import csv as report_csv
from truce.formats.reports import read_reports
from truce.formats.reports import values as report_values
from truce.formats.reports.csv import parse_csv
from truce.formats.reports.rows import COLUMNS, TextRows
from truce.formats.reports.tuning import TUNING, ReaderTuning

HEADER = ["report_id", "source", "observed_at", "lat", "lon", "event_type", "notes"]
GOOD = ["r-1", "amman", "2016-09-13T04:10:00+03:00", "36.25", "37.13", "shelling", ""]


def exact(data: bytes) -> TextRows:
    """The csv-module reference for the same bytes."""
    header, _ = report_csv._read_header(data, 0, "x")
    return report_csv._parse_csv_slowly(data, 0, "x", header)


def fast(data: bytes, tuning: ReaderTuning = TUNING) -> TextRows | None:
    header, header_lines = report_csv._read_header(data, 0, "x")
    return report_csv._parse_with_arrow(data, 0, header, header_lines, tuning=tuning)


def as_lists(rows: TextRows) -> tuple[dict[str, list[str]], list[int], list[tuple[int, str]]]:
    return (
        {c: rows.columns[c].to_pylist() for c in sorted(rows.columns)},
        rows.lines.tolist(),
        [(r.line, r.reason) for r in rows.rejected],
    )


# Arrow reads in tiny blocks, so even small files come back in many chunks.
SMALL_BLOCKS = ReaderTuning(csv_block_bytes=4096)


def write(rows: list[list[str]], *, newline: str = "\n") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows([HEADER, *rows])
    return out.getvalue().encode("utf-8")


# --- CSV: fast path == exact path -------------------------------------------------

field_text = st.lists(st.sampled_from([*'ab1 ,"\n\r\t-é\u00a0', "\r\n"]), max_size=8).map("".join)
csv_rows = st.lists(
    st.one_of(
        st.lists(field_text, min_size=len(HEADER), max_size=len(HEADER)),
        st.lists(field_text, min_size=0, max_size=len(HEADER) + 3),  # short, long, blank
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(csv_rows, st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_arrow_path_reads_what_the_csv_module_reads(
    rows: list[list[str]], newline: str, blank_lines: bool
) -> None:
    data = write(rows, newline=newline)
    if blank_lines:
        data = data.replace(newline.encode(), (newline * 2).encode(), 3)
    got = fast(data)
    assert got is None or as_lists(got) == as_lists(exact(data))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(field_text, min_size=len(HEADER), max_size=len(HEADER)), max_size=40))
def test_arrow_path_agrees_across_many_blocks(rows: list[list[str]]) -> None:
    filler = [[f"f-{i}", *GOOD[1:-1], "x" * 100] for i in range(60)]
    data = write([*filler[:30], *rows, *filler[30:]])
    got = fast(data, SMALL_BLOCKS)
    assert got is None or as_lists(got) == as_lists(exact(data))


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"r-1,a,t,1,2,shelling,x\n", id="plain"),
        pytest.param(
            b'r-1,a,t,1,2,shelling,"two\nlines"\nr-2,a,t,1,2,shelling,x\n', id="quoted-lf"
        ),
        pytest.param(b"r-1,a,t,1,2,shelling,x\n\n\nr-2,a,t,1,2,shelling,x\n", id="blank-lines"),
        pytest.param(b"r-1,a,t,1,2,shelling,x\n   \nr-2,a,t,1,2,shelling\n", id="spaces-short"),
        pytest.param(b'r-1,a,t,1,2,shelling,x\n""\nr-2,a,t,1,2,shelling,x,,\n', id="empty-quoted"),
        pytest.param(b'r-1,a,t,1,2,shelling,"a\nb",extra\nr-2,a,t,1,2,shelling\n', id="extra"),
        pytest.param(b"r-1,a,t,1,2,shelling,x\r\n\r\nr-2,a,t,1,2,shelling,x\r\n", id="crlf"),
        pytest.param(b"r-1,a,t,1,2,shelling,x", id="no-final-newline"),
        pytest.param(b"", id="header-only"),
    ],
)
def test_arrow_path_handles_shapes_without_falling_back(body: bytes) -> None:
    data = ",".join(HEADER).encode() + b"\n" + body
    got = fast(data)
    assert got is not None
    assert as_lists(got) == as_lists(exact(data))


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'r-1,a,t,1,2,shelling,say "hi\nr-2,a,t,1,2,shelling,x\n', id="stray-quote"),
        pytest.param(b'r-1,a,t,1,2,shelling,"a"b\nr-2,a,t,1,2,shelling,x\n', id="text-after-quote"),
        pytest.param(b"r-1,a,t,1,2,shelling,x\rr-2,a,t,1,2,shelling,x\n", id="bare-cr"),
        pytest.param(b'r-1,a,t,1,2,shelling,"open\n', id="unterminated"),
    ],
)
def test_files_the_fast_path_cannot_vouch_for_use_the_exact_path(body: bytes) -> None:
    data = ",".join(HEADER).encode() + b"\n" + body
    assert fast(data) is None
    assert as_lists(parse_csv(data, 0, "x", has_default_source=False)) == as_lists(exact(data))


def test_stray_quotes_that_cancel_out_still_give_exact_lines() -> None:
    """Quote parity and the parser would disagree about two records in opposite
    directions, leaving the row count right and the lines wrong; the quote check
    sends the file to the exact path."""
    good = ",".join(GOOD[1:-1])
    body = f'1,{good},x"y\n2,{good},"q\n3",z"w\n4,{good},x\n'
    data = (",".join(HEADER) + "\n" + body).encode()
    assert fast(data) is None
    result = read_reports(data)
    reference = report_checks.check_rows(exact(data), None, None)
    assert list(result.reports.line) == list(reference.reports.line) == [2, 5]
    assert result.rejected == reference.rejected and result.rejected[0].line == 3


def test_short_rows_in_a_big_quoted_file_keep_file_order_and_lines() -> None:
    rows = [[f"r-{i}", "amman", *GOOD[2:-1], f"note\n{i}"] for i in range(200)]
    data = write(rows)
    lines = data.split(b"\n")
    lines[41] = b"r-short,amman," + GOOD[2].encode() + b",1,2"  # row 20's first line, short
    lines[42] = b""
    data = b"\n".join(lines)
    got = fast(data, SMALL_BLOCKS)
    assert got is not None
    assert as_lists(got) == as_lists(exact(data))
    assert "r-short" in got.columns["report_id"].to_pylist()


# --- whole reads -------------------------------------------------------------------


def test_a_mapped_file_reads_like_its_bytes(tmp_path: Path) -> None:
    text = "\ufeff" + ",".join(HEADER) + "\n" + ",".join(GOOD) + "\nr-2,x,bad,1,2,shelling,\n"
    path = tmp_path / "reports.csv"
    path.write_text(text, encoding="utf-8")
    mapped = read_reports(path, tuning=ReaderTuning(map_bytes=16))
    copied = read_reports(text.encode("utf-8"))
    assert list(mapped.reports.report_id) == list(copied.reports.report_id) == ["r-1"]
    assert mapped.rejected == copied.rejected and mapped.rejected[0].line == 3


def test_big_inputs_on_the_thread_pool_read_like_small_ones() -> None:
    rows = [
        [f"r-{i % 90}", ["amman", " amman", "hmeimim"][i % 3], *GOOD[2:-1], ""] for i in range(300)
    ]
    rows[7][3] = "north"
    rows[8][2] = "2016-09-13T04:10:00"
    data = write(rows)
    serial = read_reports(data)
    small = ReaderTuning(csv_block_bytes=4096, parallel_rows=10, piece_rows=16, leaf_rows=4)
    parallel = read_reports(data, tuning=small)
    assert list(parallel.reports.report_id) == list(serial.reports.report_id)
    assert list(parallel.reports.source) == list(serial.reports.source)
    assert parallel.rejected == serial.rejected and len(serial.rejected) == 2
    assert parallel.duplicates == serial.duplicates == 298 - 90  # 90 distinct keys


def test_unicode_whitespace_is_stripped_like_str_strip() -> None:
    row = ["\u00a0r-1\u2003", "\u3000amman\u00a0", *GOOD[2:5], "\u2028shelling\u0085", " as is "]
    result = read_reports(write([row]))
    assert list(result.reports.report_id) == ["r-1"]
    assert list(result.reports.source) == ["amman"]
    assert list(result.reports.notes) == [" as is "]


def test_blank_sources_that_strip_alike_are_one_key() -> None:
    rows = [[*GOOD[:1], "amman ", *GOOD[2:]], [*GOOD[:1], " amman", *GOOD[2:]]]
    result = read_reports(write(rows))
    assert result.duplicates == 1 and list(result.reports.source) == ["amman"]


def test_a_line_with_one_quoted_empty_field_is_skipped_like_a_blank_line() -> None:
    data = write([GOOD]) + b'""\n' + ",".join(["r-2", *GOOD[1:]]).encode() + b"\n"
    result = read_reports(data)
    assert list(result.reports.line) == [2, 4] and result.rejected == []


def test_nan_and_inf_coordinates_are_not_numbers() -> None:
    rows = [
        ["r-1", "a", GOOD[2], "nan", "37", "shelling", ""],
        ["r-2", "a", GOOD[2], "36", "-inf", "shelling", ""],
    ]
    result = read_reports(write(rows))
    assert [r.reason for r in result.rejected] == [
        "lat is not a number: 'nan'",
        "lon is not a number: '-inf'",
    ]


def test_jsonl_value_with_an_unpaired_surrogate_rejects_its_line() -> None:
    good = json.dumps(dict(zip(HEADER, GOOD, strict=True)))
    bad = good.replace('"r-1"', '"r-\\ud800"')
    result = read_reports(good + "\n" + bad + "\n", format="jsonl")
    assert len(result.reports) == 1
    assert [(r.line, r.reason.split(" (")[0]) for r in result.rejected] == [
        (2, "a value is not valid Unicode")
    ]


# --- Arrow casts never decide differently from the reference parsers ----------------

digits = st.integers(0, 99).map(lambda i: f"{i:02d}")
iso_like = st.builds(
    lambda y, mo, d, sep, h, mi, s, frac, off, pad: (
        f"{pad}{y}-{mo}-{d}{sep}{h}:{mi}{s}{frac}{off}{pad}"
    ),
    st.sampled_from(["2016", "1677", "1678", "2261", "2262", "0001", "9999", "+2016", "16"]),
    digits,
    digits,
    st.sampled_from(["T", " ", "t", ""]),
    digits,
    digits,
    st.sampled_from(["", ":00", ":59", ":60", ":5"]),
    st.sampled_from(["", ".5", ".123456789", ".1234567891", ".", ",5"]),
    st.sampled_from(["Z", "z", "+03:00", "+0300", "+03", "-00:00", "+24:00", "+99:00", "", " Z"]),
    st.sampled_from(["", "", " "]),
)
time_text = st.one_of(iso_like, st.text(alphabet="0123456789-:+TZ. ", max_size=26))


@settings(max_examples=300, deadline=None)
@given(st.lists(time_text, min_size=1, max_size=30))
def test_time_cast_decides_like_pandas(values: list[str]) -> None:
    text = pa.chunked_array([pa.array(values, type=pa.string())])
    observed, problem = report_values.times(text, len(values))
    micros, reference_problem = report_values._times_slowly(np.array(values, dtype=object))
    assert problem.tolist() == reference_problem.tolist(), values
    ok = problem == 0
    assert (observed[ok].astype("datetime64[us]").astype(np.int64) == micros[ok]).all()


number_text = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.text(alphabet="0123456789+-.eE_ naif,x", max_size=10),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(number_text, min_size=1, max_size=30))
def test_coordinate_cast_decides_like_pandas(values: list[str]) -> None:
    text = pa.chunked_array([pa.array(values, type=pa.string())])
    numbers, empty, invalid = report_values.coordinates(text, len(values))
    reference, blank = report_values._coordinates_slowly(np.array(values, dtype=object))
    assert empty.tolist() == blank.tolist()
    reference_invalid = ~np.isfinite(reference) & ~blank
    assert invalid.tolist() == reference_invalid.tolist(), values
    fine = ~invalid & ~empty
    np.testing.assert_array_equal(numbers[fine], reference[fine])


def test_a_few_odd_values_among_many_are_bisected_to_the_reference(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    slowly = report_values._times_slowly

    def counted(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        calls.append(len(values))
        return slowly(values)

    monkeypatch.setattr(report_values, "_times_slowly", counted)
    values = ["2016-09-13T04:10:00+03:00"] * 1000
    values[500] = "20160913T041000Z"  # pandas reads it, Arrow's cast does not
    values[900] = "2016-09-13T04:10:00"  # no offset
    pieces = ReaderTuning(piece_rows=64, leaf_rows=4)
    observed, problem = report_values.times(pa.chunked_array([pa.array(values)]), 1000, pieces)
    assert problem[500] == 0 and observed[500] == np.datetime64("2016-09-13T04:10:00")
    assert problem[900] == report_values.TIME_NO_OFFSET
    assert sum(calls) <= 8, calls  # only the refused rows went to pandas


def test_columns_cover_the_spec() -> None:
    assert reports.COLUMNS == COLUMNS and len(COLUMNS) == 24  # SPEC §2 (17) + §4 (6) + §6 status
