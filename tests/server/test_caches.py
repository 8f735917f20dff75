"""Per-process caches: the store watermark, cached tokens (revocation, expiry), and the
OGC index answering exactly what the REST API shows each role, across processes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.server.conftest import WAIT_MS
from tests.server.data import AGREEMENT, BASE_ROWS, many_rows, to_csv

from truce.api import Settings, create_app, ogc
from truce.service import AgreementRegistry, Service
from truce.store import reviews
from truce.store.engine import make_engine, read_transaction
from truce.store.users import SYSTEM_USER
from truce.store.watermark import Watermark, read_mark

FRESHNESS_S = 60.0
ITEMS = f"/ogc/collections/{AGREEMENT}-incidents/items"
VIOLATIONS = f"/ogc/collections/{AGREEMENT}-violations/items"
V = f"{AGREEMENT}:r-cease:amman:a-1"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(db_url: str, clock: FakeClock) -> Iterator[Any]:
    """An app whose caches hold for FRESHNESS_S of `clock` (moved by the tests)."""
    application = create_app(
        Settings(database_url=db_url, freshness_ms=int(FRESHNESS_S * 1000), refresh_wait_ms=WAIT_MS)
    )
    application.state.watermark.clock = clock
    yield application
    application.state.service.engine.dispose()


@pytest.fixture
def other(db_url: str) -> Iterator[Service]:
    """Another process's service: its own engine on the same database."""
    svc = Service(make_engine(db_url), AgreementRegistry.load())
    yield svc
    svc.engine.dispose()


def _get(client, token: str, path: str, **params: Any):
    return client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})


# --- the watermark ------------------------------------------------------------------------


def test_watermark_moves_with_every_write_and_is_reread_at_most_every_interval(
    service, other, clock
):
    mark = Watermark(service.engine, 10.0, clock=clock)
    first = mark.current()
    assert first == read_mark(service.engine) and mark.reads == 1
    other.ingest_reports(to_csv(BASE_ROWS).encode(), format="csv", user=SYSTEM_USER)
    assert mark.current() == first and mark.reads == 1  # within the interval: from memory
    clock.now += 10.0
    assert mark.peek() is None  # a read is due: callers that must not block step aside
    moved = mark.current()
    assert moved.reports_version > first.reports_version and moved.audit_seq > first.audit_seq
    other.add_user("someone", "observer")  # not a report: only the audit seq moves
    clock.now += 10.0
    assert mark.current() == (moved.reports_version, moved.audit_seq + 1)
    mark.close()


def test_own_writes_force_a_reread_and_own_reads_do_not(service, clock):
    mark = Watermark(service.engine, 3600.0, clock=clock)
    before = mark.current()
    with read_transaction(service.engine) as conn:  # a read that commits
        read_mark(service.engine)
        conn.exec_driver_sql("SELECT 1")
    assert mark.peek() == before
    service.add_user("someone", "observer")
    assert mark.peek() is None
    assert mark.current().audit_seq == before.audit_seq + 1
    mark.close()


# --- tokens -------------------------------------------------------------------------------


def test_a_token_revoked_by_another_process_is_refused_once_the_watermark_is_reread(
    client, service, other, clock
):
    _, token = service.add_user("field", "observer")
    assert _get(client, token, "/api/me").status_code == 200
    for _ in range(2):  # the first stores the snapshot: a write of this process's own
        assert _get(client, token, ITEMS).status_code == 200
    other.revoke_user("field")
    # Within freshness_ms this process may still answer from its cache (the bound) ...
    assert _get(client, token, ITEMS).status_code == 200
    clock.now += FRESHNESS_S
    # ... and not after it, on every route.
    for path in (ITEMS, "/api/me", "/ogc/collections"):
        r = _get(client, token, path)
        assert r.status_code == 401 and "revoked" in r.json()["detail"], path


def test_a_token_revoked_through_this_process_is_refused_at_once(client, service):
    _, token = service.add_user("field", "observer")
    assert _get(client, token, ITEMS).status_code == 200
    service.revoke_user("field")
    r = _get(client, token, ITEMS)
    assert r.status_code == 401 and "revoked" in r.json()["detail"]


def test_a_cached_token_is_refused_once_it_expires(client, service, app):
    now = datetime.now(UTC)
    _, token = service.add_user("temp", "observer", expires_at=now + timedelta(hours=1))
    assert _get(client, token, ITEMS).status_code == 200
    assert _get(client, token, "/api/me").status_code == 200
    service.clock = lambda: now + timedelta(hours=2)
    for path in (ITEMS, "/api/me"):
        r = _get(client, token, path)
        assert r.status_code == 401 and "expired" in r.json()["detail"], path


def test_unknown_tokens_are_not_cached_so_a_new_token_works_at_once(client, other):
    assert _get(client, "truce_not-a-token", ITEMS).status_code == 401
    assert client.get(ITEMS).status_code == 401  # no token at all
    _, token = other.add_user("late", "observer")  # another process, watermark not re-read
    assert _get(client, token, ITEMS).status_code == 200


# --- the OGC index: what each role sees ---------------------------------------------------


def _features(client, token: str, path: str) -> dict[str, dict[str, Any]]:
    r = _get(client, token, path, limit=10_000)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["numberMatched"] == doc["numberReturned"] == len(doc["features"])
    return {f["id"]: f for f in doc["features"]}


@pytest.fixture
def reviewed(client, tokens, service):
    """Reports from two centres and the admin, one incident published, one violation
    published, one disputed."""
    post = {"Content-Type": "text/csv"}
    for who, rows in (("amman", [BASE_ROWS[0], BASE_ROWS[3]]), ("hmeimim", BASE_ROWS[1:3])):
        r = client.post(
            "/api/reports", content=to_csv(rows), headers={**tokens.headers(who), **post}
        )
        assert r.status_code == 200 and r.json()["accepted"] == 2, r.text
    r = client.post(
        "/api/reports",
        content=to_csv(many_rows(40, source="ngo")),
        headers={**tokens.headers("admin"), **post},
    )
    assert r.json()["accepted"] == 40
    admin = service.authenticate(tokens.admin)
    violations = service.evaluation(AGREEMENT, admin)["violations"]
    disputed = f"{AGREEMENT}:r-cease:amman:a-2"
    assert {V, disputed} <= {v["key"] for v in violations}
    steps = [
        (f"/api/agreements/{AGREEMENT}/incidents/ngo:b-3/publish", None, "secretariat"),
        (f"/api/violations/{V}/review", {"action": "publish"}, "secretariat"),
        (f"/api/violations/{disputed}/review", {"action": "dispute", "comment": "no"}, "amman"),
    ]
    for path, body, who in steps:
        r = client.post(path, json=body, headers=tokens.headers(who))
        assert r.status_code == 200, r.text
    return tokens


@pytest.mark.parametrize(
    "who", ["admin", "secretariat", "amman", "hmeimim", "humanitarian", "observer"]
)
def test_ogc_items_are_exactly_what_the_rest_api_shows_each_role(client, service, reviewed, who):
    token = getattr(reviewed, who)
    user = service.authenticate(token)
    seen = service.evaluation(AGREEMENT, user)
    where = {i["key"]: (i["lon"], i["lat"]) for i in service.snapshot(AGREEMENT).data["incidents"]}
    incidents = {i["key"]: ogc.incident_feature(i) for i in seen["incidents"]}
    violations = {
        v["key"]: ogc.violation_feature(v, *where[v["incident_key"]]) for v in seen["violations"]
    }
    assert _features(client, token, ITEMS) == incidents
    assert _features(client, token, VIOLATIONS) == violations
    for key, feature in [*incidents.items()][:5]:
        one = _get(client, token, f"{ITEMS}/{key}").json()
        assert {k: v for k, v in one.items() if k != "links"} == feature
    if who == "observer":
        assert set(incidents) == {"ngo:b-3", "amman:a-1"} and set(violations) == {V}


def test_ogc_sees_another_processs_writes_within_the_freshness_bound(
    client, tokens, service, other, clock
):
    other.ingest_reports(to_csv(many_rows(10)).encode(), format="csv", user=SYSTEM_USER)
    clock.now += FRESHNESS_S
    assert _get(client, tokens.admin, ITEMS).json()["numberMatched"] == 10
    assert _get(client, tokens.observer, ITEMS).json()["numberMatched"] == 0
    other.ingest_reports(to_csv(many_rows(5, start=10)).encode(), format="csv", user=SYSTEM_USER)
    secretariat = other.authenticate(tokens.secretariat)
    other.publish_incident(AGREEMENT, "bulk:b-2", secretariat)
    assert _get(client, tokens.admin, ITEMS).json()["numberMatched"] == 10  # from memory
    clock.now += FRESHNESS_S
    assert _get(client, tokens.admin, ITEMS).json()["numberMatched"] == 15
    doc = _get(client, tokens.observer, ITEMS).json()
    assert [f["id"] for f in doc["features"]] == ["bulk:b-2"]


def test_ogc_sees_this_processs_writes_at_once(client, tokens, service):
    assert _get(client, tokens.admin, ITEMS).json()["numberMatched"] == 0
    service.ingest_reports(to_csv(many_rows(7)).encode(), format="csv", user=SYSTEM_USER)
    assert _get(client, tokens.admin, ITEMS).json()["numberMatched"] == 7
    service.publish_incident(AGREEMENT, "bulk:b-1", service.authenticate(tokens.admin))
    assert _get(client, tokens.observer, ITEMS).json()["numberMatched"] == 1


def test_an_answer_from_memory_reads_nothing_from_the_database(client, tokens, app):
    for _ in range(2):  # the first computes and stores the snapshot (a write of its own)
        assert _get(client, tokens.admin, ITEMS).status_code == 200
    watermark, index = app.state.watermark, app.state.ogc.index
    reads, builds = watermark.reads, index.builds
    for bbox in ("37,36,37.1,36.1", "-180,-90,180,90"):
        assert _get(client, tokens.admin, ITEMS, bbox=bbox).status_code == 200
    assert (watermark.reads, index.builds) == (reads, builds)


@pytest.mark.parametrize("who", ["admin", "amman", "observer"])
def test_the_fast_path_answers_like_the_app(client, reviewed, app, who):
    token = getattr(reviewed, who)
    queries = [
        {"limit": "5"},
        {"bbox": "36.9,35.9,37.3,36.3", "limit": "3", "offset": "2"},
        {"datetime": "2016-09-13T00:00:00Z/..", "limit": "1000"},
    ]
    for params in queries:
        first = _get(client, token, ITEMS, **params)  # may need the database: the app
        fast = app.state.ogc_fast_path
        answered = fast.answered
        again = _get(client, token, ITEMS, **params)
        assert fast.answered == answered + 1, "not answered from memory"
        assert again.headers["content-type"] == first.headers["content-type"]
        a, b = first.json(), again.json()
        a.pop("timeStamp"), b.pop("timeStamp")
        assert a == b and a["numberReturned"] == len(a["features"])
    for bad in ({"bbox": "1,2,3"}, {"limit": "0"}):  # errors are the app's to answer
        assert _get(client, token, ITEMS, **bad).json()["code"] == "InvalidParameterValue"
    assert _get(client, "truce_wrong", ITEMS).status_code == 401


def test_published_incidents_and_own_reports_are_read_once_per_change(
    client, service, other, monkeypatch
):
    """Every view of a process shares one set of published incidents (extended when a
    publication is added, through any process, by the publications since) and one set
    of each submitter's reports (re-read when reports are stored): at a million
    published incidents, a second and some 80 MB per request and per cached view
    otherwise."""
    service.ingest_reports(to_csv(BASE_ROWS).encode(), format="csv", user=SYSTEM_USER)
    admin, _ = service.add_user("cache-admin", "admin")
    centre, _ = service.add_user("amman", "centre", "opp")
    first = service.visibility(AGREEMENT, centre)
    again = service.visibility(AGREEMENT, centre)
    assert again.published_incidents is first.published_incidents
    assert again.own_reports is first.own_reports and "amman:a-1" in first.own_reports
    key = service.evaluation(AGREEMENT, admin)["incidents"][0]["key"]
    other.publish_incident(AGREEMENT, key, other.add_user("pub-admin", "admin")[0])
    published = service.visibility(AGREEMENT, centre)
    assert key in published.published_incidents and key not in first.published_incidents
    read_after = []
    read = reviews.published_incidents

    def reading(conn, agreement_id, after=0):
        read_after.append(after)
        return read(conn, agreement_id, after)

    monkeypatch.setattr(reviews, "published_incidents", reading)
    with read_transaction(service.engine) as conn:
        mark = reviews.fingerprint(conn)[1]
    second = service.evaluation(AGREEMENT, admin)["incidents"][1]["key"]
    other.publish_incident(AGREEMENT, second, other.add_user("pub-admin-2", "admin")[0])
    both = service.visibility(AGREEMENT, centre).published_incidents
    # Only what was added (read by each service: `other` publishes and shows it).
    assert set(both) == {key, second} and read_after and set(read_after) == {mark}
    # A reader whose transaction began before the second publication (its mark is
    # older) reads the set itself, and leaves the newer one in place for the others.
    newer = reviews.fingerprint
    monkeypatch.setattr(reviews, "fingerprint", lambda conn: (newer(conn)[0], mark))
    assert service.visibility(AGREEMENT, centre).published_incidents is not both
    monkeypatch.setattr(reviews, "fingerprint", newer)
    read_after.clear()
    assert service.visibility(AGREEMENT, centre).published_incidents is both
    assert read_after == []
    service.ingest_reports(
        to_csv([dict(BASE_ROWS[0], report_id="a-77")]).encode(), format="csv", user=SYSTEM_USER
    )
    assert "amman:a-77" in service.visibility(AGREEMENT, centre).own_reports


def test_readers_asking_at_once_read_the_published_incidents_once(service, monkeypatch):
    """Eight first views at once (a dashboard opened by several observers): one reader
    reads the published incidents, the others take what it read (each reading the
    million keys itself took a worker past 1.1 GB)."""
    import threading
    import time

    service.ingest_reports(to_csv(BASE_ROWS).encode(), format="csv", user=SYSTEM_USER)
    centre, _ = service.add_user("amman", "centre", "opp")
    read = reviews.published_incidents
    calls = []

    def slow(conn, agreement_id, after=0):
        calls.append(after)
        time.sleep(0.3)  # the others arrive meanwhile
        return read(conn, agreement_id, after)

    monkeypatch.setattr(reviews, "published_incidents", slow)
    got = []
    readers = [
        threading.Thread(target=lambda: got.append(service.visibility(AGREEMENT, centre)))
        for _ in range(8)
    ]
    for t in readers:
        t.start()
    for t in readers:
        t.join()
    assert len(got) == 8 and len(calls) == 1
    assert all(v.published_incidents is got[0].published_incidents for v in got)


def test_a_summary_asked_at_once_is_made_once():
    """`Lru.made`: readers asking for the same document at the same time wait for one
    making of it and all take it; a later one takes it from the cache."""
    import threading
    import time

    from truce.service.lru import Lru

    cache, made = Lru(4), []

    def make():
        made.append(1)
        time.sleep(0.2)
        return {"n": len(made)}

    got = []
    askers = [
        threading.Thread(target=lambda: got.append(cache.made(("k", "latest"), make)))
        for _ in range(6)
    ]
    for t in askers:
        t.start()
    for t in askers:
        t.join()
    assert len(made) == 1 and len(got) == 6 and all(g is got[0] for g in got)
    assert cache.get("latest") is got[0] and cache.made(("k",), make) is got[0]
    assert cache._making == {}
