"""Each rule's findings, worked out once per evaluation for the phase windows it reads,
and carried into the next evaluation for the incidents both share.

A rule judges each incident on its own: its place, time and sides, the agreement, and
the windows of the phases the rule names. So under the same windows a rule finds, among
the incidents an incremental evaluation kept from the previous one (its first `kept`,
unchanged: `truce.domain.incremental`), exactly what it found then; only the incidents
after them are judged again. The phases a rule read are recorded as it reads them, so
the findings are reused only while those windows stand, whatever the rule kind.

The timeline's conditions ask for findings under the windows they resolve, the rules
stage under the final ones; both ask `RuleFindings.of`, and within one evaluation the
second asks is answered from the first when the windows it read agree.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from truce.domain.model import IncidentTable, Rule
from truce.domain.per_incident import incident_slice
from truce.domain.rules import RuleContext, rule_kinds
from truce.domain.rules.base import Findings

__all__ = ["PhaseReads", "RuleFindings", "take_findings"]

Window = tuple[np.datetime64, np.datetime64]


@dataclass(frozen=True)
class _Found:
    findings: Findings
    read: dict[str, Window | None]  # each phase the rule looked up (None: not a phase)
    in_force_from: np.datetime64


class RuleFindings:
    """The findings of one evaluation's rules over `incidents`."""

    def __init__(
        self, incidents: IncidentTable, earlier: RuleFindings | None = None, kept: int = 0
    ) -> None:
        """`earlier`: those of a previous evaluation of the same agreement whose first
        `kept` incidents are these incidents' first, unchanged."""
        self.incidents = incidents
        self._kinds = rule_kinds()  # each call looks the plug-ins up again
        self._found: dict[str, list[_Found]] = {}
        self._earlier = earlier if earlier is not None and kept > 0 else None
        self._kept = kept if self._earlier is not None else 0

    def of(self, rule: Rule, ctx: RuleContext) -> Findings:
        """What `rule` finds in `ctx`, a context over all of `incidents` whose phase
        windows are `PhaseReads` (other contexts are evaluated as they are)."""
        reads = ctx.phase_windows
        kind = self._kinds[rule.kind]
        if not isinstance(reads, PhaseReads):
            return kind.evaluate(rule, ctx)
        mine = self._found.setdefault(rule.id, [])
        same = _matching(mine, ctx)
        if same is not None:
            return same.findings
        earlier = [] if self._earlier is None else self._earlier._found.get(rule.id, [])
        before = _matching(earlier, ctx)
        if before is None:
            found = kind.evaluate(rule, ctx)
        else:
            k = self._kept
            kept = np.flatnonzero(np.asarray(before.findings.incidents) < k)
            found = _joined(
                take_findings(before.findings, kept), kind.evaluate(rule, self._tail(ctx)), k
            )
        # What the context has read so far: what this rule read, directly or through a
        # verdict the context had cached for an earlier rule, and maybe more.
        read = {**(before.read if before is not None else {}), **reads.read}
        if not reads.whole:  # a rule that went through every phase is not carried
            mine.append(_Found(found, read, ctx.in_force_from))
        return found

    def settle(self) -> None:
        """Carry nothing more from the earlier evaluation, so that it can be freed."""
        self._earlier, self._kept = None, 0

    def _tail(self, ctx: RuleContext) -> RuleContext:
        """`ctx` over the incidents after the kept ones alone."""
        k = self._kept
        point = ctx.point_distance_fn
        return RuleContext(
            agreement=ctx.agreement,
            incidents=incident_slice(self.incidents, k, len(self.incidents)),
            phase_windows=ctx.phase_windows,
            in_force_from=ctx.in_force_from,
            zone_mask_fn=lambda zone: ctx.zone_mask(zone)[k:],
            distance_fn=lambda feature, rows: ctx.distance_fn(feature, rows + k),
            space=ctx.space,
            point_distance_fn=None
            if point is None
            else (lambda lon, lat, rows: point(lon, lat, rows + k)),
            per_incident=ctx.shared.tail(k),
        )


class PhaseReads(Mapping[str, Window]):
    """Phase windows that note which phases were looked up (for a rule context whose
    findings `RuleFindings` may carry)."""

    def __init__(self, windows: Mapping[str, Window]) -> None:
        self.windows = windows
        self.read: dict[str, Window | None] = {}
        self.whole = False

    def __getitem__(self, phase_id: str) -> Window:
        try:
            window = self.windows[phase_id]
        except KeyError:
            self.read[phase_id] = None
            raise
        self.read[phase_id] = window
        return window

    def __iter__(self) -> Iterator[str]:
        self.whole = True
        return iter(self.windows)

    def __len__(self) -> int:
        self.whole = True
        return len(self.windows)


def _matching(found: list[_Found], ctx: RuleContext) -> _Found | None:
    """The findings made under the windows `ctx` gives for every phase they read."""
    for f in found:
        if _same(f.in_force_from, ctx.in_force_from) and all(
            _same_window(window, ctx.phase_windows.get(phase)) for phase, window in f.read.items()
        ):
            return f
    return None


def _same(a: np.datetime64, b: np.datetime64) -> bool:
    """Equal instants, NaT equal to NaT."""
    ns = np.array([a, b]).astype("datetime64[ns]").astype(np.int64)
    return bool(ns[0] == ns[1])


def _same_window(a: Window | None, b: Window | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return _same(a[0], b[0]) and _same(a[1], b[1])


def take_findings(f: Findings, keep: np.ndarray) -> Findings:
    """The findings at positions `keep`."""
    evidence = np.asarray(f.evidence, dtype=object)[keep] if len(f.evidence) else f.evidence
    return Findings(
        np.asarray(f.incidents)[keep],
        np.asarray(f.party, dtype=object)[keep],
        evidence,
        None if f.zone is None else np.asarray(f.zone, dtype=object)[keep],
        None if f.measured_m is None else np.asarray(f.measured_m)[keep],
        None if f.certain is None else np.asarray(f.certain)[keep],
    )


def _joined(head: Findings, tail: Findings, shift: int) -> Findings:
    """`head`, then `tail` (over the incidents from `shift` on)."""

    def both(a: Any, b: Any, n: tuple[int, int], fill: object, dtype: Any) -> np.ndarray:
        parts = [
            np.full(size, fill, dtype=dtype) if part is None else np.asarray(part, dtype=dtype)
            for part, size in ((a, n[0]), (b, n[1]))
        ]
        return np.concatenate(parts)

    n = (len(head), len(tail))
    rows = np.asarray(head.incidents, dtype=np.int64), np.asarray(tail.incidents, dtype=np.int64)

    def optional(a: Any, b: Any, fill: object, dtype: Any) -> np.ndarray | None:
        return None if a is None and b is None else both(a, b, n, fill, dtype)

    return Findings(
        np.concatenate([rows[0], rows[1] + shift]),
        both(head.party, tail.party, n, None, object),
        both(head.evidence, tail.evidence, n, "", object),
        optional(head.zone, tail.zone, None, object),
        optional(head.measured_m, tail.measured_m, np.nan, np.float64),
        optional(head.certain, tail.certain, True, bool),
    )
