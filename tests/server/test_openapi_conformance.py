"""The OpenAPI document describes what the server answers: schemathesis generates requests
from `/openapi.json` (valid and invalid ones, every case its coverage phase derives from
the document, then `MAX_EXAMPLES` fuzzed ones per operation) and checks each answer's
status, media type, body and headers against the document, and that none is a 500.

Small by default so CI can afford it; `TRUCE_SCHEMATHESIS_EXAMPLES=500` runs it larger
(CONTRIBUTING.md). Deterministic: derandomized, one fresh SQLite store per module seeded
with reports, a centre key and one bulletin (so reads answer 200 as well as 4xx), and the
operations run in the document's order.

Covered: `/api/*`, `/exchange/*` and `/ogc/*`: every route of the document but the web
pages.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import checks as st_checks
from tests.server.data import AGREEMENT, BASE_ROWS, to_csv

from truce.api import Settings, create_app
from truce.exchange.keys import init_key
from truce.store.users import SYSTEM_USER

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette prefers `httpx2`; the project pins httpx
    from fastapi.testclient import TestClient

MAX_EXAMPLES = int(os.environ.get("TRUCE_SCHEMATHESIS_EXAMPLES", "25"))
CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
    st_checks.response_headers_conformance,
]
HYPOTHESIS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),  # generation speed on a loaded CI machine
)


@schemathesis.serializer("application/x-ndjson", "application/gzip")
def _as_bytes(_ctx: object, value: object) -> bytes:
    """JSON Lines and gzip bodies are declared as strings: sent as their bytes (a gzip
    body that is not gzip data is read as it is, like any other body)."""
    if isinstance(value, bytes):
        return value
    return value.encode() if isinstance(value, str) else json.dumps(value).encode()


INCIDENT = "amman:a-1"
VIOLATION = f"{AGREEMENT}:r-cease:hmeimim:h-8"


@dataclass
class Seeded:
    app: object  # the app behind `WithoutLifespan`
    admin: str  # an admin's token: every operation is allowed


class WithoutLifespan:
    """The app as schemathesis calls it: its lifespan answered here, not passed on.

    The fixture runs the app's lifespan once for the module, as a server does;
    schemathesis would stop and start it again around every test, and the app's
    shutdown is final (its evaluation refresher, watermark and engine are closed)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    folder: Path = tmp_path_factory.mktemp("schemathesis")
    init_key("amman", folder / "truce.key")  # beside the store: the centre's exchange key
    app = create_app(Settings(database_url=f"sqlite:///{folder / 'truce.sqlite'}"))
    service = app.state.service
    service.ingest_reports(to_csv(BASE_ROWS).encode(), format="csv", user=SYSTEM_USER)
    app.state.exchange.issue(AGREEMENT)
    _, admin = service.add_user("schema-admin", "admin", None)
    with TestClient(app) as client:  # the lifespan, once
        for path in (  # the known path values name real things
            f"/api/agreements/{AGREEMENT}/incidents/{INCIDENT}",
            f"/api/violations/{VIOLATION}",
            "/exchange/bulletins/1",
            f"/ogc/collections/{AGREEMENT}-incidents/items/{INCIDENT}",
            f"/ogc/collections/{AGREEMENT}-violations/items/{VIOLATION}",
        ):
            answer = client.get(path, headers={"Authorization": f"Bearer {admin}"})
            assert answer.status_code == 200, (path, answer.text)
        yield Seeded(WithoutLifespan(app), admin)


def _document() -> dict[str, object]:
    """The app's OpenAPI document; building it reads no database."""
    app = create_app(Settings(database_url="sqlite:////nonexistent/truce.sqlite", migrate=False))
    return app.openapi()


ROUTES = "^/(api|exchange|ogc)(/|$)"
document = schemathesis.openapi.from_dict(_document())

# Path values that name something in the seeded store, so answers other than 404 are
# reached (and checked) too; generated values still reach the 404s.
KNOWN_PATH_VALUES: dict[str, list[object]] = {
    "agreement_id": [AGREEMENT],
    "key": [INCIDENT, VIOLATION],
    "seq": [1],  # the bulletin issued at start
    "collection_id": [f"{AGREEMENT}-{kind}" for kind in ("incidents", "violations", "zones")],
    "feature_id": [INCIDENT, VIOLATION],
}


@document.hook
def flatmap_path_parameters(_ctx: object, values: dict[str, object] | None) -> st.SearchStrategy:
    known = {name: KNOWN_PATH_VALUES[name] for name in values or {} if name in KNOWN_PATH_VALUES}
    if not known:
        return st.just(values)
    replaced = st.fixed_dictionaries({n: st.sampled_from(v) for n, v in known.items()})
    return st.one_of(st.just(values), replaced.map(lambda r: {**values, **r}))


schema = document.include(path_regex=ROUTES)


@schema.parametrize()
@HYPOTHESIS
def test_every_answer_matches_the_document_as_admin(case, seeded: Seeded) -> None:
    case.call_and_validate(
        app=seeded.app, headers={"Authorization": f"Bearer {seeded.admin}"}, checks=CHECKS
    )


@document.include(path_regex=ROUTES, method="GET").parametrize()
@HYPOTHESIS
def test_every_read_without_a_token_matches_the_document(case, seeded: Seeded) -> None:
    case.call_and_validate(app=seeded.app, checks=CHECKS)
