"""The web map, dashboard and report form, end to end in headless Chromium
against a real `truce serve --demo` (see conftest.py). Each step saves a
screenshot under test-output/web/."""

from __future__ import annotations

import re
import time
import uuid

import pytest
from tests.web.conftest import AGREEMENT, Server, shot

pytestmark = pytest.mark.browser

MAP = f"/?agreement={AGREEMENT}"


def evaluation(server: Server, role: str = "admin") -> dict:
    """The current evaluation: after a change the server answers with the previous one
    (`stale`) until its background refresh is done."""
    deadline = time.monotonic() + 60
    with server.api(role) as api:
        while True:
            r = api.get(f"/api/agreements/{AGREEMENT}/evaluation")
            r.raise_for_status()
            if not r.json()["stale"] or time.monotonic() > deadline:
                return r.json()
            time.sleep(0.1)


def shown_on_map(page) -> int:  # type: ignore[no-untyped-def]
    """Incidents drawn on the map now: single markers plus the counts of clusters."""
    return page.evaluate(
        """() => document.querySelectorAll('.leaflet-marker-pane .incident-marker').length
            + [...document.querySelectorAll('.leaflet-marker-pane .incident-cluster span:first-child')]
                .reduce((n, s) => n + Number(s.textContent), 0)"""
    )


def visible_count(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.locator("#time-count").get_attribute("data-visible"))


def a_violation_incident(ev: dict, review: str | None = None) -> tuple[dict, dict]:
    """An incident with exactly one violation (optionally with that review), and the violation."""
    by_id = {v["id"]: v for v in ev["violations"]}
    for inc in ev["incidents"]:
        vs = [by_id[v] for v in inc.get("violations", []) if v in by_id]
        if len(vs) == 1 and (review is None or vs[0].get("review") == review):
            return inc, vs[0]
    pytest.fail("the demo data has no incident with exactly one violation")


def test_sign_in_with_a_token_shows_who_is_signed_in(open_page, server: Server) -> None:
    page, errors = open_page(MAP, role=None)
    assert page.locator("body").get_attribute("data-ready") == "signed-out"
    page.get_by_role("button", name="Sign in", exact=True).first.click()
    page.get_by_label("Token").fill("not-a-token")
    page.locator("#signin-form button[type=submit]").click()
    page.get_by_text("That token was not accepted.").wait_for()
    shot(page, "00-sign-in-rejected")
    page.get_by_label("Token").fill(server.tokens["observer"])
    page.locator("#signin-form button[type=submit]").click()
    page.wait_for_selector("#whoami[data-role=observer]")
    page.wait_for_selector("body[data-ready=true]", state="attached")
    assert "observer" in page.locator("#auth").inner_text()
    # the 401 of the rejected token is expected; nothing else may fail
    assert [e for e in errors if "401" not in e] == []


def test_map_loads_with_zones_checkpoints_and_incidents(open_page, server: Server) -> None:
    page, errors = open_page(MAP)
    ev = evaluation(server)
    with server.api() as api:
        geo = api.get(f"/api/agreements/{AGREEMENT}/geojson").json()
    zones = [f for f in geo["features"] if f["properties"]["layer"] == "zone"]
    points = [f for f in geo["features"] if f["properties"].get("kind") == "point"]
    lines = [f for f in geo["features"] if f["properties"].get("kind") == "line"]

    assert page.locator("path.zone-shape").count() == len(zones) > 0
    assert page.locator("path.feature-line").count() == len(lines)
    assert page.locator(".checkpoint-icon:not(.legend-cp)").count() == len(points)
    assert page.locator("#stat-incidents").inner_text() == str(len(ev["incidents"]))
    assert visible_count(page) == len(ev["incidents"]) > 0
    assert shown_on_map(page) > 0
    assert page.locator(".legend").is_visible()
    assert page.locator("table.party-rule").is_visible()
    # place labels from the gazetteer on the plain background
    page.wait_for_selector(".place-label", state="attached", timeout=15_000)
    assert page.get_by_text("Aleppo", exact=True).count() >= 1
    shot(page, "01-map-loaded")
    assert errors == []


def test_moving_the_time_slider_changes_the_incidents_shown(open_page, server: Server) -> None:
    page, errors = open_page(MAP)
    slider = page.locator("#time-slider")
    total = visible_count(page)
    on_map_at_end = shown_on_map(page)
    assert int(slider.input_value()) == int(slider.get_attribute("max"))

    # keyboard: Home goes to the start of the timeline, before any incident
    slider.focus()
    page.keyboard.press("Home")
    assert visible_count(page) == 0
    assert shown_on_map(page) == 0
    assert "0 incidents" in page.locator("#time-count").inner_text()

    # a third of the way along: some incidents, not all
    max_steps = int(slider.get_attribute("max"))
    slider.fill(str(max_steps // 3))
    early = visible_count(page)
    assert 0 < early < total
    assert 0 < shown_on_map(page) < on_map_at_end
    label = page.locator("#time-label").inner_text()
    assert re.search(r"\d{1,2} Sep 2016, \d\d:\d\d", label), label
    shot(page, "02-time-slider-early")

    # a 24-hour window ending there shows at most as many
    page.locator("#time-mode").select_option("24h")
    assert visible_count(page) <= early
    page.keyboard.press("End")
    slider.focus()
    page.keyboard.press("End")
    assert visible_count(page) < total
    page.locator("#time-mode").select_option("all")
    assert visible_count(page) == total
    assert errors == []


def test_clicking_an_incident_on_the_map_opens_its_evidence(open_page, server: Server) -> None:
    page, errors = open_page(MAP)
    inc, violation = a_violation_incident(evaluation(server))
    key = inc["key"]
    # the list brings the incident out of its cluster ...
    page.locator(f'.incident-item[data-key="{key}"]').click()
    page.locator("#incident-panel").wait_for()
    page.locator("#panel-close").click()
    assert page.locator("#incident-panel").is_hidden()
    # ... and clicking its marker on the map opens the panel
    marker = page.locator(f'.incident-marker[data-key="{key}"]')
    marker.click()
    panel = page.locator("#incident-panel")
    panel.wait_for()
    panel.locator(".evidence").first.wait_for()
    assert violation["evidence"] in panel.inner_text()
    assert panel.locator(f'.violation-card[data-violation="{violation["key"]}"]').is_visible()
    assert panel.locator(".report-row").count() == len(inc["report_ids"])
    assert panel.locator(".report-row .grade").first.inner_text().strip() != ""
    shot(page, "03-incident-evidence")
    assert errors == []


def test_a_bad_report_shows_the_field_error_and_stores_nothing(open_page, server: Server) -> None:
    page, errors = open_page(f"/submit?agreement={AGREEMENT}")
    report_id = f"web-test-{uuid.uuid4().hex[:8]}"
    source = "web-form-test"
    page.locator("#f-report_id").fill(report_id)
    page.locator("#f-source").fill(source)
    page.locator("#f-observed_at").fill("2016-09-13T04:10:00+03:00")
    page.get_by_label("Latitude").fill("123")
    page.get_by_label("Longitude").fill("37.15")
    page.locator("#f-event_type").select_option("shelling")
    page.get_by_label("Actor").fill("SAA")
    page.get_by_role("button", name="Check and submit").click()

    error = page.locator("#err-lat")
    error.wait_for()
    assert "lat" in error.inner_text().lower() or "123" in error.inner_text()
    assert page.get_by_label("Latitude").get_attribute("aria-invalid") == "true"
    assert page.locator("#form-errors").is_visible()
    assert page.locator("#submit-ok").count() == 0
    shot(page, "04-submit-bad-report")

    report_key = f"{source}:{report_id}"
    stored = {k for i in evaluation(server)["incidents"] for k in i["report_ids"]}
    assert report_key not in stored

    # fixed through the gazetteer lookup, it goes in
    page.get_by_label("Latitude").fill("")
    page.get_by_label("Longitude").fill("")
    page.get_by_label("Place name").fill("Aleppo")
    page.get_by_role("button", name="Look up").click()
    page.locator(".place-choice").first.click()
    assert page.get_by_label("Latitude").input_value().startswith("36.")
    page.get_by_role("button", name="Check and submit").click()
    page.locator("#submit-ok").wait_for()
    assert page.locator("#err-lat").is_hidden()
    shot(page, "05-submit-good-report")
    stored = {k for i in evaluation(server)["incidents"] for k in i["report_ids"]}
    assert report_key in stored
    assert [e for e in errors if "404" not in e] == []


def test_secretariat_confirms_a_violation_and_the_map_restyles_it(
    open_page, server: Server
) -> None:
    inc, violation = a_violation_incident(evaluation(server, "secretariat"), review="alleged")
    page, errors = open_page(MAP, role="secretariat")
    key = inc["key"]
    page.locator(f'.incident-item[data-key="{key}"]').click()
    marker = page.locator(f'.incident-marker[data-key="{key}"]')
    marker.wait_for()
    assert "status-confirmed" not in (marker.get_attribute("class") or "")
    card = page.locator(f'.violation-card[data-violation="{violation["key"]}"]')
    card.locator(".review-comment").fill("Checked against two centres' logs.")
    card.locator("button[data-action=confirm]").click()
    card = page.locator(f'.violation-card[data-violation="{violation["key"]}"]')
    card.locator(".review-pill.review-confirmed").wait_for()
    page.wait_for_function(
        'key => document.querySelector(`.incident-marker[data-key="${key}"]`)'
        "?.classList.contains('status-confirmed')",
        arg=key,
    )
    assert "Checked against two centres" in card.inner_text()
    shot(page, "06-secretariat-confirmed")

    with server.api("secretariat") as api:
        assert api.get(f"/api/violations/{violation['key']}").json()["review"] == "confirmed"
    # a reload shows the same: the style comes from the server's state
    page.reload()
    page.wait_for_selector("body[data-ready=true]", state="attached")
    item = page.locator(f'.incident-item[data-key="{key}"]')
    assert "status-confirmed" in (item.get_attribute("class") or "")
    assert errors == []


def test_observers_get_no_review_actions(open_page, server: Server) -> None:
    with server.api("admin") as api:
        inc, violation = a_violation_incident(evaluation(server))
        r = api.post(f"/api/violations/{violation['key']}/review", json={"action": "publish"})
        assert r.status_code == 200, r.text
    ev = evaluation(server, "observer")
    keys = {i["key"] for i in ev["incidents"]}
    page, errors = open_page(MAP, role="observer")
    assert visible_count(page) == len(ev["incidents"])
    if inc["key"] in keys:
        page.locator(f'.incident-item[data-key="{inc["key"]}"]').click()
        page.locator(
            "#incident-panel .violation-card, #incident-panel .report-row"
        ).first.wait_for()
        assert page.locator(".review-form").count() == 0
    shot(page, "07-observer-map")
    assert errors == []


def test_dashboard_shows_phases_conditions_and_violations_per_party(
    open_page, server: Server
) -> None:
    page, errors = open_page(f"/dashboard?agreement={AGREEMENT}")
    with server.api() as api:
        dash = api.get(f"/api/agreements/{AGREEMENT}/dashboard").json()
    assert page.locator(".phase-chart .phase-bar").count() == sum(
        1 for p in dash["phases"] if p.get("start")
    )
    for cond in dash["conditions"]:
        card = page.locator(f'.condition[data-condition="{cond["id"]}"]')
        assert card.count() == 1
        if cond["kind"] != "quiet_days":
            continue  # composites and the like: no daily chart
        assert card.locator(".condition-chart g.day").count() == len(cond["daily"])
        assert card.locator(".threshold").count() == 1
        # The demo's quiet week counts only days the demo centre's bulletins cover.
        uncovered = [d for d in cond["daily"] if d["complete"] and not d["covered"]]
        assert cond["coverage"] == ["demo"] and uncovered
        assert card.locator("g.day-uncovered").count() == len(uncovered)
        assert (
            card.locator("g.day-uncovered title")
            .first.text_content()
            .endswith("not covered by the bulletins")
        )
    total = sum(r["count"] for r in dash["violations_by_party_day"])
    assert page.locator("table.heat tfoot td.total").last.inner_text() == str(total)
    shot(page, "08-dashboard", full_page=True)
    assert errors == []


def test_dashboard_shows_the_next_phase_waiting_on_its_three_parts_as_a_tree(
    open_page, server: Server
) -> None:
    page, errors = open_page(f"/dashboard?agreement={AGREEMENT}")
    with server.api() as api:
        dash = api.get(f"/api/agreements/{AGREEMENT}/dashboard").json()
    by_id = {c["id"]: c for c in dash["conditions"]}
    tree = page.locator('.cond-tree-card[data-tree="next-phase"]')
    assert tree.is_visible() and "Joint Implementation Centre" in tree.inner_text()
    for part in ("quiet-week", "checkpoints-up", "withdrawn"):
        node = tree.locator(f'[data-condition-node="{part}"]')
        assert node.count() == 1
        pill = node.locator(".cond-pill").first.inner_text()
        assert ("Met" in pill) is (by_id[part]["met_at"] is not None), (part, pill)
    # The demo sets the checkpoints up: that part says when it was met.
    assert "met " in tree.locator('[data-condition-node="checkpoints-up"]').inner_text()
    assert page.locator('[data-status-of="un-castello-1"]').count() == 1
    assert errors == []


def test_map_shows_convoy_routes_and_checkpoint_status(open_page, server: Server) -> None:
    page, errors = open_page(MAP)
    assert page.locator("path.convoy-route").count() >= 1
    assert page.locator(".checkpoint-icon.cp-up").count() >= 1
    # Observers see neither sites nor a refused request for them.
    obs, obs_errors = open_page(MAP, role="observer")
    assert obs.locator(".site-icon").count() == 0
    assert errors == [] and obs_errors == []


@pytest.mark.parametrize(
    "path",
    [MAP, f"/dashboard?agreement={AGREEMENT}", "/submit", f"/bulletins?agreement={AGREEMENT}"],
)
def test_pages_fit_a_phone_screen(open_page, path: str) -> None:
    page, errors = open_page(path, width=390, height=844)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page is {overflow}px wider than the phone screen"
    name = path.split("?")[0].strip("/") or "map"
    shot(page, f"09-phone-{name}")
    if name == "map":
        page.locator(".incident-item").first.click()
        page.locator("#incident-panel").wait_for()
        page.locator("#panel-body dl").first.wait_for()
        shot(page, "10-phone-incident")
    assert errors == []


def test_bulletins_page_lists_the_centres_bulletins_and_shows_one_with_its_pdf(
    open_page, server: Server
) -> None:
    import httpx

    dashboard, _ = open_page(f"/dashboard?agreement={AGREEMENT}")
    dashboard.locator("#bulletins-link").click()
    dashboard.wait_for_url(re.compile(r"/bulletins\?agreement="))
    page, errors = open_page(f"/bulletins?agreement={AGREEMENT}")
    listed = httpx.get(f"{server.url}/exchange/bulletins", params={"agreement": AGREEMENT}).json()[
        "bulletins"
    ]
    assert len(listed) == 6  # the demo centre's daily bulletins, 14..19 Sep
    rows = page.locator("#bulletin-list tbody tr")
    assert rows.count() == len(listed)
    frame = page.frame_locator("#bulletin-frame")
    frame.locator("h1").wait_for()
    assert f"Bulletin No. {listed[0]['seq']} — demo" in frame.locator("h1").inner_text()
    rows.last.locator("a.bulletin-open").click()  # the oldest
    page.wait_for_url(re.compile(rf"seq={listed[-1]['seq']}"))
    frame.locator(f"h1:has-text('Bulletin No. {listed[-1]['seq']} ')").wait_for()
    assert rows.last.get_attribute("aria-current") == "true"
    pdf = httpx.get(server.url + page.locator("#bulletin-pdf").get_attribute("href"), timeout=60)
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    shot(page, "13-bulletins", full_page=True)
    assert errors == []
