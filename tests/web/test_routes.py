"""`mount_web` in-process: pages, static files (Leaflet from XStatic, no CDN), settings."""

from __future__ import annotations

import json
import re
import warnings
from types import SimpleNamespace

import pytest
from fastapi import FastAPI

from truce.web.routes import STATIC_DIR, mount_web, web_settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def client(**settings: str) -> TestClient:
    app = FastAPI()
    if settings:
        app.state.settings = SimpleNamespace(**settings)
    mount_web(app)
    return TestClient(app)


def page_config(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="truce-config">(.*?)</script>', html, re.S)
    assert m, "the page carries its config"
    return json.loads(m.group(1))


@pytest.mark.parametrize(
    ("path", "script"),
    [
        ("/", "map-page.js"),
        ("/dashboard", "dashboard-page.js"),
        ("/submit", "submit-page.js"),
        ("/bulletins", "bulletins-page.js"),
    ],
)
def test_each_page_is_served_with_its_script(path: str, script: str) -> None:
    r = client().get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert f"/static/js/{script}" in r.text
    assert 'aria-current="page"' in r.text


@pytest.mark.parametrize(
    "path",
    [
        "/static/vendor/leaflet/leaflet.js",
        "/static/vendor/leaflet/leaflet.css",
        "/static/vendor/leaflet-markercluster/leaflet.markercluster.js",
        "/static/vendor/leaflet-markercluster/MarkerCluster.css",
        "/static/css/truce.css",
        "/static/js/map-page.js",
    ],
)
def test_static_files_including_leaflet_are_served_locally(path: str) -> None:
    assert client().get(path).status_code == 200


def test_pages_and_scripts_reference_no_external_host() -> None:
    """Closed networks: no CDN, no web fonts, no tile server unless configured."""
    c = client()
    texts = [c.get(p).text for p in ("/", "/dashboard", "/submit", "/bulletins")]
    texts += [f.read_text() for f in STATIC_DIR.rglob("*") if f.suffix in (".js", ".css")]
    for text in texts:
        urls = re.findall(r"""(?:src|href)=["'](https?:)?//""", text)
        urls += re.findall(r"""(?:import|from)\s*["']https?://""", text)
        urls += re.findall(r"""url\(["']?https?://""", text)
        assert urls == []


def test_no_tiles_by_default_and_a_tile_url_when_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TRUCE_TILE_URL", raising=False)
    monkeypatch.delenv("TRUCE_DEFAULT_AGREEMENT", raising=False)
    assert page_config(client().get("/").text)["tileUrl"] == ""
    monkeypatch.setenv("TRUCE_TILE_URL", "https://tiles.example.org/{z}/{x}/{y}.png")
    monkeypatch.setenv("TRUCE_TILE_ATTRIBUTION", "© Example")
    config = page_config(client().get("/").text)
    assert config == {
        "tileUrl": "https://tiles.example.org/{z}/{x}/{y}.png",
        "tileAttribution": "© Example",
        "defaultAgreement": "",
    }


def test_default_agreement_for_first_time_visitors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUCE_DEFAULT_AGREEMENT", "us-ru-2016-09")
    assert page_config(client().get("/dashboard").text)["defaultAgreement"] == "us-ru-2016-09"


def test_app_settings_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUCE_TILE_URL", "https://env.example/{z}/{x}/{y}.png")
    app = FastAPI()
    app.state.settings = SimpleNamespace(tile_url="/tiles/{z}/{x}/{y}.png", tile_attribution=None)
    assert web_settings(app).tile_url == "/tiles/{z}/{x}/{y}.png"
    assert web_settings(FastAPI()).tile_url == "https://env.example/{z}/{x}/{y}.png"


def test_config_cannot_break_out_of_its_script_tag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUCE_TILE_ATTRIBUTION", "</script><script>alert(1)</script>")
    html = client().get("/").text
    assert "</script><script>alert(1)" not in html
    assert page_config(html)["tileAttribution"] == "</script><script>alert(1)</script>"
