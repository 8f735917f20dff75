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
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from truce.domain.actors import ActorIndex
from truce.domain.geo import AgreementSpace
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


_ATTACK, _AID, _SIGHTING, _CHECKPOINT, _ADVANCE = (
    "attack",
    "aid",
    "sighting",
    "checkpoint",
    "advance",
)

SOURCES: tuple[SourceProfile, ...] = (
    SourceProfile("hmeimim", "hmm", "B", 3, 1200, 45,
                  {_ATTACK: 0.75, _AID: 0.3, _SIGHTING: 0.5, _CHECKPOINT: 0.4, _ADVANCE: 0.6},
                  blames="opp", spares="gov"),
    SourceProfile("amman", "amm", "B", 3, 1500, 60,
                  {_ATTACK: 0.7, _AID: 0.4, _SIGHTING: 0.45, _CHECKPOINT: 0.2, _ADVANCE: 0.6},
                  blames="gov", spares="opp", utc=True),
    SourceProfile("un-ocha", "ocha", "A", 2, 600, 150,
                  {_ATTACK: 0.25, _AID: 0.9, _SIGHTING: 0.05, _CHECKPOINT: 0.5, _ADVANCE: 0.1},
                  utc=True),
    SourceProfile("sarc", "sarc", "B", 2, 300, 30,
                  {_ATTACK: 0.15, _AID: 0.85, _SIGHTING: 0.1, _CHECKPOINT: 0.8, _ADVANCE: 0.05}),
    SourceProfile("local-media-1", "lm1", "C", 3, 2500, 120,
                  {_ATTACK: 0.55, _AID: 0.5, _SIGHTING: 0.35, _CHECKPOINT: 0.1, _ADVANCE: 0.5},
                  blames="gov", place_only=0.12),
    SourceProfile("local-media-2", "lm2", "D", 4, 4000, 240,
                  {_ATTACK: 0.45, _AID: 0.3, _SIGHTING: 0.3, _CHECKPOINT: 0.05, _ADVANCE: 0.4},
                  blames="opp", place_only=0.15),
)  # fmt: skip

# Towns used when an agreement has no features (e.g. the nationwide 2016 CoH).
_FALLBACK_ANCHORS = (
    ("Aleppo", 37.16117, 36.20124), ("Idlib", 36.63393, 35.93062), ("Hama", 36.75783, 35.13179),
    ("Homs", 36.72559, 34.72405), ("Damascus", 36.29128, 33.51020), ("Daraa", 36.10213, 32.61889),
    ("Saraqib", 36.80591, 35.86447), ("Latakia", 35.79088, 35.53125),
)  # fmt: skip
# Names local media use for places; each resolves to one gazetteer entry.
_PLACE_NAMES = (
    ("Aleppo", 37.16117, 36.20124), ("Huraytan", 37.08527, 36.28861), ("Castello Road", 37.13, 36.25),
    ("Ramouseh", 37.13, 36.16), ("Khan Tuman", 37.03, 36.10), ("Khan al-Asal", 37.03917, 36.16722),
    ("Idlib", 36.63393, 35.93062), ("Saraqib", 36.80591, 35.86447), ("Jisr al-Shughur", 36.31983, 35.81418),
    ("Ariha", 36.60964, 35.81374), ("Khan Shaykhun", 36.65095, 35.44208), ("Hama", 36.75783, 35.13179),
    ("Homs", 36.72559, 34.72405), ("Damascus", 36.29128, 33.51020), ("Latakia", 35.79088, 35.53125),
)  # fmt: skip
_BIG_OREM = ("Big Orem", 37.01, 36.12)  # gazetteer: Urum al-Kubra (estimate ±10 km)
_ARMS = {"shelling": ("artillery", "mortar", "mlrs"), "armed_clash": ("small_arms",),
         "small_arms_fire": ("small_arms",), "atgm_attack": ("atgm",), "airstrike": ("aircraft",)}  # fmt: skip


@dataclass
class _Event:
    kind: str  # family, for source detection
    event_type: str
    t: datetime  # UTC
    lon: float
    lat: float
    party: str  # true attacker / owner: party id, excluded id, or "" unknown
    target: str = ""  # party id, excluded id, "aid", or ""
    weapon: str = ""
    count: int | None = None
    fatalities: int = 0
    precise: bool = False  # a fixed, known spot (checkpoint): sources report it closely
    place: str | None = None  # the name every source uses (e.g. Big Orem)
    min_sources: int = 1
    status: str = ""  # checkpoint_status / convoy_status: its notes (a status word in them)
    actor: str = ""  # the name reporters use, when not the party's own (a signed-up group)


def demo_period(agreement: Agreement) -> tuple[datetime, datetime]:
    """Start and end (UTC) of the demo: from two local days before the first fixed
    phase start, ten days long (10–20 Sep 2016 for us-ru-2016-09), longer when a
    rule's deadline falls later."""
    fixed = [p.start.at for p in agreement.phases if isinstance(p.start, AtTime)]
    if fixed:
        t0 = min(fixed)
    elif agreement.signed is not None:
        t0 = datetime.combine(agreement.signed, datetime.min.time(), agreement.timezone)
    else:
        raise ValueError(
            f"agreement {agreement.id} has no fixed start and no signing date to base a demo on"
        )
    local = t0.astimezone(agreement.timezone)
    start = datetime.combine(
        local.date() - timedelta(days=2), datetime.min.time(), agreement.timezone
    )
    end = start + timedelta(days=10)
    # Reach past the last fixed rule instant (a deadline, a zone's `from`) so it can be broken.
    for rule in agreement.rules:
        for name in ("deadline", "from_"):
            instant = getattr(rule.params, name, None)
            if isinstance(instant, datetime):
                end = max(end, instant + timedelta(days=4))
    return start.astimezone(UTC), end.astimezone(UTC)


class _World:
    """Geometry helpers in the agreement's metric CRS, and the random stream."""

    def __init__(self, agreement: Agreement, rng: random.Random) -> None:
        self.a = agreement
        self.rng = rng
        fallback = (_FALLBACK_ANCHORS[0][1], _FALLBACK_ANCHORS[0][2])
        self.space = AgreementSpace.of(agreement, fallback)
        self.proj = self.space.projection
        self.features_m: dict[str, BaseGeometry] = self.space.features_m
        anchors = [self._m(lon, lat) for _, lon, lat in _FALLBACK_ANCHORS]
        self.anchors: list[BaseGeometry] = list(self.features_m.values()) or anchors

    def _m(self, lon: float, lat: float) -> Point:
        x, y = self.proj.points(np.array([lon]), np.array([lat]))
        return Point(float(x[0]), float(y[0]))

    def lonlat(self, p: Point) -> tuple[float, float]:
        q = self.proj.to_wgs84(p)
        return q.x, q.y

    def point_on(self, geom: BaseGeometry) -> Point:
        if geom.geom_type in ("LineString", "MultiLineString"):
            return geom.interpolate(self.rng.random(), normalized=True)
        if geom.geom_type in ("Polygon", "MultiPolygon"):
            minx, miny, maxx, maxy = geom.bounds
            for _ in range(100):
                p = Point(self.rng.uniform(minx, maxx), self.rng.uniform(miny, maxy))
                if geom.contains(p):
                    return p
            return geom.representative_point()
        return geom.centroid

    def near(self, geom: BaseGeometry, spread_m: float) -> Point:
        p = self.point_on(geom)
        return Point(p.x + self.rng.gauss(0, spread_m), p.y + self.rng.gauss(0, spread_m))

    def at_distance(self, geom: BaseGeometry, lo_m: float, hi_m: float) -> Point:
        """A point whose distance to `geom` is in [lo_m, hi_m]."""
        for _ in range(200):
            base = self.point_on(geom)
            angle = self.rng.uniform(0, 2 * math.pi)
            r = self.rng.uniform(lo_m, hi_m)
            p = Point(base.x + r * math.cos(angle), base.y + r * math.sin(angle))
            if lo_m <= shapely.distance(p, geom) <= hi_m:
                return p
        return base

    def anywhere(self) -> Point:
        return self.near(self.rng.choice(self.anchors), 4000)


def _violent_per_day(day: int, first_phase_day: int) -> float:
    """Ground-truth attacks a day: heavy before the first phase, a lull, a rise from day 5."""
    k = day - first_phase_day
    if k < 0:
        return 11
    return (3, 1, 2, 2, 3, 9, 13, 16)[k] if k < 8 else 15


def _truth(w: _World, start: datetime, end: datetime, n_events: int) -> list[_Event]:
    a, rng = w.a, w.rng
    tz = a.timezone
    parties = [p.id for p in a.parties] or ["gov", "opp"]
    excluded = [g.id for g in a.excluded]
    days = (end - start).days
    t_first = min((p.start.at for p in a.phases if isinstance(p.start, AtTime)), default=start)
    first_day = (t_first.astimezone(tz).date() - start.astimezone(tz).date()).days
    events: list[_Event] = []

    def when(day: int, lo_h: float = 0, hi_h: float = 24) -> datetime:
        return start + timedelta(days=day, hours=rng.uniform(lo_h, hi_h))

    # Attacks, on the daily schedule. The first phase's own day counts only after it starts.
    budget = max(n_events, 40)
    scale = min(1.0, budget * 0.35 / sum(_violent_per_day(d, first_day) for d in range(days)))
    for day in range(days):
        for _ in range(round(_violent_per_day(day, first_day) * scale)):
            t = when(day)
            if day == first_day and t < t_first:
                t = t_first + timedelta(hours=rng.uniform(0.5, 4))
            roll = rng.random()
            target = ""
            if excluded and roll < 0.15:
                attacker, target, etype = parties[0], rng.choice(excluded), "airstrike"
            elif roll < 0.25:
                attacker, etype = "", rng.choice(("shelling", "small_arms_fire", "shelling"))
            else:
                attacker = parties[0] if roll < 0.65 else parties[-1]
                options = ("airstrike", "shelling", "shelling", "armed_clash") if attacker == parties[0] else (
                    "shelling", "armed_clash", "small_arms_fire", "atgm_attack")  # fmt: skip
                etype = rng.choice(options)
                target = parties[-1] if attacker == parties[0] else parties[0]
            p = w.anywhere()
            lon, lat = w.lonlat(p)
            events.append(_Event(_ATTACK, etype, t, lon, lat, attacker, target,
                                 rng.choice(_ARMS[etype]), fatalities=rng.choice((0, 0, 1, 2, 3, 5))))  # fmt: skip

    # Ground advances while phases run.
    for _ in range(max(2, budget // 60)):
        p = w.anywhere()
        lon, lat = w.lonlat(p)
        day = rng.randrange(max(first_day, 0), days)
        events.append(_Event(_ADVANCE, "ground_advance", when(day), lon, lat, rng.choice(parties)))

    for rule in a.rules:
        params = rule.params
        if rule.kind == "withdrawal":
            geom = w.features_m[params.from_feature]
            deadline = params.deadline.astimezone(UTC)
            for weapon, minimum in params.min_distance_m.items():
                for inside, after in (
                    (True, True),
                    (True, True),
                    (False, True),
                    (True, False),
                    (False, True),
                ):
                    lo, hi = (
                        (0.15 * minimum, 0.6 * minimum) if inside else (1.6 * minimum, 3 * minimum)
                    )
                    t = deadline + timedelta(
                        hours=rng.uniform(3, 90) if after else -rng.uniform(3, 40)
                    )
                    if not start <= t < end:
                        continue
                    lon, lat = w.lonlat(w.at_distance(geom, lo, hi))
                    events.append(_Event(_SIGHTING, "weapon_sighting", t, lon, lat, params.party,
                                         weapon=weapon, count=rng.randint(1, 6), min_sources=2))  # fmt: skip
        elif rule.kind == "demilitarised":
            zone = a.zone(params.zone)
            geom = w.features_m[zone.feature]
            since = (params.from_ or start).astimezone(UTC)
            for k in range(4):
                weapon = params.weapons[k % len(params.weapons)]
                t = max(since, start) + timedelta(hours=rng.uniform(2, 72))
                if t >= end:
                    continue
                lon, lat = w.lonlat(w.at_distance(geom, 0, max(zone.distance_m * 0.5, 1)))
                events.append(_Event(_SIGHTING, "weapon_sighting", t, lon, lat, rng.choice(parties),
                                     weapon=weapon, count=rng.randint(1, 4), min_sources=2))  # fmt: skip
        elif rule.kind == "checkpoint_limit":
            cp = w.features_m[params.checkpoint]
            for k in range(6):
                count = params.max_armed_per_side + (
                    rng.randint(3, 15) if k % 2 else -rng.randint(2, 12)
                )
                lon, lat = w.lonlat(w.near(cp, 40))
                t = when(rng.randrange(max(first_day, 0), days), 7, 18)
                events.append(_Event(_CHECKPOINT, "checkpoint_observation", t, lon, lat, parties[k % len(parties)],
                                     weapon="personnel", count=max(count, 0), precise=True, min_sources=2))  # fmt: skip
        elif rule.kind == "no_fly":
            zone = a.zone(params.zone)
            for _ in range(3):
                lon, lat = w.lonlat(w.near(w.features_m[zone.feature], 300))
                events.append(_Event(_ATTACK, "airstrike", when(rng.randrange(days)), lon, lat, params.party,
                                     parties[-1], "aircraft", fatalities=rng.randint(0, 6)))  # fmt: skip

    # Humanitarian access: obstructions on routes, and one attack on an aid convoy.
    routes = [g for g in w.features_m.values() if g.geom_type == "LineString"] or w.anchors
    for k in range(max(3, budget // 80)):
        lon, lat = w.lonlat(w.near(rng.choice(routes), 200))
        t = when(rng.randrange(max(first_day, 0), days), 8, 17)
        events.append(
            _Event(_AID, "convoy_obstruction", t, lon, lat, parties[k % len(parties)], "aid")
        )
    convoy_day = min(first_day + 7, days - 1)
    t = start + timedelta(days=convoy_day, hours=19, minutes=rng.randint(0, 50))
    if a.id == "us-ru-2016-09":
        name, lon, lat = _BIG_OREM
        attack = _Event(_AID, "attack_on_humanitarian", t, lon, lat, "", "aid", "aircraft",
                        fatalities=20, place=name, min_sources=3)  # fmt: skip
    else:
        lon, lat = w.lonlat(w.near(rng.choice(routes), 500))
        attack = _Event(_AID, "attack_on_humanitarian", t, lon, lat, "", "aid", fatalities=rng.randint(1, 12),
                        min_sources=2)  # fmt: skip
    events.append(attack)
    events.sort(key=lambda e: (e.t, e.event_type, e.lon, e.lat))
    return events


def _background(w: _World, start: datetime, end: datetime, n: int) -> list[_Event]:
    """Filler that does not change the quiet-days story: pre-start fighting, distant sightings."""
    a, rng = w.a, w.rng
    parties = [p.id for p in a.parties] or ["gov", "opp"]
    t_first = min((p.start.at for p in a.phases if isinstance(p.start, AtTime)), default=start)
    out: list[_Event] = []
    for k in range(n):
        party = parties[k % len(parties)]
        if k % 2 and t_first > start:
            t = start + (t_first - start) * rng.random()
            etype = rng.choice(("shelling", "armed_clash", "small_arms_fire"))
            lon, lat = w.lonlat(w.anywhere())
            target = parties[-1] if party == parties[0] else parties[0]
            out.append(_Event(_ATTACK, etype, t, lon, lat, party, target, rng.choice(_ARMS[etype]),
                              fatalities=rng.choice((0, 1, 2))))  # fmt: skip
        else:
            t = start + (end - start) * rng.random()
            lon, lat = w.lonlat(w.at_distance(rng.choice(w.anchors), 12_000, 25_000))
            weapon = rng.choice(("heavy_vehicle", "artillery", "apc", "mortar"))
            out.append(_Event(_SIGHTING, "weapon_sighting", t, lon, lat, party, weapon=weapon,
                              count=rng.randint(1, 5)))  # fmt: skip
    return out


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
    for name, plon, plat in _PLACE_NAMES:
        d = math.hypot((plon - lon) * 90.0, (plat - lat) * 111.0)
        if d < best_d:
            best, best_d = name, d
    return best


def _report(w: _World, e: _Event, s: SourceProfile, seq: int) -> dict[str, str]:
    a, rng = w.a, w.rng
    noise = s.position_noise_m * (0.05 if e.precise else 1.0)
    x, y = w.proj.points(np.array([e.lon]), np.array([e.lat]))
    lon, lat = w.lonlat(Point(float(x[0]) + rng.gauss(0, noise), float(y[0]) + rng.gauss(0, noise)))
    t = e.t + timedelta(minutes=rng.gauss(0, s.time_noise_min * (0.2 if e.precise else 1.0)))
    t = t.replace(second=0, microsecond=0)
    shown = t.astimezone(UTC if s.utc else a.timezone)
    actor = e.actor or (_actor_name(a, e.party, rng) if e.party else "")
    if not e.party and s.blames and e.kind == _ATTACK and rng.random() < 0.4:
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
    if e.kind == _CHECKPOINT:
        row["side"] = e.party
    if e.fatalities or e.kind in (_ATTACK, _AID):
        row["fatalities"] = str(max(0, e.fatalities + rng.choice((-1, 0, 0, 0, 1, 2))))
    place = e.place or (_nearest_place(lon, lat) if rng.random() < s.place_only else None)
    if place:
        row["place"] = place
        row["location_precision_m"] = ""
    else:
        row["lat"], row["lon"] = f"{lat:.5f}", f"{lon:.5f}"
    row["notes"] = e.status or f"{e.event_type.replace('_', ' ')} reported by {s.id}"
    return row


def _bad_rows(w: _World, start: datetime) -> list[dict[str, str]]:
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
    w = _World(agreement, rng)
    start, end = demo_period(agreement)
    events = _truth(w, start, end, n_events or 400)
    if n_events is not None and n_events > len(events):
        events = sorted([*events, *_background(w, start, end, n_events - len(events))],
                        key=lambda e: (e.t, e.event_type, e.lon, e.lat))  # fmt: skip
    rows: list[dict[str, str]] = []
    seq = {s.id: 0 for s in SOURCES}
    _reports_of(w, events, rows, seq)
    # The SPEC §6 terms' events draw from a stream of their own, so adding them leaves
    # every other report exactly as it was.
    from truce.demo_terms import terms_events  # sites, convoys, checkpoints, sign-ups

    w_terms = _World(agreement, random.Random(f"truce-demo-terms:{agreement.id}:{seed}"))
    t_first = min(
        (p.start.at for p in agreement.phases if isinstance(p.start, AtTime)), default=start
    )
    _reports_of(w_terms, terms_events(w_terms, start, end, t_first), rows, seq)
    bad = _bad_rows(w, start)
    for k, row in enumerate(bad):
        rows.insert(min(len(rows), (k + 1) * len(rows) // (len(bad) + 1)), row)
    return rows


def _reports_of(
    w: _World, events: list[_Event], rows: list[dict[str, str]], seq: dict[str, int]
) -> None:
    """Each event as seen by the sources that notice it (at least `min_sources`)."""
    rng = w.rng
    for e in events:
        seen = []
        for s in SOURCES:
            p = s.see[e.kind]
            if s.spares and e.party == s.spares and e.kind == _ATTACK:
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
