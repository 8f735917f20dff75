"""A synthetic, Aleppo-like scenario for benchmarks: one agreement (SPEC §1 YAML) and
many reports (SPEC §2 CSV), generated with whole-array numpy operations.

Ground truth: `events` happen uniformly over ~30 days in a ~100 x 100 km area,
concentrated along roads, around towns and at checkpoints. Each event is seen
by 1-4 distinct sources; each source adds its own position noise (100-800 m)
and reporting delay (minutes to 1 h), writes the actor as one of several
aliases or transliterations (or leaves it out), and grades itself with the
NATO Admiralty codes. A few rows are re-sent copies (same source and
report_id) and a few are malformed, so the reader's duplicate and rejection
paths do real work too.

After `QUIET_FROM_DAY` no violent event happens near the `quiet_zone` town,
so the agreement's quiet_days condition is met part-way through and the phase
that waits on it (with its no_fly rule) starts.

    >>> s = generate(2_000, seed=1)
    >>> len(s.reports), s.reports.columns[0], s.agreement_yaml.startswith("truce: 1")
    (2000, 'report_id', True)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

__all__ = ["Scenario", "cached", "generate"]

CENTRE_LONLAT = (37.16, 36.20)
KM_PER_DEG_LAT = 111.0
KM_PER_DEG_LON = 111.32 * float(np.cos(np.radians(CENTRE_LONLAT[1])))
HALF_SIDE_KM = 50.0
TZ = timezone(timedelta(hours=3))
PERIOD_START = datetime(2016, 9, 10, 0, 0, tzinfo=TZ)
PERIOD_DAYS = 30
DAY_D = datetime(2016, 9, 12, 19, 0, tzinfo=TZ)
QUIET_FROM_DAY = 14  # days after PERIOD_START
AS_OF = PERIOD_START + timedelta(days=PERIOD_DAYS + 1)

EVENT_MIX = {
    "shelling": 0.22,
    "airstrike": 0.10,
    "armed_clash": 0.12,
    "small_arms_fire": 0.14,
    "atgm_attack": 0.03,
    "ground_advance": 0.05,
    "weapon_sighting": 0.20,
    "checkpoint_observation": 0.08,
    "convoy_obstruction": 0.03,
    "attack_on_humanitarian": 0.03,
}
VIOLENT = {
    "shelling",
    "airstrike",
    "armed_clash",
    "small_arms_fire",
    "atgm_attack",
    "attack_on_humanitarian",
}
ATTACK_WEAPON = {
    "shelling": ["artillery", "mortar", "mlrs"],
    "airstrike": ["aircraft"],
    "armed_clash": ["small_arms", ""],
    "small_arms_fire": ["small_arms"],
    "atgm_attack": ["atgm"],
    "ground_advance": ["apc", "heavy_vehicle", "personnel"],
    "weapon_sighting": ["heavy_vehicle", "artillery", "mlrs", "mortar", "apc", "personnel"],
    "checkpoint_observation": ["personnel"],
    "convoy_obstruction": [""],
    "attack_on_humanitarian": ["", "artillery", "aircraft"],
}

# Actor groups: (agreement id, names in the agreement, extra surface forms seen in reports).
# The extra forms are case, accent and transliteration variants; some will not resolve.
ACTORS: dict[str, tuple[list[str], list[str]]] = {
    "gov": (
        [
            "Syrian Arab Army",
            "SAA",
            "Syrian Arab Air Force",
            "Syrian Air Force",
            "National Defence Forces",
            "National Defense Forces",
            "NDF",
            "Russian Aerospace Forces",
            "VKS",
        ],
        ["syrian arab army", "SYRIAN ARAB ARMY", "Syrian Arab Army ", "Sýrian Arab Army", "saa"],
    ),
    "opp": (
        ["Free Syrian Army", "FSA", "Jaysh al-Islam", "Jaish al-Islam", "Faylaq al-Rahman"],
        ["free syrian army", "Jaych al-Islam", "Faylaq al-Raḥman", "fsa"],
    ),
    "sdf": (
        ["Syrian Democratic Forces", "SDF", "YPG", "People's Protection Units"],
        ["syrian democratic forces", "Peoples Protection Units"],
    ),
    "nusra": (
        [
            "Jabhat al-Nusra",
            "Jabhat Fateh al-Sham",
            "Jabhat Fatah al-Sham",
            "Hay'at Tahrir al-Sham",
            "HTS",
            "JFS",
        ],
        ["Jabhat Fath al-Sham", "Hayʼat Taḥrīr al-Shām", "Hayat Tahrir al-Sham", "al-Nusra Front"],
    ),
    "isil": (
        ["Islamic State", "ISIL", "ISIS", "Daesh"],
        ["Daech", "Da'esh", "islamic state"],
    ),
}
PARTIES = ("gov", "opp", "sdf")
EXCLUDED = ("nusra", "isil")
ACTOR_WEIGHTS = {"gov": 0.42, "opp": 0.30, "sdf": 0.08, "nusra": 0.13, "isil": 0.07}
UNRESOLVABLE = ["unknown gunmen", "unidentified aircraft", "armed men"]

# name, reliability, position noise (m), max delay (min), states precision, writes UTC
SOURCES = [
    ("ocha", "A", 120, 60, True, False),
    ("sarc", "A", 150, 45, True, False),
    ("unmas", "A", 100, 30, True, True),
    ("hmeimim", "B", 600, 30, False, False),
    ("amman", "B", 500, 40, False, True),
    ("acled", "B", 300, 60, True, True),
    ("airwars", "B", 250, 60, True, True),
    ("sohr", "C", 700, 20, False, False),
    ("syria-civil-defence", "C", 200, 15, True, False),
    ("lcc-aleppo", "D", 800, 25, False, False),
    ("smart-news", "D", 700, 30, False, False),
    ("sana", "E", 800, 50, False, False),
    ("orient-news", "E", 750, 35, False, True),
    ("osint-feed", "F", 400, 10, True, True),
]
SEEN_BY_P = np.array([0.40, 0.30, 0.18, 0.12])  # one to four sources per event
RESENT_FRACTION = 0.0005  # rows that repeat an earlier (source, report_id)
MALFORMED_FRACTION = 0.00005  # rows the reader must reject

N_ROADS, N_AREAS, N_AREA_BUFFERS, N_CHECKPOINTS = 14, 16, 4, 16
WITHDRAWAL_ROADS = (0, 1)
DMZ_ROADS = (0, 1, 2, 3)
NO_FLY_AREAS = (0, 1)
LIMITED_CHECKPOINTS = 8


@dataclass
class Scenario:
    agreement_yaml: str
    reports: pd.DataFrame  # SPEC §2 columns, as written to CSV
    as_of: datetime
    meta: dict[str, object]


# --- geometry in local km, then lon/lat --------------------------------------------------


def _lonlat(x_km: np.ndarray, y_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (
        CENTRE_LONLAT[0] + np.asarray(x_km) / KM_PER_DEG_LON,
        CENTRE_LONLAT[1] + np.asarray(y_km) / KM_PER_DEG_LAT,
    )


def _coords_yaml(xy_km: np.ndarray) -> str:
    lon, lat = _lonlat(xy_km[:, 0], xy_km[:, 1])
    return "[" + ", ".join(f"[{a:.5f}, {b:.5f}]" for a, b in zip(lon, lat, strict=True)) + "]"


@dataclass
class _Layout:
    roads: list[np.ndarray]  # vertices in km
    road_m: list[int]
    areas: list[np.ndarray]  # closed rings in km
    checkpoints: np.ndarray  # (k, 2) km
    checkpoint_m: list[int]
    quiet_area: int


def _layout(rng: np.random.Generator) -> _Layout:
    limit = HALF_SIDE_KM - 8
    roads = []
    for _ in range(N_ROADS):
        start = rng.uniform(-limit, limit, 2)
        heading = rng.uniform(0, 2 * np.pi)
        steps = rng.integers(3, 6)
        turns = heading + np.cumsum(rng.normal(0, 0.35, steps))
        legs = rng.uniform(4, 9, steps)[:, None] * np.column_stack((np.cos(turns), np.sin(turns)))
        roads.append(np.clip(np.vstack((start, start + np.cumsum(legs, axis=0))), -48, 48))
    areas = []
    for _ in range(N_AREAS):
        centre = rng.uniform(-limit, limit, 2)
        angles = np.sort(rng.uniform(0, 2 * np.pi, 9))
        radii = rng.uniform(1.5, 5.0) * rng.uniform(0.7, 1.0, 9)
        ring = centre + radii[:, None] * np.column_stack((np.cos(angles), np.sin(angles)))
        areas.append(np.vstack((ring, ring[:1])))
    # checkpoints sit on roads
    which = rng.integers(0, N_ROADS, N_CHECKPOINTS)
    which[: len(WITHDRAWAL_ROADS)] = WITHDRAWAL_ROADS
    cps = []
    for r in which:
        v = roads[r]
        k = rng.integers(0, len(v) - 1)
        cps.append(v[k] + rng.uniform(0.2, 0.8) * (v[k + 1] - v[k]))
    return _Layout(
        roads=roads,
        road_m=[int(d) for d in rng.choice([500, 1000, 1500, 2000, 3000], N_ROADS)],
        areas=areas,
        checkpoints=np.array(cps),
        checkpoint_m=[int(d) for d in rng.choice([300, 500, 1000], N_CHECKPOINTS)],
        quiet_area=N_AREAS - 1,
    )


def _agreement_yaml(lay: _Layout) -> str:
    def iso(dt: datetime) -> str:
        return dt.isoformat()

    out = [
        "truce: 1",
        "id: bench-aleppo-synthetic",
        'title: "Synthetic Aleppo-like agreement for benchmarks"',
        "signed: 2016-09-09",
        'timezone: "+03:00"',
        "crs: EPSG:32637",
        'sources: [{title: "bench/scenario.py (synthetic)"}]',
        "parties:",
    ]
    for pid in PARTIES:
        names = ", ".join(json.dumps(a) for a in ACTORS[pid][0])
        out.append(f"  - {{id: {pid}, name: {pid.upper()} forces, actors: [{names}]}}")
    out.append("excluded:")
    for gid in EXCLUDED:
        names = ", ".join(json.dumps(a) for a in ACTORS[gid][0])
        out.append(f"  - {{id: {gid}, name: {gid.upper()}, actors: [{names}]}}")
    out.append("features:")
    for k, v in enumerate(lay.roads):
        out.append(f"  road_{k}: {{line: {_coords_yaml(v)}}}")
    for k, ring in enumerate(lay.areas):
        out.append(f"  area_{k}: {{polygon: {_coords_yaml(ring)}}}")
    for k, p in enumerate(lay.checkpoints):
        lon, lat = _lonlat(p[0], p[1])
        out.append(f"  cp_{k}: {{point: [{lon:.5f}, {lat:.5f}]}}")
    out.append("zones:")
    for k, d in enumerate(lay.road_m):
        out.append(f"  - {{id: road-{k}-corridor, around: road_{k}, distance_m: {d}}}")
    for k in range(N_AREAS):
        out.append(f"  - {{id: area-{k}, feature: area_{k}}}")
    for k in range(N_AREA_BUFFERS):
        out.append(f"  - {{id: area-{k}-outskirts, around: area_{k}, distance_m: 1500}}")
    for k, d in enumerate(lay.checkpoint_m):
        out.append(f"  - {{id: cp-{k}-area, around: cp_{k}, distance_m: {d}}}")
    deadline = iso(DAY_D + timedelta(hours=72))
    out += [
        "phases:",
        f"  - {{id: cessation, start: {iso(DAY_D)}, duration: 72h}}",
        "  - {id: extension, start: {after: cessation}, duration: 7d}",
        "  - {id: joint-centre, start: {when: quiet-town}}",
        "  - {id: review, start: {after: extension, offset: 24h}, duration: 5d}",
        "conditions:",
        "  - id: quiet-town",
        "    kind: quiet_days",
        "    days: 3",
        "    max_incidents: 3",
        f"    within: [area-{lay.quiet_area}]",
        "    from: {after: cessation, offset: 0h}",
        "rules:",
        "  - {id: r-cease, kind: cease_attacks, phases: [cessation, extension, joint-centre]}",
        "  - {id: r-cease-towns, kind: cease_attacks, phases: [review], zones: [area-2, area-3, area-4]}",
        "  - {id: r-gain, kind: no_territorial_gain, phases: [cessation, extension, joint-centre]}",
        "  - {id: r-aid, kind: humanitarian_access}",
    ]
    table = "{heavy_vehicle: 3500, artillery: 3500, mlrs: 3500, mortar: 3500, apc: 2500, personnel: 1000}"
    for r in WITHDRAWAL_ROADS:
        for party in ("gov", "opp"):
            out.append(
                f"  - {{id: r-withdraw-{party}-{r}, kind: withdrawal, party: {party}, "
                f"from_feature: road_{r}, deadline: {deadline}, min_distance_m: {table}}}"
            )
    for r in DMZ_ROADS:
        out.append(
            f"  - {{id: r-dmz-{r}, kind: demilitarised, zone: road-{r}-corridor, from: {deadline}, "
            "weapons: [heavy_vehicle, artillery, mlrs, mortar, apc]}"
        )
    for a in NO_FLY_AREAS:
        out.append(
            f"  - {{id: r-nofly-{a}, kind: no_fly, zone: area-{a}, party: gov, phases: [joint-centre]}}"
        )
    for c in range(LIMITED_CHECKPOINTS):
        out.append(
            f"  - {{id: r-cp-{c}, kind: checkpoint_limit, checkpoint: cp_{c}, max_armed_per_side: 20}}"
        )
    return "\n".join(out) + "\n"


# --- events and reports -------------------------------------------------------------------


def _pick(rng: np.random.Generator, options: list[str], size: int) -> np.ndarray:
    return np.array(options, dtype=object)[rng.integers(0, len(options), size)]


def _event_positions(
    rng: np.random.Generator, lay: _Layout, kind: np.ndarray, m: int
) -> np.ndarray:
    """(m, 2) km: along roads, around towns, at checkpoints, or anywhere."""
    xy = rng.uniform(-HALF_SIDE_KM, HALF_SIDE_KM, (m, 2))
    where = rng.choice(4, m, p=[0.35, 0.30, 0.0, 0.35])  # road, town, (checkpoint), anywhere
    checkpoint_obs = kind == "checkpoint_observation"
    where[checkpoint_obs] = 2
    sighting = kind == "weapon_sighting"
    near_withdrawal = sighting & (rng.random(m) < 0.5)

    # along roads: a uniform point on a random segment, then sideways scatter
    segs = np.vstack([np.column_stack((v[:-1], v[1:])) for v in lay.roads])  # (s, 4)
    seg_road = np.concatenate([np.full(len(v) - 1, k) for k, v in enumerate(lay.roads)])
    on_road = np.flatnonzero((where == 0) | near_withdrawal)
    seg = rng.integers(0, len(segs), len(on_road))
    wd = near_withdrawal[on_road]
    wd_segs = np.flatnonzero(np.isin(seg_road, WITHDRAWAL_ROADS))
    seg[wd] = wd_segs[rng.integers(0, len(wd_segs), int(wd.sum()))]
    t = rng.random(len(on_road))[:, None]
    a, b = segs[seg, :2], segs[seg, 2:]
    scatter = np.where(wd, rng.uniform(0.3, 4.0, len(on_road)), rng.uniform(0.2, 3.0, len(on_road)))
    xy[on_road] = a + t * (b - a) + rng.normal(0, 1, (len(on_road), 2)) * scatter[:, None]

    in_town = np.flatnonzero((where == 1) & ~near_withdrawal)
    centres = np.array([ring[:-1].mean(axis=0) for ring in lay.areas])
    town = rng.integers(0, len(centres), len(in_town))
    xy[in_town] = centres[town] + rng.normal(0, 2.0, (len(in_town), 2))

    at_cp = np.flatnonzero(where == 2)
    cp = rng.integers(0, len(lay.checkpoints), len(at_cp))
    xy[at_cp] = lay.checkpoints[cp] + rng.normal(0, 0.06, (len(at_cp), 2))
    return np.clip(xy, -HALF_SIDE_KM, HALF_SIDE_KM)


def generate(n: int, seed: int = 1, layout_seed: int | None = None) -> Scenario:
    """A scenario with exactly `n` report rows (a few re-sent copies and malformed rows included).

    `layout_seed` (default: `seed`) draws the roads, towns and checkpoints, hence the
    agreement: scenarios with the same layout seed and other seeds are parts of one
    bigger scenario (bench/scale.py generates 10M rows that way, a chunk at a time)."""
    rng = np.random.default_rng(seed)
    lay = _layout(rng if layout_seed is None else np.random.default_rng(layout_seed))
    agreement_yaml = _agreement_yaml(lay)

    # ground-truth events
    mean_seen = float(np.dot(SEEN_BY_P, np.arange(1, 5)))
    m = int(np.ceil(n / mean_seen * 1.02)) + 4
    kinds = np.array(list(EVENT_MIX), dtype=object)
    kind = kinds[rng.choice(len(kinds), m, p=np.array(list(EVENT_MIX.values())))]
    ev_xy = _event_positions(rng, lay, kind, m)
    ev_t_s = rng.uniform(0, PERIOD_DAYS * 86400.0, m)

    # quiet town: no violent event within 3 km of it after QUIET_FROM_DAY
    quiet = shapely.buffer(shapely.Polygon(lay.areas[lay.quiet_area]), 3.0)
    violent = np.isin(kind, list(VIOLENT))
    inside = shapely.contains_xy(quiet, ev_xy[:, 0], ev_xy[:, 1])
    moved = violent & inside & (ev_t_s >= QUIET_FROM_DAY * 86400.0)
    ev_xy[moved, 0] = np.where(ev_xy[moved, 0] > 0, ev_xy[moved, 0] - 30, ev_xy[moved, 0] + 30)

    ev_weapon = np.empty(m, dtype=object)
    for k, options in ATTACK_WEAPON.items():
        rows = np.flatnonzero(kind == k)
        ev_weapon[rows] = _pick(rng, options, len(rows))
    groups = np.array(list(ACTOR_WEIGHTS), dtype=object)
    ev_actor = groups[rng.choice(len(groups), m, p=np.array(list(ACTOR_WEIGHTS.values())))]
    checkpoint_obs = kind == "checkpoint_observation"
    ev_actor[checkpoint_obs] = np.where(rng.random(int(checkpoint_obs.sum())) < 0.5, "gov", "opp")
    # targets: another group, an excluded group, or nobody named
    ev_target = np.where(rng.random(m) < 0.45, groups[rng.integers(0, len(groups), m)], "").astype(
        object
    )
    ev_target[ev_target == ev_actor] = ""
    ev_target[~np.isin(kind, list(VIOLENT))] = ""
    ev_count = np.where(
        checkpoint_obs,
        np.clip(np.round(rng.normal(16, 5, m)), 0, None),
        np.where(kind == "weapon_sighting", rng.integers(1, 12, m), np.nan),
    )
    ev_fatal = np.where(
        np.isin(kind, list(VIOLENT)) & (rng.random(m) < 0.3), rng.poisson(2.0, m), np.nan
    )

    # each event seen by 1-4 distinct sources
    seen = rng.choice(4, m, p=SEEN_BY_P) + 1
    ev_of = np.repeat(np.arange(m), seen)
    rank = np.arange(len(ev_of)) - np.repeat(np.cumsum(seen) - seen, seen)
    source_order = np.argsort(rng.random((m, len(SOURCES))), axis=1)
    src = source_order[ev_of, rank]
    n_real = n - int(n * RESENT_FRACTION)
    ev_of, src = ev_of[:n_real], src[:n_real]

    names = np.array([s[0] for s in SOURCES], dtype=object)
    rel = np.array([s[1] for s in SOURCES], dtype=object)
    noise_m = np.array([s[2] for s in SOURCES], dtype=np.float64)
    delay_min = np.array([s[3] for s in SOURCES], dtype=np.float64)
    states_prec = np.array([s[4] for s in SOURCES])
    utc = np.array([s[5] for s in SOURCES])

    k = len(ev_of)
    x_km = ev_xy[ev_of, 0] + rng.normal(0, 1, k) * noise_m[src] / 1000
    y_km = ev_xy[ev_of, 1] + rng.normal(0, 1, k) * noise_m[src] / 1000
    lon, lat = _lonlat(x_km, y_km)
    delay_s = np.minimum(np.abs(rng.normal(0, delay_min[src] * 60)), 3600.0)
    t_utc = np.datetime64(PERIOD_START.astimezone(UTC).replace(tzinfo=None), "s") + np.round(
        ev_t_s[ev_of] + delay_s
    ).astype("timedelta64[s]")
    use_utc = utc[src]
    local = np.datetime_as_string(t_utc + np.timedelta64(3, "h"), unit="s").astype(object)
    in_utc = np.datetime_as_string(t_utc, unit="s").astype(object)
    observed = np.where(use_utc, in_utc + "Z", local + "+03:00")

    # actor names: canonical names, variants, nothing, or unresolvable text
    actor_group = ev_actor[ev_of]
    actor = np.full(k, "", dtype=object)
    style = rng.random(k)
    for gid, (canonical, variants) in ACTORS.items():
        rows = np.flatnonzero(actor_group == gid)
        forms = np.array(canonical + variants, dtype=object)
        actor[rows] = forms[rng.integers(0, len(forms), len(rows))]
    actor[style < 0.15] = ""
    vague = (style >= 0.15) & (style < 0.20)
    actor[vague] = _pick(rng, UNRESOLVABLE, int(vague.sum()))
    target_group = ev_target[ev_of]
    target = np.full(k, "", dtype=object)
    for gid, (canonical, variants) in ACTORS.items():
        rows = np.flatnonzero(target_group == gid)
        forms = np.array(canonical + variants, dtype=object)
        target[rows] = forms[rng.integers(0, len(forms), len(rows))]
    kind_r = kind[ev_of]
    # side: always for checkpoint observations, sometimes otherwise
    side = np.where(
        (kind_r == "checkpoint_observation")
        | ((rng.random(k) < 0.2) & np.isin(actor_group, PARTIES)),
        actor_group,
        "",
    ).astype(object)
    count = ev_count[ev_of] + np.where(
        kind_r == "checkpoint_observation", rng.integers(-2, 3, k), 0
    )
    count = np.where(np.isnan(count), np.nan, np.clip(count, 0, None))
    fatal = ev_fatal[ev_of]
    fatal = np.where(rng.random(k) < 0.5, fatal, np.nan)
    precision = np.where(
        states_prec[src],
        np.round(noise_m[src] * rng.uniform(1.0, 2.5, k), -1),
        np.nan,
    )
    credibility = rng.choice(6, k, p=[0.05, 0.3, 0.3, 0.2, 0.1, 0.05]) + 1

    frame = pd.DataFrame(
        {
            "report_id": None,
            "source": names[src],
            "observed_at": observed,
            "lat": np.round(lat, 6),
            "lon": np.round(lon, 6),
            "place": "",
            "location_precision_m": pd.array(precision, dtype="Int64"),
            "event_type": kind_r,
            "weapon": ev_weapon[ev_of],
            "actor": actor,
            "side": side,
            "target": target,
            "count": pd.array(count, dtype="Int64"),
            "fatalities": pd.array(fatal, dtype="Int64"),
            "reliability": rel[src],
            "credibility": credibility,
            "notes": "",
        }
    )
    frame["report_id"] = frame["source"] + "-" + frame.groupby("source").cumcount().astype(str)
    # a few malformed rows
    bad = rng.choice(len(frame), max(1, int(n * MALFORMED_FRACTION)), replace=False)
    half = len(bad) // 2
    frame.loc[bad[:half], "lat"] = np.nan
    frame["lat"] = frame["lat"].astype(object)
    frame.loc[bad[:half], "lat"] = "n/a"
    frame["event_type"] = frame["event_type"].astype(object)
    frame.loc[bad[half:], "event_type"] = "bombing"
    # re-sent copies of earlier rows, interleaved
    resent = frame.iloc[np.sort(rng.choice(len(frame), n - len(frame), replace=False))]
    frame = pd.concat([frame, resent], ignore_index=True)
    frame = frame.iloc[np.argsort(rng.random(len(frame)), kind="stable")].reset_index(drop=True)

    meta = {
        "n": n,
        "seed": seed,
        "events": len(np.unique(ev_of)),
        "resent_rows": int(n - n_real),
        "malformed_rows": len(bad),
        "zones": N_ROADS + N_AREAS + N_AREA_BUFFERS + N_CHECKPOINTS,
        "as_of": AS_OF.isoformat(),
    }
    return Scenario(agreement_yaml, frame, AS_OF, meta)


def cached(n: int, seed: int, workdir: Path) -> tuple[Path, Path, dict[str, object]]:
    """(agreement path, reports path, meta), generating them once per (n, seed)."""
    folder = workdir / f"n{n}-seed{seed}"
    agreement, reports, meta_path = (
        folder / "agreement.yaml",
        folder / "reports.csv",
        folder / "meta.json",
    )
    if meta_path.exists() and agreement.exists() and reports.exists():
        return agreement, reports, json.loads(meta_path.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    s = generate(n, seed)
    agreement.write_text(s.agreement_yaml, encoding="utf-8")
    tmp = reports.with_suffix(".csv.tmp")
    s.reports.to_csv(tmp, index=False, lineterminator="\n")
    tmp.replace(reports)
    meta_path.write_text(json.dumps(s.meta, indent=1))
    return agreement, reports, s.meta
