"""What a user reads: their view of an evaluation, one incident, one violation."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from truce.domain.keys import report_key, split_violation_key
from truce.errors import NotFound
from truce.service.evaluation import Evaluations
from truce.service.scopes import review_key, scope_for
from truce.service.visibility import Visibility, load_visibility
from truce.store import reports as report_store
from truce.store import reviews
from truce.store.deferred import resolved
from truce.store.engine import read_transaction
from truce.store.packed import items_at, position_of
from truce.store.users import User


@dataclass(frozen=True)
class Source:
    """What a user's view is made of: the evaluation of the reports they may see
    (`data`, unfiltered), the filter that makes it their view, and where it came from."""

    data: dict[str, Any]
    visibility: Visibility
    reports_version: int
    stale: bool


def source(
    evals: Evaluations,
    agreement_id: str,
    user: User,
    *,
    as_of: datetime | None = None,
    incident_key: str | None = None,
) -> Source:
    """The evaluation of the reports `user` may see (`truce.service.scopes`) and the
    `Visibility` that filters it; whether it is `stale` (newer reports are being
    evaluated; this is the last complete one). `incident_key`: of that incident and its
    violations only."""
    scope = scope_for(user)
    if as_of is None:
        reading = evals.current(agreement_id, scope)
        snap, stale = reading.snapshot, reading.stale
    else:
        snap, stale = evals.snapshot(agreement_id, as_of=as_of, scope=scope), False
    sites = evals.agreements.get(agreement_id).agreement.sites
    visibility = load_visibility(evals.engine, agreement_id, user, sites)
    data = snap.data if incident_key is None else only_incident(snap.data, incident_key)
    return Source(data, visibility, snap.reports_version, stale)


def evaluation(
    evals: Evaluations,
    agreement_id: str,
    user: User,
    *,
    as_of: datetime | None = None,
    review_keys: bool = False,
    incidents: bool = True,
    incident_key: str | None = None,
) -> dict[str, Any]:
    """`user`'s view: their `source`, filtered and labelled (`Visibility`), plus the
    reports version it was computed from and whether it is `stale`."""
    src = source(evals, agreement_id, user, as_of=as_of, incident_key=incident_key)
    view = src.visibility.filter(src.data, review_keys=review_keys, incidents=incidents)
    return {**view, "reports_version": src.reports_version, "stale": src.stale}


def only_incident(data: dict[str, Any], key: str) -> dict[str, Any]:
    """`data` with incident `key` and its violations only: what a view of one incident
    needs, without filtering (and, held packed, decoding) a million others."""
    incidents = resolved(data["incidents"])
    at = position_of(incidents, key)
    return {
        **data,
        "incidents": items_at(incidents, () if at is None else (at,)),
        "violations": [v for v in data["violations"] if v["incident_key"] == key],
    }


def summary(
    evals: Evaluations,
    agreement_id: str,
    user: User,
    make: Callable[[dict[str, Any]], dict[str, Any]],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """`make(view)` of `user`'s current view without its incidents (a small document such
    as the dashboard), and which evaluation it was made from (`reports_version`,
    `as_of`, `stale`).

    Kept while the evaluation, the review states and the publications stay the same:
    the view itself (a filtered copy of every incident) is made only when one of them
    changed, and then in the background while the previous document answers, marked
    stale (readers never wait for it, as for the evaluation itself)."""
    reading = evals.current(agreement_id, scope_for(user))
    snap = reading.snapshot
    with read_transaction(evals.engine) as conn:
        reviewed = reviews.fingerprint(conn)
    key = (agreement_id, user.name, snap.computation, reviewed)
    latest = ("latest", agreement_id, user.name)
    meta = {"reports_version": snap.reports_version, "as_of": snap.data["as_of"]}
    hit = evals.summaries.get(key)
    if hit is not None:
        return hit[0], {**meta, "stale": reading.stale}
    previous = evals.summaries.get(latest)

    def made() -> tuple[dict[str, Any], dict[str, Any]]:
        return make(evaluation(evals, agreement_id, user, incidents=False)), meta

    if previous is None or evals.refresh_wait_s != 0:
        fresh = evals.summaries.made((key, latest), made)
        return fresh[0], {**meta, "stale": reading.stale}
    evals.summaries.fill_in_background((key, latest), made)
    return previous[0], {**previous[1], "stale": True}


def incident(evals: Evaluations, agreement_id: str, key: str, user: User) -> dict[str, Any]:
    """One incident with its reports and its violations' review histories."""
    view = evaluation(evals, agreement_id, user, review_keys=True, incident_key=key)
    inc = next((i for i in view["incidents"] if i["key"] == key), None)
    if inc is None:
        raise NotFound(f"no incident {key!r} in agreement {agreement_id!r} (or not visible to you)")
    with read_transaction(evals.engine) as conn:
        rows = report_store.fetch_by_keys(conn, inc["report_ids"])
        histories: dict[str, list[dict[str, Any]]] = {}
        for v in view["violations"]:
            if v["incident_key"] == key:
                state = reviews.get(conn, review_key(v))
                histories[v["key"]] = state.history if state else []
    tz = evals.agreements.get(agreement_id).agreement.timezone
    inc = _public(inc)
    inc["reports"] = sorted(
        (report_public(r, tz) for r in rows), key=lambda r: (r["observed_at"], r["key"])
    )
    inc["violations"] = [
        {**_public(v), "history": histories[v["key"]]}
        for v in view["violations"]
        if v["incident_key"] == key
    ]
    return inc


def _public(item: dict[str, Any]) -> dict[str, Any]:
    """Without the key its review state is kept under (`truce.service.scopes`)."""
    return {k: v for k, v in item.items() if k != "review_key"}


def violation(evals: Evaluations, key: str, user: User) -> dict[str, Any]:
    """The current violation, or the last one reviewed under this key (`current: False`)."""
    agreement_id, _, incident_key = split_violation_key(key)
    view = evaluation(evals, agreement_id, user, review_keys=True, incident_key=incident_key)
    current = next((v for v in view["violations"] if v["key"] == key), None)
    with read_transaction(evals.engine) as conn:
        review = reviews.get(conn, key if current is None else review_key(current))
    if current is not None:
        history = review.history if review else []
        return {**_public(current), "current": True, "history": history}
    if (
        review is not None
        and review.last_seen is not None
        and (user.sees_everything or review.published)
    ):
        return {
            **review.last_seen,
            "review": review.state,
            "published": review.published,
            "current": False,
            "history": review.history,
        }
    raise NotFound(f"no violation {key!r} (or not visible to you)")


def report_public(row: dict[str, Any], tz: Any) -> dict[str, Any]:
    """A stored report as the API shows it, its time in the agreement's zone."""
    observed = row["observed_at"]
    if observed.tzinfo is None:
        observed = observed.replace(tzinfo=UTC)
    rel, cred = row["reliability"], row["credibility"]
    return {
        "key": report_key(row["source"], row["report_id"]),
        "source": row["source"],
        "report_id": row["report_id"],
        "observed_at": observed.astimezone(tz).replace(microsecond=0).isoformat(),
        "lon": row["lon"],
        "lat": row["lat"],
        "place": row["place"],
        "event_type": row["event_type"],
        "reliability": rel,
        "credibility": cred,
        "grade": f"{rel or 'F'}{cred or 6}",
        "actor": row["actor"],
        "side": row["side"],
        "target": row["target"],
        "weapon": row["weapon"],
        "count": row["count"],
        "fatalities": row["fatalities"],
        "notes": row["notes"],
        # SPEC §4
        "observed_to": _local_time(row.get("observed_to"), tz),
        "direction": row.get("direction") or "attack",
        "fatalities_low": row.get("fatalities_low"),
        "fatalities_high": row.get("fatalities_high"),
        "source_url": row.get("source_url"),
        "dataset": row.get("dataset"),
        "original": json.loads(row["original"]) if row.get("original") else None,
    }


def _local_time(value: datetime | None, tz: Any) -> str | None:
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(tz).replace(microsecond=0).isoformat()
