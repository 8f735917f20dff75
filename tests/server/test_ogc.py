"""OGC API – Features at /ogc: documents, filters, paging, visibility, and OWSLib as QGIS uses it."""

from __future__ import annotations

import gc
import socket
import threading
import time
import weakref
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest
from tests.server.data import AGREEMENT, to_csv

from truce.api import ogc
from truce.api.ogc.points import NAT, PointIndex

INCIDENTS = f"{AGREEMENT}-incidents"
VIOLATIONS = f"{AGREEMENT}-violations"
ITEMS = f"/ogc/collections/{INCIDENTS}/items"
TZ = timezone(timedelta(hours=3))
T0 = datetime(2016, 9, 13, 0, 0, tzinfo=TZ)  # = 2016-09-12T21:00:00Z
N = 60


def grid_rows(n: int = N) -> list[dict[str, Any]]:
    """n reports on a 10-column grid ~5 km apart, one hour apart: n separate incidents.

    Row i: lon 37.00 + 0.05 * (i % 10), lat 36.00 + 0.05 * (i // 10), observed T0 + i h."""
    return [
        {
            "report_id": f"g-{i}",
            "source": "amman",
            "observed_at": (T0 + timedelta(hours=i)).isoformat(),
            "lat": round(36.0 + 0.05 * (i // 10), 6),
            "lon": round(37.0 + 0.05 * (i % 10), 6),
            "event_type": "small_arms_fire",
            "actor": "SAA" if i % 2 else "FSA",
            "reliability": "B",
            "credibility": 2,
        }
        for i in range(n)
    ]


@pytest.fixture
def loaded(client, tokens):
    r = client.post(
        "/api/reports",
        content=to_csv(grid_rows()),
        headers={**tokens.headers("admin"), "Content-Type": "text/csv"},
    )
    assert r.status_code == 200 and r.json()["accepted"] == N, r.text
    return tokens


def _get(client, tokens, path, who="admin", **params):
    return client.get(path, params=params, headers=tokens.headers(who))


def _ids(doc: dict[str, Any]) -> list[str]:
    return [f["id"] for f in doc["features"]]


def _rel(doc: dict[str, Any], rel: str) -> str | None:
    return next((link["href"] for link in doc["links"] if link["rel"] == rel), None)


# --- documents --------------------------------------------------------------------------


def test_landing_page_is_public_and_links_to_api_conformance_and_data(client):
    r = client.get("/ogc", params={"f": "json"})
    assert r.status_code == 200
    rels = {link["rel"]: link for link in r.json()["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert rels["data"]["href"].startswith("http://testserver/ogc/collections")
    assert client.get(rels["service-desc"]["href"]).status_code == 200


def test_conformance_lists_core_geojson_and_oas30(client):
    r = client.get("/ogc/conformance")
    assert r.status_code == 200
    classes = r.json()["conformsTo"]
    for name in ("core", "geojson", "oas30"):
        assert f"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{name}" in classes


def test_collections_list_four_stable_ids_per_agreement(client, tokens, service):
    r = _get(client, tokens, "/ogc/collections", "observer")
    assert r.status_code == 200
    ids = [c["id"] for c in r.json()["collections"]]
    expected = [f"{e.agreement.id}-{k}" for e in service.agreements.all() for k in ogc.KINDS]
    assert ids == expected
    for c in r.json()["collections"]:
        assert c["itemType"] == "feature" and ogc.CRS84 in c["crs"]
        assert _rel(c, "items").endswith(f"/ogc/collections/{c['id']}/items?f=json")
        assert len(c["extent"]["spatial"]["bbox"][0]) == 4
    one = _get(client, tokens, f"/ogc/collections/{INCIDENTS}", "observer").json()
    assert one["id"] == INCIDENTS


def test_collections_and_items_need_a_token_unless_ogc_public(client, db_url):
    assert client.get("/ogc/collections").status_code == 401
    assert client.get(ITEMS).status_code == 401
    from fastapi.testclient import TestClient

    from truce.api import Settings, create_app

    public = create_app(Settings(database_url=db_url, ogc_public=True))
    try:
        with TestClient(public) as c:
            assert c.get("/ogc/collections").status_code == 200
            assert c.get(ITEMS).json()["numberMatched"] == 0  # anonymous = observer
            assert c.get(ITEMS, headers={"Authorization": "Bearer nope"}).status_code == 401
    finally:
        public.state.service.engine.dispose()


def test_unknown_collection_and_feature_are_404_with_ogc_body(client, tokens, loaded):
    r = _get(client, tokens, "/ogc/collections/nowhere-incidents/items")
    assert r.status_code == 404 and r.json()["code"] == "NotFound"
    r = _get(client, tokens, f"{ITEMS}/amman:nope")
    assert r.status_code == 404 and r.json()["code"] == "NotFound"


# --- items --------------------------------------------------------------------------------


def test_items_are_geojson_points_with_evaluation_properties(client, tokens, loaded, service):
    r = _get(client, tokens, ITEMS, limit=100)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/geo+json")
    doc = r.json()
    assert doc["type"] == "FeatureCollection"
    assert doc["numberMatched"] == N and doc["numberReturned"] == N
    assert datetime.fromisoformat(doc["timeStamp"].replace("Z", "+00:00")).tzinfo is not None
    evaluation = service.evaluation(AGREEMENT, service.authenticate(loaded.admin))
    by_key = {i["key"]: i for i in evaluation["incidents"]}
    assert set(_ids(doc)) == set(by_key)
    for f in doc["features"]:
        inc = by_key[f["id"]]
        assert f["geometry"] == {"type": "Point", "coordinates": [inc["lon"], inc["lat"]]}
        p = f["properties"]
        assert (p["key"], p["event_type"], p["observed_at"], p["party"]) == (
            inc["key"],
            inc["event_type"],
            inc["observed_at"],
            inc["party"],
        )
        assert p["corroboration"] == 1 and p["status"] == "alleged" and p["grade"] == "B2"


def test_item_by_id(client, tokens, loaded):
    r = _get(client, tokens, f"{ITEMS}/amman:g-7")
    assert r.status_code == 200
    assert r.json()["geometry"]["coordinates"] == [37.35, 36.0]
    assert _rel(r.json(), "collection").endswith(f"/collections/{INCIDENTS}?f=json")


@pytest.mark.parametrize(
    ("bbox", "expected"),
    [
        ("36.99,35.99,37.11,36.06", 6),  # columns 0-2, rows 0-1
        ("37.0,36.0,37.0,36.0", 1),  # a point box on the corner incident: edges count
        ("37.225,36.0,37.45,36.25", 30),  # columns 5-9, all 6 rows
        ("10,10,11,11", 0),
        ("-180,-90,180,90", N),
    ],
)
def test_bbox_filter_counts_exactly(client, tokens, loaded, bbox, expected):
    doc = _get(client, tokens, ITEMS, bbox=bbox, limit=1000).json()
    assert doc["numberMatched"] == expected == doc["numberReturned"]
    minx, miny, maxx, maxy = map(float, bbox.split(","))
    for f in doc["features"]:
        lon, lat = f["geometry"]["coordinates"]
        assert minx <= lon <= maxx and miny <= lat <= maxy


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        ("2016-09-13T05:00:00+03:00", 1),  # instant: row 5
        ("2016-09-13T00:00:00+03:00/2016-09-13T09:00:00+03:00", 10),  # closed: rows 0-9
        ("../2016-09-12T21:00:00Z", 1),  # open start: row 0
        ("2016-09-15T00:00:00Z/..", 9),  # open end: rows 51-59
        ("../..", N),
        ("2016-09-13", 24),  # a UTC day: rows 3..26
    ],
)
def test_datetime_filter_counts_exactly(client, tokens, loaded, interval, expected):
    doc = _get(client, tokens, ITEMS, datetime=interval, limit=1000).json()
    assert doc["numberMatched"] == expected


def test_bbox_and_datetime_combine(client, tokens, loaded):
    # rows 0-1 x columns 0-2 are rows {0,1,2,10,11,12}; rows up to T0+10h: {0,1,2,10}
    doc = _get(
        client,
        tokens,
        ITEMS,
        bbox="36.99,35.99,37.11,36.06",
        datetime="../2016-09-13T10:00:00+03:00",
    ).json()
    assert sorted(_ids(doc)) == sorted(f"amman:g-{i}" for i in (0, 1, 2, 10))


def test_next_links_page_through_everything_without_loss_or_overlap(client, tokens, loaded):
    seen: list[str] = []
    url: str | None = f"{ITEMS}?limit=7&bbox=-180,-90,180,90"
    pages = 0
    while url:
        doc = client.get(url, headers=tokens.headers("admin")).json()
        assert doc["numberMatched"] == N and doc["numberReturned"] <= 7
        if pages:
            assert _rel(doc, "prev") is not None
        seen.extend(_ids(doc))
        url = _rel(doc, "next")
        pages += 1
    assert pages == 9 and len(seen) == N == len(set(seen))


def test_limit_defaults_to_10_and_offset_skips(client, tokens, loaded):
    first = _get(client, tokens, ITEMS).json()
    assert first["numberReturned"] == 10 and _rel(first, "prev") is None
    all_ids = _ids(_get(client, tokens, ITEMS, limit=N).json())
    assert _ids(_get(client, tokens, ITEMS, limit=5, offset=12).json()) == all_ids[12:17]
    past = _get(client, tokens, ITEMS, offset=1000).json()
    assert past["numberReturned"] == 0 and past["numberMatched"] == N
    assert _get(client, tokens, ITEMS, limit=50_000).status_code == 200  # clamped to 10000


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"bbox": "0,10,1,5"}, "bbox"),
        ({"bbox": "0,0,1,95"}, "bbox"),
        ({"datetime": "yesterday"}, "datetime"),
        ({"datetime": "2016-09-13T00:00:00"}, "datetime"),
        ({"datetime": "2016-09-14T00:00:00Z/2016-09-13T00:00:00Z"}, "datetime"),
        ({"limit": "0"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"f": "html"}, "f"),
    ],
)
def test_bad_parameters_are_400_with_an_ogc_exception(client, tokens, params, field):
    r = _get(client, tokens, ITEMS, **params)
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "InvalidParameterValue" and body["description"].startswith(field)


# --- other collections -----------------------------------------------------------------------


def test_violations_sit_at_their_incident(client, tokens, loaded, service):
    evaluation = service.evaluation(AGREEMENT, service.authenticate(loaded.admin))
    doc = _get(client, tokens, f"/ogc/collections/{VIOLATIONS}/items", limit=1000).json()
    assert doc["numberMatched"] == len(evaluation["violations"]) > 0
    where = {i["key"]: [i["lon"], i["lat"]] for i in evaluation["incidents"]}
    for f in doc["features"]:
        p = f["properties"]
        assert f["geometry"]["coordinates"] == where[p["incident_key"]]
        assert {"rule", "kind", "party", "at", "evidence", "review"} <= set(p)


def test_zones_and_checkpoints_come_from_the_agreement(client, tokens, service):
    agreement = service.agreements.get(AGREEMENT).agreement
    zones = _get(client, tokens, f"/ogc/collections/{AGREEMENT}-zones/items").json()
    assert [f["id"] for f in zones["features"]] == [z.id for z in agreement.zones]
    assert {f["geometry"]["type"] for f in zones["features"]} <= {"Polygon", "MultiPolygon"}
    cps = _get(client, tokens, f"/ogc/collections/{AGREEMENT}-checkpoints/items").json()
    referenced = {r.params.checkpoint for r in agreement.rules if r.kind == "checkpoint_limit"}
    assert {f["id"] for f in cps["features"]} == referenced
    assert all(f["geometry"]["type"] == "Point" for f in cps["features"])
    far = _get(client, tokens, f"/ogc/collections/{AGREEMENT}-zones/items", bbox="0,0,1,1")
    assert far.json()["numberMatched"] == 0


# --- visibility and the index ------------------------------------------------------------------


def test_observers_see_only_published_incidents(client, tokens, loaded):
    assert _get(client, tokens, ITEMS, "observer").json()["numberMatched"] == 0
    r = client.post(
        f"/api/agreements/{AGREEMENT}/incidents/amman:g-3/publish",
        headers=tokens.headers("secretariat"),
    )
    assert r.status_code == 200, r.text
    doc = _get(client, tokens, ITEMS, "observer").json()
    assert _ids(doc) == ["amman:g-3"] and doc["features"][0]["properties"]["published"] is True
    assert _get(client, tokens, f"{ITEMS}/amman:g-4", "observer").status_code == 404
    assert _get(client, tokens, ITEMS, "admin").json()["numberMatched"] == N


def test_index_is_rebuilt_only_when_reports_change(client, tokens, loaded, app):
    index = app.state.ogc.index
    for _ in range(3):
        assert _get(client, tokens, ITEMS).json()["numberMatched"] == N
    builds = index.builds
    assert builds == 1
    extra = [{**r, "report_id": f"x-{r['report_id']}", "lat": r["lat"] + 1} for r in grid_rows(5)]
    client.post(
        "/api/reports",
        content=to_csv(extra),
        headers={**tokens.headers("admin"), "Content-Type": "text/csv"},
    )
    assert _get(client, tokens, ITEMS).json()["numberMatched"] == N + 5
    assert _get(client, tokens, ITEMS).json()["numberMatched"] == N + 5
    assert index.builds == builds + 1


def test_a_newer_evaluation_is_indexed_without_a_query_and_the_old_one_freed(
    client, tokens, loaded, app
):
    """The index follows the evaluation the process holds, not the next query: a worker
    that kept the previous evaluation for its index until then held two (at 1M
    incidents, 300 MB more)."""
    index = app.state.ogc.index
    assert _get(client, tokens, ITEMS).json()["numberMatched"] == N
    builds, before = index.builds, weakref.ref(index._by_key[(AGREEMENT, "")].snapshot)
    extra = [{**r, "report_id": f"y-{r['report_id']}", "lat": r["lat"] + 1} for r in grid_rows(3)]
    r = client.post(
        "/api/reports",
        content=to_csv(extra),
        headers={**tokens.headers("admin"), "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 30
    while index.builds == builds and time.monotonic() < deadline:
        time.sleep(0.02)
    assert index.builds == builds + 1
    held = index._by_key[(AGREEMENT, "")]
    assert len(held.incident_keys) == N + 3
    assert held.snapshot is app.state.service.evaluations.latest(AGREEMENT)
    gc.collect()
    assert before() is None


# --- pure parts ---------------------------------------------------------------------------------


def test_point_index_handles_antimeridian_boxes_and_missing_times():
    lon = np.array([179.5, -179.5, 0.0, 170.0])
    lat = np.zeros(4)
    t = np.array([1, NAT, 3, 4])
    idx = PointIndex.build(lon, lat, t)
    rows = idx.query(ogc.parse_bbox("179,-1,-179,1"), None, None)
    assert sorted(lon[idx.order[rows]].tolist()) == [-179.5, 179.5]
    rows = idx.query(None, ogc.Interval(None, None), None)
    assert len(rows) == 3  # a time filter leaves out incidents without a time


def test_parse_datetime_date_is_the_whole_utc_day():
    day = ogc.parse_datetime("1970-01-02")
    assert day == ogc.Interval(86_400 * 10**9, 2 * 86_400 * 10**9 - 1)


# --- OWSLib, as QGIS reads it ---------------------------------------------------------------------


@pytest.fixture
def live_url(app) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, in a thread."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}/ogc"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_owslib_reads_collections_and_bbox_items(live_url, loaded):
    from owslib.ogcapi.features import Features

    api = Features(live_url, headers=loaded.headers("admin"))
    assert (
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
        in api.conformance()["conformsTo"]
    )
    ids = [c["id"] for c in api.collections()["collections"]]
    assert INCIDENTS in ids and f"{AGREEMENT}-zones" in ids
    assert api.collection(INCIDENTS)["id"] == INCIDENTS
    items = api.collection_items(INCIDENTS, bbox=[36.99, 35.99, 37.11, 36.06], limit=4)
    assert items["numberMatched"] == 6 and items["numberReturned"] == 4
    rest = api.collection_items(INCIDENTS, bbox=[36.99, 35.99, 37.11, 36.06], limit=4, offset=4)
    assert len({f["id"] for f in items["features"] + rest["features"]}) == 6
    zones = api.collection_items(f"{AGREEMENT}-zones")
    assert zones["numberMatched"] == len(zones["features"]) > 0
