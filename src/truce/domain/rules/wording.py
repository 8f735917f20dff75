"""How evidence text names sides, local times and distances: `nusra/opp`,
`2016-09-15T19:00+03:00`, `1,240 m`. Shared by the rule context, the rule kinds and the
CLI's wording of the terms.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from truce.domain.actors import OUTSIDE
from truce.domain.model import UNATTRIBUTED


def actor_words(label: str) -> str:
    """A party label as evidence text reads it."""
    return "an unidentified attacker" if label in (UNATTRIBUTED, "") else side_words(label)


# Targets that are people, not an armed side: named as they are, without a caveat.
_NOBODY_IN_PARTICULAR = frozenset({"civilians", "civilian", "civilian population"})


def side_words(label: str, text: str = "") -> str:
    """How evidence names one side: its ids (`nusra/opp`), or the name as reported when
    the agreement does not list it, or "an unidentified side"."""
    if label in ("", UNATTRIBUTED):
        if text.strip().casefold() in _NOBODY_IN_PARTICULAR:
            return text.strip().casefold()
        return f"'{text}' (not named in the agreement)" if text else "an unidentified side"
    if label == OUTSIDE:
        return (
            f"'{text}' (a state outside the agreement)" if text else "a state outside the agreement"
        )
    return label.replace("+", "/")


def fmt_local(dt: datetime, tz: tzinfo) -> str:
    """`2016-09-15T19:00+03:00`: minutes precision, offset with a colon."""
    s = dt.astimezone(tz).strftime("%Y-%m-%dT%H:%M%z")
    return s[:-2] + ":" + s[-2:]


def fmt_m(metres: float) -> str:
    return f"{metres:,.0f} m"
