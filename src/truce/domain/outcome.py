"""What an evaluation gives: phase and condition states, day counts, and the
`Evaluation` that holds them with the incidents and violations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from truce.domain.agreement import Agreement
from truce.domain.tables import IncidentTable, Rejection, ReportTable
from truce.domain.violations import ViolationTable

PhaseStatus = Literal["pending", "active", "ended", "never"]


@dataclass(frozen=True)
class PhaseState:
    id: str
    start: datetime | None
    end: datetime | None
    status: PhaseStatus


@dataclass(frozen=True)
class DayCount:
    """Violent incidents on one local calendar day, for a condition's chart."""

    day: date
    incidents: int
    quiet: bool
    complete: bool  # the day had ended by as_of
    covered: bool = True  # the required centres' bulletins covered the whole day


Period = tuple[datetime, datetime | None]  # [start, end); None: still running at as_of


@dataclass(frozen=True)
class ConditionState:
    """A condition as it stood at `as_of`. `met_at` is when it was first met (what a
    phase's `{when: ...}` waits for); `periods` are all the times it held, so one that
    was met and then un-met says so; `waiting_for` names what it still needs."""

    id: str
    met_at: datetime | None
    blocking: str | None  # why it is not met (now), in plain words; None when met
    counting_from: datetime | None = None
    streak_days: int = 0
    days: tuple[DayCount, ...] = ()
    kind: str = "quiet_days"
    periods: tuple[Period, ...] = ()
    parts: tuple[str, ...] = ()  # the condition ids a composite is made of
    waiting_for: tuple[str, ...] = ()  # what is not met yet (parts, checkpoints, convoys)

    @property
    def met(self) -> bool:
        """Met at as_of (not merely once)."""
        return bool(self.periods) and self.periods[-1][1] is None

    @property
    def unmet_at(self) -> datetime | None:
        """When it stopped holding, if it was met and no longer is."""
        return self.periods[-1][1] if self.periods else None


@dataclass
class Evaluation:
    """Everything `truce evaluate` computes for one agreement at one instant."""

    agreement: Agreement
    as_of: datetime
    reports: ReportTable
    rejected: list[Rejection]
    incidents: IncidentTable
    incident_ids: list[str]
    violations: ViolationTable
    phases: list[PhaseState]
    conditions: list[ConditionState]
    extra: dict[str, Any] = field(default_factory=dict)
