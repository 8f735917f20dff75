"""Who may see protected sites, and what of the terms a user's view keeps.

Sites are sensitive: a list of hospitals and observation posts is a list of
targets. They are shown to admins and the secretariat, and to a user whose
party the site was notified to (every party when `notified_to` is empty) —
never to observers, and never in public documents, OGC collections or exports.
Where a `protected_sites` violation is shown to someone who may not see its
site, its evidence says only that it was near a notified protected site.
"""

from __future__ import annotations

import re
from typing import Any

from truce.domain.model import Agreement, Site
from truce.errors import Forbidden
from truce.store.users import User

REDACTED = (
    "attack near a notified protected site (the site and the distance are shown to the "
    "secretariat and the parties notified)"
)
_SITE_IN_EVIDENCE = re.compile(r" from protected site (\S+) \(")


def may_see(user: User, site: Site) -> bool:
    if user.sees_everything:
        return True
    if user.role == "observer" or not user.party:
        return False
    return not site.notified_to or user.party in site.notified_to


def site_public(site: Site) -> dict[str, Any]:
    return {
        "id": site.id,
        "kind": site.kind,
        "name": site.name,
        "lon": site.lon,
        "lat": site.lat,
        "radius_m": site.radius_m,
        "notified": site.notified.isoformat() if site.notified else None,
        "via": site.via,
        "declared_by": site.declared_by,
        "notified_to": list(site.notified_to),
        "note": site.note,
    }


def sites_for(agreement: Agreement, user: User) -> dict[str, Any]:
    """The sites `user` may see; observers are refused outright."""
    if user.role == "observer":
        raise Forbidden("protected sites are not shown to observers")
    shown = [site_public(s) for s in agreement.sites if may_see(user, s)]
    return {"agreement": agreement.id, "sites": shown}


def redact(violation: dict[str, Any], user: User, sites: tuple[Site, ...]) -> dict[str, Any]:
    """A protected_sites violation without its site, for a user who may not see it."""
    if violation.get("kind") != "protected_sites" or user.sees_everything:
        return violation
    m = _SITE_IN_EVIDENCE.search(str(violation.get("evidence", "")))
    site = next((s for s in sites if m and s.id == m.group(1)), None)
    if site is not None and may_see(user, site):
        return violation
    return {**violation, "evidence": REDACTED, "measured_m": None}


def view_terms(view: dict[str, Any], user: User, sites: tuple[Site, ...]) -> dict[str, Any]:
    """`view` (already filtered by Visibility) with the terms' parts cut to what the user
    sees: site evidence redacted, not-charged findings and convoy links only for visible
    incidents, status histories without other sources' report keys."""
    out = dict(view)
    out["violations"] = [redact(v, user, sites) for v in view.get("violations", [])]
    if user.sees_everything:
        return out
    seen = {i["key"] for i in view.get("incidents", [])}
    if "not_charged" in view:
        out["not_charged"] = [n for n in view["not_charged"] if n.get("incident_key") in seen]
    if "convoys" in view:
        out["convoys"] = [_convoy_seen(c, seen) for c in view["convoys"]]
    if "checkpoints" in view:
        out["checkpoints"] = [
            {**c, "history": [_no_report(h) for h in c["history"]]} for c in view["checkpoints"]
        ]
    return out


def referred_incidents(data: dict[str, Any]) -> set[str]:
    """The incident keys an evaluation's violations and terms refer to: all that
    `view_terms` and the violations need to know of which incidents a user sees
    (`Visibility.filter` looks up only these when no incident is shown)."""
    keys = {v["incident_key"] for v in data["violations"]}
    keys.update(n["incident_key"] for n in data.get("not_charged", ()) if n.get("incident_key"))
    for convoy in data.get("convoys", ()):
        keys.update(convoy.get("incident_keys", ()))
    return keys


def _no_report(change: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in change.items() if k != "report"}


def _convoy_seen(convoy: dict[str, Any], seen: set[str]) -> dict[str, Any]:
    pairs = [
        (i, k)
        for i, k in zip(convoy["incidents"], convoy.get("incident_keys", []), strict=False)
        if k in seen
    ]
    return {
        **convoy,
        "history": [_no_report(h) for h in convoy["history"]],
        "incidents": [i for i, _ in pairs],
        "incident_keys": [k for _, k in pairs],
    }
