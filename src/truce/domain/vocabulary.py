"""The vocabulary of reports (SPEC §2): event types, weapons, grades, statuses, and
their integer codes in columnar tables."""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np

EVENT_TYPES: tuple[str, ...] = (
    "airstrike",
    "shelling",
    "armed_clash",
    "small_arms_fire",
    "atgm_attack",
    "ground_advance",
    "weapon_sighting",
    "checkpoint_observation",
    "convoy_obstruction",
    "attack_on_humanitarian",
    # Appended, so earlier codes stay stable: what an importer cannot map (SPEC §4).
    "other",
    # Appended, never inserted: the integer codes of the types above must not change.
    "checkpoint_status",
    "convoy_status",
)
ATTACK_TYPES: frozenset[str] = frozenset(
    {"airstrike", "shelling", "armed_clash", "small_arms_fire", "atgm_attack"}
)
# What a "violent incident" is for quiet-day conditions: attacks and attacks on aid.
VIOLENT_TYPES: frozenset[str] = ATTACK_TYPES | {"attack_on_humanitarian"}
# The status a `checkpoint_status` / `convoy_status` report gives (SPEC §6), in its
# `status` column or as a word of its notes.
CHECKPOINT_STATUSES: tuple[str, ...] = ("established", "staffed", "removed")
CONVOY_STATUSES: tuple[str, ...] = ("departed", "delivered", "stopped", "turned_back")
STATUS_VOCABULARY: dict[str, tuple[str, ...]] = {
    "checkpoint_status": CHECKPOINT_STATUSES,
    "convoy_status": CONVOY_STATUSES,
}

Weapon = Literal[
    "aircraft",
    "heavy_vehicle",
    "artillery",
    "mlrs",
    "mortar",
    "apc",
    "atgm",
    "small_arms",
    "personnel",
]
WEAPONS: tuple[str, ...] = get_args(Weapon)
RELIABILITY_GRADES = "ABCDEF"
CREDIBILITY_GRADES = "123456"

UNATTRIBUTED = "unattributed"
# `direction` codes (SPEC §4): who attacked whom is known, or only that they fought.
DIRECTIONS: tuple[str, ...] = ("attack", "mutual")
ATTACK, MUTUAL = 0, 1
NO_CODE = -1  # code for "not stated" in integer-coded columns


def event_code(name: str) -> int:
    return EVENT_TYPES.index(name)


def weapon_code(name: str) -> int:
    return WEAPONS.index(name)


def codes_of(names: frozenset[str] | tuple[str, ...], vocabulary: tuple[str, ...]) -> np.ndarray:
    """Integer codes of a set of names, for `np.isin` over a coded column."""
    return np.array(sorted(vocabulary.index(n) for n in names), dtype=np.int8)
