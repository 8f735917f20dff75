"""The /exchange routes in the OpenAPI document: each route declares exactly the statuses it
answers (every one reached here over HTTP), errors with the one ErrorBody, and each
success in its real media type (signed notes as text/plain, the bulletin's canonical
bytes as JSON, its readable report as HTML and PDF)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from tests.exchange.conftest import Pair

from truce.api import Settings, create_app
from truce.api.exchange import router
from truce.exchange.checkpoint import cosign
from truce.exchange.note import generate_signer_key, parse_note

_ERROR_KEYS = {"code", "description", "detail"}


@pytest.fixture
def keyless(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A server that has no exchange key (so no bulletin either)."""
    monkeypatch.setenv("TRUCE_KEY_FILE", str(tmp_path / "none" / "truce.key"))
    from fastapi.testclient import TestClient

    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'keyless.sqlite'}"))
    with TestClient(app) as client:
        yield client
    app.state.service.engine.dispose()


def _cosigned(pair: Pair, signer: object) -> bytes:
    text = parse_note(pair.a.client.get("/exchange/checkpoint").text).text
    return (text + "\n" + cosign(text, signer, 1_500_000_000).line()).encode()  # type: ignore[arg-type]


def test_every_status_an_exchange_route_answers_is_declared_and_no_other(
    pair: Pair, keyless: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = pair.a
    pair.clock.advance(timedelta(hours=2))
    a.issue()
    _, admin = a.service.add_user("ops", "admin")
    _, observer = a.service.add_user("eye", "observer")
    as_admin = {"Authorization": f"Bearer {admin}"}
    as_observer = {"Authorization": f"Bearer {observer}"}
    hmeimim = pair.b.ex.signer
    # (route, client, method, url, body, headers, expected status)
    cases = [
        ("/exchange/key", a.client, "GET", "/exchange/key", None, {}, 200),
        ("/exchange/key", keyless, "GET", "/exchange/key", None, {}, 404),
        ("/exchange/checkpoint", a.client, "GET", "/exchange/checkpoint", None, {}, 200),
        ("/exchange/checkpoint", keyless, "GET", "/exchange/checkpoint", None, {}, 404),
        ("/exchange/bulletins", a.client, "GET", "/exchange/bulletins", None, {}, 200),
        ("/exchange/bulletins", a.client, "GET", "/exchange/bulletins?limit=0", None, {}, 422),
        *[
            (f"/exchange/bulletins/{{seq}}{tail}", a.client, "GET", url, None, {}, status)
            for tail in ("", "/html", "/pdf")
            for url, status in (
                (f"/exchange/bulletins/1{tail}", 200),
                (f"/exchange/bulletins/99{tail}", 404),
                (f"/exchange/bulletins/x{tail}", 422),
            )
        ],
        ("/exchange/incidents/{seq}", a.client, "GET", "/exchange/incidents/1", None, {}, 200),
        ("/exchange/incidents/{seq}", a.client, "GET", "/exchange/incidents/9", None, {}, 404),
        ("/exchange/incidents/{seq}", a.client, "GET", "/exchange/incidents/x", None, {}, 422),
        *[
            (f"/exchange/proof/{kind}", a.client, "GET", f"/exchange/proof/{kind}?{q}", None, {}, s)
            for kind, queries in (
                ("inclusion", ("seq=1&size=1", "seq=1&size=5", "seq=x&size=1")),
                ("consistency", ("from=1&to=1", "from=1&to=9", "from=x&to=1")),
            )
            for q, s in zip(queries, (200, 404, 422), strict=True)
        ],
        ("/exchange/cosignatures", a.client, "GET", "/exchange/cosignatures", None, {}, 200),
        ("/exchange/cosignatures", keyless, "GET", "/exchange/cosignatures", None, {}, 404),
        ("/exchange/cosignatures", a.client, "POST", "/exchange/cosignatures",
         _cosigned(pair, hmeimim), {}, 200),
        ("/exchange/cosignatures", a.client, "POST", "/exchange/cosignatures", b"hello", {}, 400),
        ("/exchange/cosignatures", a.client, "POST", "/exchange/cosignatures",
         _cosigned(pair, generate_signer_key("stranger")), {}, 403),
        ("/exchange/status", a.client, "GET", "/exchange/status", None, {}, 401),
        ("/exchange/status", a.client, "GET", "/exchange/status", None, as_observer, 403),
        ("/exchange/status", a.client, "GET", "/exchange/status", None, as_admin, 200),
    ]  # fmt: skip
    doc = a.client.get("/openapi.json").json()
    seen: dict[tuple[str, str], set[str]] = {}
    for route, client, method, url, body, headers, expected in cases:
        r = client.request(method, url, content=body, headers=headers)  # type: ignore[attr-defined]
        assert r.status_code == expected, (method, url, r.status_code, r.text[:300])
        declared = doc["paths"][route][method.lower()]["responses"]
        answer = declared[str(r.status_code)]
        media = r.headers["content-type"].split(";")[0]
        assert media in answer["content"], (method, url, media, list(answer["content"]))
        if r.status_code >= 400:
            assert set(r.json()) >= _ERROR_KEYS
            ref = answer["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith("/ErrorBody"), (method, url)
        seen.setdefault((route, method.lower()), set()).add(str(r.status_code))

    # The renderer missing: the PDF route's 503.
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    r = a.client.get("/exchange/bulletins/1/pdf")
    assert r.status_code == 503 and set(r.json()) >= _ERROR_KEYS
    seen[("/exchange/bulletins/{seq}/pdf", "get")].add("503")

    routes = {
        (r.path, m.lower()) for r in router.routes if isinstance(r, APIRoute) for m in r.methods
    }
    assert set(seen) == routes  # every route was reached
    for (path, method), statuses in seen.items():
        assert set(doc["paths"][path][method]["responses"]) == statuses, (method, path)
