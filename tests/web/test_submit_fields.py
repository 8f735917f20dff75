"""The report form shows each server-side error beside its own field."""

from __future__ import annotations

import uuid

import pytest
from tests.web.conftest import AGREEMENT, shot

pytestmark = pytest.mark.browser


def test_a_bad_time_and_a_bad_latitude_are_shown_each_beside_its_field(open_page) -> None:  # type: ignore[no-untyped-def]
    page, errors = open_page(f"/submit?agreement={AGREEMENT}")
    page.locator("#f-report_id").fill(f"two-errors-{uuid.uuid4().hex[:8]}")
    page.locator("#f-source").fill("web-form-test")
    page.locator("#f-observed_at").fill("yesterday at noon")
    page.get_by_label("Latitude").fill("123")
    page.get_by_label("Longitude").fill("37.15")
    page.locator("#f-event_type").select_option("shelling")
    page.get_by_role("button", name="Check and submit").click()

    lat_error = page.locator("#err-lat")
    time_error = page.locator("#err-observed_at")
    lat_error.wait_for()
    time_error.wait_for()
    assert "123" in lat_error.inner_text() and "123" not in time_error.inner_text()
    assert "yesterday" in time_error.inner_text() and "yesterday" not in lat_error.inner_text()
    assert page.get_by_label("Latitude").get_attribute("aria-invalid") == "true"
    assert page.locator("#f-observed_at").get_attribute("aria-invalid") == "true"
    assert "2 problems" in page.locator("#form-errors").inner_text()
    shot(page, "first-hour-submit-two-errors")
    assert [e for e in errors if "404" not in e] == []
