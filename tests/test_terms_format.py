"""The SPEC §6 sections of an agreement file and the status of status reports:
values come out right, and each mistake is reported with its path and what to do."""

from __future__ import annotations

from datetime import datetime

import pytest
from tests.scenario import FIXTURES, to_csv

from truce.errors import AgreementError
from truce.formats.agreement import parse_agreement
from truce.formats.reports import read_reports

TEXT = (FIXTURES / "agreements" / "terms-example.yaml").read_text()


def problems(text: str) -> list[str]:
    with pytest.raises(AgreementError) as info:
        parse_agreement(text)
    return [f"{p.path}: {p.message}" for p in info.value.problems]


def test_the_terms_example_loads_every_section():
    a = parse_agreement(TEXT)
    assert [c.group for c in a.commitments] == ["Jaysh al-Islam", "Ahrar al-Sham", "Faylaq al-Sham"]
    jaysh = a.commitments[0]
    assert (jaysh.party, jaysh.via) == ("opp", "US")
    assert jaysh.accepted == datetime.fromisoformat("2016-09-12T20:00:00+03:00")
    assert "Jaysh al-Islam" in next(p for p in a.parties if p.id == "opp").actors
    hosp = a.sites[0]
    assert (hosp.id, hosp.kind, hosp.lon, hosp.lat, hosp.radius_m) == (
        "hosp-1",
        "medical",
        37.18,
        36.21,
        300,
    )
    assert hosp.notified_to == ("gov",) and a.sites[1].declared_by == "TR"
    (convoy,) = a.convoys
    assert convoy.route == ("castello_road",) and convoy.corridor_m == 1000
    assert convoy.window_to == datetime.fromisoformat("2016-09-16T18:00:00+03:00")
    assert [c.kind for c in a.conditions] == [
        "all_of", "checkpoints_established", "forces_withdrawn", "convoys_delivered", "any_of",
        "quiet_days",
    ]  # fmt: skip
    assert a.conditions[-1].params.count == "parties_only"
    assert a.checkpoint_ids() == ("cp_castello_1", "cp_castello_2")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("kind: all_of, of: [quiet-week,", "kind: all_of, of: [quiet-wek,", "conditions[0].of[0]: unknown condition 'quiet-wek'"),
        ("kind: any_of,", "kind: some_of,", "conditions[4].kind: unknown condition kind 'some_of'"),
        ("rules: [r-withdraw, r-dmz]", "rules: [r-withdraw, r-cease]", "rule 'r-cease' is a cease_attacks rule; forces_withdrawn watches"),
        ("checkpoints: [cp_castello_1, cp_castello_2]", "checkpoints: [cp_castello_1, castello_road]", "checkpoint 'castello_road' is a line"),
        ("convoys: [un-aleppo-1], name: Aid", "convoys: [un-aleppo-2], name: Aid", "unknown convoy 'un-aleppo-2'"),
        ("route: [castello_road]", "route: [cp_castello_1]", "route feature 'cp_castello_1' is a point"),
        ("to: 2016-09-16T18:00:00+03:00", "to: 2016-09-13T18:00:00+03:00", "convoys[0].window.to: the window ends before it starts"),
        ("withdrew: 2016-09-14T12:00:00+03:00", "withdrew: 2016-09-11T12:00:00+03:00", "commitments[2].withdrew: a group can only withdraw after it accepted"),
        ("party: opp, via: US, declined", "party: rebels, via: US, declined", "commitments[1].party: unknown party 'rebels'"),
        ("notified_to: [gov]", "notified_to: [govt]", "sites[0].notified_to[0]: unknown party 'govt'"),
        ("sites: [hosp-1, op-9]", "sites: [hosp-1, op-8]", "rules[4].sites[1]: unknown site 'op-8'"),
        ("radius_m: 300", "radius_m: -3", "sites[0].radius_m"),
        ("count: parties_only", "count: parties", "conditions[5].count"),
        ("for: 72h", "for: soon", "conditions[2].for"),
    ],
)  # fmt: skip
def test_each_mistake_in_the_terms_is_reported_with_its_path(old, new, expected):
    assert old in TEXT
    found = problems(TEXT.replace(old, new))
    assert any(expected in p for p in found), found


def test_a_composite_cannot_wait_for_the_phase_that_waits_for_it():
    text = (
        TEXT.replace(
            "  - {id: aid-in,",
            "  - {id: loop, kind: all_of, of: [next-phase, later]}\n  - {id: aid-in,",
        )
        .replace(
            "  - {id: quiet-week, kind: quiet_days,",
            "  - {id: later, kind: quiet_days, days: 1, max_incidents: 0, from: {after: joint-centre}}\n"
            "  - {id: quiet-week, kind: quiet_days,",
        )
        .replace("start: {when: next-phase}", "start: {when: loop}")
    )
    assert any("cycle:" in p for p in problems(text))


# --- status reports ---------------------------------------------------------------------

ROW = {"observed_at": "2016-09-13T10:00:00+03:00", "lat": 36.25, "lon": 37.13}


@pytest.mark.parametrize(
    ("row", "notes"),
    [
        ({"event_type": "checkpoint_status", "status": "established"}, "established"),
        ({"event_type": "checkpoint_status", "notes": "Checkpoint staffed by SARC"}, "Checkpoint staffed by SARC"),
        ({"event_type": "convoy_status", "status": "turned_back", "notes": "at the junction"}, "turned_back; at the junction"),
        ({"event_type": "convoy_status", "notes": "convoy turned back"}, "convoy turned back"),
    ],
)  # fmt: skip
def test_a_status_from_the_status_column_or_notes_is_kept_in_notes(row, notes):
    result = read_reports(to_csv([{**ROW, **row}]), format="csv")
    assert result.rejected == []
    assert list(result.reports.notes) == [notes]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"event_type": "checkpoint_status"}, "checkpoint_status: no status found"),
        ({"event_type": "checkpoint_status", "status": "delivered"}, "status 'delivered' is not one of established, staffed, removed"),
        ({"event_type": "convoy_status", "notes": "convoy on its way"}, "convoy_status: no status found"),
    ],
)  # fmt: skip
def test_a_status_report_without_a_status_of_its_kind_is_rejected(row, reason):
    result = read_reports(to_csv([{**ROW, **row}]), format="csv")
    (r,) = result.rejected
    assert r.field == "status" and reason in r.reason


def test_new_event_types_are_appended_so_old_codes_keep_their_meaning():
    from truce.domain.model import EVENT_TYPES

    assert EVENT_TYPES[:10][-1] == "attack_on_humanitarian"
    assert EVENT_TYPES[-2:] == ("checkpoint_status", "convoy_status")


# --- the library ---------------------------------------------------------------------


def test_the_coh_records_the_sign_up_deadline_and_says_plainly_what_is_unknown():
    from truce.library.catalog import load_builtin

    a = load_builtin("coh-2016-02")
    signup = next(p for p in a.phases if p.id == "signup")
    assert signup.start.at + signup.duration == datetime.fromisoformat("2016-02-26T12:00:00+02:00")
    assert a.commitments == ()
    assert any("UNKNOWN: which groups accepted" in n for n in a.notes)


def test_us_ru_next_phase_waits_on_seven_days_checkpoints_and_withdrawal_each_sourced():
    from truce.domain.model import WhenCondition
    from truce.library.catalog import load_builtin

    a = load_builtin("us-ru-2016-09")
    assert next(p for p in a.phases if p.id == "joint-centre").start == WhenCondition("next-phase")
    by_id = {c.id: c for c in a.conditions}
    assert by_id["next-phase"].params.of == ("quiet-week", "checkpoints-up", "withdrawn")
    for cid in ("next-phase", "quiet-week", "checkpoints-up", "withdrawn"):
        assert "[S" in by_id[cid].note, cid
    assert [c.id for c in a.convoys] == ["un-castello-1"]
