"""The OpenAPI document describes what `/ogc` answers: schemathesis, as in
`test_openapi_conformance` (same checks and settings), over the OGC routes, with the
collection and feature ids of the seeded store among the values tried, and filters
generated as strings (mostly unusable: 400s, which must be declared)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import strategies as st
from tests.server.data import AGREEMENT, BASE_ROWS, to_csv
from tests.server.test_openapi_conformance import (
    CHECKS,
    HYPOTHESIS,
    INCIDENT,
    VIOLATION,
    Seeded,
    _document,
)

from truce.api import Settings, create_app
from truce.store.users import SYSTEM_USER

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette prefers `httpx2`; the project pins httpx
    from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """A store with reports, and every agreement's evaluation computed before the run:
    schemathesis runs the app's lifespan, whose end stops the evaluation refresher."""
    folder: Path = tmp_path_factory.mktemp("schemathesis-ogc")
    app = create_app(Settings(database_url=f"sqlite:///{folder / 'truce.sqlite'}"))
    service = app.state.service
    service.ingest_reports(to_csv(BASE_ROWS).encode(), format="csv", user=SYSTEM_USER)
    _, admin = service.add_user("schema-admin", "admin", None)
    client = TestClient(app)  # no `with`: no lifespan here
    answer = client.get("/ogc/collections", headers={"Authorization": f"Bearer {admin}"})
    assert answer.status_code == 200, answer.text
    for path in (
        f"/ogc/collections/{AGREEMENT}-incidents/items/{INCIDENT}",
        f"/ogc/collections/{AGREEMENT}-violations/items/{VIOLATION}",
    ):
        answer = client.get(path, headers={"Authorization": f"Bearer {admin}"})
        assert answer.status_code == 200, (path, answer.text)
    client.close()
    yield Seeded(app, admin)
    service.engine.dispose()


KNOWN_PATH_VALUES: dict[str, list[object]] = {
    "collection_id": [f"{AGREEMENT}-{kind}" for kind in ("incidents", "violations", "zones")],
    "feature_id": [INCIDENT, VIOLATION],
}
document = schemathesis.openapi.from_dict(_document())


@document.hook
def flatmap_path_parameters(_ctx: object, values: dict[str, object] | None) -> st.SearchStrategy:
    known = {name: KNOWN_PATH_VALUES[name] for name in values or {} if name in KNOWN_PATH_VALUES}
    if not known:
        return st.just(values)
    replaced = st.fixed_dictionaries({n: st.sampled_from(v) for n, v in known.items()})
    return st.one_of(st.just(values), replaced.map(lambda r: {**values, **r}))


schema = document.include(path_regex="^/ogc")


@schema.parametrize()
@HYPOTHESIS
def test_every_ogc_answer_matches_the_document(case, seeded: Seeded) -> None:
    case.call_and_validate(
        app=seeded.app, headers={"Authorization": f"Bearer {seeded.admin}"}, checks=CHECKS
    )


@schema.parametrize()
@HYPOTHESIS
def test_every_ogc_answer_without_a_token_matches_the_document(case, seeded: Seeded) -> None:
    case.call_and_validate(app=seeded.app, checks=CHECKS)
