"""A newcomer's first hour, in a real browser.

A fresh database, `truce serve --demo`, and the link it prints opened in
headless Chromium: the browser is signed in without pasting anything and the
first screen tells the story in one sentence — at 1280×800 and 390×844. The
screenshots are saved under test-output/web/ (first-hour-*.png) to be looked at.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.web.conftest import CHROMIUM_ARGS, SERVER_START_S, _wait_healthy, shot, truce_command

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@dataclass(frozen=True)
class Demo:
    url: str
    links: list[str]  # one-time sign-in links, in the order printed
    output: str


def _start_demo(workdir: Path) -> tuple[subprocess.Popen[str], str, str, Path]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUCE_")}
    env.update(PYTHONUNBUFFERED="1", TRUCE_DEFAULT_AGREEMENT="us-ru-2016-09")
    log_path = workdir / "serve.log"
    log = log_path.open("a")
    db = f"sqlite:///{workdir / 'truce.sqlite'}"
    proc = subprocess.Popen(
        truce_command("serve", "--demo", "--host", "127.0.0.1", "--port", "0", "--db", db),
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env=env,
        cwd=workdir,
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            log.flush()
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    url = link = None
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline and not (url and link):
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            if proc.poll() is not None:
                break
            continue
        if m := re.search(r"at (http://[^\s/]+)/", line):
            url = m.group(1)
        if m := re.search(r"^open (http://\S+/signin#code=\S+) to sign in", line):
            link = m.group(1)
    if not (url and link):
        proc.kill()
        pytest.fail(
            f"truce serve --demo printed no sign-in link; log:\n{log_path.read_text()[-3000:]}"
        )
    _wait_healthy(url)
    return proc, url, link, log_path


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Demo]:
    """Two runs of `truce serve --demo` on one fresh database, as `make demo` twice would:
    the second run's link is the one the browser opens; the first run's is stale."""
    workdir = tmp_path_factory.mktemp("first-hour")
    first, _, stale_link, _ = _start_demo(workdir)
    _stop(first)
    proc, url, link, log_path = _start_demo(workdir)
    try:
        # The earlier run listened on another free port: its link, aimed at this server.
        stale_here = re.sub(r"^http://[^/]+", url, stale_link)
        yield Demo(url=url, links=[stale_here, link], output=log_path.read_text())
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def chromium(chromium_path: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _watch(ctx, page, url: str) -> list[str]:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    ctx.route(
        re.compile(r"^(?!" + re.escape(url) + r"/).*"),
        lambda route: (errors.append(f"external request: {route.request.url}"), route.abort()),
    )
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda m: (
            errors.append(f"console: {m.text}")
            if m.type == "error" and "401" not in m.text
            else None
        ),
    )
    return errors


def _story_on_first_screen(page, height: int) -> str:  # type: ignore[no-untyped-def]
    story = page.locator("#story")
    story.wait_for(state="visible", timeout=30_000)
    box = story.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, box
    return story.inner_text()


def test_the_printed_link_signs_in_and_the_first_screen_tells_the_story(
    demo: Demo, chromium
) -> None:  # type: ignore[no-untyped-def]
    ctx = chromium.new_context(viewport=DESKTOP)
    page = ctx.new_page()
    errors = _watch(ctx, page, demo.url)
    page.goto(demo.links[-1])
    page.wait_for_url(re.compile(r"/\?|/$"), timeout=30_000)
    page.wait_for_selector("body[data-ready='true']", timeout=60_000)
    assert "signin" not in page.url and "code=" not in page.url
    assert page.locator("#whoami").inner_text().startswith("demo-admin")
    story = _story_on_first_screen(page, DESKTOP["height"])
    # One sentence: what happened, and which party broke which term (by name, not id).
    assert story.count(". ") == 0 and story.endswith(".")
    assert re.search(r"monitors recorded \d+ violations in \d+ incidents", story)
    assert "Syrian government and associated forces broke “" in story
    assert "Armed opposition groups" in story
    assert "r-" not in story
    shot(page, "first-hour-desktop")

    # The party × rule table names its rules; nothing on the page shows a rule id.
    rows = page.locator("table.party-rule tbody th").all_inner_texts()
    assert rows and all(not re.match(r"r-[a-z0-9-]+$", r) for r in rows)
    assert "Government withdrawal from Castello Road" in rows

    # Zone names are drawn above the incident clusters, and the legend does not cover the zones.
    panes = page.evaluate(
        """() => {
        const z = (el) => Number(getComputedStyle(el.closest('.leaflet-pane')).zIndex);
        const label = document.querySelector('.zone-label');
        const cluster = document.querySelector('.incident-cluster');
        return [z(label), cluster ? z(cluster) : 0];
    }"""
    )
    assert panes[0] > panes[1]
    overlap = page.evaluate(
        """() => {
        const a = document.querySelector('.legend').getBoundingClientRect();
        const hits = [];
        for (const z of document.querySelectorAll('path.zone-shape')) {
            const b = z.getBoundingClientRect();
            if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom)
                hits.push(z.getAttribute('class'));
        }
        return hits;
    }"""
    )
    assert overlap == []

    # At phone size the same tab still opens on the story, with nothing scrolling sideways.
    page.set_viewport_size(PHONE)
    page.reload()
    page.wait_for_selector("body[data-ready='true']", timeout=60_000)
    _story_on_first_screen(page, PHONE["height"])
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    wide = page.evaluate(
        """() => [...document.querySelectorAll('.table-scroll, .chart-scroll')]
            .filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.className)"""
    )
    assert wide == []
    shot(page, "first-hour-phone")

    page.goto(demo.url + "/dashboard")
    page.wait_for_selector("body[data-ready='true']", timeout=60_000)
    wide = page.evaluate(
        """() => [...document.querySelectorAll('.table-scroll, .chart-scroll, svg.chart, table')]
            .filter((e) => e.scrollWidth > e.clientWidth + 1
                || e.getBoundingClientRect().right > window.innerWidth + 1)
            .map((e) => e.className.baseVal ?? e.className)"""
    )
    assert wide == []
    assert page.locator("table.heat tfoot td.total").last.is_visible()
    shot(page, "first-hour-phone-dashboard", full_page=True)
    assert errors == []
    ctx.close()

    # The link worked once; the earlier run's link does not work at all.
    for link in demo.links:
        other = chromium.new_context(viewport=PHONE)
        page = other.new_page()
        page.goto(link)
        message = page.locator("#signin-message")
        message.filter(has_text="already used or has expired").wait_for(timeout=30_000)
        assert page.evaluate("sessionStorage.getItem('truce.token')") is None
        assert "code=" not in page.url
        other.close()


def test_each_demo_run_leaves_one_working_demo_token(demo: Demo, tmp_path: Path) -> None:
    tokens = re.findall(r"admin token: (\S+) \(expires", demo.output)
    assert len(tokens) == 2
    import httpx

    old, new = (
        httpx.get(f"{demo.url}/api/me", headers={"Authorization": f"Bearer {t}"}) for t in tokens
    )
    assert old.status_code == 401 and "revoked" in old.text
    assert new.status_code == 200 and new.json()["name"] == "demo-admin"
