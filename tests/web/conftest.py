"""Browser test fixtures: a real `truce serve --demo` process and headless Chromium.

The server runs as a subprocess on a free localhost port with its own SQLite
database, the demo reports of us-ru-2016-09, an admin (made by `--demo`) and a
secretariat and an observer user (made with `truce users add` beforehand).

Chromium is Debian's `/usr/bin/chromium` (override with `TRUCE_CHROMIUM`),
installed by scripts/setup-chromium.sh and driven by Playwright for Python; we
never run `playwright install`. Missing Chromium: skip locally, FAIL under CI
(`CI=true`).

Screenshots go to `test-output/web/` at the repository root (gitignored).
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
OUTPUT_DIR = REPO / "test-output" / "web"
CHROMIUM = os.environ.get("TRUCE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
IN_CI = os.environ.get("CI", "").lower() == "true"
AGREEMENT = "us-ru-2016-09"
SERVER_START_S = 120


def truce_command(*args: str) -> list[str]:
    """`truce ARGS` with this interpreter, so the test venv's code is what runs.

    `TRUCE_TEST_CLI` (a command line, split on spaces) replaces `python -m truce`."""
    prefix = os.environ.get("TRUCE_TEST_CLI", "").split() or [sys.executable, "-m", "truce"]
    return [*prefix, *args]


@dataclass(frozen=True)
class Server:
    url: str  # ends without "/"
    tokens: dict[str, str]  # role -> token
    log: Path

    def api(self, role: str = "admin") -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.tokens[role]}"},
            timeout=60,
        )


def _chromium_problem() -> str | None:
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"Chromium not found at {CHROMIUM}; run scripts/setup-chromium.sh"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright (Python) is not installed; pip install -e '.[test]'"
    return None


@pytest.fixture(scope="session")
def chromium_path() -> str:
    problem = _chromium_problem()
    if problem:
        if IN_CI:
            pytest.fail(problem)
        pytest.skip(problem)
    return CHROMIUM


@pytest.fixture(scope="session")
def output_dir() -> Path:
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    return OUTPUT_DIR


def _add_user(db_url: str, name: str, role: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        truce_command("users", "add", name, "--role", role, "--db", db_url),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"truce users add {name} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout.strip().splitlines()[-1].strip()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Server]:
    """`truce serve --demo` on a free port; stopped (SIGTERM, then SIGKILL) at the end."""
    workdir = tmp_path_factory.mktemp("truce-serve")
    db_url = f"sqlite:///{workdir / 'truce.sqlite'}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("TRUCE_DATABASE_URL", None)
    env.pop("TRUCE_TILE_URL", None)  # the closed-network default: no tiles
    tokens = {
        "secretariat": _add_user(db_url, "secretariat-1", "secretariat", env),
        "observer": _add_user(db_url, "observer-1", "observer", env),
    }
    log_path = workdir / "serve.log"
    log = log_path.open("w")
    proc = subprocess.Popen(
        truce_command("serve", "--demo", "--host", "127.0.0.1", "--port", "0", "--db", db_url),
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
    url = None
    deadline = time.monotonic() + SERVER_START_S
    try:
        while time.monotonic() < deadline and not (url and "admin" in tokens):
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                if proc.poll() is not None:
                    break
                continue
            if m := re.search(r"at (http://[^\s/]+)/", line):
                url = m.group(1)
            if m := re.search(r"admin token:\s*(\S+)", line):
                tokens["admin"] = m.group(1)
        if not (url and "admin" in tokens):
            proc.kill()
            pytest.fail(f"truce serve --demo did not start; log:\n{log_path.read_text()[-3000:]}")
        _wait_healthy(url)
        yield Server(url=url, tokens=tokens, log=log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        log.close()


def _wait_healthy(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{url}/api/health did not answer")


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        b.close()


class PageErrors(list[str]):
    """JS errors and failed requests seen by a page; a test asserts it stays empty."""


@pytest.fixture
def open_page(browser, server: Server, output_dir: Path):  # type: ignore[no-untyped-def]
    """open_page(path, role=..., width=..., height=...) -> (page, errors), signed in as `role`."""
    contexts = []

    def open_(path: str, *, role: str | None = "admin", width: int = 1280, height: int = 800):  # type: ignore[no-untyped-def]
        ctx = browser.new_context(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
        contexts.append(ctx)
        errors = PageErrors()
        if role:
            # The top page only: a sandboxed frame (a bulletin) may not touch sessionStorage.
            token = server.tokens[role]
            ctx.add_init_script(
                f"if (window === window.top) sessionStorage.setItem('truce.token', {token!r})"
            )
        # A closed network: any request off this server is a bug (CDN, tiles, fonts).
        ctx.route(
            re.compile(r"^(?!" + re.escape(server.url) + r"/).*"),
            lambda route: (errors.append(f"external request: {route.request.url}"), route.abort()),
        )
        page = ctx.new_page()
        page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
        page.on(
            "console",
            lambda msg: (
                errors.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None
            ),
        )
        page.goto(server.url + path)
        page.wait_for_selector("body[data-ready]", state="attached", timeout=30_000)
        return page, errors

    yield open_
    for ctx in contexts:
        ctx.close()


def shot(page, name: str, *, full_page: bool = False) -> Path:  # type: ignore[no-untyped-def]
    """Save a screenshot of what the page shows now under test-output/web/NAME.png."""
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUTPUT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
