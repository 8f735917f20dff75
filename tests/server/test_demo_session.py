"""`truce serve --demo`: one expiring demo admin token at a time, and one-time sign-in links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.server.conftest import TestClient

from truce.api import Settings, create_app
from truce.api.signin import SignInLinks
from truce.cli.demo_session import DEMO_TOKEN_TTL, DEMO_USER, demo_token, load_demo_reports


@pytest.fixture
def demo_app(tmp_path: Path):  # type: ignore[no-untyped-def]
    return create_app(Settings(database_url=f"sqlite:///{tmp_path / 'demo.sqlite'}"))


def test_each_demo_run_revokes_the_previous_demo_token(demo_app) -> None:  # type: ignore[no-untyped-def]
    service = demo_app.state.service
    first, _ = demo_token(service)
    second, _ = demo_token(service)
    third, _ = demo_token(service)
    active = [u for u in service.list_users() if u.revoked_at is None]
    assert [u.name for u in active] == [DEMO_USER]
    assert service.authenticate(third).name == DEMO_USER
    for old in (first, second):
        with pytest.raises(Exception, match="revoked"):
            service.authenticate(old)


def test_the_demo_token_expires(demo_app) -> None:  # type: ignore[no-untyped-def]
    service = demo_app.state.service
    now = datetime.now(UTC)
    _, expires = demo_token(service, now=now)
    assert expires == now + DEMO_TOKEN_TTL
    user = next(u for u in service.list_users() if u.name == DEMO_USER)
    assert user.expires_at is not None and user.expires_at <= now + timedelta(days=1)


def test_tokens_of_older_demo_runs_are_revoked_too(demo_app) -> None:  # type: ignore[no-untyped-def]
    service = demo_app.state.service
    _, legacy = service.add_user("demo-admin-20261201120000", "admin", None, actor="demo")
    _, other = service.add_user("ops", "admin", None)
    demo_token(service)
    with pytest.raises(Exception, match="revoked"):
        service.authenticate(legacy)
    assert service.authenticate(other).name == "ops"


def test_loading_the_demo_twice_adds_nothing_the_second_time(demo_app) -> None:  # type: ignore[no-untyped-def]
    service = demo_app.state.service
    first = load_demo_reports(service)
    again = load_demo_reports(service)
    assert first.accepted > 100 and again.accepted == 0
    assert again.duplicate == first.accepted
    assert "reports added" in first.describe()


def test_a_sign_in_code_works_once() -> None:
    now = [0.0]
    links = SignInLinks(clock=lambda: now[0])
    code = links.issue("tok", ttl_s=60)
    assert links.redeem(code) == "tok"
    assert links.redeem(code) is None


def test_a_sign_in_code_expires() -> None:
    now = [0.0]
    links = SignInLinks(clock=lambda: now[0])
    code = links.issue("tok", ttl_s=60)
    now[0] = 61.0
    assert links.redeem(code) is None
    assert links.redeem("never-issued") is None


def test_the_signin_endpoint_answers_the_token_once(demo_app) -> None:  # type: ignore[no-untyped-def]
    token, _ = demo_token(demo_app.state.service)
    code = demo_app.state.signin_links.issue(token)
    with TestClient(demo_app) as client:
        first = client.post("/api/signin", json={"code": code})
        assert first.status_code == 200 and first.json() == {"token": token}
        me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["name"] == DEMO_USER
        again = client.post("/api/signin", json={"code": code})
        assert again.status_code == 401 and "already used or has expired" in again.json()["detail"]
        page = client.get("/signin")
        assert page.status_code == 200 and "signin-page.js" in page.text


def test_the_demo_counts_its_quiet_week_only_on_the_days_its_bulletins_cover(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from truce.cli import demo_centre

    monkeypatch.delenv("TRUCE_KEY_FILE", raising=False)
    monkeypatch.delenv("TRUCE_KEY", raising=False)
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    centre = demo_centre.prepare(url)
    assert centre.name == "demo" and (tmp_path / "truce.key").stat().st_mode & 0o077 == 0
    app = create_app(Settings(database_url=url, agreement_files=(centre.agreement_file,)))
    service = app.state.service
    load_demo_reports(service)
    issued = demo_centre.issue_bulletins(app.state.exchange)
    assert len(issued) == 6 and all(i.created for i in issued)  # 14..19 Sep, one a day

    def quiet_week(agreement_app) -> dict:  # type: ignore[no-untyped-def,type-arg]
        as_of = datetime.fromisoformat("2016-09-20T00:00:00+03:00")
        data = agreement_app.state.service.snapshot("us-ru-2016-09", as_of=as_of).data
        return next(c for c in data["conditions"] if c["id"] == "quiet-week")

    days = {d["day"]: d for d in quiet_week(app)["daily"]}
    # 13 Sep has no bulletin: not covered, so not quiet however few its incidents.
    assert days["2016-09-13"]["covered"] is False and days["2016-09-13"]["quiet"] is False
    assert days["2016-09-13"]["incidents"] <= 5
    for day in ("2016-09-14", "2016-09-15", "2016-09-16", "2016-09-17", "2016-09-18"):
        assert days[day]["covered"] is True
        assert days[day]["quiet"] is (days[day]["incidents"] <= 5)
    assert any(days[d]["quiet"] for d in days)  # some covered day is quiet

    # Again (the next `serve --demo`): the same key, no new bulletin.
    assert demo_centre.prepare(url).name == "demo"
    assert not any(i.created for i in demo_centre.issue_bulletins(app.state.exchange))

    # The built-in agreement, served without the demo file, names no centres.
    plain = create_app(Settings(database_url=url))
    assert quiet_week(plain)["daily"][0]["quiet"] is True
