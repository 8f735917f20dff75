"""OGC API – Features Part 3 at /ogc: queryables, `filter=` (CQL2 text and JSON) with
bbox, datetime and paging, visibility, the OpenAPI document, and OWSLib over real HTTP.

The grid of `test_ogc.grid_rows`: row i at column i % 10, row i // 10, observed
T0 + i h; even rows are FSA (party opp), odd rows SAA (party gov)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.server.test_ogc import (
    AGREEMENT,
    INCIDENTS,
    ITEMS,
    VIOLATIONS,
    N,
    _get,
    _ids,
    _rel,
    live_url,  # noqa: F401  (a fixture)
    loaded,  # noqa: F401  (a fixture)
)

from truce.api import Settings, create_app

QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
VIOLATION_ITEMS = f"/ogc/collections/{VIOLATIONS}/items"
BOX = "36.99,35.99,37.11,36.06"  # grid rows {0, 1, 2, 10, 11, 12}


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite only: filtering reads the in-memory index, whatever the store."""
    return f"sqlite:///{tmp_path / 'truce.sqlite'}"


@pytest.fixture
def app(db_url: str) -> Iterator[Any]:
    """Caches trusted for a minute, so a slow machine still answers from memory (this
    process's own writes are seen at once)."""
    application = create_app(Settings(database_url=db_url, freshness_ms=60_000))
    yield application
    application.state.service.engine.dispose()


def _matched(client, tokens, who="admin", path=ITEMS, **params) -> int:
    r = _get(client, tokens, path, who, limit=1000, **params)
    assert r.status_code == 200, r.text
    return r.json()["numberMatched"]  # type: ignore[no-any-return]


# --- documents ------------------------------------------------------------------------------


def test_conformance_declares_part3_and_the_cql2_classes(client):
    classes = set(client.get("/ogc/conformance").json()["conformsTo"])
    part3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
    cql2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
    for name in ("filter", "features-filter", "queryables", "queryables-query-parameters"):
        assert part3 + name in classes
    for name in (
        "cql2-text",
        "cql2-json",
        "basic-cql2",
        "advanced-comparison-operators",
        "case-insensitive-comparison",
        "basic-spatial-functions",
        "spatial-functions",
        "temporal-functions",
    ):
        assert cql2 + name in classes
    assert cql2 + "arithmetic" not in classes and cql2 + "property-property" not in classes


def test_queryables_are_a_json_schema_linked_from_each_collection(client, tokens):
    collection = _get(client, tokens, f"/ogc/collections/{INCIDENTS}").json()
    link = next(link for link in collection["links"] if link["rel"] == QUERYABLES_REL)
    assert link["type"] == "application/schema+json"
    r = client.get(link["href"], headers=tokens.headers("observer"))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/schema+json")
    doc = r.json()
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert doc["$id"] == f"http://testserver/ogc/collections/{INCIDENTS}/queryables"
    assert doc["type"] == "object" and doc["additionalProperties"] is False
    props = doc["properties"]
    assert props["geometry"] == {"title": props["geometry"]["title"], "format": "geometry-point"}
    assert props["observed_at"]["type"] == "string"
    assert props["observed_at"]["format"] == "date-time"
    assert props["corroboration"]["type"] == "integer"
    assert props["published"]["type"] == "boolean"
    assert props["status"]["enum"] == ["alleged", "corroborated"]
    assert "sources" not in props  # cut per viewer: not queryable
    assert all("type" in p for name, p in props.items() if name != "geometry")
    violations = _get(client, tokens, f"/ogc/collections/{VIOLATIONS}/queryables").json()
    assert {"rule", "kind", "review", "at", "geometry"} <= set(violations["properties"])
    zones = _get(client, tokens, f"/ogc/collections/{AGREEMENT}-zones/queryables").json()
    assert zones["properties"] == {}


def test_queryables_need_a_token_and_a_known_collection(client, tokens):
    assert client.get(f"/ogc/collections/{INCIDENTS}/queryables").status_code == 401
    r = _get(client, tokens, "/ogc/collections/nowhere-incidents/queryables")
    assert r.status_code == 404 and r.json()["code"] == "NotFound"


# --- filtering items --------------------------------------------------------------------------


def test_filter_counts_exactly_in_both_encodings(client, tokens, loaded):  # noqa: F811
    assert _matched(client, tokens, filter="party = 'opp'") == N // 2
    as_json = json.dumps({"op": "=", "args": [{"property": "party"}, "opp"]})
    assert _matched(client, tokens, **{"filter": as_json, "filter-lang": "cql2-json"}) == N // 2
    # T0 + 24 h = 2016-09-13T21:00:00Z: rows 25..59 are after it
    after = "T_AFTER(observed_at, TIMESTAMP('2016-09-13T21:00:00Z'))"
    assert _matched(client, tokens, filter=after) == N - 25
    assert _matched(client, tokens, filter=f"{after} AND party = 'gov'") == 18  # odd of 25..59
    crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    inside = f"S_INTERSECTS(geometry, BBOX({BOX}))"
    assert _matched(client, tokens, filter=inside, **{"filter-crs": crs84}) == 6


def test_filter_combines_with_bbox_datetime_and_paging(client, tokens, loaded):  # noqa: F811
    doc = _get(client, tokens, ITEMS, bbox=BOX, filter="party = 'opp'").json()
    assert sorted(_ids(doc)) == [f"amman:g-{i}" for i in (0, 10, 12, 2)]
    assert doc["numberMatched"] == 4
    doc = _get(
        client,
        tokens,
        ITEMS,
        bbox=BOX,
        datetime="../2016-09-13T10:00:00+03:00",
        filter="party = 'opp'",
    ).json()
    assert sorted(_ids(doc)) == ["amman:g-0", "amman:g-10", "amman:g-2"]
    seen: list[str] = []
    url: str | None = f"{ITEMS}?limit=7&filter=party%20%3D%20%27gov%27"
    while url:
        page = client.get(url, headers=tokens.headers("admin")).json()
        assert page["numberMatched"] == N // 2
        seen.extend(_ids(page))
        url = _rel(page, "next")
        assert url is None or "filter=" in url
    assert len(seen) == len(set(seen)) == N // 2
    assert all(int(k.rsplit("-", 1)[1]) % 2 == 1 for k in seen)


def test_queryables_as_query_parameters(client, tokens, loaded):  # noqa: F811
    assert _matched(client, tokens, party="opp") == N // 2
    assert _matched(client, tokens, party="opp", filter="fatalities IS NULL") == N // 2
    assert _matched(client, tokens, party="opp", corroboration="1", bbox=BOX) == 4
    assert _matched(client, tokens, party="nobody") == 0
    assert _matched(client, tokens, not_a_queryable="x") == N  # other parameters: ignored
    r = _get(client, tokens, ITEMS, corroboration="many")
    assert r.status_code == 400 and r.json()["description"].startswith("corroboration")


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"filter": "nope = 1"}, "'nope' is not a queryable of the incidents"),
        ({"filter": "party = "}, "CQL2 text not understood"),
        ({"filter": "party = 3"}, "party is a string"),
        ({"filter": "fatalities * 2 > 1"}, "arithmetic"),
        ({"filter": "T_DURING(observed_at, INTERVAL('2016-09-13', '..'))"}, "T_DURING"),
        ({"filter": "party = 'opp'", "filter-lang": "ecql"}, "filter-lang"),
        ({"filter": "party = 'opp'", "filter-crs": "EPSG:3857"}, "filter-crs"),
        ({"filter": "{", "filter-lang": "cql2-json"}, "not JSON"),
    ],
)
def test_bad_filters_are_400_with_the_error_body(client, tokens, loaded, params, says):  # noqa: F811
    r = _get(client, tokens, ITEMS, **params)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["code"] == "InvalidParameterValue" and says in body["description"]
    assert body["detail"] == body["description"]


def test_violations_filter_on_rule_kind_and_review(client, tokens, loaded):  # noqa: F811
    total = _matched(client, tokens, path=VIOLATION_ITEMS)
    assert total > 0
    kinds = _matched(client, tokens, path=VIOLATION_ITEMS, filter="kind = 'cease_attacks'")
    assert 0 < kinds <= total
    assert _matched(client, tokens, path=VIOLATION_ITEMS, filter="review = 'alleged'") == total
    assert _matched(client, tokens, path=VIOLATION_ITEMS, filter="published = true") == 0


def test_zones_accept_only_filters_that_name_no_property(client, tokens):
    zones = f"/ogc/collections/{AGREEMENT}-zones/items"
    every = _matched(client, tokens, path=zones)
    assert _matched(client, tokens, path=zones, filter="INCLUDE") == every
    assert _matched(client, tokens, path=zones, filter="EXCLUDE") == 0
    r = _get(client, tokens, zones, filter="name = 'x'")
    assert r.status_code == 400 and "not a queryable" in r.json()["description"]


# --- visibility ---------------------------------------------------------------------------------


def test_a_filter_finds_nothing_the_viewer_cannot_see(client, tokens, loaded):  # noqa: F811
    r = client.post(
        f"/api/agreements/{AGREEMENT}/incidents/amman:g-3/publish",
        headers=tokens.headers("secretariat"),
    )
    assert r.status_code == 200, r.text
    # the observer sees g-3 only, whatever the filter
    assert _matched(client, tokens, "observer", filter="party = 'gov'") == 1
    assert _matched(client, tokens, "observer", filter="party = 'opp'") == 0
    assert _matched(client, tokens, "observer", filter="published = false") == 0
    assert _matched(client, tokens, "observer", filter="NOT party = 'nobody'") == 1
    assert _matched(client, tokens, "observer", party="opp") == 0
    # g-3's violation is not published: its count is 0 for the observer, 1 for the admin
    assert _matched(client, tokens, "observer", filter="violations > 0") == 0
    assert _matched(client, tokens, "observer", filter="violations = 0") == 1
    g3 = "key = 'amman:g-3'"
    assert _matched(client, tokens, "admin", filter=f"{g3} AND violations > 0") == 1
    assert _matched(client, tokens, "observer", path=VIOLATION_ITEMS, filter="INCLUDE") == 0
    # a centre sees its own reports' incidents; another centre only the published one
    assert _matched(client, tokens, "amman", filter="party = 'opp'") == N // 2
    assert _matched(client, tokens, "hmeimim", filter="party = 'opp'") == 0
    assert _matched(client, tokens, "hmeimim", filter="published = true") == 1


def _cql(prop: str, value: Any) -> str:
    if value is None:
        return f"{prop} IS NULL"
    if isinstance(value, bool):
        return f"{prop} = {str(value).upper()}"
    if isinstance(value, str):
        return f"{prop} = '{value}'"
    return f"{prop} = {value}"


def test_every_viewer_gets_from_a_filter_exactly_what_its_items_show(client, tokens, loaded):  # noqa: F811
    incident, violation = "amman:g-3", f"{AGREEMENT}:r-cease:amman:g-3"
    secretariat = tokens.headers("secretariat")
    r = client.post(
        f"/api/agreements/{AGREEMENT}/incidents/{incident}/publish", headers=secretariat
    )
    assert r.status_code == 200, r.text
    for action in ("confirm", "publish"):
        r = client.post(
            f"/api/violations/{violation}/review", json={"action": action}, headers=secretariat
        )
        assert r.status_code == 200, r.text
    r = client.post(
        f"/api/violations/{AGREEMENT}:r-cease:amman:g-5/review",
        json={"action": "dispute"},
        headers=secretariat,
    )
    assert r.status_code == 200, r.text
    checked = {
        ITEMS: ("party", "status", "published", "violations", "corroboration", "grade", "weapon"),
        VIOLATION_ITEMS: ("review", "published", "kind", "party", "status", "measured_m", "zone"),
    }
    for who in ("admin", "amman", "hmeimim", "observer"):
        for path, props in checked.items():
            shown = _get(client, tokens, path, who, limit=10_000).json()["features"]
            for prop in props:
                for value in {f["properties"][prop] for f in shown}:
                    expected = sum(f["properties"][prop] == value for f in shown)
                    got = _matched(client, tokens, who, path, filter=_cql(prop, value))
                    assert got == expected, (who, path, prop, value)
            if who == "observer":  # sees the published incident and its confirmed violation
                assert len(shown) == 1


def test_filtered_pages_come_from_the_fast_path_once_the_columns_are_built(
    client,
    tokens,
    loaded,  # noqa: F811
    app,
):
    fast = app.state.ogc_fast_path
    params = {"filter": "party = 'opp' AND fatalities IS NULL", "bbox": BOX}
    for _ in range(2):  # the first computes and stores the snapshot (a write of its own)
        first = _get(client, tokens, ITEMS, **params).json()
    before = fast.answered
    again = _get(client, tokens, ITEMS, **params).json()
    assert fast.answered == before + 1
    assert again["numberMatched"] == first["numberMatched"] == 4
    assert _ids(again) == _ids(first)
    bad = _get(client, tokens, ITEMS, filter="nope = 1")  # errors: answered by the app
    assert bad.status_code == 400 and fast.answered == before + 1


# --- OpenAPI ----------------------------------------------------------------------------------


def test_openapi_declares_geojson_items_queryables_and_the_filter_parameters(client):
    paths = client.get("/openapi.json").json()["paths"]
    items = paths["/ogc/collections/{collection_id}/items"]["get"]
    ok = items["responses"]["200"]["content"]["application/geo+json"]["schema"]
    assert ok["type"] == "object" and "features" in ok["properties"]
    assert {"400", "401", "404"} <= set(items["responses"])
    names = {p["name"] for p in items["parameters"]}
    assert {"filter", "filter-lang", "filter-crs", "bbox", "datetime", "limit"} <= names
    item = paths["/ogc/collections/{collection_id}/items/{feature_id}"]["get"]
    feature = item["responses"]["200"]["content"]["application/geo+json"]["schema"]
    assert feature["type"] == "object" and "geometry" in feature["properties"]
    queryables = paths["/ogc/collections/{collection_id}/queryables"]["get"]
    schema = queryables["responses"]["200"]["content"]["application/schema+json"]["schema"]
    assert schema["type"] == "object"


# --- OWSLib, as QGIS reads it ------------------------------------------------------------------


def test_owslib_reads_queryables_and_filters_items(live_url, loaded):  # noqa: F811
    from owslib.ogcapi.features import Features

    api = Features(live_url, headers=loaded.headers("admin"))
    queryables = api.collection_queryables(INCIDENTS)
    assert queryables["properties"]["party"]["type"] == "string"
    items = api.collection_items(
        INCIDENTS,
        filter="party = 'opp' AND corroboration = 1",
        limit=4,
        bbox=[36.99, 35.99, 37.11, 36.06],
    )
    assert items["numberMatched"] == 4 and items["numberReturned"] == 4
    assert {f["properties"]["party"] for f in items["features"]} == {"opp"}
    as_json = json.dumps({"op": "like", "args": [{"property": "key"}, "amman:g-1_"]})
    tens = api.collection_items(
        INCIDENTS, filter=as_json, limit=100, **{"filter-lang": "cql2-json"}
    )
    assert sorted(f["id"] for f in tens["features"]) == [f"amman:g-{i}" for i in range(10, 20)]
    with pytest.raises(RuntimeError, match="not a queryable"):
        api.collection_items(INCIDENTS, filter="nope = 1")


# --- the guide ------------------------------------------------------------------------------


def test_the_guide_lists_every_queryable_and_conformance_class():
    from truce.api.ogc.documents import CONFORMANCE
    from truce.api.ogc.queryables import QUERYABLES

    guide = (Path(__file__).parents[2] / "docs" / "ogc.md").read_text()
    incidents, violations = guide.split("### Violations")
    for kind, section in (("incidents", incidents), ("violations", violations)):
        for name in QUERYABLES[kind]:
            assert f"| `{name}` |" in section, f"docs/ogc.md: {kind} queryable {name}"
    for uri in CONFORMANCE:
        if "features-3" in uri or "cql2" in uri:
            assert f"`{uri.rsplit('/', 1)[1]}`" in guide, f"docs/ogc.md: {uri}"
