"""Values worked out per incident, once per evaluation, and carried into the next.

The rules, the conditions' counts and the timeline each look at the same per-incident
values: who is charged and whether the terms cover an incident at all, the words
naming its sides, its zones. Each of these depends on that incident and the agreement
alone, so one evaluation works each out once, for every rule context it makes; and
an incremental one (`truce.domain.incremental`), whose first incidents are the
previous evaluation's unchanged, works them out only for the incidents after those
and appends them to the previous values. At 1M incidents that is most of the cost of
the rules stage of a refresh (hashing a million strings per column).

A value is a numpy array, a `Words` column, a dataclass of arrays (`Judgement`) or a
dict of arrays (zone masks by zone);
`make(rows)` works it out for a slice of the incidents.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, is_dataclass, replace
from typing import Any, TypeVar, cast

import numpy as np

from truce.domain.attribution import Judgement, judge
from truce.domain.model import UNATTRIBUTED, Agreement, IncidentTable
from truce.domain.words import Words

__all__ = ["PerIncident", "incident_slice", "judgement_of"]

T = TypeVar("T")


class PerIncident:
    """The per-incident values of one evaluation of `n` incidents, each made on first use."""

    def __init__(self, n: int, earlier: PerIncident | None = None, kept: int = 0) -> None:
        """`earlier`: the values of a previous evaluation of the same agreement whose
        first `kept` incidents are this one's first, unchanged."""
        self.n = n
        self._values: dict[str, Any] = {}
        self._earlier = earlier if earlier is not None and 0 < kept <= earlier.n else None
        self._kept = kept if self._earlier is not None else 0

    def get(self, name: str, make: Callable[[slice], T]) -> T:
        """The value `name` over every incident; `make(rows)` works it out for a slice."""
        if name not in self._values:
            before = None if self._earlier is None else self._earlier._values.get(name)
            if before is None:
                value = make(slice(0, self.n))
            else:
                head = _part(before, slice(0, self._kept))
                value = _joined(head, make(slice(self._kept, self.n)))
            self._values[name] = value
        return cast(T, self._values[name])

    def settle(self) -> None:
        """Carry nothing more from the earlier evaluation, so that it can be freed (each
        evaluation would otherwise keep every one before it alive); a value asked for
        later is made whole."""
        self._earlier, self._kept = None, 0

    def tail(self, start: int) -> PerIncident:
        """The values of the incidents from `start` on, for a rule context over those alone
        (`truce.domain.rule_findings`): sliced from this one's where it has them or
        carries them from the earlier evaluation, else made for those incidents only."""
        return _Tail(self, start)

    def _has(self, name: str, start: int) -> bool:
        """Whether the value is here, or would be made only from `start` on."""
        if name in self._values:
            return True
        earlier = self._earlier
        return earlier is not None and name in earlier._values and self._kept >= start


class _Tail(PerIncident):
    def __init__(self, whole: PerIncident, start: int) -> None:
        super().__init__(whole.n - start)
        self._whole, self._start = whole, start

    def get(self, name: str, make: Callable[[slice], T]) -> T:
        if name not in self._values:
            s = self._start
            if self._whole._has(name, s):
                # `make` reads this tail's rows: the whole one's rows, shifted by s.
                value = self._whole.get(
                    name, lambda rows: make(slice(rows.start - s, rows.stop - s))
                )
                self._values[name] = _part(value, slice(s, None))
            else:
                self._values[name] = make(slice(0, self.n))
        return cast(T, self._values[name])


def incident_slice(inc: IncidentTable, a: int, b: int) -> IncidentTable:
    """Incidents a..b-1 as a table of their own (their `members` still index the reports)."""
    offsets = inc.offsets[a : b + 1]
    rows = {f.name: getattr(inc, f.name)[a:b] for f in fields(inc)}
    rows["offsets"] = offsets - offsets[0]
    rows["members"] = inc.members[offsets[0] : offsets[-1]]
    return IncidentTable(**rows)


def _part(value: Any, rows: slice) -> Any:
    """`value` for a slice of the incidents."""
    if isinstance(value, np.ndarray):
        return value[rows]
    if isinstance(value, Words):
        return Words(value.codes[rows], value.texts)
    if isinstance(value, dict):
        return {k: _part(v, rows) for k, v in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        return replace(
            value, **{f.name: _part(getattr(value, f.name), rows) for f in fields(value)}
        )
    raise TypeError(f"no per-incident value of type {type(value).__name__}")


def _joined(head: Any, tail: Any) -> Any:
    if isinstance(head, np.ndarray):
        return np.concatenate([head, tail.astype(head.dtype, copy=False)])
    if isinstance(head, Words):
        return head.joined(tail)
    if isinstance(head, dict):
        return {k: _joined(v, tail[k]) for k, v in head.items()}
    if is_dataclass(head) and not isinstance(head, type):
        return replace(
            head,
            **{f.name: _joined(getattr(head, f.name), getattr(tail, f.name)) for f in fields(head)},
        )
    raise TypeError(f"no per-incident value of type {type(head).__name__}")


def judgement_of(agreement: Agreement, incidents: IncidentTable, shared: PerIncident) -> Judgement:
    """Per incident: can the terms cover it (sides), whom they charge, what is in doubt."""

    def make(rows: slice) -> Judgement:
        party = incidents.party[rows]
        attacker = np.where(party == UNATTRIBUTED, "", party).astype(object)
        return judge(
            agreement, attacker, incidents.actor[rows], incidents.target[rows],
            incidents.mutual[rows],
        )  # fmt: skip

    return shared.get("judgement", make)
