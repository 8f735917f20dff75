"""Reports -> incidents: duplicates merge, distinct events stay apart, no chaining, order-free."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.geoms import offset_from
from tests.scenario import at, run

from truce.domain.consolidate import ConsolidationSettings, cluster

CITY = (37.16117, 36.20124)
S = ConsolidationSettings()


def labels(x, y, t_s, keys=None, prec=None):
    n = len(x)
    return cluster(
        np.asarray(x, float),
        np.asarray(y, float),
        np.asarray(t_s, float),
        np.zeros(n, np.int64) if keys is None else np.asarray(keys),
        np.full(n, np.nan) if prec is None else np.asarray(prec, float),
        S,
    )


def test_two_sources_on_one_shelling_become_one_corroborated_incident():
    ev = run(
        [
            {"source": "amman", "observed_at": "2016-09-13T04:10:00+03:00", **at(CITY), "event_type": "shelling", "actor": "SAA", "reliability": "B"},
            {"source": "hmeimim", "observed_at": "2016-09-13T05:00:00+03:00", **at(offset_from(__import__("shapely").Point(*CITY), 800)), "event_type": "shelling", "actor": "Syrian Arab Army", "reliability": "C"},
        ]
    )  # fmt: skip
    assert len(ev.incidents) == 1
    inc = ev.incidents
    assert inc.corroboration[0] == 2 and inc.credibility[0] == 1 and inc.reliability[0] == "B"
    (v,) = ev.violations
    assert v.status == "corroborated" and v.party == "gov"


def test_different_types_far_places_and_distant_times_stay_apart():
    base = {
        "observed_at": "2016-09-13T04:10:00+03:00",
        **at(CITY),
        "event_type": "shelling",
        "actor": "SAA",
    }
    rows = [
        base,
        {**base, "event_type": "airstrike"},
        {**base, **at(offset_from(__import__("shapely").Point(*CITY), 2500))},
        {**base, "observed_at": "2016-09-13T10:11:00+03:00"},
    ]
    assert len(run(rows).incidents) == 4


def test_sightings_of_different_weapons_do_not_merge():
    base = {
        "observed_at": "2016-09-13T04:10:00+03:00",
        **at(CITY),
        "event_type": "weapon_sighting",
        "actor": "SAA",
    }
    assert len(run([{**base, "weapon": "mortar"}, {**base, "weapon": "artillery"}]).incidents) == 2
    assert (
        len(
            run(
                [{**base, "weapon": "mortar"}, {**base, "weapon": "mortar", "source": "un"}]
            ).incidents
        )
        == 1
    )


def test_stated_precision_widens_the_distance_limit():
    far = offset_from(__import__("shapely").Point(*CITY), 2600)
    base = {"observed_at": "2016-09-13T04:10:00+03:00", "event_type": "shelling", "actor": "SAA"}
    assert len(run([{**base, **at(CITY)}, {**base, **at(far), "source": "un"}]).incidents) == 2
    rows = [{**base, **at(CITY)}, {**base, **at(far), "source": "un", "location_precision_m": 1000}]
    assert len(run(rows).incidents) == 1


def test_boundaries_of_distance_and_time_are_inclusive():
    assert len(set(labels([0, 2000], [0, 0], [0, 0]))) == 1
    assert len(set(labels([0, 2000.01], [0, 0], [0, 0]))) == 2
    assert len(set(labels([0, 0], [0, 0], [0, 6 * 3600]))) == 1
    assert len(set(labels([0, 0], [0, 0], [0, 6 * 3600 + 1]))) == 2


def test_a_chain_of_close_reports_does_not_become_one_huge_incident():
    # 20 reports 1.5 km apart in a line: every neighbour is "close", but the ends are 28.5 km apart.
    x = np.arange(20) * 1500.0
    lab = labels(x, np.zeros(20), np.zeros(20))
    for anchor in np.unique(lab):
        members = x[lab == anchor]
        assert np.all(np.abs(members - x[anchor]) <= S.radius_m)
    assert len(np.unique(lab)) == 10


def test_anchor_is_the_earliest_report_and_time_span_is_bounded():
    t = np.arange(10) * 3600.0 * 2  # every two hours at one place
    lab = labels(np.zeros(10), np.zeros(10), t)
    assert list(lab) == [0, 0, 0, 0, 4, 4, 4, 4, 8, 8]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 10_000),
            st.floats(0, 10_000),
            st.floats(0, 86_400),
            st.integers(0, 2),
        ),
        min_size=1,
        max_size=60,
    ),
    st.randoms(use_true_random=False),
)
def test_input_order_does_not_change_the_incidents(points, rnd):
    """Same reports, shuffled: the same partition into incidents."""

    def partition(pts):
        # canonical order is by time, then by a stable id: mimic it with the tuple itself
        order = sorted(range(len(pts)), key=lambda k: (pts[k][2], pts[k]))
        arr = np.array([pts[k] for k in order])
        lab = labels(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3].astype(np.int64))
        groups: dict[int, list] = {}
        for k, a in enumerate(lab):
            groups.setdefault(int(a), []).append(tuple(arr[k]))
        return sorted(sorted(g) for g in groups.values())

    shuffled = list(points)
    rnd.shuffle(shuffled)
    assert partition(points) == partition(shuffled)


def reference_anchors(x, y, t_s, keys, prec):
    """The anchoring rule written out as plainly as possible, O(n²)."""
    prec = np.nan_to_num(np.asarray(prec, float), nan=0.0)
    anchors: list[int] = []
    out = []
    for j in range(len(x)):
        joined = next(
            (
                i
                for i in anchors
                if keys[i] == keys[j]
                and abs(t_s[i] - t_s[j]) <= S.window_s
                and np.hypot(x[i] - x[j], y[i] - y[j])
                <= S.radius_m + min(np.hypot(prec[i], prec[j]), S.max_widening_m)
            ),
            None,
        )
        if joined is None:
            anchors.append(j)
            out.append(j)
        else:
            out.append(joined)
    return out


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 12_000),
            st.floats(0, 12_000),
            st.floats(0, 40_000),
            st.integers(0, 2),
            st.one_of(st.just(float("nan")), st.floats(0, 3_000)),
        ),
        min_size=1,
        max_size=80,
    )
)
def test_anchors_follow_the_rule_exactly(points):
    """Grid, cursors and compiled pass agree with the rule stated in plain Python,
    including precision widening and reports in neighbouring grid cells."""
    pts = sorted(points, key=lambda p: p[2])
    x, y, t, k, p = (np.array([q[c] for q in pts]) for c in range(5))
    assert list(labels(x, y, t, k.astype(np.int64), p)) == reference_anchors(x, y, t, k, p)


def test_canonical_order_breaks_equal_times_by_source_then_report_id():
    from truce.domain.report_order import canonical_order
    from truce.formats.reports import read_reports

    rows = [
        ("b-2", "beta", "2016-09-13T04:10:00+03:00"),
        ("a-9", "alpha", "2016-09-13T04:10:00+03:00"),
        ("b-10", "beta", "2016-09-13T04:10:00+03:00"),
        ("z-1", "zulu", "2016-09-13T01:10:00Z"),  # the same instant, written in UTC
        ("a-1", "alpha", "2016-09-13T04:09:59+03:00"),
    ]
    text = "report_id,source,observed_at,lat,lon,event_type\n" + "".join(
        f"{rid},{src},{t},36.2,37.1,shelling\n" for rid, src, t in rows
    )
    reports = read_reports(text).reports
    keys = [f"{reports.source[i]}:{reports.report_id[i]}" for i in canonical_order(reports)]
    assert keys == ["alpha:a-1", "alpha:a-9", "beta:b-10", "beta:b-2", "zulu:z-1"]


@pytest.mark.parametrize("n_ids", [3, 80])  # bit masks, and the path past 62 distinct ids
def test_involved_is_the_union_of_the_reports_labels_per_incident(n_ids):
    from truce.domain.attribution import Labels
    from truce.domain.consolidate import union_per_incident

    names = ["", *(f"g{k}" for k in range(n_ids)), "g0+g1"]
    labels = Labels(np.array([1, 2, 0, len(names) - 1, 3, 3], dtype=np.int64), names)
    members = np.array([0, 1, 2, 3, 4, 5])
    offsets = np.array([0, 2, 3, 4, 6])  # {g0, g1}, {}, {g0+g1}, {g2}
    assert union_per_incident(labels, members, offsets).tolist() == ["g0+g1", "", "g0+g1", "g2"]


def test_mutual_reports_are_no_vote_for_the_attacker_even_beside_unknown_actors():
    """A clash told by two sources as mutual and by one as SAA's attack charges SAA's
    party, whether or not some other report in the table names nobody known."""
    clash = {"event_type": "armed_clash", "lon": 37.18, "lat": 36.20}
    rows = [
        clash | {"observed_at": "2016-09-13T04:00:00+03:00", "actor": "SAA", "target": "FSA"},
        clash | {"observed_at": "2016-09-13T04:05:00+03:00", "actor": "SAA", "target": "FSA",
                 "direction": "mutual", "source": "beta", "report_id": "b-1"},
        clash | {"observed_at": "2016-09-13T04:10:00+03:00", "actor": "SAA", "target": "FSA",
                 "direction": "mutual", "source": "gamma", "report_id": "c-1"},
    ]  # fmt: skip
    elsewhere = {"event_type": "shelling", "lon": 37.0, "lat": 36.0, "actor": "someone unknown",
                 "observed_at": "2016-09-20T04:00:00+03:00", "source": "delta", "report_id": "d-1"}  # fmt: skip
    alone, beside = run(rows), run([*rows, elsewhere])
    assert alone.incidents.party[0] == beside.incidents.party[0] == "gov"


def test_the_compiled_pass_runs_without_loading_scipy_linalg():
    """numba's BLAS probe (scipy.linalg: 0.2-0.4 s of every `truce evaluate`) is
    skipped; scipy.linalg itself still imports afterwards."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from truce.domain.consolidate import ConsolidationSettings, cluster\n"
        "x = np.array([0.0, 1.0])\n"
        "labels = cluster(x, x, x, np.zeros(2, dtype=np.int64), x, ConsolidationSettings())\n"
        "print(labels.tolist(), 'scipy.linalg' in sys.modules)\n"
        "import scipy.linalg\n"
        "print(scipy.linalg.norm([3.0, 4.0]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["[0, 0] False", "5.0"]
