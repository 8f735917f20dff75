"""Who may do what: the whole role x endpoint matrix, token handling, what each role sees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from tests.server.data import AGREEMENT, BASE_ROWS, to_csv

from truce.store.schema import reports, users
from truce.store.users import SYSTEM_USER

V = f"{AGREEMENT}:r-cease:amman:a-1"
ROLES = ("admin", "secretariat", "amman", "humanitarian", "observer", "nobody")
CSV_BODY = to_csv([{**BASE_ROWS[0], "report_id": "new-1"}])

# (method, path, body, content type): the endpoints of docs/api.md
ENDPOINTS = {
    "health": ("GET", "/api/health", None, None),
    "me": ("GET", "/api/me", None, None),
    "agreements": ("GET", "/api/agreements", None, None),
    "agreement": ("GET", f"/api/agreements/{AGREEMENT}", None, None),
    "geojson": ("GET", f"/api/agreements/{AGREEMENT}/geojson", None, None),
    "evaluation": ("GET", f"/api/agreements/{AGREEMENT}/evaluation", None, None),
    "dashboard": ("GET", f"/api/agreements/{AGREEMENT}/dashboard", None, None),
    "incident": ("GET", f"/api/agreements/{AGREEMENT}/incidents/amman:a-1", None, None),
    "publish-incident": (
        "POST",
        f"/api/agreements/{AGREEMENT}/incidents/amman:a-1/publish",
        None,
        None,
    ),
    "ingest": ("POST", "/api/reports", CSV_BODY, "text/csv"),
    "validate": ("POST", "/api/reports/validate", CSV_BODY, "text/csv"),
    "violation": ("GET", f"/api/violations/{V}", None, None),
    "comment": ("POST", f"/api/violations/{V}/review", {"action": "comment", "comment": "x"}, None),
    "confirm": ("POST", f"/api/violations/{V}/review", {"action": "confirm"}, None),
    "gazetteer": ("GET", "/api/gazetteer?q=Aleppo", None, None),
}

# Expected status per role, in ROLES order. The data was submitted by admin, so the
# unpublished shelling is visible to amman (its own source) and not to the
# humanitarian agency or the observer (404: not visible to them).
MATRIX = {
    "health":           (200, 200, 200, 200, 200, 200),
    "me":               (200, 200, 200, 200, 200, 401),
    "agreements":       (200, 200, 200, 200, 200, 401),
    "agreement":        (200, 200, 200, 200, 200, 401),
    "geojson":          (200, 200, 200, 200, 200, 401),
    "evaluation":       (200, 200, 200, 200, 200, 401),
    "dashboard":        (200, 200, 200, 200, 200, 401),
    "incident":         (200, 200, 200, 404, 404, 401),
    "publish-incident": (200, 200, 403, 403, 403, 401),
    "ingest":           (200, 200, 200, 200, 403, 401),
    "validate":         (200, 200, 200, 200, 403, 401),
    "violation":        (200, 200, 200, 404, 404, 401),
    "comment":          (200, 200, 200, 403, 403, 401),
    "confirm":          (200, 200, 403, 403, 403, 401),
    "gazetteer":        (200, 200, 200, 200, 200, 401),
}  # fmt: skip
CASES = [(e, role, MATRIX[e][i]) for e in ENDPOINTS for i, role in enumerate(ROLES)]


@pytest.mark.parametrize(
    ("endpoint", "role", "expected"), CASES, ids=[f"{e}-{r}" for e, r, _ in CASES]
)
def test_role_endpoint_matrix(client, tokens, service, endpoint, role, expected):
    service.ingest_reports(to_csv(BASE_ROWS).encode(), format="csv", user=SYSTEM_USER)
    method, path, body, ctype = ENDPOINTS[endpoint]
    headers = tokens.headers(role) if role != "nobody" else {}
    if ctype:
        r = client.request(method, path, content=body, headers={**headers, "Content-Type": ctype})
    else:
        r = client.request(method, path, json=body, headers=headers)
    assert r.status_code == expected, r.text
    if expected >= 400:
        assert isinstance(r.json()["detail"], str) and r.json()["detail"]


def test_tokens_are_stored_only_as_hashes(service, tokens):
    with service.engine.connect() as conn:
        stored = {h for (h,) in conn.execute(select(users.c.token_hash))}
    assert tokens.admin not in stored and len(stored) == 6
    assert all(len(h) == 64 for h in stored)


def test_revoked_and_expired_tokens_are_401_with_a_message(client, service):
    _, revoked = service.add_user("gone", "observer")
    service.revoke_user("gone")
    _, expired = service.add_user(
        "old", "observer", expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    _, fresh = service.add_user("new", "observer", expires_at=datetime.now(UTC) + timedelta(days=1))
    r = client.get("/api/me", headers={"Authorization": f"Bearer {revoked}"})
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    r = client.get("/api/me", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    r = client.get("/api/me", headers={"Authorization": "Bearer truce_nonsense"})
    assert r.status_code == 401 and "unknown token" in r.json()["detail"]
    r = client.get("/api/me")
    assert r.status_code == 401 and "missing token" in r.json()["detail"]
    assert (
        client.get("/api/me", headers={"Authorization": f"Bearer {fresh}"}).json()["name"] == "new"
    )


def test_me_shows_a_centres_party(client, tokens):
    assert client.get("/api/me", headers=tokens.headers("hmeimim")).json() == {
        "name": "hmeimim",
        "role": "centre",
        "party": "gov",
        "sources": ["hmeimim"],  # a centre submits under its own name only
    }


def _evaluation(client, tokens, who):
    return client.get(f"/api/agreements/{AGREEMENT}/evaluation", headers=tokens.headers(who)).json()


def test_centres_see_published_data_and_their_own_submissions_only(client, tokens):
    post = {"Content-Type": "text/csv"}
    client.post(
        "/api/reports", content=to_csv(BASE_ROWS[:1]), headers={**tokens.headers("amman"), **post}
    )
    client.post(
        "/api/reports",
        content=to_csv(BASE_ROWS[1:3]),
        headers={**tokens.headers("hmeimim"), **post},
    )
    amman = _evaluation(client, tokens, "amman")
    hmeimim = _evaluation(client, tokens, "hmeimim")
    # The shared shelling incident: each centre sees it made of its own report only,
    # keyed by it (the other centre's report id is not revealed).
    a_inc = {i["key"]: i for i in amman["incidents"]}
    h_inc = {i["key"]: i for i in hmeimim["incidents"]}
    assert set(a_inc) == {"amman:a-1"}
    assert a_inc["amman:a-1"]["report_ids"] == ["amman:a-1"]
    assert h_inc["hmeimim:h-7"]["report_ids"] == ["hmeimim:h-7"]
    assert "amman:a-1" not in h_inc
    assert "hmeimim:h-8" in h_inc and "hmeimim:h-8" not in a_inc
    # Once the secretariat publishes, everyone sees the whole incident.
    r = client.post(
        f"/api/agreements/{AGREEMENT}/incidents/hmeimim:h-8/publish",
        headers=tokens.headers("secretariat"),
    )
    assert r.status_code == 200, r.text
    amman = _evaluation(client, tokens, "amman")
    assert {i["key"] for i in amman["incidents"]} == {"amman:a-1", "hmeimim:h-8"}
    assert next(i for i in amman["incidents"] if i["key"] == "hmeimim:h-8")["published"] is True


def test_observers_see_only_what_the_secretariat_published(client, tokens):
    client.post(
        "/api/reports",
        content=to_csv(BASE_ROWS),
        headers={**tokens.headers("admin"), "Content-Type": "text/csv"},
    )
    ev = _evaluation(client, tokens, "observer")
    assert ev["incidents"] == [] and ev["violations"] == []
    assert ev["phases"]  # the timeline is public
    r = client.post(
        f"/api/violations/{V}/review",
        json={"action": "publish"},
        headers=tokens.headers("secretariat"),
    )
    assert r.status_code == 200 and r.json()["published"] is True
    ev = _evaluation(client, tokens, "observer")
    assert [v["key"] for v in ev["violations"]] == [V]
    assert [i["key"] for i in ev["incidents"]] == ["amman:a-1"]
    assert ev["incidents"][0]["report_ids"] == ["amman:a-1", "hmeimim:h-7"]
    inc = client.get(
        f"/api/agreements/{AGREEMENT}/incidents/amman:a-1", headers=tokens.headers("observer")
    )
    assert inc.status_code == 200 and len(inc.json()["reports"]) == 2
    # Admin sees everything, published or not.
    assert len(_evaluation(client, tokens, "admin")["violations"]) == 3


def test_a_centre_cannot_alter_another_centres_reports(client, tokens, service):
    post = {"Content-Type": "text/csv"}
    client.post(
        "/api/reports",
        content=to_csv(BASE_ROWS[1:2]),
        headers={**tokens.headers("hmeimim"), **post},
    )
    # amman sends a row claiming hmeimim's key with other content: it is filed under amman.
    fake = {**BASE_ROWS[1], "notes": "altered"}
    body = client.post(
        "/api/reports", content=to_csv([fake]), headers={**tokens.headers("amman"), **post}
    ).json()
    assert body["results"][0]["key"] == "amman:h-7"
    with service.engine.connect() as conn:
        rows = conn.execute(
            select(reports.c.source, reports.c.submitted_by, reports.c.notes).order_by(reports.c.id)
        ).all()
    assert [tuple(r) for r in rows] == [("hmeimim", "hmeimim", None), ("amman", "amman", "altered")]


def test_openapi_docs_are_served(client):
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "/api/reports" in spec["paths"] and "/api/violations/{key}/review" in spec["paths"]


def test_api_and_ogc_errors_have_one_body_shape(client, tokens):
    h = tokens.headers("admin")
    api = client.get("/api/agreements/nowhere/evaluation", headers=h)
    ogc = client.get("/ogc/collections/nowhere-incidents/items", headers=h)
    unauthorised = client.get("/api/me")
    for r, status, code in (
        (api, 404, "NotFound"),
        (ogc, 404, "NotFound"),
        (unauthorised, 401, "Unauthorized"),
    ):
        assert r.status_code == status
        body = r.json()
        assert body["code"] == code
        assert body["description"] == body["detail"] and body["detail"]
