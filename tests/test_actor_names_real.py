"""Real actor names, as UCDP GED, ACLED and reporters write them, against the parties of
each built-in agreement (the table is tests/fixtures/actor_names.csv: `expected` is the
"+"-joined ids, `outside` for a state the agreement does not bind, empty for unknown)."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import pytest

from truce.domain.actors import ActorIndex
from truce.library.catalog import load_builtin

TABLE = Path(__file__).parent / "fixtures" / "actor_names.csv"
ROWS = list(csv.DictReader(TABLE.open(encoding="utf-8")))


@cache
def index(agreement_id: str) -> ActorIndex:
    return ActorIndex.from_agreement(load_builtin(agreement_id))


def test_the_table_covers_every_kind_of_variant():
    names = [r["name"] for r in ROWS]
    assert len(ROWS) >= 60
    assert any("." in n and n.replace(".", "").isupper() for n in names)  # dotted acronyms
    assert any("," in n for n in names)  # coalition lists
    assert any(any("\u0600" <= c <= "\u06ff" for c in n) for n in names)  # Arabic script
    assert any(r["expected"] == "outside" for r in ROWS)
    assert any("+" in r["expected"] for r in ROWS)  # mixed party / excluded


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r['agreement']}:{r['name']}")
def test_real_name_resolves_to_the_expected_party(row):
    assert index(row["agreement"]).resolve_one(row["name"]) == row["expected"], row["note"]
