"""ACLED CSV exports (2023+ columns) to SPEC §2/§4.

Decisions (reasons in docs/input-formats.md):

- `sub_event_type` -> event_type by `SUB_EVENT_TYPES`; kinds truce has no code
  for become `other`, and the read lists them (a notice per kind with its count).
- Battles: actor1 and actor2 fought, ACLED does not say who attacked: `mutual`.
  Explosions/Remote violence and Violence against civilians: ACLED codes the
  perpetrator as actor1: `attack`. Other event types: `mutual`.
- actor = actor1 and assoc_actor_1 ("A; B"), target = actor2 and assoc_actor_2.
- `geo_precision` 1/2/3 -> 1 km / 25 km / 100 km; `time_precision` 1/2/3 -> the
  local day / the ISO week (Monday to Sunday) around the date / the month.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta

import numpy as np

from truce.formats.importers.common import (
    Mapped,
    SourceRows,
    clip,
    joined,
    read_source_csv,
    reject,
    require_columns,
)
from truce.formats.importers.timezones import day_window, parse_date, zone_for
from truce.formats.reports.rows import Raw, TextRows

NAME = "acled"
SOURCE = "acled"
REQUIRED = (
    "event_id_cnty",
    "event_date",
    "event_type",
    "sub_event_type",
    "actor1",
    "latitude",
    "longitude",
)
SIGNATURE = frozenset({"event_id_cnty", "event_date", "sub_event_type", "actor1"})

OTHER = "other"
ATTACK_ON_AID = "attack_on_humanitarian"
# ACLED sub_event_type (lower case) -> truce event_type. "Attack" is decided by its notes.
SUB_EVENT_TYPES: dict[str, str] = {
    "air/drone strike": "airstrike",
    "shelling/artillery/missile attack": "shelling",
    "armed clash": "armed_clash",
    "government regains territory": "ground_advance",
    "non-state actor overtakes territory": "ground_advance",
    # Explosions with no air or artillery weapon: attacks truce has no weapon code for.
    # armed_clash keeps them violent (they break a cessation of hostilities) without
    # claiming indirect fire, which heavy-weapon rules would test.
    "remote explosive/landmine/ied": "armed_clash",
    "suicide bomb": "armed_clash",
    "grenade": "armed_clash",
}
# Event types whose actor1 ACLED codes as the perpetrator, and their sub-event types
# (for files that give only the sub-event type, such as some HXL exports).
DIRECTED = frozenset({"explosions/remote violence", "violence against civilians"})
DIRECTED_SUB = frozenset(
    {
        "air/drone strike",
        "shelling/artillery/missile attack",
        "remote explosive/landmine/ied",
        "suicide bomb",
        "grenade",
        "chemical weapon",
        "attack",
        "abduction/forced disappearance",
        "sexual violence",
    }
)
PRECISION_M = {"1": 1_000, "2": 25_000, "3": 100_000}
_AID = re.compile(
    r"\b(aid workers?|humanitarian|relief workers?|NGO|UN staff|United Nations staff"
    r"|Red Crescent|Red Cross|ICRC|WFP|UNICEF|UNHCR|UNRWA|MSF|Doctors Without Borders)\b",
    re.IGNORECASE,
)


def matches(header: list[str]) -> bool:
    return set(header) >= SIGNATURE


def event_type_of(sub_event_type: str, notes: str) -> str:
    key = sub_event_type.strip().lower()
    if key == "attack":
        return ATTACK_ON_AID if _AID.search(notes) else "armed_clash"
    return SUB_EVENT_TYPES.get(key, OTHER)


def directed(event_type: str, sub_event_type: str) -> bool:
    """Whether ACLED codes actor1 as the one who attacked (else the two only fought)."""
    if event_type.strip():
        return event_type.strip().lower() in DIRECTED
    return sub_event_type.strip().lower() in DIRECTED_SUB


def time_window(day: date, precision: str, zone: str | None) -> tuple[str, str]:
    """observed_at/observed_to for ACLED's `time_precision`: 1 the day, 2 the ISO week
    around it, 3 its month (anything else: the month, the widest ACLED uses)."""
    if precision == "1":
        return day_window(day, day, zone)
    if precision == "2":
        monday = day - timedelta(days=day.weekday())
        return day_window(monday, monday + timedelta(days=6), zone)
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return day_window(first, following - timedelta(days=1), zone)


def parse(raw: Raw, start: int, name: str) -> TextRows:
    rows = read_source_csv(raw, start, name)
    require_columns(rows.header, REQUIRED, name, "an ACLED")
    mapped, keep = _map(rows)
    return mapped.to_text_rows(rows, keep)


def _map(rows: SourceRows) -> tuple[Mapped, np.ndarray]:
    n = len(rows)
    col = rows.get
    out = Mapped(n)
    keep = np.ones(n, dtype=bool)
    unmapped: Counter[str] = Counter()
    columns: dict[str, list[str]] = {
        c: []
        for c in (
            "observed_at",
            "observed_to",
            "event_type",
            "direction",
            "actor",
            "target",
            "location_precision_m",
            "notes",
        )
    }
    ids, dates, precisions = col("event_id_cnty"), col("event_date"), col("time_precision")
    for i in range(n):
        day = parse_date(dates[i])
        time_precision = precisions[i].strip() or "1"
        geo = col("geo_precision")[i].strip()
        problems = []
        if day is None:
            problems.append(("event_date", f"event_date is not a date: {dates[i].strip()!r}"))
        if time_precision not in ("1", "2", "3"):
            problems.append(
                ("time_precision", f"time_precision must be 1, 2 or 3: {time_precision!r}")
            )
        if geo not in ("", *PRECISION_M):
            problems.append(("geo_precision", f"geo_precision must be 1, 2 or 3: {geo!r}"))
        if problems:
            keep[i] = False
            out.rejected.append(
                reject(
                    int(rows.lines[i]),
                    ids[i].strip(),
                    SOURCE,
                    problems[0][0],
                    "; ".join(p for _, p in problems),
                )
            )
            for values in columns.values():
                values.append("")
            continue
        assert day is not None
        zone = zone_for(col("country")[i])
        start, end = time_window(day, time_precision, zone)
        sub = col("sub_event_type")[i].strip()
        kind = event_type_of(sub, col("notes")[i])
        if kind == OTHER:
            unmapped[sub or "(empty)"] += 1
        event = col("event_type")[i].strip()
        columns["observed_at"].append(start)
        columns["observed_to"].append(end)
        columns["event_type"].append(kind)
        columns["direction"].append("attack" if directed(event, sub) else "mutual")
        columns["actor"].append(joined(col("actor1")[i], col("assoc_actor_1")[i]))
        columns["target"].append(joined(col("actor2")[i], col("assoc_actor_2")[i]))
        columns["location_precision_m"].append(str(PRECISION_M.get(geo, "")))
        columns["notes"].append(_notes(rows, i, event, sub, kind, zone))
    out.columns = {
        "report_id": ids,
        "source": [SOURCE] * n,
        "dataset": [SOURCE] * n,
        "lat": rows.array("latitude"),
        "lon": rows.array("longitude"),
        "place": rows.array("location"),
        "fatalities": rows.array("fatalities"),
        "reliability": ["B"] * n,
        "credibility": ["3"] * n,
        **columns,
    }
    for sub, count in sorted(unmapped.items(), key=lambda kv: (-kv[1], kv[0])):
        out.notices.append(
            f"ACLED sub_event_type {sub!r}: {count} row(s) read as event_type 'other' "
            "(truce has no event type for it)"
        )
    return out, keep


def _notes(rows: SourceRows, i: int, event: str, sub: str, kind: str, zone: str | None) -> str:
    col = rows.get
    parts = [f"ACLED {col('event_id_cnty')[i].strip()}: {event} / {sub} -> {kind}"]
    if zone is None:
        parts.append(
            f"time zone of {col('country')[i].strip() or 'unknown'} unknown: "
            "dates read from UTC+14 to UTC-12 (widest window)"
        )
    for name in ("time_precision", "geo_precision", "civilian_targeting", "source"):
        value = col(name)[i].strip()
        if value:
            parts.append(f"{name}: {clip(value)}")
    text = col("notes")[i]
    if text.strip():
        parts.append(f"notes: {clip(text, 600)}")
    return "; ".join(parts)
