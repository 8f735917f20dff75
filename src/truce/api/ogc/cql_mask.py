"""A CQL2 AST (`truce.api.ogc.cql`) evaluated over columns: numpy masks, no loop per feature.

Each queryable is a `Column` over the candidate rows (strings as codes into their
distinct values, numbers as floats, booleans, timestamps as UTC nanoseconds) or
`Points` (the geometry). A predicate is computed once per distinct string or over
whole arrays, and logic is SQL's three-valued one, as CQL2 asks: a comparison with
a null value is *unknown*, `NOT unknown` is unknown, and only rows that are true
are selected (`IS NULL` is never unknown).

Temporal functions (CQL2 1.0 tables 1 and 2) are in `cql_temporal`, spatial ones
and geometry literals in `cql_spatial`; this module resolves the operands, compares
and combines.

    >>> cols = SimpleColumns({"n": Column.numbers([1.0, None, 3.0])})
    >>> from truce.api.ogc.cql import parse_filter
    >>> mask(parse_filter("n > 1", None, None), cols).tolist()
    [False, False, True]
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pygeofilter import ast

from truce.api.ogc.columns import Column, Columns, Points, SimpleColumns
from truce.api.ogc.cql import utc_datetime
from truce.api.ogc.cql_spatial import box_geometry, geometry_literal, spatial_relation
from truce.api.ogc.cql_temporal import DAY_NS, temporal_relation, time_span, utc_ns
from truce.api.ogc.params import Bbox
from truce.errors import BadInput

__all__ = ["Column", "Columns", "Points", "SimpleColumns", "mask"]

Tri = tuple[np.ndarray, np.ndarray]  # (true, unknown) per row


def mask(node: ast.Node, columns: Columns) -> np.ndarray:
    """The rows for which `node` is true."""
    try:
        true, _ = _Eval(columns).condition(node)
    except RecursionError:
        raise BadInput("filter: nested too deeply") from None
    return true


@dataclass(frozen=True)
class _Lower:
    """A string column or literal under CASEI: compared in lower case."""

    value: Column | str


def _name(node: Any) -> str:
    return node.name if isinstance(node, ast.Attribute) else repr(node)


_COMPARE: dict[ast.ComparisonOp, Callable[[Any, Any], Any]] = {
    ast.ComparisonOp.EQ: operator.eq,
    ast.ComparisonOp.NE: operator.ne,
    ast.ComparisonOp.LT: operator.lt,
    ast.ComparisonOp.LE: operator.le,
    ast.ComparisonOp.GT: operator.gt,
    ast.ComparisonOp.GE: operator.ge,
}
_FLIP = {
    ast.ComparisonOp.EQ: ast.ComparisonOp.EQ,
    ast.ComparisonOp.NE: ast.ComparisonOp.NE,
    ast.ComparisonOp.LT: ast.ComparisonOp.GT,
    ast.ComparisonOp.LE: ast.ComparisonOp.GE,
    ast.ComparisonOp.GT: ast.ComparisonOp.LT,
    ast.ComparisonOp.GE: ast.ComparisonOp.LE,
}


class _Eval:
    def __init__(self, columns: Columns) -> None:
        self.columns = columns
        self.n = len(columns)

    def _const(self, value: bool) -> Tri:
        return np.full(self.n, value, dtype=bool), np.zeros(self.n, dtype=bool)

    def _tri(self, result: Any, null: np.ndarray | None) -> Tri:
        result = np.broadcast_to(np.asarray(result, dtype=bool), (self.n,))
        if null is None:
            return result.copy(), np.zeros(self.n, dtype=bool)
        return result & ~null, null.copy()

    # --- logic ---------------------------------------------------------------------

    def condition(self, node: Any) -> Tri:
        if isinstance(node, ast.And):
            (at, au), (bt, bu) = self.condition(node.lhs), self.condition(node.rhs)
            true = at & bt
            return true, (at | au) & (bt | bu) & ~true
        if isinstance(node, ast.Or):
            (at, au), (bt, bu) = self.condition(node.lhs), self.condition(node.rhs)
            true = at | bt
            return true, (au | bu) & ~true
        if isinstance(node, ast.Not):
            return self._negate(self.condition(node.sub_node))
        if isinstance(node, ast.Include):
            return self._const(not node.not_)
        if isinstance(node, ast.Comparison):
            return self.compare(node.op, node.lhs, node.rhs)
        if isinstance(node, ast.Between):
            return self._maybe_not(self.between(node), node.not_)
        if isinstance(node, ast.Like):
            return self._maybe_not(self.like(node), node.not_)
        if isinstance(node, ast.In):
            return self._maybe_not(self.in_(node), node.not_)
        if isinstance(node, ast.IsNull):
            column = self.operand(node.lhs)
            if not isinstance(column, Column | Points):
                raise BadInput(f"filter: IS NULL applies to a property, not {_name(node.lhs)}")
            null = column.null if isinstance(column, Column) else np.zeros(self.n, bool)
            return (~null if node.not_ else null.copy()), np.zeros(self.n, dtype=bool)
        if isinstance(node, ast.TemporalPredicate):
            return self.temporal(node)
        if isinstance(node, ast.SpatialComparisonPredicate):
            return self.spatial(node)
        if isinstance(node, ast.BBox):
            box = Bbox(node.minx, node.miny, node.maxx, node.maxy)
            return self._spatial_of("s_intersects", node.lhs, box_geometry(box))
        if isinstance(node, ast.Attribute):
            column = self.operand(node)
            if isinstance(column, Column) and column.type == "boolean":
                return self._tri(column.values, column.null)
        raise BadInput(f"filter: {_describe(node)} is not supported here")

    def _negate(self, tri: Tri) -> Tri:
        true, unknown = tri
        return ~true & ~unknown, unknown

    def _maybe_not(self, tri: Tri, not_: bool) -> Tri:
        return self._negate(tri) if not_ else tri

    # --- operands ------------------------------------------------------------------

    def operand(self, node: Any) -> Any:
        if isinstance(node, ast.Attribute):
            return self.columns.column(node.name)
        if isinstance(node, ast.Function):
            if node.name == "lower" and len(node.arguments) == 1:  # CASEI
                inner = self.operand(node.arguments[0])
                if isinstance(inner, str) or (isinstance(inner, Column) and inner.type == "string"):
                    return _Lower(inner)
                raise BadInput("filter: CASEI() takes a string property or a string")
            if node.name == "bbox":  # a BBOX literal (`geometry_literal` reads it)
                return node
            raise BadInput(f"filter: function {node.name}() is not supported")
        if isinstance(node, ast.Arithmetic):
            raise BadInput("filter: arithmetic (+, -, *, /) is not supported")
        if isinstance(node, ast.Node):
            raise BadInput(f"filter: {_describe(node)} cannot be used as a value")
        return node

    # --- comparisons ---------------------------------------------------------------

    def compare(self, op: ast.ComparisonOp, lhs: Any, rhs: Any) -> Tri:
        a, b = self.operand(lhs), self.operand(rhs)
        if not _is_column(a) and _is_column(b):
            a, b, op = b, a, _FLIP[op]
        fn = _COMPARE[op]
        if not _is_column(a):
            return self._const(_constant(fn, _scalar(a), _scalar(b)))
        if _is_column(b):
            raise BadInput(
                f"filter: {_name(lhs)} {op.value} {_name(rhs)}: comparing two properties is not "
                "supported; compare a property with a value"
            )
        if isinstance(a, _Lower) and isinstance(a.value, Column):
            return self._strings(a.value, fn, _lower_literal(b, _name(lhs)), lower=True)
        if isinstance(a, Points):
            raise BadInput("filter: compare geometry with S_INTERSECTS and the other S_ functions")
        prop = _name(lhs if isinstance(lhs, ast.Attribute) else rhs)
        if a.type == "string":
            return self._strings(a, fn, _literal(a, b, prop), lower=False)
        if a.type == "timestamp" and isinstance(b, date) and not isinstance(b, datetime):
            start = utc_ns(b)
            end = start + DAY_NS - 1  # a DATE is the whole UTC day
            result = {
                ast.ComparisonOp.EQ: (a.values >= start) & (a.values <= end),
                ast.ComparisonOp.NE: (a.values < start) | (a.values > end),
                ast.ComparisonOp.LT: a.values < start,
                ast.ComparisonOp.LE: a.values <= end,
                ast.ComparisonOp.GT: a.values > end,
                ast.ComparisonOp.GE: a.values >= start,
            }[op]
            return self._tri(result, a.null)
        return self._tri(fn(a.values, _literal(a, b, prop)), a.null)

    def _strings(
        self, column: Column, fn: Callable[[Any, Any], Any], lit: str, *, lower: bool
    ) -> Tri:
        labels = _labels(column, lower)
        per_label = np.asarray(fn(labels, lit), dtype=bool) if len(labels) else np.zeros(0, bool)
        return self._by_label(column, per_label)

    def _by_label(self, column: Column, per_label: np.ndarray) -> Tri:
        codes = column.values
        result = np.zeros(len(codes), dtype=bool)
        known = ~column.null
        result[known] = per_label[codes[known]]
        return result, column.null.copy()

    def between(self, node: ast.Between) -> Tri:
        column = self.operand(node.lhs)
        if not (isinstance(column, Column) and column.type in ("number", "timestamp")):
            raise BadInput(
                f"filter: BETWEEN applies to numbers and timestamps, not {_name(node.lhs)}"
            )
        prop = _name(node.lhs)
        low = _literal(column, self.operand(node.low), prop)
        high = _literal(column, self.operand(node.high), prop)
        return self._tri((column.values >= low) & (column.values <= high), column.null)

    def like(self, node: ast.Like) -> Tri:
        column, pattern = self.operand(node.lhs), self.operand(node.pattern)
        lower = isinstance(column, _Lower) or isinstance(pattern, _Lower)
        column = column.value if isinstance(column, _Lower) else column
        pattern = pattern.value if isinstance(pattern, _Lower) else pattern
        if not (isinstance(column, Column) and column.type == "string"):
            raise BadInput(f"filter: LIKE applies to string properties, not {_name(node.lhs)}")
        if not isinstance(pattern, str):
            raise BadInput("filter: the LIKE pattern must be a string, e.g. 'small%'")
        labels = pa.array(_labels(column, False), type=pa.string())
        per_label = pc.match_like(labels, pattern, ignore_case=lower)
        return self._by_label(column, np.asarray(per_label.to_numpy(zero_copy_only=False), bool))

    def in_(self, node: ast.In) -> Tri:
        column = self.operand(node.lhs)
        lower = isinstance(column, _Lower)
        column = column.value if lower else column
        if not isinstance(column, Column):
            raise BadInput(f"filter: IN applies to a property, not {_name(node.lhs)}")
        prop = _name(node.lhs)
        if not isinstance(node.sub_nodes, list):
            raise BadInput(f"filter: IN takes a list of values, not {_describe(node.sub_nodes)}")
        items = [self.operand(item) for item in node.sub_nodes]
        if lower:
            items = [_lower_literal(item, prop) for item in items]
        else:
            items = [_literal(column, item, prop) for item in items]
        if column.type == "string":
            per_label = np.isin(_labels(column, lower), np.array(items, dtype=object))
            return self._by_label(column, per_label)
        return self._tri(np.isin(column.values, items), column.null)

    # --- time ----------------------------------------------------------------------

    def temporal(self, node: ast.TemporalPredicate) -> Tri:
        a = time_span(self.operand(node.lhs), _name(node.lhs))
        b = time_span(self.operand(node.rhs), _name(node.rhs))
        return self._tri(*temporal_relation(node, a, b))

    # --- space ---------------------------------------------------------------------

    def spatial(self, node: ast.SpatialComparisonPredicate) -> Tri:
        name = "s_" + node.op.value.lower()
        lhs, rhs = self.operand(node.lhs), self.operand(node.rhs)
        if isinstance(rhs, Points) and not isinstance(lhs, Points):
            swapped = {"s_within": "s_contains", "s_contains": "s_within"}
            return self._spatial_of(swapped.get(name, name), node.rhs, geometry_literal(lhs))
        return self._spatial_of(name, node.lhs, geometry_literal(rhs))

    def _spatial_of(self, name: str, prop: Any, geometry: Any) -> Tri:
        points = self.operand(prop)
        if not isinstance(points, Points):
            raise BadInput(f"filter: {name.upper()} needs the geometry property, not {_name(prop)}")
        return self._tri(spatial_relation(name, points, geometry), None)


def _is_column(value: Any) -> bool:
    if isinstance(value, _Lower):
        return isinstance(value.value, Column)
    return isinstance(value, Column | Points)


def _describe(node: Any) -> str:
    return type(node).__name__ if isinstance(node, ast.Node) else repr(node)


def _scalar(value: Any) -> Any:
    if isinstance(value, _Lower):
        return str(value.value).lower()
    if isinstance(value, datetime):
        return utc_datetime(value)
    return value


def _constant(fn: Callable[[Any, Any], Any], a: Any, b: Any) -> bool:
    """A comparison of two values (no property)."""
    plain = (str, int, float, date)
    if not (isinstance(a, plain) and isinstance(b, plain)):
        raise BadInput("filter: compare strings, numbers, booleans or timestamps with = < >")
    try:
        return bool(fn(a, b))
    except TypeError:
        raise BadInput(f"filter: {a!r} and {b!r} cannot be compared") from None


def _labels(column: Column, lower: bool) -> np.ndarray:
    labels = column.labels if column.labels is not None else np.zeros(0, dtype=object)
    if lower:
        return np.array([str(s).lower() for s in labels], dtype=object)
    return labels


def _lower_literal(value: Any, prop: str) -> str:
    if isinstance(value, _Lower) and isinstance(value.value, str):
        return value.value.lower()
    if isinstance(value, str):
        return value.lower()
    raise BadInput(f"filter: CASEI({prop}) is compared with {value!r}; give a string")


_TYPE_HINT = {
    "string": "a string in single quotes, e.g. 'SAA'",
    "number": "a number, e.g. 2",
    "boolean": "true or false",
    "timestamp": "TIMESTAMP('2016-09-13T00:00:00Z') or DATE('2016-09-13')",
}


def _literal(column: Column, value: Any, prop: str) -> Any:
    """`value` as `column`'s values are stored, or 400 naming the expected type."""
    ok = {
        "string": isinstance(value, str),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "timestamp": isinstance(value, date),
    }[column.type]
    if not ok:
        raise BadInput(
            f"filter: {prop} is a {column.type}; {value!r} is not: give {_TYPE_HINT[column.type]}"
        )
    if column.type == "timestamp":
        return utc_ns(value)
    return value
