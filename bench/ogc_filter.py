"""Benchmark the OGC `filter=` evaluation (CQL2 -> numpy masks) against the obvious alternative.

    .venv/bin/python bench/ogc_filter.py [--n 1000000] [--seed 1] [--repeat 3]

1. Makes n synthetic incidents as the snapshot holds them (dicts: party, event type,
   corroboration, fatalities with nulls, observed_at, lon/lat) and builds the filter
   columns from them once (`Column.strings` etc., as `ogc.queryables` does on first use;
   timed apart: it is paid once per index, not per request).
2. For each filter, parses it (`truce.api.ogc.cql.parse_filter`) and times
   `cql_mask.mask` over all n rows (best of --repeat).
3. Times the obvious alternative: pygeofilter's own native backend, which compiles the
   same CQL2 into a Python predicate called once per feature dict (the filter has to
   be written without T_/S_ functions for it: it supports neither our temporal nodes
   nor points given as lon/lat, and raises on a null, read here as unknown), and
   checks both select the same rows.
4. Prints per filter: matches, truce ms, alternative ms, ratio.
5. In the index, as the items route runs it (`--index-n` incidents, 0 to skip): builds
   an `AgreementIndex` from synthetic snapshot dicts and an admin's view, then times a
   map page (a 0.2° bbox, 100 features encoded) without a filter, with
   `party = 'opp' AND corroboration >= 2` (first request: the two columns are built;
   then each request), and the same filter applied the obvious way: the native
   predicate called on each candidate feature dict of the bbox.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from pygeofilter.backends.native.evaluate import NativeEvaluator
from pygeofilter.parsers.cql2_text import parse as pygeofilter_parse

from truce.api.ogc import parse_bbox
from truce.api.ogc.agreement_index import AgreementIndex
from truce.api.ogc.cql import parse_filter
from truce.api.ogc.cql_mask import Column, Points, SimpleColumns, mask
from truce.api.ogc.queryables import FilterColumns
from truce.service.visibility import Visibility
from truce.store.key_column import KeySet
from truce.store.users import User

EVENTS = ("airstrike", "shelling", "small_arms_fire", "ground_assault", "drone_strike")
PARTIES = ("gov", "opp", "isis", "sdf")
T0 = datetime(2016, 9, 12, tzinfo=UTC)

# (name, ours, the same for pygeofilter's native backend)
FILTERS = (
    ("equality AND", "party = 'opp' AND corroboration >= 2", None),
    (
        "LIKE OR BETWEEN",
        "event_type LIKE 'air%' OR fatalities BETWEEN 1 AND 5",
        None,
    ),
    (
        "IN, IS NULL, NOT",
        "party IN ('gov', 'sdf') AND NOT fatalities IS NULL",
        None,
    ),
    (
        "time window",
        "T_INTERSECTS(observed_at, INTERVAL('2016-09-20T00:00:00Z', '2016-09-21T00:00:00Z'))",
        "observed_at >= TIMESTAMP('2016-09-20T00:00:00Z') "
        "AND observed_at <= TIMESTAMP('2016-09-21T00:00:00Z')",
    ),
    (
        "bbox AND party",
        "S_INTERSECTS(geometry, BBOX(37.0, 36.0, 37.2, 36.2)) AND party = 'gov'",
        "lon >= 37.0 AND lon <= 37.2 AND lat >= 36.0 AND lat <= 36.2 AND party = 'gov'",
    ),
)


def incidents(n: int, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    party = rng.choice(PARTIES, n).tolist()
    event = rng.choice(EVENTS, n).tolist()
    corroboration = rng.integers(1, 5, n).tolist()
    fatalities = rng.integers(0, 10, n).astype(object)
    fatalities[rng.random(n) < 0.3] = None
    minutes = rng.integers(0, 30 * 24 * 60, n).tolist()
    lon = np.round(rng.uniform(36.5, 37.5, n), 6).tolist()
    lat = np.round(rng.uniform(35.8, 36.8, n), 6).tolist()
    return [
        {
            "party": party[i],
            "event_type": event[i],
            "corroboration": corroboration[i],
            "fatalities": fatalities[i],
            "observed_at": T0 + timedelta(minutes=minutes[i]),
            "lon": lon[i],
            "lat": lat[i],
        }
        for i in range(n)
    ]


def columns(items: list[dict[str, Any]]) -> SimpleColumns:
    t = pd.to_datetime(pd.Series([i["observed_at"] for i in items]), utc=True)
    return SimpleColumns(
        {
            "party": Column.strings([i["party"] for i in items]),
            "event_type": Column.strings([i["event_type"] for i in items]),
            "corroboration": Column.numbers([i["corroboration"] for i in items]),
            "fatalities": Column.numbers([i["fatalities"] for i in items]),
            "observed_at": Column.timestamps(t.to_numpy("datetime64[ns]").view(np.int64)),
            "geometry": Points(
                np.array([i["lon"] for i in items]), np.array([i["lat"] for i in items])
            ),
        }
    )


def _true(predicate: Callable[[Any], Any], item: dict[str, Any]) -> bool:
    """The native backend has no nulls: a comparison with None raises, read as unknown."""
    try:
        return bool(predicate(item))
    except TypeError:
        return False


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def snapshot_data(items: list[dict[str, Any]]) -> dict[str, Any]:
    """`items` as the incidents of a snapshot (the fields the OGC features show)."""
    incs = [
        {
            **i,
            "key": f"s:{k}",
            "id": f"inc-{k}",
            "report_ids": [f"s:{k}"],
            "sources": ["s"],
            "weapon": None,
            "target": None,
            "grade": "B2",
            "count": None,
            "precision_m": None,
            "violations": [],
            "observed_at": i["observed_at"].isoformat(),
        }
        for k, i in enumerate(items)
    ]
    return {"incidents": incs, "violations": []}


def in_the_index(n: int, seed: int, repeat: int) -> None:
    items = incidents(n, seed)
    start = time.perf_counter()
    idx = AgreementIndex.build("bench", 1, None, snapshot_data(items))
    gc.freeze()  # as the server does after indexing a large snapshot (`index._settle_heap`)
    admin = User(1, "admin", "admin", None, T0)
    view = idx._make_view(Visibility(admin, {}, KeySet.of(()), frozenset()))
    print(f"\nin the index: n = {n:,} incidents, indexed in {time.perf_counter() - start:.1f} s")
    box = parse_bbox("37.0,36.0,37.2,36.2")
    text = "party = 'opp' AND corroboration >= 2"
    node = parse_filter(text, None, None)
    assert node is not None
    predicate = NativeEvaluator(use_getattr=False).evaluate(pygeofilter_parse(text))

    def page(filtered: bool) -> int:
        rows = idx.incidents.query(box, None, view.incident_visible)
        if filtered:
            rows = rows[mask(node, FilterColumns(idx, view, "incidents", rows, block=True))]
        idx.incidents_json(view, rows[:100])
        return len(rows)

    def page_native() -> int:
        rows = idx.incidents.query(box, None, view.incident_visible)
        incs = idx.data["incidents"]
        keep = np.fromiter(
            (_true(predicate, incs[p]) for p in idx.incidents.order[rows].tolist()), dtype=bool
        )
        rows = rows[keep]
        idx.incidents_json(view, rows[:100])
        return len(rows)

    plain_s, candidates = best(lambda: page(False), repeat)
    first_s, matched = best(lambda: page(True), 1)
    filtered_s, again = best(lambda: page(True), repeat)
    native_s, native = best(page_native, repeat)
    assert matched == again == native
    rows = [
        (f"bbox page, no filter ({candidates:,} in the box)", plain_s, ""),
        ("bbox page + filter, first (columns built)", first_s, ""),
        (f"bbox page + filter ({matched:,} match)", filtered_s, ""),
        ("bbox page + filter per feature dict (native)", native_s, f"{native_s / filtered_s:.1f}x"),
    ]
    for label, seconds, ratio in rows:
        print(f"{label:<48} {seconds * 1000:8.1f} ms  {ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--index-n", type=int, default=200_000)
    args = parser.parse_args()

    items = incidents(args.n, args.seed)
    build_s, cols = best(lambda: columns(items), 1)
    print(f"n = {args.n:,} incidents; filter columns built once in {build_s * 1000:.0f} ms")
    print(f"{'filter':<18} {'matches':>9} {'truce ms':>9} {'native ms':>10} {'ratio':>7}")
    for name, ours, theirs in FILTERS:
        node = parse_filter(ours, None, None)
        assert node is not None
        ours_s, selected = best(lambda node=node: mask(node, cols), args.repeat)
        predicate = NativeEvaluator(use_getattr=False).evaluate(pygeofilter_parse(theirs or ours))
        theirs_s, kept = best(
            lambda predicate=predicate: np.fromiter(
                (_true(predicate, i) for i in items), dtype=bool, count=len(items)
            ),
            max(1, args.repeat - 2),
        )
        assert np.array_equal(selected, kept), f"{name}: the two ways disagree"
        print(
            f"{name:<18} {int(selected.sum()):>9,} {ours_s * 1000:>9.1f} "
            f"{theirs_s * 1000:>10.0f} {theirs_s / ours_s:>6.0f}x"
        )
    if args.index_n:
        in_the_index(args.index_n, args.seed, args.repeat)


if __name__ == "__main__":
    main()
