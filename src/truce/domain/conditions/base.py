"""What every condition kind shares: its parameter schema, the context it is
evaluated in, and the periods it holds. Condition kinds are registered by name
(see `truce.domain.conditions`), as rule kinds are.

A condition's answer is the list of periods during which it held up to
`as_of` (`ConditionState.periods`): composites intersect (`all_of`) or unite
(`any_of`) their parts' periods, so "met, then un-met" falls out for free, and
the first period's start is the `met_at` a phase's `{when: ...}` waits for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict

from truce.domain.model import Agreement, Condition, ConditionState, Period, TimeRef
from truce.domain.status import StatusChange

Namespace = Literal["zone", "condition", "feature", "rule", "convoy", "phase"]
# centre -> the [start, end) intervals its bulletins cover
Coverage = Mapping[str, Sequence[tuple[datetime, datetime]]]


class ConditionParams(BaseModel):
    """Base of each kind's parameters. Unknown keys are errors, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def refs(self) -> list[tuple[str, Namespace, str]]:
        """(field path, namespace, id) for every name this condition refers to."""
        return []


@dataclass
class ConditionContext:
    """Everything a condition may look at; callbacks are resolved lazily by the timeline."""

    agreement: Agreement
    as_of: datetime
    condition: Callable[[str], ConditionState]  # another condition's state (memoised)
    instant: Callable[[TimeRef], datetime | None]  # when a time reference falls
    counting_start: Callable[[Condition], datetime | None]
    # (zones, parties_only) -> sorted UTC datetime64 of the violent incidents counted
    violent_times: Callable[[tuple[str, ...], bool], np.ndarray]
    # rule ids -> sorted UTC datetime64 of those rules' violations
    violation_times: Callable[[tuple[str, ...]], np.ndarray]
    checkpoint_history: Callable[[str], list[StatusChange]]
    convoy_history: Callable[[str], list[StatusChange]]
    coverage: Coverage | None = None

    @property
    def tz(self) -> Any:
        return self.agreement.timezone


class ConditionKind(Protocol):
    name: ClassVar[str]
    Params: ClassVar[type[ConditionParams]]

    def evaluate(self, condition: Condition, ctx: ConditionContext) -> ConditionState: ...

    def describe(self, condition: Condition, agreement: Agreement) -> str: ...


def label(agreement: Agreement, condition_id: str) -> str:
    """A condition as people read it: its name, else its id."""
    c = next((c for c in agreement.conditions if c.id == condition_id), None)
    return c.name or c.id if c else condition_id


# --- periods -------------------------------------------------------------------------


_OPEN = datetime.max.replace(tzinfo=UTC)  # the end of a period still running


def intersect(a: Sequence[Period], b: Sequence[Period]) -> tuple[Period, ...]:
    """The times inside both lists of sorted, disjoint periods."""
    out: list[Period] = []
    i = j = 0
    while i < len(a) and j < len(b):
        end_a, end_b = a[i][1] or _OPEN, b[j][1] or _OPEN
        start, end = max(a[i][0], b[j][0]), min(end_a, end_b)
        if start < end:
            out.append((start, None if end == _OPEN else end))
        if end_a <= end_b:
            i += 1
        else:
            j += 1
    return tuple(out)


def unite(periods: Sequence[Period]) -> tuple[Period, ...]:
    """The times inside any of the periods, as sorted, disjoint periods."""
    out: list[Period] = []
    for start, end in sorted(periods, key=lambda p: p[0]):
        if out and (out[-1][1] is None or start <= out[-1][1]):
            last_start, last_end = out[-1]
            merged = None if end is None or last_end is None else max(end, last_end)
            out[-1] = (last_start, merged)
        else:
            out.append((start, end))
    return tuple(out)


def clip(periods: Sequence[Period], as_of: datetime) -> tuple[Period, ...]:
    """Only what had happened by `as_of`: later starts dropped, later ends left open."""
    out: list[Period] = []
    for start, end in periods:
        if start > as_of:
            continue
        out.append((start, None if end is None or end > as_of else end))
    return tuple(out)


def state(
    condition: Condition,
    periods: Sequence[Period],
    blocking: str | None,
    **extra: Any,
) -> ConditionState:
    """A ConditionState from its periods: met_at is the first start; no blocking text
    while it holds."""
    periods = tuple(periods)
    met_now = bool(periods) and periods[-1][1] is None
    return ConditionState(
        id=condition.id,
        met_at=periods[0][0] if periods else None,
        blocking=None if met_now else blocking,
        kind=condition.kind,
        periods=periods,
        **extra,
    )
