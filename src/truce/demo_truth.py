"""The ground truth of a demonstration (`truce.demodata`): what happened, drawn over the
agreement's period, before any source reports it.

Events of five kinds (attacks, aid, weapon sightings, checkpoints, advances) at
places the agreement names or near its zones, with a lull after the first phase
starts and a rise from day 5; then background events that no rule concerns.
Pure: no I/O and no clock; a `World` carries the seeded random generator.
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

from truce.domain.geo import AgreementSpace
from truce.domain.model import Agreement, AtTime

ATTACK, AID, SIGHTING, CHECKPOINT, ADVANCE = (
    "attack",
    "aid",
    "sighting",
    "checkpoint",
    "advance",
)

FALLBACK_ANCHORS = (
    ("Aleppo", 37.16117, 36.20124), ("Idlib", 36.63393, 35.93062), ("Hama", 36.75783, 35.13179),
    ("Homs", 36.72559, 34.72405), ("Damascus", 36.29128, 33.51020), ("Daraa", 36.10213, 32.61889),
    ("Saraqib", 36.80591, 35.86447), ("Latakia", 35.79088, 35.53125),
)  # fmt: skip
# Names local media use for places; each resolves to one gazetteer entry.
PLACE_NAMES = (
    ("Aleppo", 37.16117, 36.20124), ("Huraytan", 37.08527, 36.28861), ("Castello Road", 37.13, 36.25),
    ("Ramouseh", 37.13, 36.16), ("Khan Tuman", 37.03, 36.10), ("Khan al-Asal", 37.03917, 36.16722),
    ("Idlib", 36.63393, 35.93062), ("Saraqib", 36.80591, 35.86447), ("Jisr al-Shughur", 36.31983, 35.81418),
    ("Ariha", 36.60964, 35.81374), ("Khan Shaykhun", 36.65095, 35.44208), ("Hama", 36.75783, 35.13179),
    ("Homs", 36.72559, 34.72405), ("Damascus", 36.29128, 33.51020), ("Latakia", 35.79088, 35.53125),
)  # fmt: skip
BIG_OREM = ("Big Orem", 37.01, 36.12)  # gazetteer: Urum al-Kubra (estimate ±10 km)
ARMS = {"shelling": ("artillery", "mortar", "mlrs"), "armed_clash": ("small_arms",),
         "small_arms_fire": ("small_arms",), "atgm_attack": ("atgm",), "airstrike": ("aircraft",)}  # fmt: skip


@dataclass
class Event:
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


class World:
    """Geometry helpers in the agreement's metric CRS, and the random stream."""

    def __init__(self, agreement: Agreement, rng: random.Random) -> None:
        self.a = agreement
        self.rng = rng
        fallback = (FALLBACK_ANCHORS[0][1], FALLBACK_ANCHORS[0][2])
        self.space = AgreementSpace.of(agreement, fallback)
        self.proj = self.space.projection
        self.features_m: dict[str, BaseGeometry] = self.space.features_m
        anchors = [self._m(lon, lat) for _, lon, lat in FALLBACK_ANCHORS]
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


def violent_per_day(day: int, first_phase_day: int) -> float:
    """Ground-truth attacks a day: heavy before the first phase, a lull, a rise from day 5."""
    k = day - first_phase_day
    if k < 0:
        return 11
    return (3, 1, 2, 2, 3, 9, 13, 16)[k] if k < 8 else 15


def truth(w: World, start: datetime, end: datetime, n_events: int) -> list[Event]:
    a, rng = w.a, w.rng
    tz = a.timezone
    parties = [p.id for p in a.parties] or ["gov", "opp"]
    excluded = [g.id for g in a.excluded]
    days = (end - start).days
    t_first = min((p.start.at for p in a.phases if isinstance(p.start, AtTime)), default=start)
    first_day = (t_first.astimezone(tz).date() - start.astimezone(tz).date()).days
    events: list[Event] = []

    def when(day: int, lo_h: float = 0, hi_h: float = 24) -> datetime:
        return start + timedelta(days=day, hours=rng.uniform(lo_h, hi_h))

    # Attacks, on the daily schedule. The first phase's own day counts only after it starts.
    budget = max(n_events, 40)
    scale = min(1.0, budget * 0.35 / sum(violent_per_day(d, first_day) for d in range(days)))
    for day in range(days):
        for _ in range(round(violent_per_day(day, first_day) * scale)):
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
            events.append(Event(ATTACK, etype, t, lon, lat, attacker, target,
                                 rng.choice(ARMS[etype]), fatalities=rng.choice((0, 0, 1, 2, 3, 5))))  # fmt: skip

    # Ground advances while phases run.
    for _ in range(max(2, budget // 60)):
        p = w.anywhere()
        lon, lat = w.lonlat(p)
        day = rng.randrange(max(first_day, 0), days)
        events.append(Event(ADVANCE, "ground_advance", when(day), lon, lat, rng.choice(parties)))

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
                    events.append(Event(SIGHTING, "weapon_sighting", t, lon, lat, params.party,
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
                events.append(Event(SIGHTING, "weapon_sighting", t, lon, lat, rng.choice(parties),
                                     weapon=weapon, count=rng.randint(1, 4), min_sources=2))  # fmt: skip
        elif rule.kind == "checkpoint_limit":
            cp = w.features_m[params.checkpoint]
            for k in range(6):
                count = params.max_armed_per_side + (
                    rng.randint(3, 15) if k % 2 else -rng.randint(2, 12)
                )
                lon, lat = w.lonlat(w.near(cp, 40))
                t = when(rng.randrange(max(first_day, 0), days), 7, 18)
                events.append(Event(CHECKPOINT, "checkpoint_observation", t, lon, lat, parties[k % len(parties)],
                                     weapon="personnel", count=max(count, 0), precise=True, min_sources=2))  # fmt: skip
        elif rule.kind == "no_fly":
            zone = a.zone(params.zone)
            for _ in range(3):
                lon, lat = w.lonlat(w.near(w.features_m[zone.feature], 300))
                events.append(Event(ATTACK, "airstrike", when(rng.randrange(days)), lon, lat, params.party,
                                     parties[-1], "aircraft", fatalities=rng.randint(0, 6)))  # fmt: skip

    # Humanitarian access: obstructions on routes, and one attack on an aid convoy.
    routes = [g for g in w.features_m.values() if g.geom_type == "LineString"] or w.anchors
    for k in range(max(3, budget // 80)):
        lon, lat = w.lonlat(w.near(rng.choice(routes), 200))
        t = when(rng.randrange(max(first_day, 0), days), 8, 17)
        events.append(
            Event(AID, "convoy_obstruction", t, lon, lat, parties[k % len(parties)], "aid")
        )
    convoy_day = min(first_day + 7, days - 1)
    t = start + timedelta(days=convoy_day, hours=19, minutes=rng.randint(0, 50))
    if a.id == "us-ru-2016-09":
        name, lon, lat = BIG_OREM
        attack = Event(AID, "attack_on_humanitarian", t, lon, lat, "", "aid", "aircraft",
                        fatalities=20, place=name, min_sources=3)  # fmt: skip
    else:
        lon, lat = w.lonlat(w.near(rng.choice(routes), 500))
        attack = Event(AID, "attack_on_humanitarian", t, lon, lat, "", "aid", fatalities=rng.randint(1, 12),
                        min_sources=2)  # fmt: skip
    events.append(attack)
    events.sort(key=lambda e: (e.t, e.event_type, e.lon, e.lat))
    return events


def background(w: World, start: datetime, end: datetime, n: int) -> list[Event]:
    """Filler that does not change the quiet-days story: pre-start fighting, distant sightings."""
    a, rng = w.a, w.rng
    parties = [p.id for p in a.parties] or ["gov", "opp"]
    t_first = min((p.start.at for p in a.phases if isinstance(p.start, AtTime)), default=start)
    out: list[Event] = []
    for k in range(n):
        party = parties[k % len(parties)]
        if k % 2 and t_first > start:
            t = start + (t_first - start) * rng.random()
            etype = rng.choice(("shelling", "armed_clash", "small_arms_fire"))
            lon, lat = w.lonlat(w.anywhere())
            target = parties[-1] if party == parties[0] else parties[0]
            out.append(Event(ATTACK, etype, t, lon, lat, party, target, rng.choice(ARMS[etype]),
                              fatalities=rng.choice((0, 1, 2))))  # fmt: skip
        else:
            t = start + (end - start) * rng.random()
            lon, lat = w.lonlat(w.at_distance(rng.choice(w.anchors), 12_000, 25_000))
            weapon = rng.choice(("heavy_vehicle", "artillery", "apc", "mortar"))
            out.append(Event(SIGHTING, "weapon_sighting", t, lon, lat, party, weapon=weapon,
                              count=rng.randint(1, 5)))  # fmt: skip
    return out
