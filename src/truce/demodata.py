"""Synthetic but realistic report sets for demonstrations and tests.

`generate(agreement, seed)` first draws ground-truth events over the
agreement's period (two days before its first fixed phase start, ten days in
all), then lets each of six sources see some of them: the Russian centre at
Hmeimim, the US centre in Amman, UN OCHA, the Syrian Arab Red Crescent and two
local outlets. Each source has its own Admiralty grades, position and time
noise, blind spots and bias, so the same event turns up in 1–4 reports that
disagree a little — the work consolidation exists to do.

The set exercises every rule kind the agreement defines (attacks by each party
and by unknown attackers, attacks on excluded groups that must not count,
weapon sightings both sides of withdrawal distances and of the deadline,
sightings inside demilitarised zones, checkpoint counts above and below the
limit, convoy obstructions and an attack on an aid convoy), a lull after the
first phase starts and a rise from day 5 so a 7-day quiet condition fails, a
few rows with only a `place`, and a handful of deliberately bad rows.

Pure: no I/O and no clock; the same agreement and seed give the same rows.
It is tuned for `us-ru-2016-09` and works for any agreement.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from shapely.geometry import Point

from truce.demo_truth import (
    ADVANCE,
    AID,
    ATTACK,
    CHECKPOINT,
    PLACE_NAMES,
    SIGHTING,
    Event,
    World,
    background,
    demo_period,
    truth,
)
from truce.domain.actors import ActorIndex
from truce.domain.model import Agreement, AtTime, ExcludedGroup, Party

__all__ = ["COLUMNS", "SOURCES", "SourceProfile", "demo_period", "generate"]

COLUMNS: tuple[str, ...] = (
    "report_id", "source", "observed_at", "lat", "lon", "place", "location_precision_m",
    "event_type", "weapon", "actor", "side", "target", "count", "fatalities",
    "reliability", "credibility", "notes",
)  # fmt: skip


@dataclass(frozen=True)
class SourceProfile:
    """How one reporter sees events."""

    id: str
    prefix: str
    reliability: str  # Admiralty A–F
    credibility: int  # Admiralty 1–6
    position_noise_m: float  # standard deviation of reported position
    time_noise_min: float  # standard deviation of reported time
    see: dict[str, float]  # probability of reporting, by event family
    blames: str | None = None  # party it names when the attacker is unknown
    spares: str | None = None  # party whose attacks it under-reports
    place_only: float = 0.0  # share of reports that give a place name, not coordinates
    utc: bool = False  # writes times in UTC rather than local time


SOURCES: tuple[SourceProfile, ...] = (
    SourceProfile("hmeimim", "hmm", "B", 3, 1200, 45,
                  {ATTACK: 0.75, AID: 0.3, SIGHTING: 0.5, CHECKPOINT: 0.4, ADVANCE: 0.6},
                  blames="opp", spares="gov"),
    SourceProfile("amman", "amm", "B", 3, 1500, 60,
                  {ATTACK: 0.7, AID: 0.4, SIGHTING: 0.45, CHECKPOINT: 0.2, ADVANCE: 0.6},
                  blames="gov", spares="opp", utc=True),
    SourceProfile("un-ocha", "ocha", "A", 2, 600, 150,
                  {ATTACK: 0.25, AID: 0.9, SIGHTING: 0.05, CHECKPOINT: 0.5, ADVANCE: 0.1},
                  utc=True),
    SourceProfile("sarc", "sarc", "B", 2, 300, 30,
                  {ATTACK: 0.15, AID: 0.85, SIGHTING: 0.1, CHECKPOINT: 0.8, ADVANCE: 0.05}),
    SourceProfile("local-media-1", "lm1", "C", 3, 2500, 120,
                  {ATTACK: 0.55, AID: 0.5, SIGHTING: 0.35, CHECKPOINT: 0.1, ADVANCE: 0.5},
                  blames="gov", place_only=0.12),
    SourceProfile("local-media-2", "lm2", "D", 4, 4000, 240,
                  {ATTACK: 0.45, AID: 0.3, SIGHTING: 0.3, CHECKPOINT: 0.05, ADVANCE: 0.4},
                  blames="opp", place_only=0.15),
)  # fmt: skip

# Towns used when an agreement has no features (e.g. the nationwide 2016 CoH).
_INDEXES: dict[int, tuple[Agreement, ActorIndex]] = {}


def _actor_name(a: Agreement, group: str, rng: random.Random, first: int = 4) -> str:
    """One of the group's first few names, as reporters would write it. Names the
    agreement also lists under another group (aggregates such as "Syrian insurgents")
    are skipped: the demo's story names who did what."""
    index = _INDEXES.get(id(a))
    if index is None or index[0] is not a:
        index = _INDEXES[id(a)] = (a, ActorIndex.from_agreement(a))
    groups: list[Party | ExcludedGroup] = [*a.parties, *a.excluded]
    for g in groups:
        if g.id == group and g.actors:
            own = [n for n in g.actors if index[1].resolve_one(n) == group]
            return rng.choice((own or list(g.actors))[:first])
    return ""


def _target_text(a: Agreement, target: str, rng: random.Random) -> str:
    if target == "aid":
        return rng.choice(("UN/SARC aid convoy", "SARC convoy", "humanitarian convoy"))
    return _actor_name(a, target, rng, first=2)


def _nearest_place(lon: float, lat: float) -> str | None:
    best, best_d = None, 6.0  # km
    for name, plon, plat in PLACE_NAMES:
        d = math.hypot((plon - lon) * 90.0, (plat - lat) * 111.0)
        if d < best_d:
            best, best_d = name, d
    return best


def _report(w: World, e: Event, s: SourceProfile, seq: int) -> dict[str, str]:
    a, rng = w.a, w.rng
    noise = s.position_noise_m * (0.05 if e.precise else 1.0)
    x, y = w.proj.points(np.array([e.lon]), np.array([e.lat]))
    lon, lat = w.lonlat(Point(float(x[0]) + rng.gauss(0, noise), float(y[0]) + rng.gauss(0, noise)))
    t = e.t + timedelta(minutes=rng.gauss(0, s.time_noise_min * (0.2 if e.precise else 1.0)))
    t = t.replace(second=0, microsecond=0)
    shown = t.astimezone(UTC if s.utc else a.timezone)
    actor = e.actor or (_actor_name(a, e.party, rng) if e.party else "")
    if not e.party and s.blames and e.kind == ATTACK and rng.random() < 0.4:
        actor = _actor_name(a, s.blames, rng)  # bias: unknown attacks pinned on the other side
    row = dict.fromkeys(COLUMNS, "")
    row.update(
        report_id=f"{s.prefix}-{seq:05d}",
        source=s.id,
        observed_at=shown.isoformat(),
        event_type=e.event_type,
        weapon=e.weapon,
        actor=actor,
        target=_target_text(a, e.target, rng),
        reliability=s.reliability,
        credibility=str(s.credibility),
        location_precision_m=str(round(max(noise, 50.0))),
    )
    if e.count is not None:
        row["count"] = str(e.count)
    if e.kind == CHECKPOINT:
        row["side"] = e.party
    if e.fatalities or e.kind in (ATTACK, AID):
        row["fatalities"] = str(max(0, e.fatalities + rng.choice((-1, 0, 0, 0, 1, 2))))
    place = e.place or (_nearest_place(lon, lat) if rng.random() < s.place_only else None)
    if place:
        row["place"] = place
        row["location_precision_m"] = ""
    else:
        row["lat"], row["lon"] = f"{lat:.5f}", f"{lon:.5f}"
    row["notes"] = e.status or f"{e.event_type.replace('_', ' ')} reported by {s.id}"
    return row


def _bad_rows(w: World, start: datetime) -> list[dict[str, str]]:
    """Rows the reader must reject, one reason each, so the rejection path shows."""
    base = dict.fromkeys(COLUMNS, "")
    base.update(source="local-media-2", event_type="shelling", lat="36.21000", lon="37.15000",
                reliability="E", credibility="5")  # fmt: skip
    t = (start + timedelta(days=3, hours=10)).astimezone(w.a.timezone)
    naive = t.replace(tzinfo=None).isoformat()
    bad = [
        {**base, "report_id": "bad-00001", "observed_at": naive, "notes": "time without offset"},
        {**base, "report_id": "bad-00002", "observed_at": t.isoformat(), "lat": "123.00000",
         "notes": "latitude out of range"},
        {**base, "report_id": "bad-00003", "observed_at": t.isoformat(), "event_type": "barrel_bomb",
         "notes": "event type not in the vocabulary"},
        {**base, "report_id": "bad-00004", "observed_at": "yesterday evening", "notes": "not a time"},
        {**base, "report_id": "bad-00005", "observed_at": t.isoformat(), "lat": "", "lon": "",
         "notes": "no coordinates and no place"},
    ]  # fmt: skip
    return bad


def generate(
    agreement: Agreement,
    seed: int = 0,
    n_events: int | None = None,
) -> list[dict[str, str]]:
    """Report rows (SPEC §2 columns, all strings) for `agreement`, reproducible by `seed`.

    By default the set holds ~170 ground-truth events (~450 reports for us-ru-2016-09).
    A larger `n_events` adds background traffic that leaves the post-start attack
    schedule alone (fighting before the first phase, weapons seen far from any line);
    a smaller one thins the attack schedule.
    """
    rng = random.Random(f"truce-demo:{agreement.id}:{seed}")
    w = World(agreement, rng)
    start, end = demo_period(agreement)
    events = truth(w, start, end, n_events or 400)
    if n_events is not None and n_events > len(events):
        events = sorted([*events, *background(w, start, end, n_events - len(events))],
                        key=lambda e: (e.t, e.event_type, e.lon, e.lat))  # fmt: skip
    rows: list[dict[str, str]] = []
    seq = {s.id: 0 for s in SOURCES}
    _reports_of(w, events, rows, seq)
    # The SPEC §6 terms' events draw from a stream of their own, so adding them leaves
    # every other report exactly as it was.
    from truce.demo_terms import terms_events  # sites, convoys, checkpoints, sign-ups

    w_terms = World(agreement, random.Random(f"truce-demo-terms:{agreement.id}:{seed}"))
    t_first = min(
        (p.start.at for p in agreement.phases if isinstance(p.start, AtTime)), default=start
    )
    _reports_of(w_terms, terms_events(w_terms, start, end, t_first), rows, seq)
    bad = _bad_rows(w, start)
    for k, row in enumerate(bad):
        rows.insert(min(len(rows), (k + 1) * len(rows) // (len(bad) + 1)), row)
    return rows


def _reports_of(
    w: World, events: list[Event], rows: list[dict[str, str]], seq: dict[str, int]
) -> None:
    """Each event as seen by the sources that notice it (at least `min_sources`)."""
    rng = w.rng
    for e in events:
        seen = []
        for s in SOURCES:
            p = s.see[e.kind]
            if s.spares and e.party == s.spares and e.kind == ATTACK:
                p *= 0.35
            if rng.random() < p:
                seen.append(s)
        if len(seen) < e.min_sources:
            rest = [s for s in SOURCES if s not in seen]
            rest.sort(key=lambda s: -s.see[e.kind])
            seen += rest[: e.min_sources - len(seen)]
        seen = seen[:4]
        for s in seen:
            seq[s.id] += 1
            rows.append(_report(w, e, s, seq[s.id]))
