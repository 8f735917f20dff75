"""Condition kinds, registered by name, as rule kinds are (`truce.domain.rules`):
one small module a kind. Third-party kinds use the `truce.conditions` entry-point
group (each entry point names a ConditionKind class)."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from truce.domain.conditions.all_of import AllOf
from truce.domain.conditions.any_of import AnyOf
from truce.domain.conditions.base import (
    ConditionContext,
    ConditionKind,
    ConditionParams,
    intersect,
    unite,
)
from truce.domain.conditions.checkpoints_established import CheckpointsEstablished
from truce.domain.conditions.convoys_delivered import ConvoysDelivered
from truce.domain.conditions.forces_withdrawn import ForcesWithdrawn
from truce.domain.conditions.quiet_days import QuietDays

BUILTIN_KINDS: tuple[type, ...] = (
    QuietDays,
    AllOf,
    AnyOf,
    CheckpointsEstablished,
    ForcesWithdrawn,
    ConvoysDelivered,
)


@cache
def condition_kinds() -> dict[str, ConditionKind]:
    """Every known condition kind by name: the built-ins, then any installed plug-ins."""
    kinds: dict[str, ConditionKind] = {k.name: k() for k in BUILTIN_KINDS}  # type: ignore[attr-defined]
    for ep in entry_points(group="truce.conditions"):
        cls = ep.load()
        kinds.setdefault(cls.name, cls())
    return kinds


__all__ = [
    "BUILTIN_KINDS",
    "ConditionContext",
    "ConditionKind",
    "ConditionParams",
    "condition_kinds",
    "intersect",
    "unite",
]
