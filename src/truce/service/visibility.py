"""Who sees what of an evaluation (`truce.domain.access`):

- `evaluation.see_all` (admin, secretariat): everything.
- `evaluation.see_own` (centre, humanitarian): what the secretariat published,
  plus incidents and violations built from their own submissions (published
  reports of others are left out of `report_ids` and `sources` of unpublished ones).
- everyone else (observer): only what the secretariat published.

The evaluation filtered here is already the one of the viewer's visibility class,
computed from the reports it may see (`truce.service.scopes`), so nothing derived
from reports it may not see is in it; this adds review states and keeps to what
was published (and, for submitters, to their own).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from truce.domain.keys import source_of
from truce.domain.model import Site
from truce.service.scopes import SHARED_ROLES, review_key
from truce.service.sites import view_terms
from truce.store import reports as report_store
from truce.store import reviews
from truce.store.engine import read_transaction
from truce.store.users import User


def load_visibility(
    engine: Engine, agreement_id: str, user: User, sites: tuple[Site, ...] = ()
) -> Visibility:
    """The review states, published incidents and own reports `user`'s view depends on."""
    with read_transaction(engine) as conn:
        states = reviews.states_for(conn, agreement_id)
        pub_incidents = reviews.published_incidents(conn, agreement_id)
        own = (
            report_store.keys_submitted_by(conn, user.name, or_source=user.role == "centre")
            if user.role in SHARED_ROLES
            else set()
        )
    return Visibility(user, states, pub_incidents, own, sites)


@dataclass
class Visibility:
    """Filters an evaluation for one user and adds review states."""

    user: User
    states: dict[str, tuple[str, bool]]
    published_incidents: set[str]
    own_reports: set[str]
    sites: tuple[Site, ...] = ()  # the agreement's protected sites, to redact evidence

    def sees(self, incident: dict[str, Any]) -> bool:
        """Whether `filter` keeps this incident."""
        return self.seen(incident) is not None

    def seen(self, incident: dict[str, Any]) -> tuple[bool, list[str]] | None:
        """How `filter` shows this incident: None, not at all; else whether it is
        published and which of its reports are the reader's own (submitters only)."""
        published = review_key(incident) in self.published_incidents
        own = (
            [k for k in incident["report_ids"] if k in self.own_reports]
            if self.user.role in SHARED_ROLES
            else []
        )
        if not (self.user.sees_everything or published or own):
            return None
        return published, own

    def shown_incident(
        self, incident: dict[str, Any], published: bool, own: list[str]
    ) -> dict[str, Any]:
        """The incident's fields as `filter` shows them (without `published` and
        `violations`): an unpublished one lists only the reader's own reports."""
        if self.user.sees_everything or published:
            return incident
        return {**incident, "report_ids": own, "sources": sorted({source_of(k) for k in own})}

    def violation_shown(
        self, v: dict[str, Any], own_incident: bool | None
    ) -> tuple[str, bool] | None:
        """The violation's review state and publication if `filter` shows it, else None;
        `own_incident`: whether its incident is shown as the reader's own (None: not
        shown at all)."""
        state, published = self.states.get(review_key(v), ("alleged", False))
        shared = self.user.role in SHARED_ROLES
        if not (self.user.sees_everything or published or (shared and own_incident)):
            return None
        return state, published

    def published_violations(self, violations: Iterable[dict[str, Any]]) -> Counter[str]:
        """How many violations `filter` shows of each incident not shown as the reader's
        own, by the incident's key (of one shown as theirs, it shows every one): without
        making the view."""
        return Counter(
            v["incident_key"]
            for v in violations
            if self.violation_shown(v, own_incident=False) is not None
        )

    def filter(
        self, data: dict[str, Any], *, review_keys: bool = False, incidents: bool = True
    ) -> dict[str, Any]:
        """`data` as this user sees it. Review state and publication go by each item's
        `review_key` (`truce.service.scopes.link_review_keys`), which is dropped unless
        `review_keys` (for the service's own use: reviews are stored under it).
        `incidents=False`: without the incidents (a summary of the rest: at a million
        incidents, copying each is most of the work)."""
        full = self.user.sees_everything
        shown: list[dict[str, Any]] = []
        visible_incidents: dict[str, bool] = {}  # incident key -> own (shared users)
        for inc in () if full and not incidents else data["incidents"]:
            seen = self.seen(inc)
            if seen is None:
                continue
            published, own = seen
            visible_incidents[inc["key"]] = bool(own)
            if not incidents:
                continue
            out = {**self.shown_incident(inc, published, own), "published": published}
            if not review_keys:
                out.pop("review_key", None)
            shown.append(out)
        violations = []
        for v in data["violations"]:
            shown_as = self.violation_shown(v, visible_incidents.get(v["incident_key"]))
            if shown_as is None:
                continue
            state, published = shown_as
            out_v = {**v, "review": state, "published": published}
            if not review_keys:
                out_v.pop("review_key", None)
            violations.append(out_v)
        shown_violations = {v["id"] for v in violations}
        for inc in shown:
            inc["violations"] = [
                vid for vid in inc.get("violations", []) if vid in shown_violations
            ]
        if not incidents:  # the keys alone, for what view_terms shows of the terms
            shown = [{"key": key} for key in visible_incidents]
        view = view_terms(
            {**data, "incidents": shown, "violations": violations}, self.user, self.sites
        )
        if not incidents:
            del view["incidents"]
        return view
