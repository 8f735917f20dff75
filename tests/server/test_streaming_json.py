"""The whole evaluation is sent as it is written (`truce.api.streaming`): the chunks
join into the same document, whatever the block size and list lengths."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from truce.api.streaming import json_chunks

items = st.dictionaries(
    st.text(max_size=5), st.integers(-(2**63), 2**63 - 1) | st.text(max_size=8), max_size=3
)


@given(
    head=st.dictionaries(st.sampled_from(["as_of", "stale", "x"]), st.booleans(), max_size=3),
    incidents=st.lists(items, max_size=12),
    violations=st.lists(items, max_size=12),
    block=st.integers(1, 5),
)
def test_the_chunks_join_into_the_document(head, incidents, violations, block):
    doc = {**head, "incidents": incidents, "violations": violations}
    text = b"".join(json_chunks(doc, ("incidents", "violations"), block=block))
    assert json.loads(text) == doc


def test_numpy_values_are_sent_as_numbers_and_lists():
    doc = {"n": np.int64(3), "incidents": [{"lon": np.float64(37.5), "rows": np.arange(2)}]}
    assert json.loads(b"".join(json_chunks(doc, ("incidents",)))) == {
        "n": 3,
        "incidents": [{"lon": 37.5, "rows": [0, 1]}],
    }


def test_the_api_streams_the_evaluation(client, tokens):
    from tests.server.data import AGREEMENT, BASE_ROWS, to_csv

    h = tokens.headers("admin")
    client.post(
        "/api/reports", content=to_csv(BASE_ROWS), headers={**h, "Content-Type": "text/csv"}
    )
    r = client.get(f"/api/agreements/{AGREEMENT}/evaluation", headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    doc = r.json()
    assert len(doc["incidents"]) == 3 and len(doc["violations"]) == 3
    assert r.headers["Truce-Reports-Version"] == str(doc["reports_version"])
