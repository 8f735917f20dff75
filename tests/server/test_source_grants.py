"""Sources bound to tokens (issue #13): a token submits only under the source names it
was granted; other rows are rejected one by one with the reason, and audited."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from tests.server.data import BASE_ROWS, to_csv

from truce.errors import BadInput
from truce.store.schema import audit_log, reports

CSV = {"Content-Type": "text/csv"}
AMMAN_ROW = {**BASE_ROWS[0], "report_id": "X-1"}  # what Amman's centre will send


def _stored(service) -> list[tuple[str, str]]:
    with service.engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(select(reports.c.source, reports.c.report_id)))


def _audit(service, action: str) -> list[dict]:
    with service.engine.connect() as conn:
        rows = conn.execute(select(audit_log.c.payload).where(audit_log.c.action == action))
        return [json.loads(p) for (p,) in rows]


def _post(client, token, rows, path="/api/reports"):
    headers = {"Authorization": f"Bearer {token}", **CSV}
    return client.post(path, content=to_csv(rows), headers=headers)


@pytest.mark.parametrize("path", ["/api/reports", "/api/reports/validate"])
def test_humanitarian_cannot_post_under_a_centres_name(client, tokens, service, path):
    own = {**BASE_ROWS[1], "source": "humanitarian", "report_id": "u-1"}
    r = _post(client, tokens.humanitarian, [AMMAN_ROW, own], path)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accepted"] == 1
    [rej] = body["rejected"]
    assert rej["line"] == 2 and rej["field"] == "source" and rej["report_id"] == "X-1"
    assert "'amman'" in rej["reason"] and "'humanitarian'" in rej["reason"]
    assert [x["status"] for x in body["results"]] == ["rejected", "accepted"]
    if path == "/api/reports":
        assert _stored(service) == [("humanitarian", "u-1")]
        [entry] = _audit(service, "reports.source_refused")
        assert entry["rows"] == [{"line": 2, "source": "amman", "report_id": "X-1"}]
    else:
        assert _stored(service) == [] and _audit(service, "reports.source_refused") == []


def test_the_centres_own_report_then_is_not_a_duplicate(client, tokens, service):
    _post(client, tokens.humanitarian, [AMMAN_ROW])
    r = _post(client, tokens.amman, [AMMAN_ROW]).json()
    assert r["accepted"] == 1 and r["duplicate"] == 0
    assert _stored(service) == [("amman", "X-1")]


def test_a_made_up_source_cannot_corroborate(client, tokens, service):
    fake = {**BASE_ROWS[0], "source": "witness-2", "report_id": "w-1"}
    r = _post(client, tokens.humanitarian, [fake]).json()
    assert r["accepted"] == 0 and r["rejected"][0]["field"] == "source"
    assert _stored(service) == []


def test_rows_without_a_source_take_the_tokens_only_one(client, tokens, service):
    row = {k: v for k, v in BASE_ROWS[1].items() if k != "source"}
    r = _post(client, tokens.humanitarian, [row]).json()
    assert r["accepted"] == 1, r
    assert _stored(service) == [("humanitarian", "h-7")]


def test_granted_sources_are_the_only_ones_and_the_grant_is_audited(client, service):
    _, token = service.add_user("importer", "secretariat", sources=("acled", "ucdp-ged"))
    rows = [
        {**BASE_ROWS[0], "source": "acled"},
        {**BASE_ROWS[1], "source": "ucdp-ged"},
        {**BASE_ROWS[2], "source": "hmeimim"},
    ]
    body = _post(client, token, rows).json()
    assert body["accepted"] == 2
    assert [(x["line"], x["field"]) for x in body["rejected"]] == [(4, "source")]
    grant = [e for e in _audit(service, "user.add") if e["name"] == "importer"]
    assert grant[0]["sources"] == ["acled", "ucdp-ged"]
    assert [u.sources for u in service.list_users() if u.name == "importer"] == [
        ("acled", "ucdp-ged")
    ]


def test_defaults_for_tokens_without_grants(client, tokens, service):
    # admin and secretariat: any source (dataset imports, corrections); a centre: its own
    # name, its rows rewritten to it as before.
    r = _post(client, tokens.secretariat, BASE_ROWS).json()
    assert r["accepted"] == 4 and r["rejected"] == []
    r = _post(client, tokens.hmeimim, [{**BASE_ROWS[0], "report_id": "z-9"}]).json()
    assert r["accepted"] == 1 and ("hmeimim", "z-9") in _stored(service)
    audit = {e["name"]: e["sources"] for e in _audit(service, "user.add")}
    assert audit["secretariat"] == "any" and audit["humanitarian"] == ["humanitarian"]
    assert audit["amman"] == ["amman"]


@pytest.mark.parametrize(
    ("role", "party", "sources", "words"),
    [
        ("observer", None, ("x",), "cannot submit"),
        ("centre", "opp", ("x",), "its own name"),
        ("humanitarian", None, ("a:b",), "':'"),
        ("humanitarian", None, ("",), "non-empty"),
    ],
)
def test_grants_that_cannot_be_made(service, role, party, sources, words):
    with pytest.raises(BadInput, match=words):
        service.add_user("u", role, party, sources=sources)
    assert service.list_users() == []


def test_me_shows_what_a_token_may_submit_under(client, tokens, service):
    _, token = service.add_user("imp", "admin", sources=("acled",))
    seen = {
        who: client.get("/api/me", headers=tokens.headers(who)).json()["sources"]
        for who in ("admin", "amman", "humanitarian", "observer")
    }
    assert seen == {"admin": None, "amman": ["amman"], "humanitarian": ["humanitarian"],
                    "observer": []}  # fmt: skip
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["sources"] == ["acled"]
