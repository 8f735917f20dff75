"""Settings: each has an environment variable, documented in docs/api.md; tests can
swap one dependency."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from truce.api.deps import get_current_user
from truce.api.settings import ENV_VARS, Settings
from truce.store.engine import database_url_from_env
from truce.store.users import User

API_DOC = (Path(__file__).parents[2] / "docs" / "api.md").read_text()


def test_every_setting_has_a_documented_environment_variable():
    assert set(ENV_VARS) == set(Settings.model_fields)
    for var in ENV_VARS.values():
        assert f"`{var}`" in API_DOC, var
    assert "`TRUCE_DB_PATH`" in API_DOC


def test_settings_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TRUCE_DB_PATH", str(tmp_path / "x.sqlite"))
    monkeypatch.delenv("TRUCE_DATABASE_URL", raising=False)
    monkeypatch.setenv("TRUCE_MAX_BODY_BYTES", "1234")
    monkeypatch.setenv("TRUCE_OGC_PUBLIC", "true")
    monkeypatch.setenv("TRUCE_MIGRATE", "0")
    s = Settings.from_env()
    assert s.database_url == f"sqlite:///{tmp_path / 'x.sqlite'}"
    assert (s.max_body_bytes, s.ogc_public, s.migrate) == (1234, True, False)
    monkeypatch.setenv("TRUCE_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert database_url_from_env() == "postgresql+psycopg://u@h/db"


def test_a_test_can_override_exactly_the_current_user(app, client):
    app.dependency_overrides[get_current_user] = lambda: User(
        id=99, name="stub", role="observer", party=None, created_at=datetime.now(UTC)
    )
    try:
        assert client.get("/api/me").json() == {
            "name": "stub",
            "role": "observer",
            "party": None,
            "sources": [],  # an observer submits nothing
        }
    finally:
        app.dependency_overrides.clear()
