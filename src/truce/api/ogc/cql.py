"""CQL2 filters (OGC 21-065, text and JSON encodings) parsed into pygeofilter's AST.

pygeofilter's parsers are used with these corrections to follow CQL2 1.0, each
checked by the tests:

- text: temporal predicates are functions, `T_BEFORE(observed_at, TIMESTAMP('…'))`
  (pygeofilter 0.4 reads them infix), with the 1.0 names (`T_STARTS`,
  `T_FINISHES`, ...); `INTERVAL` takes dates and `'..'` (open ends); AND binds
  tighter than OR; `NOT (a OR b)` parses; identifiers may be one letter. The
  text grammar is pygeofilter's own, loaded from the installed package, with
  those rules replaced (`_patched_grammar`);
- JSON: `between` has three arguments, `bbox` is `[minx, miny, maxx, maxy]`, and
  `t_intersects` is not `t_overlaps` (`_prepare_json`);
- both: `T_INTERSECTS` is its own node (`TimeIntersects`), so it is not read as
  `T_OVERLAPS`.

LIKE follows CQL2: `%` any run of characters, `_` one character, `\\` escapes. Any
problem is a `BadInput` (400) naming what is wrong.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pygeofilter.parsers.cql2_text.parser as text_parser
from lark import Lark, v_args
from lark.exceptions import LarkError, UnexpectedInput, VisitError
from pygeofilter import ast, values
from pygeofilter.parsers.cql2_json import parse as parse_json_ast
from pygeofilter.util import parse_datetime

from truce.api.ogc.documents import CRS84
from truce.errors import BadInput

__all__ = ["LANGS", "TEMPORAL", "TimeIntersects", "TimeStarts", "parse_filter"]

LANGS = ("cql2-text", "cql2-json")
CRS84_URIS = frozenset({CRS84, CRS84.replace("http://", "https://"), "OGC:CRS84"})
MAX_FILTER_CHARS = 20_000


@dataclass
class TimeIntersects(ast.TemporalPredicate):
    """CQL2 T_INTERSECTS (pygeofilter has no node of its own for it)."""

    op: ClassVar[ast.TemporalComparisonOp] = ast.TemporalComparisonOp.TOVERLAPS


TimeStarts = ast.TimeBegins  # CQL2 1.0 T_STARTS (pygeofilter: T_BEGINS)

# CQL2 1.0 temporal function name -> node class.
TEMPORAL: dict[str, type[ast.TemporalPredicate]] = {
    "t_after": ast.TimeAfter,
    "t_before": ast.TimeBefore,
    "t_contains": ast.TimeContains,
    "t_disjoint": ast.TimeDisjoint,
    "t_during": ast.TimeDuring,
    "t_equals": ast.TimeEquals,
    "t_finishedby": ast.TimeEndedBy,
    "t_finishes": ast.TimeEnds,
    "t_intersects": TimeIntersects,
    "t_meets": ast.TimeMeets,
    "t_metby": ast.TimeMetBy,
    "t_overlappedby": ast.TimeOverlappedBy,
    "t_overlaps": ast.TimeOverlaps,
    "t_startedby": ast.TimeBegunBy,
    "t_starts": ast.TimeBegins,
}


# --- text -----------------------------------------------------------------------------


def _instant(text: str) -> date | datetime | None:
    """An `INTERVAL` bound: '..' (open), a date or a timestamp."""
    if text == "..":
        return None
    try:
        return date.fromisoformat(text) if len(text) == 10 else parse_datetime(text)
    except ValueError:
        raise ValueError(f"INTERVAL bound {text!r} is not a date, a timestamp or '..'") from None


@v_args(inline=True)
class _Transformer(text_parser.CQLTransformer):  # type: ignore[misc]
    def temporal_function(self, op: Any, lhs: Any, rhs: Any) -> ast.Node:
        return TEMPORAL[str(op).lower()](lhs, rhs)

    def SINGLE_QUOTED(self, token: Any) -> str:  # the terminal's name
        return str(token)[1:-1].replace("''", "'")

    def DOUBLE_QUOTED(self, token: Any) -> str:
        return str(token)[1:-1].replace('""', '"')

    def interval(self, start: str, end: str) -> values.Interval:
        return values.Interval(_instant(start), _instant(end))


def _replace(grammar: str, start: str, end: str, new: str) -> str:
    """`grammar` with the text from `start` up to (not including) `end` replaced."""
    a = grammar.index(start)
    b = grammar.index(end, a)
    return grammar[:a] + new + grammar[b:]


def _replace_line(grammar: str, start: str, new: str) -> str:
    """`grammar` with its line beginning with `start` replaced by `new`."""
    lines = grammar.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(start))
    return "\n".join([*lines[:at], new, *lines[at + 1 :]]) + "\n"


def _patched_grammar() -> str:
    path = Path(text_parser.__file__).with_name("grammar.lark")
    grammar = path.read_text(encoding="utf-8")
    # AND binds tighter than OR (pygeofilter 0.4: left to right), NOT takes a
    # parenthesised condition
    grammar = _replace(
        grammar,
        "?condition:",
        "?predicate:",
        '?condition: condition_and | condition "OR"i condition_and -> or_\n'
        '?condition_and: condition_1 | condition_and "AND"i condition_1 -> and_\n'
        '?condition_1: predicate | "NOT"i condition_1 -> not_ | "(" condition ")"\n\n',
    )
    names = " | ".join(f'"{name.upper()}"i' for name in sorted(TEMPORAL))
    grammar = _replace(
        grammar,
        "?temporal_predicate:",
        "?spatial_predicate:",
        '?temporal_predicate: _temporal_function "(" expression "," expression ")"'
        " -> temporal_function\n\n"
        f"!_temporal_function: {names}\n\n\n",
    )
    # CQL2 identifiers may be one character long; a quote inside a string is doubled
    grammar = grammar.replace("/[a-zA-Z][a-zA-Z_:0-9.]+/", "/[a-zA-Z_][a-zA-Z_:0-9.]*/", 1)
    grammar = _replace_line(grammar, "SINGLE_QUOTED:", "SINGLE_QUOTED: /'(?:[^']|'')*'/")
    grammar = _replace_line(grammar, "DOUBLE_QUOTED:", 'DOUBLE_QUOTED: /"(?:[^"]|"")*"/')
    return _replace(
        grammar,
        "?interval:",
        "?date:",
        'interval: "INTERVAL"i "(" SINGLE_QUOTED "," SINGLE_QUOTED ")"\n',
    )


@functools.cache
def _text_parser() -> Lark:
    path = Path(text_parser.__file__)
    return Lark(
        _patched_grammar(),
        parser="lalr",
        maybe_placeholders=False,
        transformer=_Transformer(),
        import_paths=[str(path.parent.parent)],
        source_path=str(path.with_name("grammar.lark")),
    )


def _parse_text(text: str) -> ast.Node:
    try:
        return _text_parser().parse(text)  # type: ignore[no-any-return]
    except UnexpectedInput as exc:
        where = f"at character {exc.column}" if getattr(exc, "column", None) else "at the end"
        context = exc.get_context(text, 20).strip().splitlines()[0] if text else ""
        raise BadInput(
            f"filter: CQL2 text not understood {where}: {context!r}; "
            "e.g. party = 'SAA' AND T_AFTER(observed_at, TIMESTAMP('2016-09-13T00:00:00Z'))"
        ) from None
    except VisitError as exc:
        raise BadInput(f"filter: {exc.orig_exc}") from None
    except (LarkError, ValueError, TypeError, KeyError) as exc:
        raise BadInput(f"filter: CQL2 text not understood: {exc}") from None


# --- JSON -----------------------------------------------------------------------------


def _bbox_geometry(box: Any) -> values.Geometry:
    if not (isinstance(box, list) and len(box) in (4, 6)):
        raise BadInput(f"filter: bbox {box!r}: give [minx, miny, maxx, maxy]")
    minx, miny, maxx, maxy = (box[0], box[1], box[3], box[4]) if len(box) == 6 else box
    ring = [[minx, miny], [maxx, miny], [maxx, maxy], [minx, maxy], [minx, miny]]
    return values.Geometry({"type": "Polygon", "coordinates": [ring], "bbox": [*box]})


def _prepare_json(node: Any) -> Any:
    """The CQL2 JSON tree with the parts pygeofilter reads otherwise already made into
    nodes (pygeofilter's walker passes nodes through)."""
    if isinstance(node, list):
        return [_prepare_json(n) for n in node]
    if not isinstance(node, dict):
        return node
    if "bbox" in node and len(node) == 1:
        return _bbox_geometry(node["bbox"])
    if "op" in node and "args" in node:
        op, args = node["op"], node["args"]
        if not isinstance(args, list):
            raise BadInput(f"filter: {op!r}: args must be an array")
        ready = [
            parse_json_ast(a) if isinstance(a, dict | list) else a for a in _prepare_json(args)
        ]
        if op == "between":
            if len(args) == 2 and isinstance(args[1], list):  # the draft's form
                ready = [ready[0], *ready[1]]
            if len(ready) != 3:
                raise BadInput("filter: between takes three arguments: a property, low, high")
            return ast.Between(ready[0], ready[1], ready[2], False)
        if isinstance(op, str) and op.lower() in TEMPORAL:
            if len(ready) != 2:
                raise BadInput(f"filter: {op} takes two arguments")
            return TEMPORAL[op.lower()](ready[0], ready[1])
        return {"op": op, "args": _prepare_json(args)}
    return {k: _prepare_json(v) for k, v in node.items()}


def _parse_json(text: str) -> ast.Node:
    try:
        tree = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise BadInput(
            f"filter: not JSON ({exc}); filter-lang=cql2-json expects CQL2 JSON"
        ) from None
    try:
        parsed = parse_json_ast(_prepare_json(tree))
    except BadInput:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise BadInput(f"filter: CQL2 JSON not understood: {exc}") from None
    except RecursionError:
        raise BadInput("filter: CQL2 JSON nested too deeply") from None
    if not isinstance(parsed, ast.Node):
        raise BadInput(f"filter: {text[:80]!r} is a value, not a condition")
    return parsed


# --- the parameters -------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _parse(text: str, lang: str) -> ast.Node:
    return _parse_text(text) if lang == "cql2-text" else _parse_json(text)


def parse_filter(text: str | None, lang: str | None, crs: str | None) -> ast.Node | None:
    """The `filter`, `filter-lang` and `filter-crs` parameters as an AST (None: no filter).

    >>> parse_filter("party = 'SAA'", None, None)
    Equal(lhs=ATTRIBUTE party, rhs='SAA')
    """
    lang = lang or "cql2-text"
    if lang not in LANGS:
        raise BadInput(f"filter-lang {lang!r}: give cql2-text or cql2-json")
    if crs not in (None, "") and crs not in CRS84_URIS:
        raise BadInput(f"filter-crs {crs!r}: only {CRS84} (longitude, latitude) is supported")
    if text is None or not text.strip():
        return None
    if len(text) > MAX_FILTER_CHARS:
        raise BadInput(f"filter: {len(text)} characters; at most {MAX_FILTER_CHARS}")
    return _parse(text, lang)


def utc_datetime(value: datetime) -> datetime:
    """A parsed timestamp in UTC (CQL2 timestamps carry Z; a missing zone reads as UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
