"""What every rule kind shares: its parameter schema, the findings it returns, and the
protocol a kind follows. Rule kinds are registered by name (see `truce.domain.rules`);
third-party kinds use the `truce.rules` entry-point group. The context a rule is
evaluated in is `truce.domain.rules.context`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict

from truce.domain.model import Agreement, Rule
from truce.domain.uncertainty import Verdict
from truce.domain.words import Words, compose

if TYPE_CHECKING:
    from truce.domain.rules.context import RuleContext

Namespace = Literal["phase", "zone", "feature", "party", "condition", "site", "convoy"]


class RuleParams(BaseModel):
    """Base of each kind's parameters. Unknown keys are errors, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def refs(self) -> list[tuple[str, Namespace, str]]:
        """(field path, namespace, id) for every name this rule refers to, for validation."""
        return []


class PhaseScoped(RuleParams):
    """Rules that apply while listed phases are active (empty: whenever the agreement is in force)."""

    phases: tuple[str, ...] = ()

    def refs(self) -> list[tuple[str, Namespace, str]]:
        return [(f"phases[{i}]", "phase", p) for i, p in enumerate(self.phases)]


@dataclass
class Findings:
    """The violations one rule found: parallel arrays, one entry per violation."""

    incidents: np.ndarray  # int row numbers in the IncidentTable
    party: np.ndarray  # object: charged party
    evidence: np.ndarray | list[str]  # object array of str (or a list)
    zone: np.ndarray | None = None  # object: zone id or None
    measured_m: np.ndarray | None = None
    certain: np.ndarray | None = None  # bool per violation (SPEC §5); None: all certain

    @classmethod
    def none(cls) -> Findings:
        return cls(np.array([], dtype=np.int64), np.array([], dtype=object), [])

    @classmethod
    def of(
        cls,
        verdict: Verdict,
        ctx: RuleContext,
        evidence: Callable[[np.ndarray], list[str | Words]],
        *,
        party: np.ndarray | Callable[[np.ndarray], np.ndarray] | None = None,
        zone: Callable[[np.ndarray], np.ndarray] | None = None,
        measured_m: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> Findings:
        """The rows the verdict holds for (possibly or certainly), their evidence (the
        verdict's doubts appended), and the charged party (default: `ctx.charged`)."""
        rows = np.flatnonzero(verdict.possible)
        text = compose(len(rows), *evidence(rows), verdict.doubt_words(rows))
        return cls(
            rows,
            party(rows) if callable(party) else (ctx.charged if party is None else party)[rows],
            text,
            None if zone is None else zone(rows),
            None if measured_m is None else measured_m(rows),
            verdict.certain[rows],
        )

    def __len__(self) -> int:
        return len(self.incidents)


class RuleKind(Protocol):
    """A rule kind: its name, its parameter schema, how it finds violations, how it reads."""

    name: ClassVar[str]
    Params: ClassVar[type[RuleParams]]

    def evaluate(self, rule: Rule, ctx: RuleContext) -> Findings: ...

    def describe(self, rule: Rule, agreement: Agreement) -> str: ...


def as_params(rule: Rule) -> Any:
    return rule.params
