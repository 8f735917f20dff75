"""The bulletins in the web interface, over HTTP: the page, the list, one bulletin as HTML
and as PDF (the same report `truce bulletin show` writes), and clear errors."""

from __future__ import annotations

import sys
from datetime import timedelta

import pytest
from tests.exchange.conftest import Pair, rows_of
from tests.server.data import AGREEMENT

from truce.exchange.render import to_html


def _issue_two(pair: Pair) -> None:
    a = pair.a
    pair.clock.advance(timedelta(hours=2))
    a.issue()
    a.ingest(rows_of("amman"))
    pair.clock.advance(timedelta(hours=2))
    a.issue()


def test_the_page_and_the_dashboard_link_to_the_bulletins(pair: Pair) -> None:
    page = pair.a.client.get("/bulletins")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/static/js/bulletins-page.js" in page.text
    assert 'href="/bulletins"' in page.text  # in the navigation
    assert 'id="bulletins-link"' in pair.a.client.get("/dashboard").text
    assert pair.a.client.get("/static/js/bulletins-page.js").status_code == 200


def test_the_list_is_newest_first_per_agreement_and_pages_with_before(pair: Pair) -> None:
    client = pair.a.client
    assert client.get("/exchange/bulletins").json() == {"origin": "amman", "bulletins": []}
    _issue_two(pair)
    listed = client.get("/exchange/bulletins", params={"agreement": AGREEMENT}).json()
    assert listed["origin"] == "amman"
    assert [b["seq"] for b in listed["bulletins"]] == [2, 1]
    newest = listed["bulletins"][0]
    assert newest["agreement"] == AGREEMENT
    assert newest["period"]["from"] == listed["bulletins"][1]["period"]["to"]  # no gap
    older = client.get("/exchange/bulletins", params={"before": 2}).json()["bulletins"]
    assert [b["seq"] for b in older] == [1]
    other = client.get("/exchange/bulletins", params={"agreement": "coh-2016-02"}).json()
    assert other["bulletins"] == []
    bad = client.get("/exchange/bulletins", params={"limit": 0})
    assert bad.status_code == 422 and set(bad.json()) >= {"code", "description"}


def test_one_bulletin_as_html_and_pdf_is_the_report_the_cli_writes(pair: Pair) -> None:
    _issue_two(pair)
    client = pair.a.client
    html = client.get("/exchange/bulletins/2/html")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert html.text == to_html(*pair.a.ex.bulletin_pair(2))
    assert "Bulletin No. 2 — amman" in html.text and "amman:a-1" in html.text
    pdf = client.get("/exchange/bulletins/2/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert 'filename="amman-2.pdf"' in pdf.headers["content-disposition"]


def test_a_missing_bulletin_or_renderer_is_a_clear_error(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = pair.a.client
    for path in ("/exchange/bulletins/7/html", "/exchange/bulletins/7/pdf"):
        r = client.get(path)
        assert r.status_code == 404 and r.json()["description"] == "no bulletin 7"
    _issue_two(pair)
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # as if it were not installed
    r = client.get("/exchange/bulletins/1/pdf")
    assert r.status_code == 503 and r.json()["code"] == "ServiceUnavailable"
    assert "WeasyPrint" in r.json()["description"]
