"""Evaluation -> the SPEC §3 JSON object as dicts (times in the agreement's timezone).

A million reports make a quarter of a million incidents, so every field is
computed for the whole column at once. `evaluation_to_dict` assembles the
dicts the server works on; `formats.evaluation_json` writes the same object
straight to JSON text.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from itertools import pairwise
from typing import Any

import numpy as np

from truce.domain.model import Evaluation, ViolationTable
from truce.domain.per_incident import incident_slice
from truce.domain.timeparse import iso, iso_many
from truce.formats.evaluation_columns import (
    EVENT_NAMES,
    WEAPON_NAMES,
    directions,
    fatality_ranges,
    grades,
    iso_or_null,
    label_lists,
    measured_m,
    numbers_or_none,
    report_ids_in_order,
    source_codes,
    source_lists,
    targets,
    violation_ids_by_incident,
)
from truce.formats.evaluation_terms import condition_terms, terms_parts
from truce.formats.json_columns import (
    round_like_python,
)

# --- dicts ---------------------------------------------------------------------------------


def _label_rows(labels: np.ndarray) -> list[list[str]]:
    codes, lists = label_lists(labels)
    return [list(lists[c]) for c in codes.tolist()]


def _split(flat: list[Any], offsets: np.ndarray) -> list[list[Any]]:
    """`flat` cut into consecutive lists at `offsets` (len n+1)."""
    return [flat[a:b] for a, b in pairwise(offsets.tolist())]


def incident_dicts(
    ev: Evaluation,
    observed_at: np.ndarray | None = None,
    sources: tuple[np.ndarray, list[str]] | None = None,
) -> list[dict[str, Any]]:
    """The SPEC §3 incidents. `observed_at`: their local ISO times, if already made;
    `sources`: `source_codes(ev.reports)`, if already made."""
    inc = ev.incidents
    if observed_at is None:
        observed_at = iso_many(inc.observed_at, ev.agreement.timezone)
    codes, names = source_codes(ev.reports) if sources is None else sources
    report_ids, _ = report_ids_in_order(inc, ev.reports, codes, names)
    violation_ids, violation_offsets = violation_ids_by_incident(ev)
    observed_to = iso_or_null(inc.observed_to, ev.agreement.timezone)
    involved = _label_rows(inc.involved)
    datasets = _label_rows(inc.datasets)
    columns = zip(
        ev.incident_ids,
        inc.anchor.tolist(),
        _split(report_ids.tolist(), inc.offsets),
        _split(*source_lists(inc, codes, names)),
        EVENT_NAMES[inc.event_type].tolist(),
        WEAPON_NAMES[inc.weapon].tolist(),
        observed_at.tolist(),
        round_like_python(inc.lon, 6).tolist(),
        round_like_python(inc.lat, 6).tolist(),
        numbers_or_none(inc.precision_m),
        inc.party.tolist(),
        targets(inc).tolist(),
        inc.corroboration.tolist(),
        grades(inc).tolist(),
        numbers_or_none(inc.count),
        numbers_or_none(inc.fatalities),
        _split(violation_ids.tolist(), violation_offsets),
        observed_to.tolist(),
        fatality_ranges(inc),
        directions(inc).tolist(),
        involved,
        datasets,
        strict=True,
    )
    return [
        {
            "id": inc_id,
            "key": key,
            "report_ids": report_ids,
            "sources": sources,
            "event_type": event_type,
            "weapon": weapon,
            "observed_at": at,
            "lon": lon,
            "lat": lat,
            "precision_m": precision_m,
            "party": party,
            "target": target,
            "corroboration": corroboration,
            "grade": grade,
            "count": count,
            "fatalities": fatalities,
            "violations": violations,
            "observed_to": to,
            "location_precision_m": precision_m,
            "fatalities_range": fatalities_range,
            "direction": direction,
            "involved": who,
            "datasets": sets,
        }
        for (
            inc_id,
            key,
            report_ids,
            sources,
            event_type,
            weapon,
            at,
            lon,
            lat,
            precision_m,
            party,
            target,
            corroboration,
            grade,
            count,
            fatalities,
            violations,
            to,
            fatalities_range,
            direction,
            who,
            sets,
        ) in columns
    ]


def violation_dicts(ev: Evaluation, observed_at: np.ndarray | None = None) -> list[dict[str, Any]]:
    """The SPEC §3 violations. `observed_at`: the incidents' local ISO times, if already made."""
    vt = ev.violations
    if observed_at is None:
        observed_at = iso_many(ev.incidents.observed_at, ev.agreement.timezone)
    measured = measured_m(ev).astype(object)
    measured[np.isnan(vt.measured_m)] = None
    columns = zip(
        vt.ids,
        vt.rule.tolist(),
        vt.kind.tolist(),
        [ev.incident_ids[i] for i in vt.incident.tolist()],  # not an array of a million
        vt.party.tolist(),
        observed_at[vt.incident].tolist(),
        vt.zone.tolist(),
        vt.evidence.tolist(),
        vt.status.tolist(),
        measured.tolist(),
        np.where(vt.certain, "certain", "possible").tolist(),
        _label_rows(vt.involved),
        strict=True,
    )
    return [
        {
            "id": vid,
            "rule": rule,
            "kind": kind,
            "incident": incident,
            "party": party,
            "at": at,
            "zone": zone,
            "evidence": evidence,
            "status": status,
            "measured_m": measured_m,
            "certainty": certainty,
            "involved": involved,
        }
        for (
            vid,
            rule,
            kind,
            incident,
            party,
            at,
            zone,
            evidence,
            status,
            measured_m,
            certainty,
            involved,
        ) in columns
    ]


def small_parts(ev: Evaluation) -> dict[str, Any]:
    """The whole object, with None for the incidents and violations."""
    by_id = {c.id: c for c in ev.conditions}
    return {
        "agreement": ev.agreement.id,
        "as_of": iso(ev.as_of.astimezone(ev.agreement.timezone)),
        "ended": iso(ev.agreement.ends.at.astimezone(ev.agreement.timezone))
        if ev.agreement.ends is not None and ev.agreement.ends.at <= ev.as_of
        else None,
        "rejected": [
            {
                "line": r.line,
                "report_id": r.report_id,
                "reason": r.reason,
                "field": r.field,
                "source": r.source,
            }
            for r in ev.rejected
        ],
        "incidents": None,
        "violations": None,
        "phases": [
            {"id": p.id, "start": iso(p.start), "end": iso(p.end), "status": p.status}
            for p in ev.phases
        ],
        "conditions": [
            {
                "id": c.id,
                "met_at": iso(c.met_at),
                "blocking": c.blocking,
                "streak_days": c.streak_days,
                "daily": [
                    {
                        "day": d.day.isoformat(),
                        "incidents": d.incidents,
                        "quiet": d.quiet,
                        "complete": d.complete,
                        "covered": d.covered,
                    }
                    for d in c.days
                ],
                **condition_terms(c, by_id),
            }
            for c in ev.conditions
        ],
        **terms_parts(ev),
    }


class IncidentBlocks:
    """An evaluation's incidents from position `start` on, made as dicts a block of
    `rows` at a time each time they are iterated (their `violations` lists left empty):
    for a store that reads them once. A million incidents made at once take 2.6 GB."""

    def __init__(
        self, ev: Evaluation, observed_at: np.ndarray, start: int, rows: int = 65_536
    ) -> None:
        self.ev, self.observed_at, self.start, self.rows = ev, observed_at, start, rows

    def __len__(self) -> int:
        return max(0, len(self.ev.incidents) - self.start)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        ev, n = self.ev, len(self.ev.incidents)
        inc = ev.incidents
        sources = source_codes(ev.reports, inc.members[inc.offsets[min(self.start, n)] :])
        for a in range(self.start, n, self.rows):
            b = min(a + self.rows, n)
            part = replace(
                ev,
                incidents=incident_slice(ev.incidents, a, b),
                incident_ids=ev.incident_ids[a:b],
                violations=ViolationTable.empty(ev.agreement.timezone),
            )
            with _collector_paused():
                block = incident_dicts(part, self.observed_at[a:b], sources)
            yield from block


def evaluation_to_dict(
    ev: Evaluation, *, incidents_from: int = 0, blocks: bool = False
) -> dict[str, Any]:
    """The object `truce evaluate --format json` prints. With `incidents_from`, only the
    incidents from that position on (for a store that holds the earlier ones already:
    their `violations` lists are then left empty, as the store rebuilds them).
    `blocks`: the incidents as `IncidentBlocks` (for a store that reads them once)."""
    times, tz = ev.incidents.observed_at, ev.agreement.timezone
    if incidents_from:  # the times of the incidents written and of those with violations
        need = np.union1d(np.arange(incidents_from, len(times)), ev.violations.incident)
        observed_at = np.full(len(times), None, dtype=object)
        observed_at[need] = iso_many(times[need], tz)
    else:
        observed_at = iso_many(times, tz)
    out = small_parts(ev)
    with _collector_paused():
        if blocks:
            out["incidents"] = IncidentBlocks(ev, observed_at, incidents_from)
        elif incidents_from:
            tail = replace(
                ev,
                incidents=incident_slice(ev.incidents, incidents_from, len(ev.incidents)),
                incident_ids=ev.incident_ids[incidents_from:],
                violations=ViolationTable.empty(ev.agreement.timezone),
            )
            out["incidents"] = incident_dicts(tail, observed_at[incidents_from:])
        else:
            out["incidents"] = incident_dicts(ev, observed_at)
        out["violations"] = violation_dicts(ev, observed_at)
    return out


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Hundreds of thousands of new dicts and lists would set off Python's cycle collector
    again and again, each time walking all of them; they hold no cycles, so it waits."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
