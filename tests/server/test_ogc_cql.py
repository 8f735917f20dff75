"""CQL2 -> numpy masks (`truce.api.ogc.cql`, `truce.api.ogc.cql_mask`): each operator,
three-valued logic with nulls, both encodings, and the 400s."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truce.api.ogc.cql import parse_filter
from truce.api.ogc.cql_mask import Column, Points, SimpleColumns, mask
from truce.errors import BadInput


def _ns(texts: list[str | None]) -> np.ndarray:
    t = pd.to_datetime(pd.Series(texts, dtype=object), utc=True, format="ISO8601")
    return t.to_numpy(dtype="datetime64[ns]").view(np.int64)


# Five rows; row 2 has every nullable value null.
COLUMNS = SimpleColumns(
    {
        "party": Column.strings(["SAA", "FSA", None, "saa", "S_A"]),
        "grade": Column.strings(["B1", "C3", None, "B2", "A1"]),
        "fatalities": Column.numbers([0, 2, None, 5, 1]),
        "published": Column.booleans(np.array([True, False, False, True, False])),
        "observed_at": Column.timestamps(
            _ns(
                [
                    "2016-09-13T01:00:00Z",
                    "2016-09-14T01:00:00Z",
                    None,
                    "2016-09-12T23:00:00Z",
                    "2016-09-13T00:00:00Z",
                ]
            )
        ),
        "geometry": Points(
            np.array([37.0, 37.5, 179.5, -179.5, 38.0]), np.array([36.0, 36.5, 0.0, 0.0, 37.0])
        ),
    }
)


def rows(text: str, lang: str = "cql2-text") -> list[int]:
    node = parse_filter(text, lang, None)
    assert node is not None
    return np.flatnonzero(mask(node, COLUMNS)).tolist()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # comparisons; the null row is never selected, negated or not
        ("party = 'SAA'", [0]),
        ("party <> 'SAA'", [1, 3, 4]),
        ("NOT party = 'SAA'", [1, 3, 4]),
        ("party > 'R'", [0, 3, 4]),
        ("fatalities >= 2", [1, 3]),
        ("fatalities < 2", [0, 4]),
        ("NOT fatalities < 2", [1, 3]),
        ("published = true", [0, 3]),
        ("published = false", [1, 2, 4]),
        ("'a' = 'a'", [0, 1, 2, 3, 4]),
        # advanced comparison: LIKE ('_' one character, '\\' escapes), IN, BETWEEN
        ("party LIKE 'S%'", [0, 4]),
        ("party LIKE '_SA'", [1]),
        ("party LIKE 'S\\_A'", [4]),
        ("party NOT LIKE 'S%'", [1, 3]),
        ("party IN ('SAA', 'FSA')", [0, 1]),
        ("party NOT IN ('SAA')", [1, 3, 4]),
        ("fatalities IN (0, 5)", [0, 3]),
        ("fatalities BETWEEN 1 AND 2", [1, 4]),
        ("fatalities NOT BETWEEN 1 AND 2", [0, 3]),
        # IS NULL is never unknown
        ("party IS NULL", [2]),
        ("fatalities IS NOT NULL", [0, 1, 3, 4]),
        ("NOT party IS NULL", [0, 1, 3, 4]),
        # case-insensitive comparison
        ("CASEI(party) = CASEI('saa')", [0, 3]),
        ("CASEI(party) LIKE CASEI('s%')", [0, 3, 4]),
        ("CASEI(party) IN (CASEI('Saa'))", [0, 3]),
        # logic: AND binds tighter than OR; unknown OR true is true
        ("party = 'FSA' OR fatalities = 0 AND grade = 'B1'", [0, 1]),
        ("(party = 'FSA' OR fatalities = 0) AND grade = 'C3'", [1]),
        ("NOT (party = 'SAA' OR fatalities > 1)", [4]),
        ("party IS NULL OR fatalities > 4", [2, 3]),
        ("INCLUDE", [0, 1, 2, 3, 4]),
        ("EXCLUDE", []),
        # timestamps compared with = < >; a DATE is the whole UTC day
        ("observed_at > TIMESTAMP('2016-09-13T00:00:00Z')", [0, 1]),
        ("observed_at = DATE('2016-09-13')", [0, 4]),
        ("observed_at < DATE('2016-09-13')", [3]),
        ("observed_at >= DATE('2016-09-13')", [0, 1, 4]),
        # temporal functions on an instant property
        ("T_BEFORE(observed_at, TIMESTAMP('2016-09-13T00:00:00Z'))", [3]),
        ("T_AFTER(observed_at, DATE('2016-09-13'))", [1]),
        ("T_INTERSECTS(observed_at, DATE('2016-09-13'))", [0, 4]),
        ("T_INTERSECTS(observed_at, INTERVAL('2016-09-13', '..'))", [0, 1, 4]),
        ("T_INTERSECTS(observed_at, INTERVAL('..', '2016-09-13T00:00:00Z'))", [3, 4]),
        ("T_DISJOINT(observed_at, INTERVAL('2016-09-13', '2016-09-13'))", [1, 3]),
        ("T_EQUALS(observed_at, TIMESTAMP('2016-09-13T00:00:00Z'))", [4]),
        ("NOT T_INTERSECTS(observed_at, DATE('2016-09-13'))", [1, 3]),
        # interval-only functions between literals are constants
        (
            "T_DURING(INTERVAL('2016-01-02', '2016-01-03'), INTERVAL('2016-01-01', '..'))",
            [0, 1, 2, 3, 4],
        ),
        (
            "T_STARTS(INTERVAL('2016-01-01', '2016-01-03'), INTERVAL('2016-01-01', '2016-02-01'))",
            [0, 1, 2, 3, 4],
        ),
        ("T_MEETS(INTERVAL('2016-01-01', '2016-01-03'), INTERVAL('2016-01-05', '2016-02-01'))", []),
        # spatial: points against BBOX (across the antimeridian too), polygons, points
        ("S_INTERSECTS(geometry, BBOX(36.9, 35.9, 37.6, 36.6))", [0, 1]),
        ("S_INTERSECTS(BBOX(36.9, 35.9, 37.6, 36.6), geometry)", [0, 1]),
        ("S_INTERSECTS(geometry, BBOX(179, -1, -179, 1))", [2, 3]),
        ("S_DISJOINT(geometry, BBOX(179, -1, -179, 1))", [0, 1, 4]),
        ("S_INTERSECTS(geometry, POINT(38 37))", [4]),
        ("S_WITHIN(geometry, POLYGON((37 36, 38 36, 38 37, 37 37, 37 36)))", [1]),
        ("S_INTERSECTS(geometry, POLYGON((37 36, 38 36, 38 37, 37 37, 37 36)))", [0, 1, 4]),
        ("S_TOUCHES(geometry, POLYGON((37 36, 38 36, 38 37, 37 37, 37 36)))", [0, 4]),
        ("S_CONTAINS(POLYGON((37 36, 38 36, 38 37, 37 37, 37 36)), geometry)", [1]),
        ("S_EQUALS(geometry, POINT(37 36))", [0]),
        ("S_INTERSECTS(geometry, LINESTRING(37 36, 38 37))", [0, 1, 4]),
    ],
)
def test_cql2_text_selects_exactly(text, expected):
    assert rows(text) == expected


@pytest.mark.parametrize(
    ("tree", "expected"),
    [
        ({"op": "=", "args": [{"property": "party"}, "SAA"]}, [0]),
        ({"op": "between", "args": [{"property": "fatalities"}, 1, 2]}, [1, 4]),
        ({"op": "between", "args": [{"property": "fatalities"}, [1, 2]]}, [1, 4]),
        ({"op": "like", "args": [{"property": "party"}, "S%"]}, [0, 4]),
        ({"op": "in", "args": [{"property": "party"}, ["SAA", "FSA"]]}, [0, 1]),
        ({"op": "isNull", "args": [{"property": "grade"}]}, [2]),
        ({"op": "not", "args": [{"op": "isNull", "args": [{"property": "grade"}]}]}, [0, 1, 3, 4]),
        (
            {
                "op": "s_intersects",
                "args": [{"property": "geometry"}, {"bbox": [36.9, 35.9, 37.6, 36.6]}],
            },
            [0, 1],
        ),
        (
            {
                "op": "s_intersects",
                "args": [{"property": "geometry"}, {"bbox": [179, -1, -179, 1]}],
            },
            [2, 3],
        ),
        (
            {
                "op": "t_intersects",
                "args": [{"property": "observed_at"}, {"interval": ["2016-09-13", ".."]}],
            },
            [0, 1, 4],
        ),
        (
            {
                "op": "t_before",
                "args": [{"property": "observed_at"}, {"timestamp": "2016-09-13T00:00:00Z"}],
            },
            [3],
        ),
        (
            {
                "op": "and",
                "args": [
                    {"op": ">", "args": [{"property": "fatalities"}, 0]},
                    {"op": "=", "args": [{"op": "casei", "args": [{"property": "party"}]}, "saa"]},
                ],
            },
            [3],
        ),
    ],
)
def test_cql2_json_selects_exactly(tree, expected):
    assert rows(json.dumps(tree), "cql2-json") == expected


@pytest.mark.parametrize(
    ("text", "lang", "says"),
    [
        ("nope = 1", "cql2-text", "'nope' is not a queryable"),
        ("party = ", "cql2-text", "not understood at character"),
        ("party = 1", "cql2-text", "party is a string"),
        ("fatalities = 'x'", "cql2-text", "fatalities is a number"),
        ("observed_at > '2016-09-13'", "cql2-text", "TIMESTAMP("),
        ("party = grade", "cql2-text", "comparing two properties"),
        ("fatalities + 1 > 2", "cql2-text", "arithmetic"),
        (
            "T_DURING(observed_at, INTERVAL('2016-09-13', '..'))",
            "cql2-text",
            "T_DURING compares intervals",
        ),
        ("T_BEFORE(party, DATE('2016-09-13'))", "cql2-text", "party is not temporal"),
        ("S_INTERSECTS(party, BBOX(0, 0, 1, 1))", "cql2-text", "needs the geometry property"),
        ("fatalities BETWEEN 'a' AND 'b'", "cql2-text", "fatalities is a number"),
        ("grade LIKE 3", "cql2-text", "pattern must be a string"),
        ("T_AFTER(observed_at, INTERVAL('2016-09-13', 'y'))", "cql2-text", "INTERVAL bound 'y'"),
        ("{", "cql2-json", "not JSON"),
        ('{"op": "frobnicate", "args": []}', "cql2-json", "not understood"),
        ("3", "cql2-json", "not a condition"),
        (
            '{"op": "between", "args": [{"property": "fatalities"}, 1]}',
            "cql2-json",
            "three arguments",
        ),
    ],
)
def test_bad_filters_are_bad_input_naming_the_problem(text, lang, says):
    with pytest.raises(BadInput) as info:
        node = parse_filter(text, lang, None)
        assert node is not None
        mask(node, COLUMNS)
    assert says in str(info.value)


def test_filter_lang_and_crs_are_checked():
    with pytest.raises(BadInput, match="filter-lang"):
        parse_filter("party = 'SAA'", "ecql", None)
    with pytest.raises(BadInput, match="filter-crs"):
        parse_filter("party = 'SAA'", None, "http://www.opengis.net/def/crs/EPSG/0/3857")
    crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    assert parse_filter("party = 'SAA'", "cql2-text", crs84) is not None
    assert parse_filter("  ", None, None) is None


@pytest.mark.parametrize("depth", [900, 5000])
def test_deeply_nested_filters_are_bad_input_not_a_crash(depth):
    inner = '{"op": "=", "args": [{"property": "party"}, "SAA"]}'
    text = '{"op": "not", "args": [' * depth + inner + "]}" * depth
    with pytest.raises(BadInput):
        mask(parse_filter(text, "cql2-json", None), COLUMNS)
    with pytest.raises(BadInput):  # 3600 or 20000 characters: too deep, or too long
        mask(parse_filter("NOT " * (depth * 4) + "party = 'SAA'", None, None), COLUMNS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # as QGIS writes them: parentheses everywhere, quoted identifiers, TRUE,
        # timestamps with milliseconds, quotes doubled inside strings
        ("(\"party\" = 'SAA')", [0]),
        ("((party = 'FSA') OR (NOT (fatalities < 2)))", [1, 3]),
        ("(grade IS NOT NULL) AND (published = TRUE)", [0, 3]),
        ("(observed_at >= TIMESTAMP('2016-09-13T00:00:00.000Z'))", [0, 1, 4]),
        ("(CASEI(grade) LIKE CASEI('b%'))", [0, 3]),
        ("(party IN ('FSA','S_A')) AND (fatalities BETWEEN 1 AND 2)", [1, 4]),
    ],
)
def test_filters_as_qgis_writes_them(text, expected):
    assert rows(text) == expected


def test_a_quote_inside_a_string_is_doubled():
    names = SimpleColumns({"name": Column.strings(["O'Brien", "OBrien", None])})
    node = parse_filter("name = 'O''Brien'", None, None)
    assert node is not None and mask(node, names).tolist() == [True, False, False]


PROPERTIES = ["party", "fatalities", "observed_at", "geometry", "published", "grade"]
LITERALS = [
    "'SAA'", "'S%'", "1", "-2.5", "TRUE", "TIMESTAMP('2016-09-13T00:00:00Z')",
    "DATE('2016-09-13')", "INTERVAL('2016-09-13', '..')", "BBOX(37, 36, 38, 37)",
    "POINT(37 36)", "POLYGON((37 36, 38 36, 38 37, 37 36))",
]  # fmt: skip
OPERAND = st.sampled_from(PROPERTIES + LITERALS + ["CASEI(party)", "CASEI('s')"])
PREDICATE = st.one_of(
    st.builds("{} {} {}".format, OPERAND, st.sampled_from(["=", "<>", "<", ">="]), OPERAND),
    st.builds("{} LIKE {}".format, OPERAND, OPERAND),
    st.builds("{} NOT IN ({}, {})".format, OPERAND, OPERAND, OPERAND),
    st.builds("{} BETWEEN {} AND {}".format, OPERAND, OPERAND, OPERAND),
    st.builds("{} IS NULL".format, OPERAND),
    st.builds(
        "{}({}, {})".format,
        st.sampled_from(["T_INTERSECTS", "T_BEFORE", "T_DURING", "S_INTERSECTS", "S_WITHIN"]),
        OPERAND,
        OPERAND,
    ),
)
CONDITION = st.recursive(
    PREDICATE,
    lambda inner: (
        st.builds("({} AND {})".format, inner, inner)
        | st.builds("({} OR {})".format, inner, inner)
        | st.builds("NOT ({})".format, inner)
    ),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(CONDITION)
def test_any_text_is_a_selection_or_bad_input_never_a_crash(text):
    try:
        node = parse_filter(text, None, None)
        assert node is not None
        assert mask(node, COLUMNS).shape == (5,)
    except BadInput:
        pass


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.sampled_from(["SAA", "S%", "..", "2016-09-13"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.fixed_dictionaries(
            {"property": st.sampled_from(["party", "fatalities", "observed_at", "geometry"])}
        )
        | st.fixed_dictionaries(
            {
                "op": st.sampled_from(
                    [
                        "=",
                        "<",
                        "and",
                        "or",
                        "not",
                        "like",
                        "in",
                        "between",
                        "isNull",
                        "t_intersects",
                        "s_intersects",
                        "casei",
                    ]
                ),
                "args": st.lists(
                    inner | st.fixed_dictionaries({"property": st.sampled_from(PROPERTIES)}),
                    min_size=1,
                    max_size=3,
                ),
            }
        )
        | st.fixed_dictionaries({"bbox": st.lists(st.integers(-5, 40), max_size=5)})
        | st.fixed_dictionaries(
            {"interval": st.lists(st.sampled_from(["..", "2016-09-13", "x"]), max_size=3)}
        )
        | st.fixed_dictionaries({"timestamp": st.sampled_from(["2016-09-13T00:00:00Z", "nope"])})
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(JSON_VALUES)
def test_any_json_is_a_selection_or_bad_input_never_a_crash(tree):
    try:
        node = parse_filter(json.dumps(tree), "cql2-json", None)
        if node is not None:
            assert mask(node, COLUMNS).shape == (5,)
    except BadInput:
        pass
