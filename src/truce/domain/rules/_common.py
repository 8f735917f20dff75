"""Column tests several rule kinds share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from truce.domain.model import (
    ATTACK_TYPES,
    EVENT_TYPES,
    UNATTRIBUTED,
    WEAPONS,
    Agreement,
    IncidentTable,
    codes_of,
)
from truce.domain.rules.base import fmt_m

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


# --- evidence text for whole columns -----------------------------------------------------

EVENT_WORDS = np.array([e.replace("_", " ") for e in EVENT_TYPES], dtype=object)
WEAPON_WORDS = np.array([*WEAPONS, "weapon"], dtype=object)  # NO_CODE (-1) reads "weapon"


def per_value(words: Callable[[Any], str], column: np.ndarray) -> np.ndarray:
    """`words(v)` for every value of a column (no None in it), as an object array,
    calling `words` once per distinct value."""
    if len(column) == 0:
        return np.array([], dtype=object)
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    return np.array([words(u) for u in uniques], dtype=object)[codes]


def join_text(n: int, *parts: np.ndarray | str) -> np.ndarray:
    """Columns of strings and constant strings joined row by row, as an object array."""
    out = np.full(n, "", dtype=object)
    for part in parts:
        out = out + part
    return out


def event_words(codes: np.ndarray) -> np.ndarray:
    """Each event type in words: `small arms fire`, `atgm attack`."""
    return EVENT_WORDS[codes]


def weapon_words(codes: np.ndarray) -> np.ndarray:
    return WEAPON_WORDS[codes]


def actors_words(labels: np.ndarray) -> np.ndarray:
    """`actor_words` for a column of party labels."""
    return per_value(actor_words, labels)


def metres_words(metres: np.ndarray) -> np.ndarray:
    """`fmt_m` for a column: `1,240 m`. `{:,.0f}` rounds half to even like `np.rint`."""
    return per_value(fmt_m, np.rint(np.asarray(metres, dtype=np.float64)))
