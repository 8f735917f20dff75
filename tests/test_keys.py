"""Report and violation keys: built and split in one place, and they round-trip."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from truce.domain.keys import (
    report_key,
    report_keys,
    split_report_key,
    split_violation_key,
    violation_key,
)
from truce.errors import NotFound

sources = st.text(min_size=1).filter(lambda s: ":" not in s)
ids = st.text(min_size=1)


@given(sources, ids, st.text(min_size=1).filter(lambda s: ":" not in s))
def test_keys_round_trip_even_when_a_report_id_contains_colons(source, report_id, rule):
    key = report_key(source, report_id)
    assert split_report_key(key) == (source, report_id)
    assert report_keys([source], [report_id]) == [key]
    assert split_violation_key(violation_key("agr", rule, key)) == ("agr", rule, key)


@pytest.mark.parametrize("bad", ["", "agr", "agr:rule", "agr::amman:a-1", ":rule:amman:a-1"])
def test_a_malformed_violation_key_is_not_found(bad):
    with pytest.raises(NotFound, match="malformed violation key"):
        split_violation_key(bad)
