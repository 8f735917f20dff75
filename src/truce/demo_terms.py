"""Demo events for the SPEC §6 terms, added to `truce.demodata`'s ground truth.

For whatever the agreement defines: attacks near each protected site just after
its notification (violations), just before it and just outside its radius (not);
each convoy's status reports and an obstruction on its route inside its window
and one after it; each checkpoint's status over time; and, for each group in the
sign-up registry, attacks before and after it was bound. For `us-ru-2016-09` the
story follows the sources: checkpoints set up on 13 Sep and one handed to SARC on
15 Sep [S28][S27], the aid convoy stopped and turned back [S35].
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from shapely.geometry import Point

from truce.demo_truth import AID, ATTACK, CHECKPOINT, Event, World


def terms_events(w: World, start: datetime, end: datetime, first_phase: datetime) -> list[Event]:
    a, rng = w.a, w.rng
    parties = [p.id for p in a.parties] or ["gov", "opp"]
    out: list[Event] = []

    def inside(t: datetime) -> bool:
        return start <= t < end

    def add(e: Event) -> None:
        if inside(e.t):
            out.append(e)

    # Protected sites: one violation, one before notification, one just outside the radius.
    for site in a.sites:
        x, y = w.proj.points(np.array([site.lon]), np.array([site.lat]))
        centre = Point(float(x[0]), float(y[0]))
        since = (site.notified or first_phase).astimezone(UTC)
        for hours, (lo, hi) in ((6.0, (0.2, 0.6)), (-3.0, (0.2, 0.6)), (9.0, (1.6, 2.5))):
            lon, lat = w.lonlat(w.at_distance(centre, lo * site.radius_m, hi * site.radius_m))
            add(Event(ATTACK, "shelling", since + timedelta(hours=hours), lon, lat, parties[0],
                       parties[-1], "mortar", fatalities=rng.randint(0, 3), precise=True,
                       min_sources=2))  # fmt: skip

    # Convoys: status over time, an obstruction in the window and one after it.
    for convoy in a.convoys:
        route = w.features_m[convoy.route[0]]
        t0, t1 = convoy.window_from.astimezone(UTC), convoy.window_to.astimezone(UTC)
        story = (
            (("departed", 2), ("stopped", 9), ("turned back", 30))
            if a.id == "us-ru-2016-09"
            else (("departed", 2), ("delivered", 20))
        )
        for status, hours in story:
            lon, lat = w.lonlat(w.near(route, 60))
            add(Event(AID, "convoy_status", t0 + timedelta(hours=hours), lon, lat, "",
                       status=f"{convoy.id} {status}", precise=True, min_sources=1))  # fmt: skip
        for t in (t0 + (t1 - t0) / 3, t1 + timedelta(hours=20)):
            lon, lat = w.lonlat(w.at_distance(route, 50, 0.5 * convoy.corridor_m))
            add(Event(AID, "convoy_obstruction", t, lon, lat, parties[0], "aid", precise=True,
                       min_sources=2))  # fmt: skip

    # Checkpoints: established the day after the first phase starts, later staffed.
    day1 = first_phase.astimezone(UTC) + timedelta(hours=15)
    for k, cp in enumerate(a.checkpoint_ids()):
        point = w.features_m[cp]
        for status, t in (("established", day1 + timedelta(hours=k)),
                          ("staffed", day1 + timedelta(days=2, hours=k))):  # fmt: skip
            lon, lat = w.lonlat(w.near(point, 15))
            add(Event(CHECKPOINT, "checkpoint_status", t, lon, lat, "",
                       status=f"checkpoint {status}", precise=True, min_sources=1))  # fmt: skip

    # The sign-up registry: an attack by each group before and after it was bound.
    for c in a.commitments:
        moments = [c.accepted, c.declined, c.withdrew]
        for m in [m for m in moments if m is not None]:
            for hours in (-2.0, 2.0):
                t = max(
                    m.astimezone(UTC) + timedelta(hours=hours), first_phase + timedelta(hours=1)
                )
                lon, lat = w.lonlat(w.anywhere())
                add(Event(ATTACK, "shelling", t, lon, lat, c.party, "", "mortar",
                           actor=c.group, min_sources=2))  # fmt: skip
    return out
