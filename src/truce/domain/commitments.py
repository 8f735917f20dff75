"""Who was bound when: the sign-up registry (SPEC §6 `commitments`).

A group named in `commitments` is bound from the time it accepted the terms
until it withdrew; before it accepted, after it withdrew, or if it declined, it
is not bound. Its acts are still consolidated, listed and visible, but a
violation the rules find that would be charged to its party is set aside as
*not charged*, with evidence that says why. Groups that are not in the registry
are bound as their party is (as before commitments existed).

Which group acted is read from the reports' `actor` names (the group's name and
aliases, matched as party actors are); an incident takes the group its reports
name (the first in registry order when they name several).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

import numpy as np

from truce.domain.actors import ActorIndex, label_tokens
from truce.domain.model import Agreement, Commitment, IncidentTable, ReportTable, Rule
from truce.domain.rule_findings import take_findings
from truce.domain.rules.base import Findings
from truce.domain.rules.wording import fmt_local
from truce.domain.timeparse import from_utc64


@dataclass(frozen=True)
class NotCharged:
    """A finding set aside because the acting group was not bound at the time."""

    rule: str
    kind: str
    incident: int  # row in the IncidentTable
    group: str
    party: str  # the party it would have been charged to
    evidence: str


def incident_groups(
    agreement: Agreement, reports: ReportTable, incidents: IncidentTable
) -> np.ndarray:
    """For each incident, the index into `agreement.commitments` of the group that acted
    (-1: no registered group named)."""
    n = len(incidents)
    if not agreement.commitments or n == 0:
        return np.full(n, -1, dtype=np.int64)
    pairs = [
        (name, str(k))
        for k, c in enumerate(agreement.commitments)
        for name in (c.group, *c.aliases)
    ]
    # A label is a "+"-joined set of registry positions (several groups named in one
    # actor list), or `outside` for a state: take the first registered group named.
    label_codes, labels = ActorIndex(pairs).resolve_codes(reports.actor)
    first = [
        min((int(t) for t in label_tokens(x) if t.isdigit()), default=len(agreement.commitments))
        for x in labels
    ]
    codes = np.array(first, dtype=np.int64)[label_codes]
    members = codes[incidents.members]
    starts = incidents.offsets[:-1]
    nonempty = incidents.offsets[1:] > starts
    out = np.full(n, len(agreement.commitments), dtype=np.int64)
    if len(members):
        out[nonempty] = np.minimum.reduceat(members, starts[nonempty])
    out[out == len(agreement.commitments)] = -1
    return out


def not_bound_reason(c: Commitment, t: datetime, tz: tzinfo) -> str | None:
    """Why `c.group` was not bound at `t` (None when it was)."""
    if c.bound_at(t):
        return None
    if c.withdrew is not None and t >= c.withdrew:
        return f"{c.group} withdrew from the terms on {fmt_local(c.withdrew, tz)}"
    if c.declined is not None:
        return f"{c.group} declined the terms on {fmt_local(c.declined, tz)}"
    if c.accepted is not None:
        return (
            f"{c.group} had not yet accepted the terms (it accepted on {fmt_local(c.accepted, tz)})"
        )
    return f"{c.group} has not accepted the terms"


def split_not_charged(
    agreement: Agreement,
    incidents: IncidentTable,
    groups: np.ndarray,
    found: list[tuple[Rule, Findings]],
) -> tuple[list[tuple[Rule, Findings]], list[NotCharged]]:
    """Each rule's findings without those charged to a party for the act of a group that
    was not bound then; those come back as NotCharged, evidence saying why."""
    if not agreement.commitments:
        return found, []
    kept: list[tuple[Rule, Findings]] = []
    aside: list[NotCharged] = []
    tz = agreement.timezone
    for rule, f in found:
        rows = np.asarray(f.incidents, dtype=np.int64)
        g = groups[rows] if len(rows) else np.array([], dtype=np.int64)
        drop = np.zeros(len(rows), dtype=bool)
        for j in np.flatnonzero(g >= 0).tolist():
            c = agreement.commitments[int(g[j])]
            if f.party[j] != c.party:
                continue
            t = from_utc64(incidents.observed_at[rows[j]], tz)
            reason = not_bound_reason(c, t, tz)
            if reason is None:
                continue
            drop[j] = True
            aside.append(
                NotCharged(
                    rule.id,
                    rule.kind,
                    int(rows[j]),
                    c.group,
                    c.party,
                    f"{f.evidence[j]}; not charged to {c.party}: {reason}",
                )
            )
        if drop.any():
            f = take_findings(f, np.flatnonzero(~drop))
        kept.append((rule, f))
    return kept, aside


def status_at(c: Commitment, t: datetime) -> str:
    """`bound`, `not yet accepted`, `declined`, `withdrawn` or `not accepted` at `t`."""
    if c.bound_at(t):
        return "bound"
    if c.withdrew is not None and t >= c.withdrew:
        return "withdrawn"
    if c.declined is not None and t >= c.declined:
        return "declined"
    if c.accepted is not None:
        return "not yet accepted"
    return "not accepted"


__all__ = ["NotCharged", "incident_groups", "not_bound_reason", "split_not_charged", "status_at"]
