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
