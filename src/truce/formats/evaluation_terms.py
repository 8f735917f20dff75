"""The SPEC §6 parts of the evaluation object (additive to SPEC §3): each
condition's kind, periods, parts and what it waits for; the findings not charged
because the group was not bound; convoys and checkpoints with their status over
time; the sign-up registry's status at `as_of`. Sites are never part of it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from truce.domain.commitments import status_at
from truce.domain.model import ConditionState, Evaluation
from truce.domain.status import StatusChange
from truce.domain.terms import TermsOutcome
from truce.domain.timeparse import iso


def condition_terms(c: ConditionState, by_id: dict[str, ConditionState]) -> dict[str, Any]:
    """What a condition adds to its SPEC §3 entry."""
    return {
        "kind": c.kind,
        "met": c.met,
        "unmet_at": iso(c.unmet_at) if not c.met else None,
        "periods": [{"from": iso(a), "to": iso(b)} for a, b in c.periods],
        "parts": [
            {"id": p, "met_at": iso(by_id[p].met_at), "met": by_id[p].met}
            for p in c.parts
            if p in by_id
        ],
        "waiting_for": list(c.waiting_for),
    }


def _history(changes: list[StatusChange]) -> list[dict[str, Any]]:
    return [{"at": iso(c.at), "status": c.status, "report": c.report} for c in changes]


def terms_parts(ev: Evaluation) -> dict[str, Any]:
    """The top-level keys the terms add (empty lists when the agreement has none)."""
    outcome: TermsOutcome = ev.extra.get("terms") or TermsOutcome()
    a, ids = ev.agreement, ev.incident_ids
    tz = a.timezone
    anchors = ev.incidents.anchor
    not_charged = [
        {
            "rule": n.rule,
            "kind": n.kind,
            "incident": ids[n.incident],
            "incident_key": str(anchors[n.incident]),
            "group": n.group,
            "party": n.party,
            "at": iso(_local(ev, n.incident)),
            "evidence": n.evidence,
        }
        for n in outcome.not_charged
    ]
    convoys = []
    for c in a.convoys:
        changes = outcome.histories.convoy(c.id)
        rows: Sequence[int] = outcome.convoy_incidents.get(c.id, [])  # type: ignore[assignment]
        convoys.append(
            {
                "id": c.id,
                "name": c.name,
                "organisation": c.organisation,
                "route": list(c.route),
                "corridor_m": c.corridor_m,
                "window": {
                    "from": iso(c.window_from.astimezone(tz)),
                    "to": iso(c.window_to.astimezone(tz)),
                },
                "status": changes[-1].status if changes else "notified",
                "history": _history(changes),
                "incidents": [ids[int(r)] for r in rows],
                "incident_keys": [str(anchors[int(r)]) for r in rows],
            }
        )
    checkpoints = []
    for cp in a.checkpoint_ids():
        changes = outcome.histories.checkpoint(cp)
        feature = a.features[cp]
        checkpoints.append(
            {
                "id": cp,
                "name": feature.name,
                "lon": feature.geometry.x,
                "lat": feature.geometry.y,
                "status": changes[-1].status if changes else "not reported",
                "history": _history(changes),
            }
        )
    commitments = [
        {
            "group": c.group,
            "party": c.party,
            "via": c.via,
            "status": status_at(c, ev.as_of),
            "accepted": iso(c.accepted),
            "declined": iso(c.declined),
            "withdrew": iso(c.withdrew),
        }
        for c in a.commitments
    ]
    return {
        "not_charged": not_charged,
        "convoys": convoys,
        "checkpoints": checkpoints,
        "commitments": commitments,
    }


def _local(ev: Evaluation, row: int) -> Any:
    from truce.domain.timeparse import from_utc64

    return from_utc64(ev.incidents.observed_at[row], ev.agreement.timezone)
