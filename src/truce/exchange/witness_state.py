"""Tie the audit chain to the witnessed log (SPEC §7, issue #11 item 6).

Each bulletin carries the audit entries written since the previous bulletin
(`audit`: entries, head, size) and digests of the state they govern (`state`:
users and their token revocations, review states). The witness checks that
the entries chain on from the head it saw last (a rewritten or truncated
chain does not), recomputes every entry hash, replays the entries (`user.add`,
`user.revoke`, `violation.*`) and compares its replayed state with the
digests: an un-revoked token or a review state changed by hand in the
issuer's database no longer matches. Reports moved by hand are caught by the
convergence check (`converge.py`). Pure: entries in, state and problems out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from truce.domain.chain import GENESIS, entry_hash

__all__ = ["Replayed", "replay", "reviews_digest", "users_digest"]


def _digest(value: Any) -> str:
    return hashlib.sha256(
        json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def users_digest(users: Iterable[Sequence[Any]]) -> str:
    """Over (name, role, party, revoked) per token, in the order they were made."""
    return _digest([[str(n), str(r), p and str(p), bool(x)] for n, r, p, x in users])


def reviews_digest(states: Mapping[str, str]) -> str:
    """Over each reviewed violation's current state."""
    return _digest(dict(sorted(states.items())))


@dataclass
class Replayed:
    """What a witness rebuilds of a peer from its bulletins' audit entries."""

    size: int = 0
    head: str = GENESIS
    users: list[list[Any]] = field(default_factory=list)
    reviews: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {"size": self.size, "head": self.head, "users": self.users, "reviews": self.reviews}
        )

    @classmethod
    def from_json(cls, text: str | None) -> Replayed:
        return cls(**json.loads(text)) if text else cls()


def replay(state: Replayed, audit: Mapping[str, Any]) -> list[str]:
    """Apply a bulletin's `audit` block to `state`; the problems found (none: all well)."""
    problems: list[str] = []
    entries = audit.get("entries", [])
    prev = state.head
    for e in entries:
        if e["prev_hash"] != prev or e["seq"] != state.size + 1:
            problems.append(
                f"audit entry {e['seq']} does not follow the head witnessed before "
                f"(entry {state.size}, {state.head[:12]}…): the chain was rewritten or cut"
            )
            return problems
        if (
            entry_hash(e["seq"], e["at"], e["actor"], e["action"], e["payload"], e["prev_hash"])
            != e["hash"]
        ):
            problems.append(f"audit entry {e['seq']}: its hash does not match its content")
            return problems
        _apply(state, e["action"], json.loads(e["payload"]))
        prev = state.head = e["hash"]
        state.size = e["seq"]
    if audit.get("head", state.head) != state.head or audit.get("size", state.size) != state.size:
        problems.append("the audit head the bulletin states is not where its entries lead")
    return problems


def _apply(state: Replayed, action: str, payload: Mapping[str, Any]) -> None:
    if action == "user.add":
        state.users.append([payload["name"], payload["role"], payload.get("party"), False])
    elif action == "user.revoke":
        for u in state.users:
            if u[0] == payload["name"]:
                u[3] = True
    elif action.startswith("violation.") and "violation" in payload:
        state.reviews[payload["violation"]] = payload["to"]


def check_state(state: Replayed, claimed: Mapping[str, str]) -> list[str]:
    """Compare the replayed state with the bulletin's `state` digests."""
    problems = []
    if "users" in claimed and users_digest(state.users) != claimed["users"]:
        problems.append(
            "users or token revocations differ from what the audit entries record (edited by hand?)"
        )
    if "reviews" in claimed and reviews_digest(state.reviews) != claimed["reviews"]:
        problems.append("review states differ from what the audit entries record (edited by hand?)")
    return problems
