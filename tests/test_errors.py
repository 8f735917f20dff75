"""The error tree: one module, every class with its HTTP status and OGC code, all drawn
in the module's docstring."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

import truce.errors
from truce.api.errors import PayloadTooLarge, UnsupportedMediaType
from truce.errors import GazetteerError, NotFound, TruceError, Unavailable, UnknownAgreement

TREE = [
    obj
    for obj in vars(truce.errors).values()
    if inspect.isclass(obj) and issubclass(obj, TruceError)
]
HTTP_ONLY = [PayloadTooLarge, UnsupportedMediaType]


@pytest.mark.parametrize("cls", TREE + HTTP_ONLY, ids=lambda c: c.__name__)
def test_every_error_carries_a_client_status_and_an_ogc_code(cls: type[TruceError]) -> None:
    # The one server-side state: a part the answer needs is not installed (503).
    assert 400 <= cls.status < 500 or (cls is Unavailable and cls.status == 503)
    assert cls.ogc_code and cls.ogc_code.isalpha()


@pytest.mark.parametrize("cls", TREE, ids=lambda c: c.__name__)
def test_every_error_is_drawn_in_the_tree(cls: type[TruceError]) -> None:
    assert f"── {cls.__name__} " in (truce.errors.__doc__ or "") or cls is TruceError


def test_not_found_kinds_answer_404() -> None:
    assert UnknownAgreement("x").status == GazetteerError("x").status == NotFound("x").status
    assert GazetteerError("Aleppo?", ["Aleppo"]).candidates == ["Aleppo"]


def test_the_tree_is_the_only_error_module():
    src = Path(truce.errors.__file__).parent
    others = sorted(str(p.relative_to(src)) for p in src.rglob("errors.py"))
    assert others == ["api/errors.py", "errors.py"]
