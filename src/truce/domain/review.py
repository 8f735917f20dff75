"""The review of a violation as a state machine, pure; `truce.store.reviews` persists it.

States: alleged -> disputed (a centre's statement) -> confirmed | dismissed (by
the secretariat or an admin). `comment` and `publish` keep the state. Who may
take each action is in `truce.domain.access` (`violation.<action>`).

>>> transition("confirm", "disputed", published=False)
'confirmed'
>>> transition("comment", "dismissed", published=False)
'dismissed'
"""

from __future__ import annotations

from typing import Literal, get_args

from truce.errors import BadInput, Conflict

State = Literal["alleged", "disputed", "confirmed", "dismissed"]
ReviewAction = Literal["dispute", "confirm", "dismiss", "comment", "publish"]
STATES: tuple[str, ...] = get_args(State)
REVIEW_ACTIONS: tuple[str, ...] = get_args(ReviewAction)
INITIAL: State = "alleged"

# action -> (states it may start from, state it leads to; None keeps the state)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "dispute": (frozenset({"alleged"}), "disputed"),
    "confirm": (frozenset({"alleged", "disputed"}), "confirmed"),
    "dismiss": (frozenset({"alleged", "disputed"}), "dismissed"),
    "comment": (frozenset(STATES), None),
    "publish": (frozenset(STATES), None),
}


def access_action(action: str) -> str:
    """The `truce.domain.access` action for a review action; BadInput for an unknown one."""
    if action not in TRANSITIONS:
        raise BadInput(f"unknown review action {action!r}: use one of {', '.join(REVIEW_ACTIONS)}")
    return f"violation.{action}"


def check_request(action: str, comment: str | None) -> None:
    """What can be refused before reading any state."""
    access_action(action)
    if action == "comment" and not (comment and comment.strip()):
        raise BadInput('a comment needs text: send {"action": "comment", "comment": "..."}')


def transition(action: str, from_state: str, *, published: bool, key: str = "") -> str:
    """The state after `action`; Conflict (409) when `from_state` does not allow it."""
    allowed_from, target = TRANSITIONS[action]
    what = f"violation {key}" if key else "the violation"
    if from_state not in allowed_from:
        raise Conflict(
            f"cannot {action} {what}: it is {from_state}; "
            f"{action} is allowed only from {', '.join(sorted(allowed_from))}"
        )
    if action == "publish" and published:
        raise Conflict(f"{what} is already published")
    return target or from_state
