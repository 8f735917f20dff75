"""The fast canonical JSON path writes exactly the RFC 8785 reference bytes."""

from __future__ import annotations

import math

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from truce.exchange.canonical import _as_rfc8785, canonical_json, canonical_json_fast

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)  # the first call compiles the scan
@given(json_values)
def test_fast_path_equals_the_reference(value: object) -> None:
    assert canonical_json_fast(value) == canonical_json(value)


# Strings that look like the numbers the rewrite touches, so a rewrite reaching inside a
# string would show.
tricky_text = (
    st.sampled_from(
        ["1.0", "-0.0", '"2.0"', "a\\", '\\"3.0', "1e5", "é.0", "x.0,", '",-0]', "\x00"]
    )
    | st.text()
    | st.text(alphabet='0123456789.-,"\\:e')
)
report_like = st.dictionaries(
    st.sampled_from(["lat", "lon", "notes", "fatalities", "place", "count", "\u00e9t\u00e9"]),
    st.none() | st.integers(-(10**6), 10**6) | st.floats(-1e6, 1e6, allow_nan=False) | tricky_text,
    max_size=7,
)


@settings(max_examples=400, deadline=None)  # the first call compiles the scan
@given(st.lists(report_like, max_size=6))
def test_rewritten_orjson_output_equals_the_reference_whenever_taken(value: object) -> None:
    fast = _as_rfc8785(orjson.dumps(value, option=orjson.OPT_SORT_KEYS))
    if fast is not None:
        assert fast == canonical_json(value)


def test_the_rewrite_is_taken_for_report_like_documents() -> None:
    """The fast path must not quietly fall back for what bulletins hold."""
    doc = {
        "reports": [
            {"lat": 36.2 + i / 1e4, "lon": 37.1, "fatalities": 2.0, "notes": 'said "1.0"\\'}
            for i in range(50)
        ],
        "place": "حلب",
        "count": -0.0,
    }
    fast = _as_rfc8785(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS))
    assert fast is not None
    assert fast == canonical_json(doc)


def test_integral_floats_are_written_as_integers_and_keys_sorted() -> None:
    assert (
        canonical_json_fast({"b": 2.0, "a": [1.5, -0.0, "é"]}) == '{"a":[1.5,0,"é"],"b":2}'.encode()
    )


def test_reference_follows_rfc8785_number_examples() -> None:
    # RFC 8785 appendix B examples.
    for value, text in [
        (1e21, b"1e+21"),
        (1e-7, b"1e-7"),
        (333333333.3333333, b"333333333.3333333"),
    ]:
        assert canonical_json(value) == text
        assert canonical_json_fast(value) == text
    assert math.isclose(float(canonical_json_fast(0.1)), 0.1)


def test_the_scan_leaves_to_the_reference_only_what_it_cannot_rewrite() -> None:
    from truce.exchange.jcs_scan import rewrite

    assert rewrite(b'{"a":[2.0,-0.0,0.5,-10.0],"b":"x.0,\\"-0.0"}') == (
        b'{"a":[2,0,0.5,-10],"b":"x.0,\\"-0.0"}'
    )
    assert rewrite(b"-0.0") == b"0"
    for unsure in (b"[1e16]", b"[1.5E-7]", b"[1234567890123456]", '["\ue000"]'.encode()):
        assert rewrite(unsure) is None, unsure
    assert rewrite(b'["1e16",123456789012345]') == b'["1e16",123456789012345]'


def test_numpy_scalars_and_str_subclass_keys_are_written_as_their_plain_values() -> None:
    import numpy as np

    odd = {np.str_("b"): [np.int64(3), np.float64(2.0), (1, 0.5)], "a": np.float64(1e21)}
    plain = {"b": [3, 2.0, [1, 0.5]], "a": 1e21}
    assert canonical_json_fast(odd) == canonical_json(plain) == b'{"a":1e+21,"b":[3,2,[1,0.5]]}'
