"""ACLED and HXL importers on made-up rows (tests/fixtures/acled, tests/fixtures/hxl)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from truce.domain.model import DIRECTIONS, EVENT_TYPES
from truce.errors import ReportFormatError
from truce.formats.importers import acled
from truce.formats.reports import read_reports

FIXTURES = Path(__file__).parent / "fixtures"
ACLED = FIXTURES / "acled" / "acled_madeup.csv"
HXL = FIXTURES / "hxl" / "hxl_madeup.csv"


def _by_id(path: Path) -> dict[str, dict[str, object]]:
    t = read_reports(path).reports
    return {
        str(t.report_id[i]): {
            "line": int(t.line[i]),
            "event_type": EVENT_TYPES[t.event_type[i]],
            "direction": DIRECTIONS[t.direction[i]],
            "actor": t.actor[i],
            "target": t.target[i],
            "precision_m": float(t.precision_m[i]),
            "observed_at": str(t.observed_at[i])[:19],
            "observed_to": str(t.observed_to[i])[:19],
            "fatalities": float(t.fatalities[i]),
            "notes": t.notes[i],
            "source": t.source[i],
            "dataset": t.dataset[i],
            "original": t.original[i],
            "source_url": t.source_url[i],
            "low": float(t.fatalities_low[i]),
            "high": float(t.fatalities_high[i]),
        }
        for i in range(len(t))
    }


# --- ACLED ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_id", "event_type", "direction"),
    [
        ("XMP1", "airstrike", "attack"),  # Air/drone strike (Explosions/Remote violence)
        ("XMP2", "shelling", "attack"),  # Shelling/artillery/missile attack
        ("XMP3", "armed_clash", "mutual"),  # Battles: who attacked is not coded
        ("XMP4", "ground_advance", "mutual"),  # Government regains territory
        ("XMP5", "ground_advance", "mutual"),  # Non-state actor overtakes territory
        ("XMP6", "attack_on_humanitarian", "attack"),  # Attack, notes name aid workers
        ("XMP7", "armed_clash", "attack"),  # Attack on civilians, no aid workers
        ("XMP8", "armed_clash", "attack"),  # Remote explosive/landmine/IED
        ("XMP9", "other", "mutual"),  # Looting/property destruction
        ("XMP10", "other", "mutual"),  # Peaceful protest
    ],
)
def test_acled_sub_event_types_map_to_event_types_and_direction(
    event_id: str, event_type: str, direction: str
) -> None:
    row = _by_id(ACLED)[event_id]
    assert (row["event_type"], row["direction"]) == (event_type, direction)
    assert "-> " + event_type in str(row["notes"])


def test_acled_associated_actors_join_their_side_as_a_list() -> None:
    rows = _by_id(ACLED)
    assert rows["XMP3"]["actor"] == "Military Forces of Exampleland (2000-); Example Militia"
    assert rows["XMP3"]["target"] == (
        "Example Liberation Front; Example Brigade; Example Battalion"
    )
    assert rows["XMP10"]["target"] == ""


def test_acled_geo_precision_is_1_25_or_100_km() -> None:
    rows = _by_id(ACLED)
    assert [rows[k]["precision_m"] for k in ("XMP1", "XMP2", "XMP4")] == [1e3, 25e3, 100e3]


def test_acled_time_precision_is_the_day_the_iso_week_or_the_month_in_local_time() -> None:
    rows = _by_id(ACLED)
    # 5 March 2024, Damascus UTC+3
    assert (rows["XMP1"]["observed_at"], rows["XMP1"]["observed_to"]) == (
        "2024-03-04T21:00:00",
        "2024-03-05T21:00:00",
    )
    # Wednesday 6 March: Monday 4 to Sunday 10 March
    assert (rows["XMP2"]["observed_at"], rows["XMP2"]["observed_to"]) == (
        "2024-03-03T21:00:00",
        "2024-03-10T21:00:00",
    )
    # 8 March, month precision: all of March (2024 is a leap year)
    assert (rows["XMP4"]["observed_at"], rows["XMP4"]["observed_to"]) == (
        "2024-02-29T21:00:00",
        "2024-03-31T21:00:00",
    )


def test_acled_rows_keep_source_and_original_and_name_the_dataset() -> None:
    rows = _by_id(ACLED)
    row = rows["XMP1"]
    assert (row["source"], row["dataset"]) == ("acled", "acled")
    assert "source: Example News Agency" in str(row["notes"])
    assert json.loads(str(row["original"]))["sub_event_type"] == "Air/drone strike"


def test_acled_unmapped_kinds_are_other_and_listed_with_their_counts() -> None:
    read = read_reports(ACLED)
    assert read.notices == [
        "ACLED sub_event_type 'Looting/property destruction': 2 row(s) read as event_type "
        "'other' (truce has no event type for it)",
        "ACLED sub_event_type 'Peaceful protest': 1 row(s) read as event_type 'other' "
        "(truce has no event type for it)",
    ]


def test_acled_a_broken_date_rejects_its_row_with_the_line() -> None:
    read = read_reports(ACLED)
    [rejection] = read.rejected
    assert (rejection.line, rejection.report_id, rejection.field) == (12, "XMP11", "event_date")
    assert len(read.reports) == 11


def test_acled_older_exports_with_written_dates_are_read() -> None:
    text = ACLED.read_text().replace("2024-03-05", "05 March 2024", 1)
    assert _by_id_text(text)["XMP1"] == "2024-03-04T21:00:00"


def _by_id_text(text: str) -> dict[str, str]:
    t = read_reports(text, format="acled").reports
    return {str(t.report_id[i]): str(t.observed_at[i])[:19] for i in range(len(t))}


@pytest.mark.parametrize(
    ("notes", "expected"),
    [
        ("Gunmen shot two aid workers of an NGO", "attack_on_humanitarian"),
        ("A WFP truck was attacked", "attack_on_humanitarian"),
        ("Gunmen shot a shepherd", "armed_clash"),
    ],
)
def test_acled_an_attack_is_on_humanitarians_only_when_the_notes_say_so(
    notes: str, expected: str
) -> None:
    assert acled.event_type_of("Attack", notes) == expected


# --- HXL ------------------------------------------------------------------------------


def test_hxl_columns_are_found_by_tag_and_lines_count_the_title_and_header_rows() -> None:
    rows = _by_id(HXL)
    assert [(k, v["line"]) for k, v in rows.items()] == [
        ("H-1", 4),
        ("H-2", 5),
        ("H-3", 6),
        ("H-4", 7),
    ]
    h1 = rows["H-1"]
    assert (h1["actor"], h1["target"], h1["event_type"], h1["direction"]) == (
        "Example Army",
        "Example Front",
        "shelling",
        "attack",
    )
    assert (h1["fatalities"], h1["low"], h1["high"]) == (2.0, 1.0, 3.0)
    assert (h1["source"], h1["source_url"]) == ("Example Cluster", "https://example.org/h-1")
    assert json.loads(str(h1["original"]))["#meta+url"] == "https://example.org/h-1"


def test_hxl_date_end_gives_the_window_and_an_exact_time_is_kept() -> None:
    rows = _by_id(HXL)
    assert (rows["H-2"]["observed_at"], rows["H-2"]["observed_to"]) == (
        "2024-05-01T21:00:00",
        "2024-05-04T21:00:00",
    )
    assert rows["H-3"]["observed_at"] == "2024-05-05T11:30:00"
    assert rows["H-3"]["source"] == "hxl"  # no #meta+source


def test_hxl_acled_names_keep_acleds_direction_and_unknown_kinds_are_listed() -> None:
    rows = _by_id(HXL)
    assert (rows["H-2"]["event_type"], rows["H-2"]["direction"]) == ("armed_clash", "mutual")
    assert (rows["H-3"]["event_type"], rows["H-3"]["direction"]) == ("airstrike", "attack")
    assert rows["H-4"]["event_type"] == "other"
    assert read_reports(HXL).notices == [
        "HXL #event+type 'Looting/property destruction': 1 row(s) read as event_type 'other' "
        "(truce has no event type for it)"
    ]


def test_hxl_bad_rows_are_rejected_with_their_lines() -> None:
    rejected = read_reports(HXL).rejected
    assert [(r.line, r.report_id, r.field) for r in rejected] == [
        (8, "H-5", "observed_at"),
        (9, "H-6", "fatalities_low"),
    ]
    assert "fatalities_low 6 is above fatalities 5" in rejected[1].reason


def test_hxl_tags_match_with_extra_attributes_in_any_order() -> None:
    text = HXL.read_text().replace("#group+name+first", "#group+first+name+ar", 1)
    t = read_reports(text, format="hxl").reports
    assert t.actor[0] == "Example Army"


def test_hxl_without_a_required_tag_is_a_clear_error() -> None:
    text = HXL.read_text().replace("#geo+lat", "#geo+latitude_x", 1)
    with pytest.raises(ReportFormatError, match=r"HXL file without the tag.*#geo\+lat"):
        read_reports(text, format="hxl")


def test_hxl_asked_of_a_file_without_a_hashtag_row_is_a_clear_error() -> None:
    with pytest.raises(ReportFormatError, match="not an HXL file: no hashtag row"):
        read_reports(ACLED, format="hxl")
