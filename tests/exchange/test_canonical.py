"""The fast canonical JSON path writes exactly the RFC 8785 reference bytes."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from truce.exchange.canonical import canonical_json, canonical_json_fast

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


@settings(max_examples=400)
@given(json_values)
def test_fast_path_equals_the_reference(value: object) -> None:
    assert canonical_json_fast(value) == canonical_json(value)


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
