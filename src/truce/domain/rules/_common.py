"""Column tests several rule kinds share."""

from __future__ import annotations

import numpy as np

from truce.domain.model import (
    ATTACK_TYPES,
    EVENT_TYPES,
    UNATTRIBUTED,
    WEAPONS,
    Agreement,
    IncidentTable,
    codes_of,
)

ATTACK_CODES = codes_of(ATTACK_TYPES, EVENT_TYPES)


def is_event(inc: IncidentTable, *names: str) -> np.ndarray:
    return np.isin(inc.event_type, codes_of(tuple(names), EVENT_TYPES))


def is_attack(inc: IncidentTable) -> np.ndarray:
    return np.isin(inc.event_type, ATTACK_CODES)


def is_weapon(inc: IncidentTable, weapons: tuple[str, ...]) -> np.ndarray:
    return np.isin(inc.weapon, codes_of(weapons, WEAPONS))


def involves_excluded(inc: IncidentTable, agreement: Agreement) -> tuple[np.ndarray, np.ndarray]:
    """(attacker is an excluded group, target is an excluded group)."""
    excluded = list(agreement.excluded_ids())
    return np.isin(inc.party, excluded), np.isin(inc.target, excluded)


def event_name(inc: IncidentTable, row: int) -> str:
    """The event type in words: `small arms fire`, `atgm attack`."""
    return EVENT_TYPES[int(inc.event_type[row])].replace("_", " ")


def actor_words(label: str) -> str:
    """A party label as evidence text reads it."""
    return "an unidentified attacker" if label == UNATTRIBUTED else label


def weapon_name(inc: IncidentTable, row: int) -> str:
    code = int(inc.weapon[row])
    return WEAPONS[code] if code >= 0 else "weapon"


def phases_words(phases: tuple[str, ...]) -> str:
    if not phases:
        return "at any time the agreement is in force"
    return "during phase " + " or ".join(phases) if len(phases) > 1 else f"during phase {phases[0]}"
