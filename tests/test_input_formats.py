"""--input-format: recognising each format, gzip, wrong and truncated files, SPEC §4
columns in SPEC §2 files, order independence, and the CLI's errors."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from truce.cli import app as cli_app
from truce.domain.model import ATTACK, MUTUAL
from truce.errors import ReportFormatError
from truce.formats.importers import IMPORTERS, detect
from truce.formats.reports import INPUT_FORMATS, read_reports

FIXTURES = Path(__file__).parent / "fixtures"
UCDP = FIXTURES / "ucdp" / "ged_syria_2019_slice.csv.gz"
ACLED = FIXTURES / "acled" / "acled_madeup.csv"
HXL = FIXTURES / "hxl" / "hxl_madeup.csv"
TRUCE = FIXTURES / "reports" / "mixed.csv"
runner = CliRunner()

HEADER = "report_id,source,observed_at,lat,lon,event_type"
ROW = "a-1,amman,2016-09-13T04:10:00+03:00,36.25,37.13,shelling"


def test_the_input_formats_are_auto_truce_and_each_importer() -> None:
    assert ("auto", "truce", *IMPORTERS) == INPUT_FORMATS


@pytest.mark.parametrize(
    ("path", "expected"),
    [(UCDP, "ucdp-ged"), (ACLED, "acled"), (HXL, "hxl"), (TRUCE, "truce")],
)
def test_auto_recognises_each_format_by_its_header(path: Path, expected: str) -> None:
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    assert detect(raw, 0) == expected
    assert len(read_reports(path).reports) == len(read_reports(path, format=expected).reports)


def test_json_lines_are_truce() -> None:
    assert detect(b'{"report_id": "a"}\n', 0) == "truce"


@pytest.mark.parametrize(
    ("path", "fmt", "kind", "missing"),
    [
        (TRUCE, "ucdp-ged", "not a UCDP GED file", "id, type_of_violence"),
        (UCDP, "acled", "not an ACLED file", "event_id_cnty, event_date"),
    ],
)
def test_a_file_of_another_format_is_a_clear_error_naming_the_missing_columns(
    path: Path, fmt: str, kind: str, missing: str
) -> None:
    with pytest.raises(ReportFormatError) as caught:
        read_reports(path, format=fmt)
    message = str(caught.value)
    assert kind in message and f"missing column(s) {missing}" in message
    assert "--input-format" in message


def test_truce_asked_of_a_ucdp_file_names_the_missing_columns() -> None:
    with pytest.raises(ReportFormatError, match="missing required column"):
        read_reports(UCDP, format="truce")


def test_auto_on_a_file_of_no_known_format_says_so() -> None:
    with pytest.raises(ReportFormatError, match="matches none of the input formats"):
        read_reports("a,b,c\n1,2,3\n")


def test_an_unknown_input_format_is_a_clear_error() -> None:
    with pytest.raises(ReportFormatError, match="unknown input format 'gdelt'"):
        read_reports(TRUCE, format="gdelt")


# --- gzip -----------------------------------------------------------------------------


def test_a_gzipped_spec_file_reads_like_the_plain_one(tmp_path: Path) -> None:
    plain = read_reports(TRUCE)
    packed = tmp_path / "mixed.csv.gz"
    packed.write_bytes(gzip.compress(TRUCE.read_bytes()))
    for data in (packed, packed.read_bytes()):
        read = read_reports(data)
        assert list(read.reports.report_id) == list(plain.reports.report_id)
        assert [(r.line, r.reason) for r in read.rejected] == [
            (r.line, r.reason) for r in plain.rejected
        ]


def test_a_gzipped_json_lines_file_is_read_by_its_inner_extension(tmp_path: Path) -> None:
    packed = tmp_path / "mixed.jsonl.gz"
    packed.write_bytes(gzip.compress((FIXTURES / "reports" / "mixed.jsonl").read_bytes()))
    assert list(read_reports(packed).reports.report_id) == list(
        read_reports(FIXTURES / "reports" / "mixed.jsonl").reports.report_id
    )


def test_a_truncated_gzip_file_is_a_clear_error_not_an_encoding_one(tmp_path: Path) -> None:
    cut = tmp_path / "cut.csv.gz"
    data = UCDP.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ReportFormatError, match="truncated") as caught:
        read_reports(cut)
    assert "UTF-8" not in str(caught.value)


def test_damaged_gzip_data_is_a_clear_error(tmp_path: Path) -> None:
    data = bytearray(UCDP.read_bytes())
    data[100:110] = b"\xff" * 10
    with pytest.raises(ReportFormatError, match="gzip"):
        read_reports(bytes(data))


def test_a_truncated_plain_ucdp_file_rejects_its_cut_row_with_the_line() -> None:
    text = gzip.decompress(UCDP.read_bytes()).decode()
    lines = text.splitlines(keepends=True)
    whole = "".join(lines[:6])  # header and five single-line rows
    cut = whole + lines[6][: lines[6].index(",Syria,")]  # ends before date_start
    read = read_reports(cut, format="ucdp-ged")
    assert len(read.reports) == 5
    [rejection] = read.rejected
    assert rejection.line == 7 and "date_start" in rejection.reason


# --- SPEC §4 columns in SPEC §2 files ------------------------------------------------


def test_spec4_columns_are_read_from_a_csv() -> None:
    text = (
        f"{HEADER},observed_to,direction,fatalities,fatalities_low,fatalities_high,"
        "source_url,dataset\n"
        f"{ROW},2016-09-14T04:10:00+03:00,Mutual,3,1,5,https://example.org/r?1,ucdp-ged\n"
        f"a-2,amman,2016-09-13T04:10:00+03:00,36.25,37.13,shelling,,,,,,,\n"
    )
    t = read_reports(text).reports
    assert str(t.observed_to[0]) == "2016-09-14T01:10:00.000000000"
    assert np.isnat(t.observed_to[1])
    assert t.direction.tolist() == [MUTUAL, ATTACK]
    assert (t.fatalities_low[0], t.fatalities_high[0]) == (1, 5)
    assert np.isnan(t.fatalities_low[1])
    assert t.source_url.tolist() == ["https://example.org/r?1", ""]
    assert t.dataset.tolist() == ["ucdp-ged", ""]
    assert t.original.tolist() == ["", ""]


def test_spec4_columns_are_read_from_json_lines() -> None:
    row = {
        "report_id": "a-1",
        "source": "amman",
        "observed_at": "2016-09-13T04:10:00+03:00",
        "observed_to": "2016-09-13T06:10:00+03:00",
        "lat": 36.25,
        "lon": 37.13,
        "event_type": "shelling",
        "direction": "attack",
        "fatalities": 2,
        "fatalities_low": 2,
        "fatalities_high": 9,
        "dataset": "x",
    }
    t = read_reports(json.dumps(row) + "\n").reports
    assert str(t.observed_to[0]) == "2016-09-13T03:10:00.000000000"
    assert (t.fatalities_low[0], t.fatalities_high[0], t.dataset[0]) == (2, 9, "x")


@pytest.mark.parametrize(
    ("extra", "field", "reason"),
    [
        ("observed_to=2016-09-13T04:00:00+03:00", "observed_to", "is before observed_at"),
        ("observed_to=yesterday", "observed_to", "not an ISO 8601 time"),
        ("observed_to=2016-09-14T04:10:00", "observed_to", "no UTC offset"),
        ("direction=sideways", "direction", "direction must be attack or mutual"),
        ("fatalities_low=-1", "fatalities_low", "not a non-negative integer"),
        ("fatalities_high=2.5", "fatalities_high", "not a non-negative integer"),
        ("fatalities_low=5;fatalities_high=4", "fatalities_low", "above fatalities_high 4"),
        ("fatalities=3;fatalities_low=4", "fatalities_low", "above fatalities 3"),
        ("fatalities=3;fatalities_high=2", "fatalities_high", "below fatalities 3"),
        ("source_url=www.example.org", "source_url", "not an absolute URL"),
    ],
)
def test_each_bad_spec4_value_rejects_its_row_with_a_reason(
    extra: str, field: str, reason: str
) -> None:
    cells = dict(pair.split("=", 1) for pair in extra.split(";"))
    text = f"{HEADER},{','.join(cells)}\n{ROW},{','.join(cells.values())}\n{ROW.replace('a-1', 'a-2')},{',' * (len(cells) - 1)}\n"
    read = read_reports(text)
    assert list(read.reports.report_id) == ["a-2"]
    [rejection] = read.rejected
    assert (rejection.line, rejection.field) == (2, field)
    assert reason in rejection.reason


# --- order independence -------------------------------------------------------------


def _ucdp_lines() -> tuple[str, list[str]]:
    import csv
    import io

    text = gzip.decompress(UCDP.read_bytes()).decode()
    records = list(csv.reader(io.StringIO(text, newline="")))
    out = []
    for record in records:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(record)
        out.append(buf.getvalue())
    return out[0], out[1:]


_HEADER_LINE, _RECORDS = _ucdp_lines()


def _as_set(text: str) -> dict[str, tuple[object, ...]]:
    t = read_reports(text, format="ucdp-ged").reports
    columns = [
        t.observed_at,
        t.observed_to,
        t.precision_m,
        t.event_type,
        t.direction,
        t.fatalities_low,
        t.fatalities_high,
        t.notes,
        t.original,
    ]
    return {str(t.report_id[i]): tuple(str(c[i]) for c in columns) for i in range(len(t.report_id))}


_REFERENCE = _as_set(_HEADER_LINE + "".join(_RECORDS))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.permutations(range(len(_RECORDS))))
def test_reading_ucdp_rows_does_not_depend_on_their_order(order: list[int]) -> None:
    shuffled = _HEADER_LINE + "".join(_RECORDS[i] for i in order)
    assert _as_set(shuffled) == _REFERENCE


# --- CLI ------------------------------------------------------------------------------


def test_evaluate_reads_a_ucdp_export_as_is_and_lists_what_it_noticed() -> None:
    r = runner.invoke(
        cli_app,
        ["evaluate", "--agreement", "sochi-2018-09", "--reports", str(UCDP), "--format", "json"],
    )
    assert r.exit_code == 0, r.output
    start = r.stdout.index("{")
    document = json.loads(r.stdout[start:])
    assert document["rejected"] == []


def test_evaluate_with_the_wrong_input_format_fails_without_a_traceback() -> None:
    r = runner.invoke(
        cli_app,
        ["evaluate", "-a", "sochi-2018-09", "-r", str(UCDP), "--input-format", "acled"],
    )
    assert r.exit_code == 2
    assert "not an ACLED file" in " ".join(r.output.split())
    assert "Traceback" not in r.output


def test_evaluate_on_a_truncated_gzip_fails_without_a_traceback(tmp_path: Path) -> None:
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(UCDP.read_bytes()[:3000])
    r = runner.invoke(cli_app, ["evaluate", "-a", "sochi-2018-09", "-r", str(cut)])
    assert r.exit_code == 2
    assert "truncated" in r.output and "Traceback" not in r.output


def test_evaluate_rejects_an_unknown_input_format_before_reading() -> None:
    r = runner.invoke(
        cli_app, ["evaluate", "-a", "sochi-2018-09", "-r", str(UCDP), "--input-format", "gdelt"]
    )
    assert r.exit_code == 2 and "Traceback" not in r.output


def test_a_file_without_spec4_columns_reads_them_as_not_stated() -> None:
    t = read_reports(f"{HEADER}\n{ROW}\n{ROW.replace('a-1', 'a-2')}\n").reports
    assert np.isnat(t.observed_to).all() and t.direction.tolist() == [ATTACK, ATTACK]
    assert np.isnan(t.fatalities_low).all() and np.isnan(t.fatalities_high).all()
    assert t.source_url.tolist() == t.dataset.tolist() == t.original.tolist() == ["", ""]
