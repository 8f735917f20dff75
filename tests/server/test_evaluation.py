"""Derived state: the API evaluation equals the offline pipeline's, and is computed once per version."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

import pytest
from tests.server.data import AGREEMENT, AS_OF, BASE_ROWS, many_rows, to_csv

from truce.domain.evaluate import evaluate
from truce.formats.evaluation_json import evaluation_to_dict
from truce.formats.reports import read_reports
from truce.library.catalog import resolve_agreement
from truce.service import AgreementRegistry, Service
from truce.store.engine import make_engine
from truce.store.users import SYSTEM_USER

SERVER_ONLY = {"published", "review", "key", "incident_key"}


def _strip(d: dict) -> dict:
    return {k: v for k, v in d.items() if k not in SERVER_ONLY}


def test_api_evaluation_equals_truce_evaluate_over_the_same_csv(client, tokens):
    csv_text = to_csv(BASE_ROWS + many_rows(300))
    r = client.post(
        "/api/reports",
        content=csv_text,
        headers={**tokens.headers("admin"), "Content-Type": "text/csv"},
    )
    assert r.json()["accepted"] == 304
    api = client.get(
        f"/api/agreements/{AGREEMENT}/evaluation",
        params={"as_of": AS_OF},
        headers=tokens.headers("admin"),
    ).json()
    offline = evaluation_to_dict(
        evaluate(
            resolve_agreement(AGREEMENT),
            read_reports(csv_text, format="csv").reports,
            as_of=datetime.fromisoformat(AS_OF),
        )
    )
    assert api["as_of"] == offline["as_of"]
    assert api["phases"] == offline["phases"]
    assert api["conditions"] == offline["conditions"]
    assert [_strip(i) for i in api["incidents"]] == [_strip(i) for i in offline["incidents"]]
    assert [_strip(v) for v in api["violations"]] == [_strip(v) for v in offline["violations"]]
    assert len(api["violations"]) >= 3
    for v in api["violations"]:
        assert v["review"] == "alleged"
        assert v["key"] == f"{AGREEMENT}:{v['rule']}:{v['incident_key']}"


def test_default_evaluation_is_cached_until_new_reports_arrive(client, tokens, service):
    h = tokens.headers("admin")
    client.post(
        "/api/reports", content=to_csv(BASE_ROWS[:2]), headers={**h, "Content-Type": "text/csv"}
    )
    first = client.get(f"/api/agreements/{AGREEMENT}/evaluation", headers=h).json()
    client.get(f"/api/agreements/{AGREEMENT}/evaluation", headers=h)
    client.get(f"/api/agreements/{AGREEMENT}/dashboard", headers=h)
    assert service.computations == 1
    assert len(first["incidents"]) == 1
    # A batch of duplicates changes nothing, so nothing is recomputed.
    client.post(
        "/api/reports", content=to_csv(BASE_ROWS[:2]), headers={**h, "Content-Type": "text/csv"}
    )
    client.get(f"/api/agreements/{AGREEMENT}/evaluation", headers=h)
    assert service.computations == 1
    # New reports: recomputed once, then cached again.
    client.post(
        "/api/reports", content=to_csv(BASE_ROWS[2:]), headers={**h, "Content-Type": "text/csv"}
    )
    after = client.get(f"/api/agreements/{AGREEMENT}/evaluation", headers=h).json()
    client.get(f"/api/agreements/{AGREEMENT}/evaluation", headers=h)
    assert service.computations == 2
    assert len(after["incidents"]) == 3


def test_another_process_reuses_the_cached_snapshot(db_url, service):
    service.ingest_reports(to_csv(BASE_ROWS).encode(), format="csv", user=SYSTEM_USER)
    a = service.snapshot(AGREEMENT).data
    other = Service(make_engine(db_url), AgreementRegistry.load())
    try:
        assert other.snapshot(AGREEMENT).data == a
        assert other.computations == 0
    finally:
        other.engine.dispose()


def test_concurrent_requests_from_several_processes_compute_a_version_once(
    db_url, service, monkeypatch
):
    service.ingest_reports(
        to_csv(BASE_ROWS + many_rows(2000)).encode(), format="csv", user=SYSTEM_USER
    )
    others = [Service(make_engine(db_url), AgreementRegistry.load()) for _ in range(3)]
    services = [service, *others]
    results: list[dict] = []
    barrier = threading.Barrier(len(services) * 2)

    def ask(svc: Service) -> None:
        barrier.wait()
        results.append(svc.snapshot(AGREEMENT).data)

    threads = [threading.Thread(target=ask, args=(s,)) for s in services for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for o in others:
        o.engine.dispose()
    assert sum(s.computations for s in services) == 1
    assert len(results) == 8 and all(r == results[0] for r in results)


def test_unknown_agreement_is_404_with_the_known_ids(client, tokens):
    r = client.get("/api/agreements/nope/evaluation", headers=tokens.headers("admin"))
    assert r.status_code == 404
    assert AGREEMENT in r.json()["detail"]


def test_bad_as_of_is_400(client, tokens):
    r = client.get(
        f"/api/agreements/{AGREEMENT}/evaluation",
        params={"as_of": "yesterday"},
        headers=tokens.headers("admin"),
    )
    assert r.status_code == 400
    assert "as_of" in r.json()["detail"]


def test_incident_detail_lists_its_reports_and_violations_with_history(client, tokens):
    h = tokens.headers("admin")
    client.post(
        "/api/reports", content=to_csv(BASE_ROWS), headers={**h, "Content-Type": "text/csv"}
    )
    r = client.get(f"/api/agreements/{AGREEMENT}/incidents/amman:a-1", headers=h)
    assert r.status_code == 200, r.text
    inc = r.json()
    assert [x["key"] for x in inc["reports"]] == ["amman:a-1", "hmeimim:h-7"]
    assert inc["reports"][0]["grade"] == "B2"
    assert inc["reports"][0]["observed_at"] == "2016-09-13T04:10:00+03:00"
    assert [v["rule"] for v in inc["violations"]] == ["r-cease"]
    assert inc["violations"][0]["history"] == []
    assert (
        client.get(f"/api/agreements/{AGREEMENT}/incidents/amman:nope", headers=h).status_code
        == 404
    )


def test_agreement_documents(client, tokens):
    h = tokens.headers("observer")
    listed = client.get("/api/agreements", headers=h).json()
    assert AGREEMENT in {a["id"] for a in listed}
    detail = client.get(f"/api/agreements/{AGREEMENT}", headers=h).json()
    assert {z["id"] for z in detail["zones"]} >= {"castello-dmz", "east-aleppo"}
    assert all(z["area_km2"] > 0 for z in detail["zones"])
    assert all(r["description"] for r in detail["rules"])
    geo = client.get(f"/api/agreements/{AGREEMENT}/geojson", headers=h).json()
    layers = {f["properties"]["layer"] for f in geo["features"]}
    assert layers == {"feature", "zone"}
    assert all(
        f["geometry"]["type"] == "Polygon"
        for f in geo["features"]
        if f["properties"]["layer"] == "zone"
    )


def test_dashboard_counts_violations_by_party_and_local_day(client, tokens):
    h = tokens.headers("admin")
    client.post(
        "/api/reports", content=to_csv(BASE_ROWS), headers={**h, "Content-Type": "text/csv"}
    )
    d = client.get(f"/api/agreements/{AGREEMENT}/dashboard", headers=h).json()
    assert {(x["day"], x["party"]) for x in d["violations_by_party_day"]} >= {
        ("2016-09-13", "gov"),
        ("2016-09-14", "gov"),
    }
    assert d["conditions"] and {"kind", "days", "max_incidents", "daily"} <= set(d["conditions"][0])


def test_gazetteer_finds_places_and_404s_with_suggestions(client, tokens):
    h = tokens.headers("observer")
    found = client.get("/api/gazetteer", params={"q": "Aleppo"}, headers=h).json()
    assert found[0]["name"] == "Aleppo"
    miss = client.get("/api/gazetteer", params={"q": "Alepppo x"}, headers=h)
    assert miss.status_code in (200, 404)
    nothing = client.get("/api/gazetteer", params={"q": "qqqqzzzz"}, headers=h)
    assert nothing.status_code == 404
    assert "no place" in nothing.json()["detail"]


def test_explicit_as_of_is_cached_per_reports_version(service):
    service.ingest_reports(to_csv(BASE_ROWS).encode(), format="csv", user=SYSTEM_USER)
    at = datetime.fromisoformat(AS_OF)
    a = service.snapshot(AGREEMENT, as_of=at)
    assert service.snapshot(AGREEMENT, as_of=at) == a
    assert service.computations == 1
    service.ingest_reports(to_csv(many_rows(5)).encode(), format="csv", user=SYSTEM_USER)
    service.snapshot(AGREEMENT, as_of=at)
    assert service.computations == 2


def test_a_lease_left_by_a_crashed_process_is_taken_over(service):
    from datetime import UTC, timedelta

    from truce.store import lease

    long_ago = datetime.now(UTC) - timedelta(seconds=lease.LEASE_STALE_S + 1)
    assert lease.claim(service.engine, AGREEMENT, now=long_ago) is not None  # then "crashed"
    assert lease.claim(service.engine, AGREEMENT, now=datetime.now(UTC)) is not None
    # A fresh lease is respected.
    assert lease.claim(service.engine, AGREEMENT, now=datetime.now(UTC)) is None


def test_extra_agreement_files_are_served(db_url, tmp_path):
    from tests.server.conftest import TestClient

    from truce.api import Settings, create_app

    spec = Path(__file__).parents[1] / "fixtures" / "agreements" / "spec-example.yaml"
    mine = tmp_path / "mine.yaml"
    mine.write_text(spec.read_text().replace("id: us-ru-2016-09", "id: my-truce", 1))
    app = create_app(Settings(database_url=db_url, agreement_files=(mine,)))
    service = app.state.service
    _, token = service.add_user("root", "admin")
    h = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as c:
        ids = {a["id"] for a in c.get("/api/agreements", headers=h).json()}
        assert c.get("/api/agreements/my-truce/evaluation", headers=h).status_code == 200
    service.engine.dispose()
    assert {AGREEMENT, "my-truce"} <= ids


@pytest.mark.parametrize(
    ("as_of", "valid_until"),
    [
        ("2016-09-12T10:00:00+03:00", "2016-09-12T19:00:00+03:00"),  # the cessation starts
        ("2016-09-13T05:00:00+03:00", "2016-09-13T15:00:00+03:00"),  # h-8 is observed
        # the next-phase condition waits (no checkpoint reported): the next local midnight
        (AS_OF, "2016-09-21T00:00:00+03:00"),
    ],
)
def test_a_snapshot_says_until_when_it_is_valid(service, as_of, valid_until):
    service.ingest_reports(to_csv(BASE_ROWS).encode(), format="csv", user=SYSTEM_USER)
    snap = service.snapshot(AGREEMENT, as_of=datetime.fromisoformat(as_of))
    assert snap.valid_until == (valid_until and datetime.fromisoformat(valid_until))
    assert snap.reports_version == 1 and snap.as_of == datetime.fromisoformat(as_of)
