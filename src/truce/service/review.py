"""Reviewing violations and publishing incidents (each audited)."""

from __future__ import annotations

from typing import Any

from truce.domain.access import require
from truce.domain.keys import split_violation_key
from truce.domain.review import access_action, check_request
from truce.errors import Conflict, NotFound
from truce.service.evaluation import Evaluations
from truce.service.scopes import review_key
from truce.service.views import evaluation, incident, only_incident
from truce.store import audit, reviews
from truce.store.engine import write_transaction
from truce.store.users import User


def review(
    evals: Evaluations, key: str, action: str, comment: str | None, user: User
) -> dict[str, Any]:
    """Apply one review action to a current violation; returns it with its new state."""
    agreement_id, rule, incident_key = split_violation_key(key)
    check_request(action, comment)
    require(user, access_action(action))
    view = evaluation(evals, agreement_id, user, review_keys=True, incident_key=incident_key)
    current = next((v for v in view["violations"] if v["key"] == key), None)
    if current is None:
        raise NotFound(
            f"no current violation {key!r} (or not visible to you); only current violations can be reviewed"
        )
    inc = next(i for i in view["incidents"] if i["key"] == incident_key)
    # Stored under the full evaluation's key, which `user` may not be shown (scopes).
    stored_key = review_key(current)
    _, _, stored_incident_key = split_violation_key(stored_key)
    plain = {
        k: v
        for k, v in current.items()
        if k not in ("review", "published", "history", "current", "review_key")
    }
    state = reviews.apply(
        evals.engine,
        violation_key=stored_key,
        agreement_id=agreement_id,
        rule=rule,
        incident_key=stored_incident_key,
        report_keys=inc["report_ids"],
        violation=plain,
        action=action,
        comment=comment,
        user=user,
        now=evals.clock(),
    )
    return {
        **plain,
        "review": state.state,
        "published": state.published,
        "current": True,
        "history": state.history,
    }


def publish_incident(evals: Evaluations, agreement_id: str, key: str, user: User) -> dict[str, Any]:
    """Make an incident visible to every user; publishing twice is a Conflict."""
    require(user, "incident.publish")
    data = only_incident(evals.snapshot(agreement_id).data, key)
    inc = next(iter(data["incidents"]), None)
    if inc is None:
        raise NotFound(f"no incident {key!r} in agreement {agreement_id!r}")
    with write_transaction(evals.engine) as conn:
        new = reviews.publish_incident(
            conn, agreement_id, key, inc["report_ids"], user.name, evals.clock()
        )
        if not new:
            raise Conflict(f"incident {key!r} is already published")
        audit.append(
            conn,
            user.name,
            "incident.publish",
            {"agreement": agreement_id, "incident": key},
            now=evals.clock(),
        )
    return incident(evals, agreement_id, key, user)
