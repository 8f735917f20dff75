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
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from pygeofilter.backends.native.evaluate import NativeEvaluator
from pygeofilter.parsers.cql2_text import parse as pygeofilter_parse

from truce.api.ogc.cql import parse_filter
from truce.api.ogc.cql_mask import Column, Points, SimpleColumns, mask

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
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


if __name__ == "__main__":
    main()
