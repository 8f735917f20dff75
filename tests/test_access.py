"""The permission table and the review state machine: pure, one place each."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from truce.domain.access import ACTIONS, ROLES, allowed, require
from truce.domain.review import REVIEW_ACTIONS, STATES, TRANSITIONS, access_action, transition
from truce.errors import BadInput, Conflict, Forbidden


@dataclass(frozen=True)
class Caller:
    role: str


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("role", ROLES)
def test_require_refuses_exactly_the_roles_the_table_leaves_out(role: str, action: str) -> None:
    if allowed(role, action):
        require(Caller(role), action)
    else:
        with pytest.raises(Forbidden, match=action):
            require(Caller(role), action)


def test_observers_may_do_nothing_but_read_what_is_published() -> None:
    assert [a for a in ACTIONS if allowed("observer", a)] == []


def test_every_review_action_has_a_permission_and_a_transition() -> None:
    assert set(TRANSITIONS) == set(REVIEW_ACTIONS)
    assert {access_action(a) for a in REVIEW_ACTIONS} <= set(ACTIONS)
    with pytest.raises(BadInput, match="unknown review action"):
        access_action("approve")


@pytest.mark.parametrize("state", STATES)
def test_comment_keeps_any_state_and_decisions_are_final(state: str) -> None:
    assert transition("comment", state, published=False) == state
    if state in ("confirmed", "dismissed"):
        for action in ("dispute", "confirm", "dismiss"):
            with pytest.raises(Conflict, match=f"it is {state}"):
                transition(action, state, published=False)


def test_publishing_twice_is_a_conflict() -> None:
    assert transition("publish", "confirmed", published=False) == "confirmed"
    with pytest.raises(Conflict, match="already published"):
        transition("publish", "confirmed", published=True, key="a:b:c")
