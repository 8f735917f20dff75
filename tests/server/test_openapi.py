"""The OpenAPI document states the real shapes of the incident and violation answers."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("method", "path", "schema"),
    [
        ("get", "/api/agreements/{agreement_id}/incidents/{key}", "IncidentDetail"),
        ("post", "/api/agreements/{agreement_id}/incidents/{key}/publish", "IncidentDetail"),
        ("get", "/api/violations/{key}", "ViolationDetail"),
        ("post", "/api/violations/{key}/review", "ViolationDetail"),
    ],
)
def test_incident_and_violation_answers_have_response_models(client, method, path, schema):
    doc = client.get("/openapi.json").json()
    ok = doc["paths"][path][method]["responses"]["200"]["content"]["application/json"]
    assert ok["schema"] == {"$ref": f"#/components/schemas/{schema}"}
    history = doc["components"]["schemas"]["ReviewEvent"]["properties"]
    assert {"from", "to", "action", "by", "at"} <= set(history)


# --- every status a route answers is declared, with the one error body ---------------

_ERROR_KEYS = {"code", "description", "detail"}


def _routes():
    from fastapi.routing import APIRoute

    from truce.api.routes import router

    return [
        (r.path, m.lower()) for r in router.routes if isinstance(r, APIRoute) for m in r.methods
    ]


def _bodies(path: str, method: str):
    """(body, content type) pairs that reach each kind of answer of a route."""
    if method != "post":
        return [(None, None)]
    if path.startswith("/api/reports"):
        return [
            (b"report_id\n", "text/csv"),  # 400: required columns missing
            (b"{}", "application/xml"),  # 415
            (b"x" * (2_000_001), "text/csv"),  # 413 (the test app's limit is 2 MB)
            (b"[[[[", "application/json"),  # 400: malformed JSON
            (b"[]", "application/json"),  # 200
        ]
    if path.endswith("/review"):
        return [(b"{}", "application/json"), (b'{"action": "confirm"}', "application/json")]
    return [(None, None)]


def _statuses(client, tokens, path: str, method: str) -> dict[int, dict]:
    seen: dict[int, dict] = {}
    fills = [
        {"{agreement_id}": "us-ru-2016-09", "{key}": "amman:a-1", "{key:path}": "amman:a-1"},
        {"{agreement_id}": "nowhere", "{key}": "none:x", "{key:path}": "none:x"},
    ]
    queries = ["", "?as_of=yesterday&q=Aleppo", "?q=Zzzzqx&agreement=nowhere", "?limit=x"]
    for fill in fills:
        url = path
        for k, v in fill.items():
            url = url.replace(k, v)
        for who in (None, "observer", "humanitarian", "admin"):
            headers = tokens.headers(who) if who else {"Authorization": "Bearer bad"}
            for query in queries:
                for body, ctype in _bodies(path, method):
                    h = {**headers, **({"Content-Type": ctype} if ctype else {})}
                    r = client.request(method.upper(), url + query, content=body, headers=h)
                    seen.setdefault(r.status_code, r.json() if r.status_code >= 400 else {})
    return seen


def test_every_status_a_route_answers_is_declared_with_the_error_body(client, tokens, service):
    from tests.server.data import BASE_ROWS, to_csv

    from truce.store.users import SYSTEM_USER

    service.ingest_reports(to_csv(BASE_ROWS).encode(), format="csv", user=SYSTEM_USER)
    doc = client.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    assert set(schemas["ErrorBody"]["required"]) == _ERROR_KEYS
    undeclared = []
    for path, method in _routes():
        declared = doc["paths"][path.replace("{key:path}", "{key}")][method]["responses"]
        for status, body in _statuses(client, tokens, path, method).items():
            if str(status) not in declared:
                undeclared.append((method, path, status))
            if status >= 400:
                assert set(body) >= _ERROR_KEYS, (path, status, body)
                ref = declared[str(status)]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorBody"), (path, status)
    assert undeclared == []


def test_the_report_routes_declare_their_error_statuses(client):
    doc = client.get("/openapi.json").json()
    for path in ("/api/reports", "/api/reports/validate"):
        declared = set(doc["paths"][path]["post"]["responses"])
        assert {"200", "400", "401", "403", "404", "413", "415", "422"} <= declared
        assert "HTTPValidationError" not in str(doc["paths"][path])


def test_every_declared_422_is_the_error_body_the_server_answers(client, tokens):
    doc = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in str(doc)  # FastAPI's own 422 body is never sent
    declared = [
        (path, method, ops[method]["responses"]["422"])
        for path, ops in doc["paths"].items()
        for method in ops
        if "422" in ops[method]["responses"]
    ]
    assert len(declared) > 10
    for path, method, answer in declared:
        ref = answer["content"]["application/json"]["schema"]["$ref"]
        assert ref == "#/components/schemas/ErrorBody", (method, path)
    answer = client.get("/api/gazetteer?q=Aleppo&limit=x", headers=tokens.headers("observer"))
    assert answer.status_code == 422
    assert set(answer.json()) == _ERROR_KEYS and "limit" in answer.json()["detail"]
