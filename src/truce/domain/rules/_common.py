"""Column tests and evidence words several rule kinds share."""

from __future__ import annotations

import numpy as np

from truce.domain.model import (
    ATTACK_TYPES,
    EVENT_TYPES,
    WEAPONS,
    IncidentTable,
    codes_of,
)
from truce.domain.rules.base import Findings
from truce.domain.rules.context import RuleContext
from truce.domain.rules.wording import fmt_m
from truce.domain.uncertainty import Verdict
from truce.domain.words import Words

ATTACK_CODES = codes_of(ATTACK_TYPES, EVENT_TYPES)
# The event types in words: `small arms fire`, `atgm attack`.
EVENT_WORDS = [e.replace("_", " ") for e in EVENT_TYPES]
WEAPON_WORDS = [*WEAPONS, "weapon"]  # the last for NO_CODE (-1): weapon not stated


def coded_in(column: np.ndarray, wanted: np.ndarray | list[int], size: int) -> np.ndarray:
    """Mask: rows of an integer-coded column (codes -1..size-1) whose code is wanted.
    A lookup table, not np.isin: one pass over the column."""
    table = np.zeros(size + 1, dtype=bool)  # the last for -1
    table[np.asarray(wanted, dtype=np.int64)] = True
    return table[column]


def is_event(inc: IncidentTable, *names: str) -> np.ndarray:
    return coded_in(inc.event_type, codes_of(tuple(names), EVENT_TYPES), len(EVENT_TYPES))


def is_attack(inc: IncidentTable) -> np.ndarray:
    return coded_in(inc.event_type, ATTACK_CODES, len(EVENT_TYPES))


def is_weapon(inc: IncidentTable, weapons: tuple[str, ...]) -> np.ndarray:
    return coded_in(inc.weapon, codes_of(weapons, WEAPONS), len(WEAPONS))


def event_words(inc: IncidentTable, rows: np.ndarray) -> Words:
    return Words(inc.event_type[rows].astype(np.int64), EVENT_WORDS)


def weapon_words(inc: IncidentTable, rows: np.ndarray) -> Words:
    return Words(inc.weapon[rows].astype(np.int64) % len(WEAPON_WORDS), WEAPON_WORDS)


def metres_words(metres: np.ndarray) -> Words:
    """`fmt_m` of each distance: `1,240 m`. (`{:,.0f}` rounds half to even, as `np.rint`.)"""
    return Words.of(np.rint(np.asarray(metres, dtype=np.float64)), fmt_m)


def listed_words(index: np.ndarray, names: tuple[str, ...], before: str) -> Words:
    """`before` and the listed name each row's index points at (all >= 0)."""
    return Words(index, [before + name for name in names])


def phases_words(phases: tuple[str, ...]) -> str:
    if not phases:
        return "at any time the agreement is in force"
    return "during phase " + " or ".join(phases) if len(phases) > 1 else f"during phase {phases[0]}"


def nearest_findings(
    ctx: RuleContext, near: Verdict, best: np.ndarray, which: np.ndarray, texts: list[str]
) -> Findings:
    """Findings for rules that protect listed places (sites, convoy routes): the sides
    must be ones the terms bind, inside the agreement's area and term, and `near` the
    place; evidence names the nearest one (`which` indexes `texts`) and its distance."""
    inc = ctx.incidents
    return Findings.of(
        ctx.covered() & ctx.scope() & near,
        ctx,
        lambda rows: [
            event_words(inc, rows),
            ctx.who_words(rows),
            " ",
            metres_words(best[rows]),
            Words(which[rows], texts),
        ],
        measured_m=lambda rows: best[rows],
    )
