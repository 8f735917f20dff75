"""GET /api/agreements/{id}/export/{what}: streamed, in each format, with exactly the
items the evaluation endpoint shows the same token."""

from __future__ import annotations

import csv
import io
import json

import pyogrio
import pytest
from tests.server.data import AGREEMENT, AS_OF, BASE_ROWS, to_csv

from truce.formats.exports import FORMATS

URL = f"/api/agreements/{AGREEMENT}/export"
PUBLISHED = f"{AGREEMENT}:r-cease:amman:a-2"


@pytest.fixture
def loaded(client, tokens):
    h = {**tokens.headers("admin"), "Content-Type": "text/csv"}
    assert client.post("/api/reports", content=to_csv(BASE_ROWS), headers=h).status_code == 200
    r = client.post(
        f"/api/violations/{PUBLISHED}/review",
        json={"action": "publish"},
        headers=tokens.headers("secretariat"),
    )
    assert r.status_code == 200, r.text
    return client


def _evaluation(client, tokens, who):
    r = client.get(
        f"/api/agreements/{AGREEMENT}/evaluation",
        params={"as_of": AS_OF},
        headers=tokens.headers(who),
    )
    return r.json()


def test_export_holds_what_the_evaluation_shows_the_same_token(loaded, tokens):
    for who in ("observer", "humanitarian", "amman", "secretariat"):
        view = _evaluation(loaded, tokens, who)
        for what in ("incidents", "violations"):
            r = loaded.get(f"{URL}/{what}", params={"as_of": AS_OF}, headers=tokens.headers(who))
            assert r.status_code == 200
            features = json.loads(r.content)["features"]
            assert [f["id"] for f in features] == [i["key"] for i in view[what]]
            if what == "incidents":
                assert [f["properties"]["report_ids"] for f in features] == [
                    i["report_ids"] for i in view[what]
                ]
        if who in ("observer", "humanitarian"):  # the humanitarian agency submitted nothing
            assert [v["key"] for v in view["violations"]] == [PUBLISHED], who
        else:
            assert len(view["violations"]) > 1, who


def test_each_format_is_streamed_with_its_media_type_and_file_name(loaded, tokens):
    for fmt, spec in FORMATS.items():
        r = loaded.get(
            f"{URL}/violations",
            params={"format": fmt, "as_of": AS_OF},
            headers=tokens.headers("admin"),
        )
        assert r.status_code == 200
        assert r.headers["content-type"] == spec.media_type
        name = f"{AGREEMENT}-violations.{spec.extension}"
        assert r.headers["content-disposition"] == f'attachment; filename="{name}"'
        assert "content-length" not in r.headers  # streamed, not built whole
        assert r.content


def test_csv_and_gpkg_read_back_with_the_keys_of_the_evaluation(loaded, tokens, tmp_path):
    keys = [i["key"] for i in _evaluation(loaded, tokens, "admin")["incidents"]]
    h = tokens.headers("admin")
    r = loaded.get(f"{URL}/incidents", params={"format": "csv", "as_of": AS_OF}, headers=h)
    assert [row["key"] for row in csv.DictReader(io.StringIO(r.text))] == keys
    r = loaded.get(f"{URL}/incidents", params={"format": "gpkg", "as_of": AS_OF}, headers=h)
    path = tmp_path / "incidents.gpkg"
    path.write_bytes(r.content)
    assert pyogrio.read_dataframe(path)["key"].tolist() == keys


def test_bad_requests_answer_the_error_body(client, tokens):
    for path, params, status, message in [
        ("incidents", {"format": "shp"}, 400, "unknown export format 'shp'"),
        ("reports", {}, 404, "use one of incidents, violations"),
        ("incidents", {"as_of": "soon"}, 400, "as_of"),
    ]:
        r = client.get(f"{URL}/{path}", params=params, headers=tokens.headers("observer"))
        assert r.status_code == status
        assert message in r.json()["detail"] and r.json()["code"]

    r = client.get("/api/agreements/nowhere/export/incidents", headers=tokens.headers("admin"))
    assert r.status_code == 404 and "unknown agreement" in r.json()["detail"]
    assert client.get(f"{URL}/incidents").status_code == 401


def test_openapi_declares_the_export_route(client):
    doc = client.get("/openapi.json").json()
    op = doc["paths"]["/api/agreements/{agreement_id}/export/{what}"]["get"]
    assert set(op["responses"]) >= {"200", "400", "401", "404"}
    assert op["responses"]["400"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ErrorBody"
    )
    assert set(op["responses"]["200"]["content"]) == {f.media_type for f in FORMATS.values()}
    params = {p["name"]: p["schema"] for p in op["parameters"]}
    assert params["format"]["enum"] == list(FORMATS)
    assert params["what"]["enum"] == ["incidents", "violations"]
