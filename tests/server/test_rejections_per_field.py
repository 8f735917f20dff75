"""The API answers one rejection per field at fault, so a form can mark each field."""

from __future__ import annotations

import pytest

from truce.formats.reports import read_reports

GOOD = {
    "report_id": "f-1",
    "source": "amman",
    "observed_at": "2016-09-13T04:10:00+03:00",
    "lat": 36.25,
    "lon": 37.13,
    "event_type": "shelling",
}


@pytest.mark.parametrize("path", ["/api/reports/validate", "/api/reports"])
def test_a_bad_time_and_a_bad_latitude_are_two_rejections_each_with_its_field(
    client, tokens, path: str
) -> None:
    row = {**GOOD, "observed_at": "yesterday", "lat": 123.0}
    answer = client.post(path, json=[row], headers=tokens.headers("admin"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    fields = {r["field"]: r for r in body["rejected"]}
    assert set(fields) == {"observed_at", "lat"}
    assert "123" in fields["lat"]["reason"] and "123" not in fields["observed_at"]["reason"]
    assert "yesterday" in fields["observed_at"]["reason"]
    assert {r["line"] for r in body["rejected"]} == {1}
    assert body["accepted"] == 0
    assert [r["status"] for r in body["results"]] == ["rejected"]  # still one result per row


def test_a_row_with_one_bad_field_is_one_rejection(client, tokens) -> None:
    answer = client.post(
        "/api/reports/validate", json=[{**GOOD, "lon": "east"}], headers=tokens.headers("admin")
    )
    assert [r["field"] for r in answer.json()["rejected"]] == ["lon"]


def test_the_reader_keeps_one_rejection_per_row_with_its_problems() -> None:
    text = (
        "report_id,source,observed_at,lat,lon,event_type\nx-1,amman,yesterday,123,37.1,shelling\n"
    )
    read = read_reports(text, format="csv")
    [rejection] = read.rejected
    assert [field for field, _ in rejection.problems] == ["observed_at", "lat"]
    assert rejection.field == "observed_at"
    assert rejection.reason == "; ".join(reason for _, reason in rejection.problems)
