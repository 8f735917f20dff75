"""The context a rule is evaluated in: the agreement, the incident table and the
phase windows, with the verdicts under uncertainty (SPEC §5), zone and phase masks and
evidence words that rules ask of it. Built once per evaluation; results are cached.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import cached_property

import numpy as np

from truce.domain.actors import label_tokens
from truce.domain.attribution import Judgement
from truce.domain.geo import AgreementSpace
from truce.domain.model import UNATTRIBUTED, Agreement, IncidentTable
from truce.domain.per_incident import PerIncident, judgement_of
from truce.domain.rules.wording import fmt_local, fmt_m, side_words
from truce.domain.timeparse import from_utc64, to_utc64
from truce.domain.uncertainty import Verdict, after, during, within_m
from truce.domain.words import Words, combinations


@dataclass
class RuleContext:
    """Everything a rule may look at. Built once per evaluation; masks are cached."""

    agreement: Agreement
    incidents: IncidentTable
    phase_windows: Mapping[str, tuple[np.datetime64, np.datetime64]]  # [start, end); NaT end = open
    in_force_from: np.datetime64  # NaT when no phase ever started
    zone_mask_fn: Callable[[str], np.ndarray]
    distance_fn: Callable[[str, np.ndarray], np.ndarray]  # (feature id, incident rows) -> metres
    space: AgreementSpace | None = None  # for verdicts under location uncertainty
    # (lon, lat, incident rows) -> metres: for places that are not features (protected sites)
    point_distance_fn: Callable[[float, float, np.ndarray], np.ndarray] | None = None
    # Values per incident shared by every context of one evaluation (`truce.domain.per_incident`)
    per_incident: PerIncident | None = None
    _zone_cache: dict[str, np.ndarray] = field(default_factory=dict)
    _phase_cache: dict[tuple[str, ...], np.ndarray] = field(default_factory=dict)
    _verdict_cache: dict[object, Verdict] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.per_incident is None:
            self.per_incident = PerIncident(len(self.incidents))

    @property
    def shared(self) -> PerIncident:
        assert self.per_incident is not None  # set by __post_init__
        return self.per_incident

    # --- verdicts under uncertainty (SPEC §5) -----------------------------------

    @property
    def judgement(self) -> Judgement:
        """Per incident: can the terms cover it (sides), whom they charge, what is in doubt."""
        return judgement_of(self.agreement, self.incidents, self.shared)

    @property
    def charged(self) -> np.ndarray:
        """The party each incident charges: its attacker's, or `unattributed`."""
        return self.judgement.charged

    @cached_property
    def margin_m(self) -> np.ndarray:
        """How far each incident may really be from where it is placed (0: unstated)."""
        return np.nan_to_num(self.incidents.precision_m, nan=0.0)

    def covered(self) -> Verdict:
        """The sides are ones the terms bind (no excluded group, no outside state)."""
        j = self.judgement
        return Verdict.of(j.covered, j.certain, lambda: self._doubt_words)

    def inside(self, zone_id: str) -> Verdict:
        """In the zone, for the whole location uncertainty (and the feature's own)."""
        zone = self.agreement.zone(zone_id)
        return self._inside(zone_id, zone.feature, zone.distance_m)

    def _inside(self, name: str, feature_id: str, distance_m: float) -> Verdict:
        key = ("inside", feature_id, distance_m)
        if key in self._verdict_cache:
            return self._verdict_cache[key]
        inc = self.incidents
        if self.space is None:  # no geometry at hand: the incident's own point decides
            mask = self.zone_mask(name)
            return Verdict(mask, mask)
        feature = self.agreement.features[feature_id]
        margin = self.margin_m + (feature.uncertainty_m or 0.0)
        s = self.space.signed_distance_m(
            feature_id, distance_m, inc.x, inc.y, float(margin.max(initial=0.0))
        )
        verdict = Verdict.of(
            s <= margin + 1e-6,
            s + margin <= 1e-6,
            lambda: Words.of(margin, lambda m: f"location ±{fmt_m(m)}: may lie outside {name}"),
        )
        self._verdict_cache[key] = verdict
        return verdict

    def within_of(
        self,
        feature_id: str,
        rows: np.ndarray,
        limit_m: float | np.ndarray,
        *,
        strict: bool = False,
    ) -> tuple[Verdict, np.ndarray]:
        """Closer than `limit_m` (per row, or one for all) to a feature, for the whole
        location uncertainty and the feature's own; only `rows` are measured. Returns the
        verdict over all incidents and the distances of `rows`."""
        n = len(self.incidents)
        distance = self.distance_fn(feature_id, rows)
        margin = self.margin_m[rows] + (self.agreement.features[feature_id].uncertainty_m or 0.0)
        near = within_m(distance, margin, limit_m, strict=strict)
        possible, certain = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        possible[rows], certain[rows] = near.possible, near.certain
        margin_all = np.zeros(n)
        margin_all[rows] = margin
        return Verdict.of(
            possible,
            certain,
            lambda: Words.of(
                margin_all,
                lambda m: f"location ±{fmt_m(m)}: may be beyond the limit from {feature_id}",
            ),
        ), distance

    def inside_any(self, zone_ids: tuple[str, ...]) -> Verdict:
        verdict = Verdict(
            np.zeros(len(self.incidents), dtype=bool), np.zeros(len(self.incidents), dtype=bool)
        )
        for z in zone_ids:
            verdict = verdict | self.inside(z)
        return verdict

    @cached_property
    def window(self) -> tuple[np.ndarray, np.ndarray]:
        """Each incident's first and last possible instant (UTC datetime64)."""
        return self.incidents.observed_at, self.incidents.last_instant

    def _window_words(self) -> Words:
        first, last = self.window
        return Words.of(
            np.char.add(
                first.astype("datetime64[m]").astype(str),
                np.char.add("/", last.astype("datetime64[m]").astype(str)),
            ),
            lambda w: (
                "time "
                + " to ".join(
                    fmt_local(datetime.fromisoformat(p + "+00:00"), self.tz) for p in w.split("/")
                )
            ),
        )

    def after(self, instant: datetime, what: str) -> Verdict:
        """Strictly after `instant`, for the whole time window."""
        first, last = self.window
        v = after(first, last, to_utc64(instant))
        words = self._window_words
        return Verdict.of(
            v.possible, v.certain, lambda: words().map(lambda t: f"{t}: may be before {what}")
        )

    def during(self, phase_ids: tuple[str, ...]) -> Verdict:
        """During one of the listed phases (none listed: while the agreement is in force),
        inside the agreement's area and before its end."""
        key = ("phases", phase_ids)
        if key not in self._verdict_cache:
            first, last = self.window
            nat = np.datetime64("NaT")
            if phase_ids:
                windows = [self.phase_windows.get(p, (nat, nat)) for p in phase_ids]
                what = "phase " + " or ".join(phase_ids)
            else:
                windows = [(self.in_force_from, nat)]
                what = "the agreement's entry into force"
            v = during(first, last, windows)
            words = self._window_words
            self._verdict_cache[key] = (
                Verdict.of(
                    v.possible,
                    v.certain,
                    lambda: words().map(lambda t: f"{t}: may fall outside {what}"),
                )
                & self.scope()
            )
        return self._verdict_cache[key]

    def scope(self) -> Verdict:
        """Inside the agreement's area and before its end (SPEC §6)."""
        key = ("scope",)
        if key not in self._verdict_cache:
            n = len(self.incidents)
            verdict = Verdict.always(n)
            a = self.agreement
            if a.area is not None:
                verdict = verdict & self._inside_area(a.area)
            if a.ends is not None:
                first, last = self.window
                end = to_utc64(a.ends.at)
                words = self._window_words
                verdict = verdict & Verdict.of(
                    first < end,
                    last < end,
                    lambda: words().map(lambda t: f"{t}: may be after the agreement's end"),
                )
            self._verdict_cache[key] = verdict
        return self._verdict_cache[key]

    def _inside_area(self, area: str) -> Verdict:
        """The area is a zone, or a polygon feature's own area."""
        if any(z.id == area for z in self.agreement.zones):
            return self.inside(area)
        return self._inside(f"the agreement's area ({area})", area, 0.0)

    @property
    def tz(self) -> tzinfo:
        return self.agreement.timezone

    @property
    def _parties(self) -> Words:
        return self.shared.get("parties", lambda rows: Words.of(self.incidents.party[rows]))

    @property
    def _targets(self) -> Words:
        return self.shared.get("targets", lambda rows: Words.of(self.incidents.target[rows]))

    def parties(self, rows: np.ndarray) -> Words:
        """The charged party (or excluded group, or `unattributed`) of these incidents."""
        return self._parties.take(rows)

    def targets(self, rows: np.ndarray) -> Words:
        """The target party or excluded group of these incidents ("" when none)."""
        return self._targets.take(rows)

    def who_words(self, rows: np.ndarray) -> Words:
        """` by gov against nusra`, ` by an unidentified attacker`, ` between gov and
        'al-Sultan clan' (not in the agreement)`: a name the agreement does not list is
        quoted as the report wrote it."""
        return self._who.take(rows)

    @property
    def _who(self) -> Words:
        """`who_words` of every incident, worded once per distinct combination of sides."""
        return self.shared.get("who", self._who_of)

    def _who_of(self, rows: slice) -> Words:
        inc = self.incidents
        mutual = inc.mutual[rows]
        codes, distinct = combinations(
            [
                mutual,
                np.where(mutual, inc.actor[rows], inc.party[rows]),
                inc.actor_text[rows],
                inc.target[rows],
                inc.target_text[rows],
            ]
        )

        def words(mutual: bool, first: str, first_text: str, target: str, target_text: str) -> str:
            one = side_words(first, first_text)
            if mutual:
                return f" between {one} and {side_words(target, target_text)}"
            attacker = (
                "an unidentified attacker"
                if first in ("", UNATTRIBUTED) and not first_text
                else one
            )
            against = side_words(target, target_text) if target or target_text else ""
            return f" by {attacker}" + (f" against {against}" if against else "")

        return Words(codes, [words(bool(d[0]), *map(str, d[1:])) for d in distinct])

    def party_is(self, *labels: str) -> np.ndarray:
        """Mask: incidents whose attacker names one of `labels` (alone or with others)."""
        wanted = set(labels)
        texts = self._parties.texts
        table = np.array([bool(wanted & set(label_tokens(t))) for t in texts] + [False])
        return table[self._parties.codes]

    def by_party(self, party: str) -> Verdict:
        """The attacker is `party`: certain when it alone is named, possible when it is
        named beside an excluded group or another party."""
        named = self.party_is(party)
        j = self.judgement
        return Verdict.of(
            named,
            named & (self.charged == party) & j.certain,
            lambda: self._doubt_words.map(lambda t: t or "attacker also names another party"),
        )

    @property
    def _doubt_words(self) -> Words:
        return self.shared.get("doubt", lambda rows: Words.of(self.judgement.doubt[rows]))

    @cached_property
    def excluded(self) -> tuple[np.ndarray, np.ndarray]:
        """Masks: (the attacker is an excluded group, the target is an excluded group)."""
        ids = self.agreement.excluded_ids()
        return self._parties.is_in(ids), self._targets.is_in(ids)

    def phase_index(self, phase_ids: tuple[str, ...]) -> np.ndarray:
        """For each incident, the position in `phase_ids` of the first listed phase its time
        window meets (-1: none). With no phases listed: 0 once the agreement is in force."""
        if phase_ids not in self._phase_cache:
            first, last = self.window
            if not phase_ids:
                index = np.where(last >= self.in_force_from, 0, -1)
            else:
                index = np.full(len(first), -1, dtype=np.int64)
                for k in reversed(range(len(phase_ids))):
                    start, end = self.phase_windows.get(
                        phase_ids[k], (np.datetime64("NaT"), np.datetime64("NaT"))
                    )
                    if np.isnat(start):
                        continue
                    inside = last >= start
                    if not np.isnat(end):
                        inside &= first < end
                    index[inside] = k
            self._phase_cache[phase_ids] = index
        return self._phase_cache[phase_ids]

    def first_zone_index(self, zone_ids: tuple[str, ...], rows: np.ndarray) -> np.ndarray:
        """For each row, the position in `zone_ids` of the first listed zone containing it
        (-1: none)."""
        out = np.full(len(rows), -1, dtype=np.int64)
        for k in reversed(range(len(zone_ids))):
            out[self.inside(zone_ids[k]).possible[rows]] = k
        return out

    def zone_mask(self, zone_id: str) -> np.ndarray:
        if zone_id not in self._zone_cache:
            self._zone_cache[zone_id] = self.zone_mask_fn(zone_id)
        return self._zone_cache[zone_id]

    def any_zone_mask(self, zone_ids: tuple[str, ...]) -> np.ndarray:
        mask = np.zeros(len(self.incidents), dtype=bool)
        for z in zone_ids:
            mask |= self.zone_mask(z)
        return mask

    def first_zone(self, zone_ids: tuple[str, ...], rows: np.ndarray) -> np.ndarray:
        """For each row, the first listed zone that contains it (None if none)."""
        out = np.full(len(rows), None, dtype=object)
        for z in reversed(zone_ids):
            out[self.zone_mask(z)[rows]] = z
        return out

    def active_phase(self, phase_ids: tuple[str, ...]) -> np.ndarray:
        """For each incident, the first listed phase active at its time (None if none)."""
        t = self.incidents.observed_at
        out = np.full(len(t), None, dtype=object)
        for pid in reversed(phase_ids):
            start, end = self.phase_windows.get(pid, (np.datetime64("NaT"), np.datetime64("NaT")))
            if np.isnat(start):
                continue
            inside = t >= start
            if not np.isnat(end):
                inside &= t < end
            out[inside] = pid
        return out

    def phase_labels(self, phase_ids: tuple[str, ...]) -> np.ndarray:
        """For each incident, the listed phase active at its time; with no phases listed,
        "in force" once the agreement is in force; None where the rule does not apply."""
        if phase_ids:
            return self.active_phase(phase_ids)
        return np.where(self.in_force(), "in force", None)  # type: ignore[call-overload]

    def in_force(self) -> np.ndarray:
        if np.isnat(self.in_force_from):
            return np.zeros(len(self.incidents), dtype=bool)
        return self.incidents.observed_at >= self.in_force_from

    def local_time(self, row: int) -> str:
        return from_utc64(self.incidents.observed_at[row], self.tz).strftime("%Y-%m-%dT%H:%M%z")
