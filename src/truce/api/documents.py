"""Response documents built from domain objects: pure functions, no web framework."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import shapely

from truce.domain.geo import AgreementSpace
from truce.domain.model import AfterPhase, Agreement, AtTime, TimeRef, WhenCondition


def agreement_summary(a: Agreement) -> dict[str, Any]:
    return {
        "id": a.id,
        "title": a.title,
        "signed": a.signed.isoformat() if a.signed else None,
        "timezone": a.timezone_name,
    }


def _time_ref(ref: TimeRef | None) -> dict[str, Any] | None:
    if ref is None:
        return None
    if isinstance(ref, AtTime):
        return {"at": ref.at.isoformat()}
    if isinstance(ref, AfterPhase):
        return {"after": ref.phase, "offset_s": ref.offset.total_seconds()}
    if isinstance(ref, WhenCondition):
        return {"when": ref.condition, "offset_s": ref.offset.total_seconds()}
    return {"text": str(ref)}


def _describe_rule(a: Agreement, rule: Any) -> str:
    from truce.domain.rules import rule_kinds

    kind = rule_kinds().get(rule.kind)
    try:
        return kind.describe(rule, a) if kind else rule.kind
    except Exception:  # a plug-in's describe() must not break the page
        return rule.kind


def _describe_condition(a: Agreement, condition: Any) -> str:
    from truce.domain.conditions import condition_kinds

    kind = condition_kinds().get(condition.kind)
    try:
        return kind.describe(condition, a) if kind else condition.kind
    except Exception:  # a plug-in's describe() must not break the page
        return str(condition.kind)


def agreement_detail(a: Agreement) -> dict[str, Any]:
    space = AgreementSpace.of(a)
    areas = space.zone_area_km2() if a.zones else {}
    return {
        **agreement_summary(a),
        "description": a.description,
        "crs": space.projection.crs,
        "parties": [
            {"id": p.id, "name": p.name, "guarantor": p.guarantor, "actors": list(p.actors)}
            for p in a.parties
        ],
        "excluded": [{"id": g.id, "name": g.name, "actors": list(g.actors)} for g in a.excluded],
        "zones": [
            {
                "id": z.id,
                "name": z.name,
                "feature": z.feature,
                "distance_m": z.distance_m,
                "area_km2": round(areas.get(z.id, 0.0), 3),
            }
            for z in a.zones
        ],
        "phases": [
            {
                "id": p.id,
                "name": p.name,
                "start": _time_ref(p.start),
                "duration_s": p.duration.total_seconds() if p.duration else None,
                "note": p.note,
            }
            for p in a.phases
        ],
        "conditions": [
            {
                "id": c.id,
                "kind": c.kind,
                "days": c.days,
                "max_incidents": c.max_incidents,
                "within": list(c.within),
                "coverage": list(c.coverage),
                "from": _time_ref(c.start),
                "name": c.name,
                "note": c.note,
                "description": _describe_condition(a, c),
                "of": list(getattr(c.params, "of", ())),
            }
            for c in a.conditions
        ],
        # SPEC §6. Never the sites: they are served only by /sites, to those allowed.
        "convoys": [
            {
                "id": c.id,
                "name": c.name,
                "organisation": c.organisation,
                "route": list(c.route),
                "corridor_m": c.corridor_m,
                "window": {"from": c.window_from.isoformat(), "to": c.window_to.isoformat()},
                "notified": c.notified.isoformat() if c.notified else None,
            }
            for c in a.convoys
        ],
        "checkpoints": list(a.checkpoint_ids()),
        "rules": [
            {"id": r.id, "kind": r.kind, "name": r.name, "description": _describe_rule(a, r)}
            for r in a.rules
        ],
        "sources": [{"title": s.title, "url": s.url} for s in a.sources],
        "notes": list(a.notes),
    }


def agreement_geojson(a: Agreement) -> dict[str, Any]:
    space = AgreementSpace.of(a)
    features = [
        {
            "type": "Feature",
            "id": f"feature:{fid}",
            "geometry": shapely.geometry.mapping(f.geometry),
            "properties": {
                "layer": "feature",
                "id": fid,
                "kind": f.kind,
                "name": f.name,
                "uncertainty_m": f.uncertainty_m,
                "note": f.note,
            },
        }
        for fid, f in a.features.items()
    ]
    zones = space.zone_polygons_wgs84() if a.zones else {}
    for z in a.zones:
        features.append(
            {
                "type": "Feature",
                "id": f"zone:{z.id}",
                "geometry": shapely.geometry.mapping(zones[z.id]),
                "properties": {
                    "layer": "zone",
                    "id": z.id,
                    "kind": "polygon",
                    "name": z.name,
                    "feature": z.feature,
                    "distance_m": z.distance_m,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def dashboard(a: Agreement, view: dict[str, Any]) -> dict[str, Any]:
    """Phases, conditions with their daily counts, and violations per party and local day."""
    by_id = {c.id: c for c in a.conditions}
    conditions = []
    for c in view["conditions"]:
        spec = by_id.get(c["id"])
        conditions.append(
            {
                "id": c["id"],
                "kind": spec.kind if spec else None,
                "days": spec.days if spec else None,
                "max_incidents": spec.max_incidents if spec else None,
                "coverage": list(spec.coverage) if spec else [],
                "met_at": c.get("met_at"),
                "blocking": c.get("blocking"),
                "streak_days": c.get("streak_days", 0),
                "daily": c.get("daily", []),
                # SPEC §6: the composite tree, and each part's state and date met
                "name": spec.name if spec else None,
                "met": c.get("met", c.get("met_at") is not None),
                "unmet_at": c.get("unmet_at"),
                "parts": c.get("parts", []),
                "waiting_for": c.get("waiting_for", []),
            }
        )
    counts: Counter[tuple[str, str]] = Counter()
    for v in view["violations"]:
        day = datetime.fromisoformat(v["at"]).astimezone(a.timezone).date().isoformat()
        counts[(day, v["party"])] += 1
    return {
        "agreement": a.id,
        "as_of": view.get("as_of"),
        "phases": view["phases"],
        "conditions": conditions,
        "convoys": view.get("convoys", []),
        "checkpoints": view.get("checkpoints", []),
        "commitments": view.get("commitments", []),
        "violations_by_party_day": [
            {"day": day, "party": party, "count": n} for (day, party), n in sorted(counts.items())
        ],
    }
