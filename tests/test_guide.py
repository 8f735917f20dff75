"""The users' guide (docs/, mkdocs.yml): complete, self-contained and served offline.

Kinds, settings and commands are read from the code at test time, so a rule
kind, condition kind, `TRUCE_*` setting or CLI command added later fails here
until it is documented.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import typer.main
import yaml

from truce.api import Settings, create_app
from truce.cli import app as cli_app
from truce.domain.rules import rule_kinds

with warnings.catch_warnings():
    # Starlette prefers `httpx2` for its TestClient; the project pins httpx.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
SRC = REPO / "src" / "truce"
GUIDE_TEXT = "\n".join(p.read_text() for p in sorted(DOCS.glob("*.md")))
MD_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|<(https?://[^>]+)>")
HTML_REF = re.compile(r"""\b(?:href|src)=["']([^"']+)["']""")


def condition_kinds() -> set[str]:
    """Every registered condition kind: the conditions registry when there is one,
    and the loader's list of known kinds."""
    kinds: set[str] = set()
    try:
        registry = importlib.import_module("truce.domain.conditions")
    except ModuleNotFoundError:
        registry = None
    for name in ("condition_kinds", "CONDITION_KINDS", "KINDS"):
        found = getattr(registry, name, None)
        if found is not None:
            kinds |= set(found() if callable(found) else found)
    from truce.formats.agreement import timeline

    kinds |= set(getattr(timeline, "CONDITION_KINDS", ()))
    return kinds


def settings_in_code() -> set[str]:
    names: set[str] = set()
    for path in SRC.rglob("*.py"):
        names |= set(re.findall(r"\bTRUCE_[A-Z0-9_]+\b", path.read_text()))
    from truce.api.settings import ENV_VARS

    return names | set(ENV_VARS.values())


def cli_commands() -> set[str]:
    def walk(command: Any, prefix: str) -> Iterator[str]:
        if hasattr(command, "commands"):  # typer bundles its own click: duck-typed
            for name, sub in command.commands.items():
                yield from walk(sub, f"{prefix} {name}")
        else:
            yield prefix

    return set(walk(typer.main.get_command(cli_app), "truce"))


def test_condition_and_rule_registries_are_not_empty() -> None:
    assert "quiet_days" in condition_kinds()
    assert "cease_attacks" in rule_kinds()


@pytest.mark.parametrize("kind", sorted(rule_kinds()))
def test_every_rule_kind_is_documented_with_an_example(kind: str) -> None:
    assert f"`{kind}`" in GUIDE_TEXT
    assert re.search(rf"kind: {kind}\b", GUIDE_TEXT), f"no YAML example of {kind}"


@pytest.mark.parametrize("kind", sorted(condition_kinds()))
def test_every_condition_kind_is_documented(kind: str) -> None:
    assert f"`{kind}`" in GUIDE_TEXT


@pytest.mark.parametrize("name", sorted(settings_in_code()))
def test_every_setting_is_documented(name: str) -> None:
    assert f"`{name}`" in GUIDE_TEXT


@pytest.mark.parametrize("command", sorted(cli_commands()))
def test_every_cli_command_is_documented(command: str) -> None:
    assert f"`{command}" in GUIDE_TEXT


def _nav_pages(nav: object) -> Iterator[str]:
    if isinstance(nav, str):
        yield nav
    elif isinstance(nav, list):
        for item in nav:
            yield from _nav_pages(item)
    elif isinstance(nav, dict):
        for value in nav.values():
            yield from _nav_pages(value)


def test_every_page_is_in_the_navigation_and_every_nav_entry_exists() -> None:
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text())
    nav = list(_nav_pages(config["nav"]))
    assert sorted(nav) == sorted(p.name for p in DOCS.glob("*.md"))


def _local_target(base: Path, target: str) -> Path:
    path = unquote(urlsplit(target).path)
    return (base.parent / path).resolve() if path else base


@pytest.mark.parametrize(
    "page",
    [REPO / "README.md", REPO / "CONTRIBUTING.md", *sorted(DOCS.glob("*.md"))],
    ids=lambda p: p.name,
)
def test_no_link_leaves_the_repository(page: Path) -> None:
    text = page.read_text()
    assert "../shared" not in text  # a clone has no such folder beside it
    for match in MD_LINK.finditer(text):
        target = match.group(1) or match.group(2)
        parts = urlsplit(target)
        assert not parts.scheme and not parts.netloc, f"{page.name}: outside link {target}"
        resolved = _local_target(page, target)
        assert resolved.is_relative_to(REPO), f"{page.name}: {target} leaves the repository"
        assert resolved.exists(), f"{page.name}: {target} does not exist"


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("guide") / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(site)],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return site


def test_the_built_guide_links_only_to_itself(built_site: Path) -> None:
    pages = sorted(built_site.rglob("*.html"))
    assert len(pages) >= 10
    for page in pages:
        for ref in HTML_REF.findall(page.read_text()):
            parts = urlsplit(ref)
            assert not parts.scheme and not parts.netloc, f"{page}: outside link {ref}"
            if parts.path.startswith("/"):
                # Only the 404 page (served for any missing path) links from the root.
                assert parts.path.startswith("/guide/"), f"{page}: {ref} outside /guide"
                target = built_site / parts.path.removeprefix("/guide/")
            elif parts.path:
                target = _local_target(page, ref)
                if target.is_dir():
                    target = target / "index.html"
                assert target.is_file(), f"{page.relative_to(built_site)}: {ref} not in the site"


def test_the_server_serves_the_built_guide_at_guide(
    built_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRUCE_GUIDE_DIR", str(built_site))
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'g.sqlite'}"))
    with TestClient(app) as client:
        first = client.get("/guide", follow_redirects=False)
        assert first.status_code in (301, 302, 307) and first.headers["location"] == "/guide/"
        home = client.get("/guide/")
        assert home.status_code == 200 and "truce" in home.text
        start = client.get("/guide/quickstart/")
        assert start.status_code == 200 and "make demo" in start.text
        for ref in HTML_REF.findall(start.text):
            if not urlsplit(ref).scheme and ref.endswith((".css", ".js")):
                url = urlsplit(ref).path
                assert client.get(f"/guide/quickstart/{url}").status_code == 200, ref


def test_without_a_built_guide_the_server_says_how_to_build_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRUCE_GUIDE_DIR", str(tmp_path / "nothing"))
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'g.sqlite'}"))
    with TestClient(app) as client:
        answer = client.get("/guide/")
    assert answer.status_code == 404
    assert "make docs" in answer.text


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_api_docs_load_everything_from_the_server_itself(page: str, tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'd.sqlite'}"))
    with TestClient(app) as client:
        html = client.get(page)
        assert html.status_code == 200
        refs = HTML_REF.findall(html.text) + re.findall(r"url: ?'([^']+)'", html.text)
        assets = [r for r in refs if r.endswith((".js", ".css", ".png", ".ico"))]
        assert any(r.endswith(".js") for r in assets)
        assert any("favicon" in r for r in assets), "the favicon must be served too"
        for ref in refs:
            parts = urlsplit(ref)
            assert not parts.scheme and not parts.netloc, f"{page} loads {ref} from outside"
        for ref in assets:
            assert client.get(ref).status_code == 200, ref
        assert "fonts.googleapis" not in html.text


def _readme_agreement_text() -> str:
    readme = (REPO / "README.md").read_text()
    found = re.search(r"```yaml\n# aleppo.yaml\n(.*?)```", readme, re.S)
    assert found, "the README's worked example is gone"
    return found.group(1)


def test_the_readme_example_does_not_reuse_a_built_in_id() -> None:
    from truce.formats.agreement import parse_agreement
    from truce.library.catalog import list_agreements

    example = parse_agreement(_readme_agreement_text())
    assert example.id not in {a.id for a in list_agreements()}


def test_the_readme_says_which_order_coordinates_are_in() -> None:
    readme = (REPO / "README.md").read_text()
    assert "`[lon, lat]`" in readme and "`lat` and `lon` columns" in readme


def test_a_swapped_road_in_the_readme_example_is_caught() -> None:
    from truce.domain.coordinates import agreement_coordinate_warnings
    from truce.formats.agreement import parse_agreement

    text = _readme_agreement_text()
    assert agreement_coordinate_warnings(parse_agreement(text)) == []
    swapped = text.replace(
        "[[37.100, 36.270], [37.130, 36.250], [37.160, 36.240]]",
        "[[36.270, 37.100], [36.250, 37.130], [36.240, 37.160]]",
    )
    flagged = agreement_coordinate_warnings(parse_agreement(swapped))
    assert [w.feature for w in flagged] == ["castello_road"]


def test_the_readme_says_what_the_two_commands_show() -> None:
    readme = (REPO / "README.md").read_text()
    commands = readme.index("make test")
    seen = readme.index("What you will see")
    assert commands < seen < readme.index("## A worked example")
    assert "signin#code=" in readme  # the link the demo prints


def test_no_file_in_the_repository_cites_a_path_outside_it() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    outside = re.compile(r"/work/|\.\./shared\b|\bshared/(SPEC|STYLE|EXAMPLES|reference)")
    for name in tracked:
        path = REPO / name
        if path.suffix not in {".py", ".md", ".yml", ".yaml", ".toml", ".sh", ".txt", ".cfg"}:
            continue
        if path.resolve() == Path(__file__).resolve():
            continue
        assert not outside.search(path.read_text(errors="replace")), f"{name} cites outside"
