"""Per-incident values are worked out once per evaluation, and an incremental one works
them out only for the incidents after the ones it kept."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from truce.domain.per_incident import PerIncident
from truce.domain.words import Words


@dataclass(frozen=True)
class Pair:
    flag: np.ndarray
    word: np.ndarray


def test_a_value_is_made_once_and_shared():
    calls: list[slice] = []
    shared = PerIncident(5)

    def make(rows: slice) -> np.ndarray:
        calls.append(rows)
        return np.arange(5)[rows] * 2

    first = shared.get("double", make)
    assert shared.get("double", make) is first
    assert calls == [slice(0, 5)]


def test_the_next_evaluation_makes_only_the_incidents_after_the_kept_ones():
    earlier = PerIncident(4)
    earlier.get("n", lambda rows: np.array([10, 11, 12, 13])[rows])
    earlier.get("pair", lambda rows: Pair(np.array([1, 0, 1, 0], bool)[rows],
                                          np.array(["a", "b", "c", "d"], object)[rows]))  # fmt: skip
    now = PerIncident(6, earlier, kept=3)
    calls: list[slice] = []

    def n(rows: slice) -> np.ndarray:
        calls.append(rows)
        return np.array([10, 11, 12, 99, 98, 97])[rows]

    np.testing.assert_array_equal(now.get("n", n), [10, 11, 12, 99, 98, 97])
    assert calls == [slice(3, 6)]
    pair = now.get("pair", lambda rows: Pair(np.array([1, 1, 1, 1, 1, 1], bool)[rows],
                                             np.array(list("abcxyz"), object)[rows]))  # fmt: skip
    np.testing.assert_array_equal(pair.flag, [True, False, True, True, True, True])
    assert pair.word.tolist() == list("abcxyz")
    # A value the earlier one never made is made whole.
    assert now.get("other", lambda rows: np.arange(6)[rows]).tolist() == list(range(6))


def test_nothing_is_carried_past_what_the_earlier_evaluation_held():
    earlier = PerIncident(2)
    earlier.get("n", lambda rows: np.array([1, 2])[rows])
    now = PerIncident(4, earlier, kept=3)  # cannot keep more than it had: made whole
    assert now.get("n", lambda rows: np.array([5, 6, 7, 8])[rows]).tolist() == [5, 6, 7, 8]


def test_an_unknown_kind_of_value_is_refused():
    earlier = PerIncident(2)
    earlier.get("x", lambda rows: [1, 2][rows])
    with pytest.raises(TypeError, match="no per-incident value"):
        PerIncident(3, earlier, kept=1).get("x", lambda rows: [1, 2, 3][rows])


texts = st.lists(st.sampled_from(["", "gov", "opp", "nusra", "gov+opp"]), max_size=12)


@given(a=texts, b=texts)
def test_joined_words_read_as_both_columns_one_after_the_other(a, b):
    def words(values: list[str]) -> Words:
        # Two values may read as the same text: codes must still point at the right one.
        return Words.of(np.array(values, dtype=object), lambda v: v.split("+")[0])

    first, second = words(a), words(b)
    joined = first.joined(second)
    read = [joined.texts[c] for c in joined.codes.tolist()]
    assert read == [v.split("+")[0] for v in a + b]
    # The first column's texts stay as they were; the second's new ones come once each.
    assert joined.texts[: len(first.texts)] == first.texts
    assert len(joined.texts) == len(first.texts) + len(set(second.texts) - set(first.texts))


def test_a_dict_of_columns_is_carried_column_by_column():
    earlier = PerIncident(3)
    earlier.get("zones", lambda rows: {"a": np.array([1, 0, 1], bool)[rows],
                                      "b": np.array([0, 0, 1], bool)[rows]})  # fmt: skip
    now = PerIncident(4, earlier, kept=2)
    zones = now.get("zones", lambda rows: {"a": np.array([9, 9, 0, 1], bool)[rows],
                                          "b": np.array([9, 9, 1, 1], bool)[rows]})  # fmt: skip
    assert zones["a"].tolist() == [True, False, False, True]
    assert zones["b"].tolist() == [False, False, True, True]
    tail = now.tail(2).get("zones", lambda rows: pytest.fail("sliced, not made again"))
    assert tail["b"].tolist() == [True, True]
