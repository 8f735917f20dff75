"""Who may do what: every action declared once, with the roles allowed to do it.

The service calls `require(user, action)` before it acts; the API derives its
role dependencies from the same table (`truce.api.deps.allowed_to`); the
documentation lists every action (docs/api.md, "Permissions"), and a test
checks each one is documented and enforced. A new action goes here first.

>>> allowed("centre", "violation.dispute"), allowed("observer", "reports.submit")
(True, False)
>>> sorted(roles_for("incident.publish"))
['admin', 'secretariat']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, get_args

from truce.errors import Forbidden

Role = Literal["admin", "secretariat", "centre", "humanitarian", "observer"]
ROLES: tuple[str, ...] = get_args(Role)
_STAFF = frozenset({"admin", "secretariat"})
_SUBMITTERS = frozenset({"admin", "secretariat", "centre", "humanitarian"})


@dataclass(frozen=True)
class Action:
    name: str
    roles: frozenset[str]
    what: str  # for the documentation and for the 403 message


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("reports.submit", _SUBMITTERS, "submit or validate reports"),
        Action("incident.publish", _STAFF, "publish an incident"),
        Action("violation.dispute", _STAFF | {"centre"}, "dispute a violation"),
        Action("violation.confirm", _STAFF, "confirm a violation"),
        Action("violation.dismiss", _STAFF, "dismiss a violation"),
        Action("violation.comment", _STAFF | {"centre"}, "comment on a violation"),
        Action("violation.publish", _STAFF, "publish a violation"),
        Action("exchange.status", _STAFF, "read the exchange's peers, gaps and alerts"),
        Action("evaluation.see_all", _STAFF, "see unpublished incidents and violations"),
        Action(
            "evaluation.see_own",
            frozenset({"centre", "humanitarian"}),
            "see incidents built from one's own unpublished reports",
        ),
    )
}


class HasRole(Protocol):
    @property
    def role(self) -> str: ...


def roles_for(action: str) -> frozenset[str]:
    """The roles allowed to do `action`; KeyError for an action not in the table."""
    return ACTIONS[action].roles


def allowed(role: str, action: str) -> bool:
    return role in ACTIONS[action].roles


# Source names a token may submit under (issue #13 item 4). A centre always submits
# under its own name (its rows' sources are rewritten to it). Other submitters may be
# granted source names when their token is made; without grants a humanitarian agency
# submits only under its own user name, and admin/secretariat under any name (they
# run dataset imports and corrections). An observer submits nothing.
_ANY_SOURCE_WITHOUT_GRANTS = _STAFF


def submit_sources(role: str, name: str, granted: tuple[str, ...] | None) -> frozenset[str] | None:
    """The source names `name` (with `role` and `granted`) may submit under; None = any.

    >>> sorted(submit_sources("humanitarian", "unhcr", None))
    ['unhcr']
    >>> submit_sources("admin", "ops", None) is None, sorted(submit_sources("admin", "ops", ("acled",)))
    (True, ['acled'])
    """
    if role == "centre":
        return frozenset({name})
    if granted:
        return frozenset(granted)
    return None if role in _ANY_SOURCE_WITHOUT_GRANTS else frozenset({name})


def check_grants(role: str, granted: tuple[str, ...] | None) -> str | None:
    """Why `granted` cannot be given to a token of `role`, or None when it can."""
    if not granted:
        return None
    if role not in _SUBMITTERS:
        return f"role {role!r} cannot submit reports, so it takes no --source"
    if role == "centre":
        return "a centre submits under its own name only; drop --source"
    for s in granted:
        if not s or s != s.strip() or ":" in s:
            return f"source name {s!r} must be non-empty, without ':' or surrounding spaces"
    return None


def require(user: HasRole, action: str) -> None:
    """Forbidden (403) unless `user`'s role may do `action`."""
    entry = ACTIONS[action]
    if user.role not in entry.roles:
        who = ", ".join(r for r in ROLES if r in entry.roles)
        raise Forbidden(f"role {user.role!r} may not {entry.what} ({action}); allowed: {who}")
