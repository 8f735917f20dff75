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

import itertools
import threading
import weakref
from collections import Counter
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import Connection, Engine

from truce.domain.keys import source_of
from truce.domain.model import Site
from truce.service.scopes import SHARED_ROLES, ReportIndex, review_key
from truce.service.sites import referred_incidents, view_terms
from truce.store import reports as report_store
from truce.store import reviews
from truce.store.deferred import resolved
from truce.store.engine import read_transaction
from truce.store.key_column import KeySet
from truce.store.packed import PackedIncidents
from truce.store.users import User


class _Shared:
    """What every view of one database in this process shares: each agreement's published
    incidents, per publications mark (`reviews.fingerprint`), and each submitter's own
    report keys, per reports version. With a million incidents published, the keys are
    some 40 MB (`KeySet`; 90 MB as a `frozenset`) and a second to read: read once and
    held once, not per request and per cached view; a publication adds its key."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.published: dict[str, tuple[int, KeySet]] = {}
        self.own: dict[tuple[str, bool], tuple[int, frozenset[str]]] = {}
        # Per agreement: held by the reader reading its published incidents, so that
        # readers arriving meanwhile take what it read. Eight first dashboards at once
        # each read the million keys themselves: a worker passed 1.1 GB.
        self.reading: dict[str, threading.Lock] = {}

    def reader(self, agreement_id: str) -> threading.Lock:
        with self.lock:
            return self.reading.setdefault(agreement_id, threading.Lock())


_SHARED: weakref.WeakKeyDictionary[Engine, _Shared] = weakref.WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()


def _shared(engine: Engine) -> _Shared:
    with _SHARED_LOCK:
        held = _SHARED.get(engine)
        if held is None:
            held = _SHARED[engine] = _Shared()
        return held


def load_visibility(
    engine: Engine, agreement_id: str, user: User, sites: tuple[Site, ...] = ()
) -> Visibility:
    """The review states, published incidents and own reports `user`'s view depends on."""
    shared = _shared(engine)
    with read_transaction(engine) as conn:
        states = reviews.states_for(conn, agreement_id)
        mark = reviews.fingerprint(conn)[1]  # publications are only ever added
        held = shared.published.get(agreement_id)
        if held is None or held[0] != mark:
            with shared.reader(agreement_id):
                held = _published(conn, shared, agreement_id, mark)
        own: frozenset[str] = frozenset()
        if user.role in SHARED_ROLES:
            version = report_store.reports_version(conn)  # moves with every report stored
            whose = (user.name, user.role == "centre")
            mine = shared.own.get(whose)
            if mine is None or mine[0] != version:
                keys = report_store.keys_submitted_by(conn, user.name, or_source=whose[1])
                mine = (version, frozenset(keys))
                with shared.lock:
                    shared.own[whose] = mine
            own = mine[1]
    return Visibility(user, states, held[1], own, sites)


def _published(
    conn: Connection, shared: _Shared, agreement_id: str, mark: int
) -> tuple[int, KeySet]:
    """The agreement's published incidents at publications mark `mark` (this reader's
    transaction's): the ones held if another reader has just read them, else read."""
    held = shared.published.get(agreement_id)
    if held is not None and held[0] == mark:
        return held
    # Only the publications since: they are added, never removed, each in an audited
    # write (serial: `write_transaction`), so in the order of their ids.
    since = held[0] if held is not None and held[0] < mark else 0
    added = reviews.published_incidents(conn, agreement_id, after=since)
    held = (mark, held[1].with_keys(added) if since and held else KeySet.of(added))
    with shared.lock:  # unless a reader of a later transaction stored a newer one
        newest = shared.published.get(agreement_id)
        if newest is None or newest[0] < mark:
            shared.published[agreement_id] = held
    return held


@dataclass
class Visibility:
    """Filters an evaluation for one user and adds review states."""

    user: User
    states: dict[str, tuple[str, bool]]
    published_incidents: KeySet  # asked a key at a time and as whole arrays
    own_reports: AbstractSet[str]
    sites: tuple[Site, ...] = ()  # the agreement's protected sites, to redact evidence

    def sees(self, incident: dict[str, Any]) -> bool:
        """Whether `filter` keeps this incident."""
        return self.seen(incident) is not None

    def seen(
        self, incident: dict[str, Any], published: bool | None = None
    ) -> tuple[bool, list[str]] | None:
        """How `filter` shows this incident: None, not at all; else whether it is
        published (given, if known: `published_mask`) and which of its reports are the
        reader's own (submitters only)."""
        if published is None:
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

    def published_mask(self, incidents: PackedIncidents) -> np.ndarray:
        """Per position: `seen` finds the incident published (by its review key), without
        decoding a row."""
        keys = incidents.keys
        published = keys.is_in(self.published_incidents)
        moved = incidents.review_keys or {}
        if moved:  # the few keyed for review by another report (`link_review_keys`)
            at = keys.positions(list(moved))
            found = at >= 0
            published[at[found]] = self.published_incidents.are_in(list(moved.values()))[found]
        return published

    def own_mask(self, incidents: PackedIncidents, index: ReportIndex | None = None) -> np.ndarray:
        """Per position: the incident holds one of the reader's own reports (`index`: the
        evaluation's report index, if held)."""
        own = np.zeros(len(incidents), dtype=bool)
        if self.user.role in SHARED_ROLES and self.own_reports:
            index = index or ReportIndex.of({"incidents": incidents})
            own[index.incident_at[index.are_in(self.own_reports)]] = True
        return own

    def filter(
        self, data: dict[str, Any], *, review_keys: bool = False, incidents: bool = True
    ) -> dict[str, Any]:
        """`data` as this user sees it. Review state and publication go by each item's
        `review_key` (`truce.service.scopes.link_review_keys`), which is dropped unless
        `review_keys` (for the service's own use: reviews are stored under it).
        `incidents=False`: without the incidents (a summary of the rest: at a million
        incidents, copying each is most of the work). Packed incidents are not decoded
        to learn which are seen (`published_mask`, `own_mask`); of those, only the ones
        seen are, and only when shown."""
        full = self.user.sees_everything
        shown: list[dict[str, Any]] = []
        visible_incidents: dict[str, bool] = {}  # incident key -> own (shared users)
        candidates: Iterable[dict[str, Any]] = () if full and not incidents else data["incidents"]
        flags: Iterable[bool | None] = itertools.repeat(None)  # published, where known
        # Not for a reader who sees everything: incidents still being read (`Deferred`)
        # are not waited for when none is shown.
        packed = None if full else resolved(data["incidents"])
        if isinstance(packed, PackedIncidents):
            own_at = self.own_mask(packed)
            published_at = self.published_mask(packed)
            visible = published_at | own_at
            if incidents:
                at = np.flatnonzero(visible)
                candidates, flags = packed.decode(at.tolist()), published_at[at].tolist()
            else:
                # Only the incidents the rest refers to (violations, terms): a summary of
                # a million incidents seen made a million keys and dicts (some 300 MB at
                # its peak) to look up a few thousand.
                asked = list(referred_incidents(data))
                at = packed.keys.positions(asked)
                found = at >= 0
                shown_at = at[found][visible[at[found]]]
                keys = packed.keys.array.take(pa.array(shown_at)).to_pylist()
                visible_incidents = dict(zip(keys, own_at[shown_at].tolist(), strict=True))
                candidates = ()
        for inc, flag in zip(candidates, flags, strict=False):  # flags may repeat None
            seen = self.seen(inc, flag)
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
            shown = [{"key": key} for key in visible_incidents]  # (of those referred to)
        view = view_terms(
            {**data, "incidents": shown, "violations": violations}, self.user, self.sites
        )
        if not incidents:
            del view["incidents"]
        return view
