"""A bulletin's reports read the same whether a time comes as SQLite's text or a datetime."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from truce.exchange.bulletin import report_dict
from truce.store.reports import _sqlite_times

instants = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@given(instants, st.booleans())
def test_sqlite_text_is_written_as_the_datetime_would_be(when: datetime, whole: bool) -> None:
    if whole:
        when = when.replace(microsecond=0)
    text = _sqlite_times(np.array([np.datetime64(when.replace(tzinfo=None), "us")]))[0]
    from_text = report_dict({"observed_at": text, "observed_to": text, "notes": text})
    from_datetime = report_dict({"observed_at": when, "observed_to": when, "notes": text})
    assert from_text == from_datetime
    assert from_text["notes"] == text  # only the time columns are rewritten
