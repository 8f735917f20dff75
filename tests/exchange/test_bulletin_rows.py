"""A bulletin's reports read the same whether a time comes as SQLite's text or a datetime."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from truce.exchange import queries
from truce.exchange.bulletin import report_dict
from truce.store.engine import read_transaction
from truce.store.report_columns import sqlite_times

from .conftest import Pair, rows_of

instants = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@given(instants, st.booleans())
def test_sqlite_text_is_written_as_the_datetime_would_be(when: datetime, whole: bool) -> None:
    if whole:
        when = when.replace(microsecond=0)
    text = sqlite_times(np.array([np.datetime64(when.replace(tzinfo=None), "us")]))[0]
    from_text = report_dict({"observed_at": text, "observed_to": text, "notes": text})
    from_datetime = report_dict({"observed_at": when, "observed_to": when, "notes": text})
    assert from_text == from_datetime
    assert from_text["notes"] == text  # only the time columns are rewritten


@pytest.mark.parametrize("pair", ["sqlite", "postgresql"], indirect=True)
def test_a_bulletins_reports_are_plain_json_for_the_fast_writer(pair: Pair) -> None:
    """orjson refuses keys of a str subclass (SQLAlchemy's column names); had they leaked
    into the rows, every bulletin would be written by the slow Python walk."""
    for centre in (pair.a, pair.b):
        assert centre.ingest(rows_of(centre.name)) > 0
        with read_transaction(centre.service.engine) as conn:
            rows = queries.period_reports(conn, 0, 10**9)
        assert rows and all(type(k) is str for r in rows for k in r)
        orjson.dumps(rows, option=orjson.OPT_SORT_KEYS)  # raises on anything orjson refuses
        assert {r["source"] for r in rows} == {centre.name}
        assert all(report_dict(r)["observed_at"].endswith("Z") for r in rows)
