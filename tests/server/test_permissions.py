"""Every action in the permission table (`truce.domain.access.ACTIONS`) is enforced by the
server as the table says, for every role: a new action needs a case here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.server.conftest import ROLE_OF
from tests.server.data import AGREEMENT, BASE_ROWS, to_csv

from truce.domain.access import ACTIONS, allowed

VIOLATION = f"{AGREEMENT}:r-cease:amman:a-1"
INCIDENT = "amman:a-1"
CSV = {"Content-Type": "text/csv"}


def _submit(client: Any, h: dict[str, str], who: str) -> bool:
    r = client.post("/api/reports/validate", content=to_csv(BASE_ROWS[:1]), headers={**h, **CSV})
    return r.status_code != 403


def _publish(client: Any, h: dict[str, str], who: str) -> bool:
    r = client.post(f"/api/agreements/{AGREEMENT}/incidents/{INCIDENT}/publish", headers=h)
    return r.status_code != 403


def _review(action: str) -> Callable[[Any, dict[str, str], str], bool]:
    def act(client: Any, h: dict[str, str], who: str) -> bool:
        body = {"action": action, "comment": "seen"}
        r = client.post(f"/api/violations/{VIOLATION}/review", json=body, headers=h)
        return r.status_code != 403

    return act


def _exchange_status(client: Any, h: dict[str, str], who: str) -> bool:
    return client.get("/exchange/status", headers=h).status_code != 403


def _sees_all(client: Any, h: dict[str, str], who: str) -> bool:
    ev = client.get(f"/api/agreements/{AGREEMENT}/evaluation", headers=h).json()
    return len(ev["incidents"]) == 3  # none is published: only the full view has them all


def _sees_own(client: Any, h: dict[str, str], who: str) -> bool:
    # Under the poster's own name: a token may submit only under the sources it was granted.
    row = {**BASE_ROWS[3], "source": who, "report_id": f"own-{who}", "lat": 36.0, "lon": 37.6}
    posted = client.post("/api/reports", content=to_csv([row]), headers={**h, **CSV})
    if posted.status_code == 403:
        return False
    ev = client.get(f"/api/agreements/{AGREEMENT}/evaluation", headers=h).json()
    return any(k.endswith(f":own-{who}") for i in ev["incidents"] for k in i["report_ids"])


CASES: dict[str, Callable[[Any, dict[str, str], str], bool]] = {
    "reports.submit": _submit,
    "incident.publish": _publish,
    "violation.dispute": _review("dispute"),
    "violation.confirm": _review("confirm"),
    "violation.dismiss": _review("dismiss"),
    "violation.comment": _review("comment"),
    "violation.publish": _review("publish"),
    "exchange.status": _exchange_status,
    "evaluation.see_all": _sees_all,
    "evaluation.see_own": _sees_own,
}


def test_every_action_has_a_case() -> None:
    assert set(CASES) == set(ACTIONS)


@pytest.mark.parametrize("action", sorted(CASES))
def test_the_server_enforces_the_table(client, tokens, action) -> None:
    admin = tokens.headers("admin")
    r = client.post("/api/reports", content=to_csv(BASE_ROWS), headers={**admin, **CSV})
    assert r.json()["accepted"] == 4
    did = {who: CASES[action](client, tokens.headers(who), who) for who in ROLE_OF}
    if action == "evaluation.see_own":  # who may see all sees their own reports too
        expected = {
            w: allowed(r, action) or allowed(r, "evaluation.see_all")
            for w, (r, _) in ROLE_OF.items()
        }
    else:
        expected = {w: allowed(r, action) for w, (r, _) in ROLE_OF.items()}
    assert did == expected
