"""Sites never leak: every role on every endpoint that could show them. The sign-up
registry through the API: the secretariat changes it, every change is audited, and
the evaluation follows it."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from shapely.geometry import Point
from tests.geoms import offset_from
from tests.server.conftest import ROLE_OF, WAIT_MS, Tokens
from tests.server.data import to_csv

from truce.api import Settings, create_app
from truce.service import Service
from truce.store.users import SYSTEM_USER

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

FILE = Path(__file__).parents[1] / "fixtures" / "agreements" / "terms-example.yaml"
A = "terms-example"
HEADER = ["report_id", "source", "observed_at", "lat", "lon", "event_type", "actor", "target"]
NEAR_HOSPITAL = offset_from(Point(37.18, 36.21), 100)
NEAR_POST = offset_from(Point(36.70, 35.80), 100)
ROWS = [
    {"report_id": "x-1", "source": "amman", "observed_at": "2016-09-13T04:10:00+03:00",
     "lon": NEAR_HOSPITAL[0], "lat": NEAR_HOSPITAL[1], "event_type": "shelling", "actor": "SAA"},
    {"report_id": "x-2", "source": "amman", "observed_at": "2016-09-13T09:10:00+03:00",
     "lon": NEAR_POST[0], "lat": NEAR_POST[1], "event_type": "shelling", "actor": "SAA"},
    {"report_id": "x-3", "source": "amman", "observed_at": "2016-09-13T10:00:00+03:00",
     "lon": 37.16, "lat": 36.20, "event_type": "shelling", "actor": "Ahrar al-Sham"},
]  # fmt: skip
# Whatever would tell where a site is, or that it exists.
HOSPITAL_MARKS = ("hosp-1", '"medical"', "OCHA")
POST_MARKS = ("op-9", "observation_post", "declared by TR")


@pytest.fixture
def app(db_url: str) -> Iterator[object]:
    settings = Settings(
        database_url=db_url, agreement_files=(FILE,), ogc_public=True, refresh_wait_ms=WAIT_MS
    )
    application = create_app(settings)
    yield application
    application.state.service.engine.dispose()


@pytest.fixture
def loaded(client: TestClient, service: Service, tokens: Tokens) -> Tokens:
    service.ingest_reports(to_csv(ROWS, HEADER).encode(), format="csv", user=SYSTEM_USER)
    admin = tokens.headers("admin")
    for key in ("amman:x-1", "amman:x-2"):  # published: observers see the violations
        for rule in ("r-sites", "r-cease"):
            path = f"/api/violations/{A}:{rule}:{key}/review"
            r = client.post(path, json={"action": "publish"}, headers=admin)
            assert r.status_code == 200, r.text
    r = client.post(f"/api/agreements/{A}/incidents/amman:x-3/publish", headers=admin)
    assert r.status_code == 200, r.text
    return tokens


def everything_seen(client: TestClient, headers: dict[str, str]) -> str:
    """Every document a user can read that could carry a site, joined."""
    paths = [
        "/api/agreements",
        f"/api/agreements/{A}",
        f"/api/agreements/{A}/geojson",
        f"/api/agreements/{A}/evaluation",
        f"/api/agreements/{A}/dashboard",
        f"/api/agreements/{A}/commitments",
        f"/api/agreements/{A}/sites",
        *(f"/api/agreements/{A}/incidents/amman:x-{k}" for k in (1, 2, 3)),
        f"/api/violations/{A}:r-sites:amman:x-1",
        f"/api/violations/{A}:r-sites:amman:x-2",
        "/ogc/collections",
        *(f"/ogc/collections/{A}-{kind}" for kind in ("zones", "incidents", "violations", "checkpoints")),
        *(f"/ogc/collections/{A}-{kind}/items?limit=1000" for kind in ("zones", "incidents", "violations", "checkpoints")),
    ]  # fmt: skip
    texts = []
    for path in paths:
        r = client.get(path, headers=headers)
        assert r.status_code in (200, 401, 403, 404), (path, r.status_code, r.text)
        texts.append(f"{path}: {r.text}")
    return "\n".join(texts)


# role -> (sees the hospital (notified to gov), sees the post (notified to every party))
MAY_SEE = {
    "admin": (True, True),
    "secretariat": (True, True),
    "hmeimim": (True, True),  # centre of gov
    "amman": (False, True),  # centre of opp: the hospital was notified to gov only
    "humanitarian": (False, False),  # no party
    "observer": (False, False),
    "anonymous": (False, False),  # OGC public reads as an observer
}


@pytest.mark.parametrize("who", sorted(MAY_SEE))
def test_sites_only_reach_the_secretariat_and_the_parties_notified(client, loaded, who):
    headers = loaded.headers(who) if who != "anonymous" else {}
    seen = everything_seen(client, headers)
    hospital, post = MAY_SEE[who]
    for mark in HOSPITAL_MARKS:
        assert (mark in seen) is hospital, (who, mark)
    for mark in POST_MARKS:
        assert (mark in seen) is post, (who, mark)
    if not hospital and who != "anonymous":
        # The violation itself is published and visible; only its site is withheld.
        assert "attack near a notified protected site" in seen


@pytest.mark.parametrize(
    ("who", "status"), [("observer", 403), ("humanitarian", 200), ("amman", 200)]
)
def test_the_sites_endpoint(client, loaded, who, status):
    r = client.get(f"/api/agreements/{A}/sites", headers=loaded.headers(who))
    assert r.status_code == status
    if status == 200:
        ids = [s["id"] for s in r.json()["sites"]]
        assert ids == ({"amman": ["op-9"], "humanitarian": []}[who])


# --- the sign-up registry ----------------------------------------------------------


def cease_parties(client, headers):
    ev = client.get(f"/api/agreements/{A}/evaluation", headers=headers).json()
    return [v["party"] for v in ev["violations"] if v["rule"] == "r-cease"], ev["not_charged"]


def test_the_secretariat_records_a_sign_up_and_the_evaluation_follows(client, loaded, service):
    admin = loaded.headers("admin")
    parties, aside = cease_parties(client, admin)
    assert parties == ["gov", "gov"] and [n["group"] for n in aside] == ["Ahrar al-Sham"]
    body = {"group": "Ahrar al-Sham", "party": "opp", "via": "US",
            "declined": "2016-09-12T11:00:00+03:00", "accepted": "2016-09-13T08:00:00+03:00"}  # fmt: skip
    r = client.put(
        f"/api/agreements/{A}/commitments", json=body, headers=loaded.headers("secretariat")
    )
    assert r.status_code == 200, r.text
    parties, aside = cease_parties(client, admin)
    assert parties == ["gov", "gov", "opp"] and aside == []
    listed = client.get(
        f"/api/agreements/{A}/commitments", headers=loaded.headers("observer")
    ).json()
    ahrar = next(c for c in listed["commitments"] if c["group"] == "Ahrar al-Sham")
    assert ahrar["accepted"] == "2016-09-13T08:00:00+03:00"
    assert listed["changes"][0]["changed_by"] == "secretariat"
    from truce.store import audit

    logged = [e for e in audit.entries(service.engine) if e["action"] == "commitment.set"]
    assert len(logged) == 1 and logged[0]["actor"] == "secretariat"
    assert service.verify_audit().ok


@pytest.mark.parametrize("who", ["amman", "hmeimim", "humanitarian", "observer"])
def test_only_the_secretariat_changes_the_registry(client, loaded, who):
    body = {"group": "Ahrar al-Sham", "party": "opp", "accepted": "2016-09-13T08:00:00+03:00"}
    r = client.put(f"/api/agreements/{A}/commitments", json=body, headers=loaded.headers(who))
    assert r.status_code == 403


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"group": "X", "party": "rebels"}, "party 'rebels' is not a party"),
        ({"group": "X", "party": "opp", "withdrew": "2016-09-13T08:00:00+03:00"}, "withdraw after it accepted"),
        ({"group": "X", "party": "opp", "accepted": "soon"}, "accepted:"),
        ({"party": "opp"}, "group is required"),
        ({"group": "X", "party": "opp", "colour": "red"}, "unknown keys colour"),
    ],
)  # fmt: skip
def test_a_bad_sign_up_is_refused_with_a_reason(client, loaded, body, reason):
    r = client.put(f"/api/agreements/{A}/commitments", json=body, headers=loaded.headers("admin"))
    assert r.status_code == 400 and reason in r.json()["detail"]


def test_role_of_users_is_as_the_matrix_assumes():
    assert ROLE_OF["hmeimim"] == ("centre", "gov") and ROLE_OF["amman"] == ("centre", "opp")
