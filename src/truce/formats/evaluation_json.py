"""Evaluation -> the SPEC §3 JSON object (times in the agreement's timezone)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from truce.domain.model import EVENT_TYPES, WEAPONS, Evaluation
from truce.domain.timeparse import from_utc64, iso


def _num(value: float) -> float | int | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return int(value) if float(value).is_integer() else float(value)


def incident_dicts(ev: Evaluation) -> list[dict[str, Any]]:
    inc, reports, tz = ev.incidents, ev.reports, ev.agreement.timezone
    keys = np.char.add(np.char.add(reports.source.astype(str), ":"), reports.report_id.astype(str))
    violations_of: dict[int, list[str]] = {}
    for v in ev.violations:
        violations_of.setdefault(v.incident, []).append(v.id)
    out = []
    for i, inc_id in enumerate(ev.incident_ids):
        members = inc.member_indices(i)
        weapon = int(inc.weapon[i])
        out.append(
            {
                "id": inc_id,
                "key": str(inc.anchor[i]),
                "report_ids": sorted(keys[members].tolist()),
                "sources": sorted(set(reports.source[members].tolist())),
                "event_type": EVENT_TYPES[int(inc.event_type[i])],
                "weapon": WEAPONS[weapon] if weapon >= 0 else None,
                "observed_at": iso(from_utc64(inc.observed_at[i], tz)),
                "lon": round(float(inc.lon[i]), 6),
                "lat": round(float(inc.lat[i]), 6),
                "precision_m": _num(inc.precision_m[i]),
                "party": str(inc.party[i]),
                "target": str(inc.target[i]) or None,
                "corroboration": int(inc.corroboration[i]),
                "grade": f"{inc.reliability[i] or 'F'}{int(inc.credibility[i])}",
                "count": _num(inc.count[i]),
                "fatalities": _num(inc.fatalities[i]),
                "violations": violations_of.get(i, []),
            }
        )
    return out


def evaluation_to_dict(ev: Evaluation) -> dict[str, Any]:
    """The object `truce evaluate --format json` prints."""
    ids = ev.incident_ids
    return {
        "agreement": ev.agreement.id,
        "as_of": iso(ev.as_of.astimezone(ev.agreement.timezone)),
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
        "incidents": incident_dicts(ev),
        "violations": [
            {
                "id": v.id,
                "rule": v.rule,
                "kind": v.kind,
                "incident": ids[v.incident],
                "party": v.party,
                "at": iso(v.at),
                "zone": v.zone,
                "evidence": v.evidence,
                "status": v.status,
                "measured_m": None if v.measured_m is None else round(v.measured_m, 1),
            }
            for v in ev.violations
        ],
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
                    }
                    for d in c.days
                ],
            }
            for c in ev.conditions
        ],
    }
