"""Rule kinds, registered by name. Built-in kinds use the same registry third parties
reach through the `truce.rules` entry-point group (each entry point names a RuleKind class)."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from truce.domain.rules.base import Findings, RuleKind, RuleParams
from truce.domain.rules.cease_attacks import CeaseAttacks
from truce.domain.rules.checkpoint_limit import CheckpointLimit
from truce.domain.rules.context import RuleContext
from truce.domain.rules.convoy_safety import ConvoySafety
from truce.domain.rules.demilitarised import Demilitarised
from truce.domain.rules.humanitarian_access import HumanitarianAccess
from truce.domain.rules.no_fly import NoFly
from truce.domain.rules.no_territorial_gain import NoTerritorialGain
from truce.domain.rules.protected_sites import ProtectedSites
from truce.domain.rules.withdrawal import Withdrawal

BUILTIN_KINDS: tuple[type, ...] = (
    CeaseAttacks,
    NoTerritorialGain,
    Withdrawal,
    Demilitarised,
    NoFly,
    CheckpointLimit,
    HumanitarianAccess,
    ProtectedSites,
    ConvoySafety,
)


@cache
def rule_kinds() -> dict[str, RuleKind]:
    """Every known rule kind by name: the built-ins, then any installed plug-ins."""
    builtins: list[RuleKind] = [k() for k in BUILTIN_KINDS]
    kinds = {k.name: k for k in builtins}
    for ep in entry_points(group="truce.rules"):
        cls: type[RuleKind] = ep.load()
        kinds.setdefault(cls.name, cls())
    return kinds


__all__ = ["BUILTIN_KINDS", "Findings", "RuleContext", "RuleKind", "RuleParams", "rule_kinds"]
