"""POST /api/reports and /api/reports/validate: formats, per-row results, duplicates, bad input."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import func, select
from tests.server.data import BASE_ROWS, many_rows, to_csv, to_jsonl

from truce.store.schema import audit_log, reports

CSV = {"Content-Type": "text/csv"}


def _count(service) -> int:
    with service.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(reports)).scalar_one()


def _post(client, tokens, body, content_type, who="admin", path="/api/reports"):
    return client.post(
        path, content=body, headers={**tokens.headers(who), "Content-Type": content_type}
    )


@pytest.mark.parametrize(
    ("content_type", "encode"),
    [
        ("text/csv", to_csv),
        ("text/csv; charset=utf-8", to_csv),
        ("application/x-ndjson", to_jsonl),
        ("application/json", json.dumps),
    ],
)
def test_every_format_is_accepted_with_one_result_per_row(
    client, tokens, service, content_type, encode
):
    r = _post(client, tokens, encode(BASE_ROWS), content_type)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accepted"] == 4 and body["duplicate"] == 0 and body["rejected"] == []
    assert [x["status"] for x in body["results"]] == ["accepted"] * 4
    assert [x["key"] for x in body["results"]] == [
        "amman:a-1",
        "hmeimim:h-7",
        "hmeimim:h-8",
        "amman:a-2",
    ]
    assert _count(service) == 4


def test_same_batch_again_is_all_duplicate_and_changes_nothing(client, tokens, service):
    assert _post(client, tokens, to_csv(BASE_ROWS), "text/csv").json()["accepted"] == 4
    with service.engine.connect() as conn:
        audit_before = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
    again = _post(client, tokens, to_csv(BASE_ROWS), "text/csv").json()
    assert again["accepted"] == 0 and again["duplicate"] == 4
    assert {x["status"] for x in again["results"]} == {"duplicate"}
    assert _count(service) == 4
    with service.engine.connect() as conn:
        assert (
            conn.execute(select(func.count()).select_from(audit_log)).scalar_one() == audit_before
        )


def test_bad_rows_are_rejected_with_line_field_and_reason_and_good_rows_go_in(
    client, tokens, service
):
    rows = [
        *BASE_ROWS[:2],
        {**BASE_ROWS[2], "lat": 123.0},
        {**BASE_ROWS[3], "event_type": "picnic"},
    ]
    body = _post(client, tokens, to_csv(rows), "text/csv").json()
    assert body["accepted"] == 2
    assert [(x["line"], x["report_id"], x["field"]) for x in body["rejected"]] == [
        (4, "h-8", "lat"),
        (5, "a-2", "event_type"),
    ]
    assert all(x["reason"] for x in body["rejected"])
    assert [x["status"] for x in body["results"]] == [
        "accepted",
        "accepted",
        "rejected",
        "rejected",
    ]
    assert _count(service) == 2


def test_validate_answers_like_ingest_and_stores_nothing(client, tokens, service):
    _post(client, tokens, to_csv(BASE_ROWS[:1]), "text/csv")
    rows = [*BASE_ROWS, {**BASE_ROWS[0], "report_id": "x", "lat": 999}]
    body = _post(client, tokens, to_csv(rows), "text/csv", path="/api/reports/validate").json()
    assert body["accepted"] == 3 and body["duplicate"] == 1 and len(body["rejected"]) == 1
    assert _count(service) == 1


def test_a_centre_submits_as_itself_whatever_the_rows_say(client, tokens, service):
    body = _post(client, tokens, to_csv(BASE_ROWS), "text/csv", who="amman").json()
    # h-7 and h-8 become amman:h-7 and amman:h-8; nothing can be filed under hmeimim.
    assert {x["key"] for x in body["results"]} == {
        "amman:a-1",
        "amman:h-7",
        "amman:h-8",
        "amman:a-2",
    }
    with service.engine.connect() as conn:
        rows = conn.execute(select(reports.c.source, reports.c.submitted_by)).all()
    assert set(rows) == {("amman", "amman")}


@pytest.mark.parametrize(
    ("body", "content_type", "status", "words"),
    [
        ("[{not json", "application/json", 400, "malformed JSON"),
        ('{"a": 1', "application/json", 400, "malformed JSON"),
        ('"just a string"', "application/json", 400, "array"),
        ("", "text/csv", 400, "empty"),
        ("report_id,observed_at\nx,2016-09-13T04:10:00+03:00\n", "text/csv", 400, "column"),
        ("\xff\xfe".encode("latin-1") + b"bad", "text/csv", 400, "UTF-8"),
        ("<xml/>", "application/xml", 415, "Content-Type"),
        ("a,b", "", 415, "Content-Type"),
    ],
)
def test_unusable_bodies_are_refused_with_a_detail_and_nothing_is_stored(
    client, tokens, service, body, content_type, status, words
):
    r = _post(client, tokens, body, content_type)
    assert r.status_code == status, r.text
    assert words.lower() in r.json()["detail"].lower()
    assert _count(service) == 0


def test_oversized_body_is_413_and_nothing_is_stored(client, tokens, service):
    big = to_csv(many_rows(30_000))  # > the 2 MB limit the test app is configured with
    r = _post(client, tokens, big, "text/csv")
    assert r.status_code == 413
    assert "limit" in r.json()["detail"]
    assert _count(service) == 0


def test_oversized_chunked_body_without_length_is_413(client, tokens, service):
    big = to_csv(many_rows(30_000)).encode()

    def gen():
        for i in range(0, len(big), 65536):
            yield big[i : i + 65536]

    r = client.post("/api/reports", content=gen(), headers={**tokens.headers("admin"), **CSV})
    assert r.status_code == 413
    assert _count(service) == 0


def test_place_names_resolve_through_the_gazetteer(client, tokens, service):
    rows = [
        {"report_id": "p-1", "source": "sarc", "observed_at": "2016-09-13T04:10:00+03:00",
         "place": "Aleppo", "event_type": "shelling"}
    ]  # fmt: skip
    body = _post(
        client,
        tokens,
        to_csv(rows, ["report_id", "source", "observed_at", "place", "event_type"]),
        "text/csv",
    ).json()
    assert body["accepted"] == 1, body
    with service.engine.connect() as conn:
        lon, lat = conn.execute(select(reports.c.lon, reports.c.lat)).one()
    assert 37.0 < lon < 37.3 and 36.1 < lat < 36.3


def test_two_threads_ingesting_the_same_reports_store_each_once(client, tokens, service):
    rows = many_rows(3000)
    body = to_csv(rows)
    answers: list[dict] = []

    def post():
        answers.append(_post(client, tokens, body, "text/csv").json())

    threads = [threading.Thread(target=post) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(a["accepted"] for a in answers) == 3000
    assert sum(a["duplicate"] for a in answers) == 6000
    assert _count(service) == 3000


def test_two_services_on_one_database_never_store_a_report_twice(db_url, tokens, service):
    """Two processes' worth of service objects (separate engines) racing on one batch."""
    from truce.service import AgreementRegistry, Service
    from truce.store.engine import make_engine
    from truce.store.users import SYSTEM_USER

    other = Service(make_engine(db_url), AgreementRegistry.load())
    data = to_csv(many_rows(4000)).encode()
    results = []

    def run(svc):
        results.append(svc.ingest_reports(data, format="csv", user=SYSTEM_USER))

    threads = [threading.Thread(target=run, args=(s,)) for s in (service, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.engine.dispose()
    assert sorted(r.accepted for r in results) == [0, 4000]
    assert _count(service) == 4000


# --- bad input (issue #13): a clear 400 or a per-row rejection, never a 500 -----------

_DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("path", ["/api/reports", "/api/reports/validate"])
@pytest.mark.parametrize(
    ("body", "words"),
    [
        (_DEEP, "nested too deeply"),
        ('[{"report_id": "a", "notes": ' + _DEEP + "}]", "nested too deeply"),
        ('[{"report_id": "a", "count": ' + "9" * 4301 + "}]", "4300 digits"),
    ],
    ids=["nested-array", "nested-value", "huge-integer"],
)
def test_json_bodies_that_python_cannot_read_are_400(client, tokens, service, path, body, words):
    r = _post(client, tokens, body, "application/json", path=path)
    assert r.status_code == 400, r.text
    assert words in r.json()["detail"]
    assert _count(service) == 0


@pytest.mark.parametrize("path", ["/api/reports", "/api/reports/validate"])
def test_json_lines_too_deep_or_too_long_reject_their_row_only(client, tokens, service, path):
    lines = to_jsonl(BASE_ROWS[:2]).splitlines()
    lines.insert(1, '{"report_id": "deep", "notes": ' + _DEEP + "}")
    lines.insert(2, json.dumps({**BASE_ROWS[2], "notes": "x" * (128 * 1024 + 1)}))
    r = _post(client, tokens, "\n".join(lines) + "\n", "application/x-ndjson", path=path)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accepted"] == 2
    assert [(x["line"], x["field"]) for x in body["rejected"]] == [(2, None), (3, "notes")]
    assert "128 KiB" in body["rejected"][1]["reason"]
    assert _count(service) == (2 if path == "/api/reports" else 0)


def test_underflowing_coordinate_and_duplicate_column_over_http(client, tokens, service):
    r = _post(client, tokens, to_csv([{**BASE_ROWS[0], "lat": "1e-400"}]), "text/csv").json()
    assert r["accepted"] == 0 and r["rejected"][0]["field"] == "lat"
    twice = to_csv(BASE_ROWS[:1]).replace("notes", "lat", 1)
    r = _post(client, tokens, twice, "text/csv")
    assert r.status_code == 400 and "'lat' (columns 4, 12)" in r.json()["detail"]
    assert _count(service) == 0


@pytest.mark.parametrize("body", ["", "\n\n  \n"])
def test_an_empty_body_is_400(client, tokens, body):
    r = _post(client, tokens, body, "text/csv")
    assert r.status_code == 400 and "at least one report" in r.json()["detail"]
