"""Evaluation -> the SPEC §3 JSON text (times in the agreement's timezone).

Byte for byte what `json.dumps(evaluation_to_dict(ev), indent=..., ensure_ascii=...)`
gives, in a fraction of the time and memory: each field is encoded for a whole
column at once (`formats.json_columns`), and the incidents and violations are
written in blocks of rows, so a million reports never become one 250 MB string
(or a quarter of a million dicts) in memory. `write_evaluation_json` sends the
blocks to a file as they are made; `evaluation_json` joins them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import TextIO

import numpy as np

from truce.domain.model import EVENT_TYPES, WEAPONS, Evaluation
from truce.domain.per_incident import incident_slice
from truce.domain.timeparse import iso_many
from truce.formats.evaluation_columns import (
    directions,
    fatality_range_texts,
    grades,
    int_texts,
    iso_or_null,
    label_list_texts,
    measured_m,
    number_texts,
    plain_report_ids,
    report_id_lists,
    source_codes,
    source_set_texts,
    targets,
    violation_ids_by_incident,
)
from truce.formats.evaluation_dicts import evaluation_to_dict, small_parts
from truce.formats.json_columns import (
    Categories,
    Column,
    JsonStyle,
    floats,
    numbers,
    records,
    round_like_python,
    string_lists,
)
from truce.formats.piece_writer import Piece, write_pieces

# evaluation_to_dict is offered here too, beside the text it must match.
__all__ = [
    "BLOCK_ROWS",
    "evaluation_json",
    "evaluation_json_parts",
    "evaluation_to_dict",
    "write_evaluation_json",
]

# Rows encoded at a time: big enough that the per-block work (a few factorizes) is lost in
# the per-row work, small enough that a block's text stays a few megabytes.
BLOCK_ROWS = 1 << 14


def write_evaluation_json(
    ev: Evaluation,
    out: TextIO,
    *,
    indent: int | None = None,
    ensure_ascii: bool = True,
    fork: bool | None = None,
    block_rows: int = BLOCK_ROWS,
) -> None:
    """Write `evaluation_json(ev, ...)` to `out`, a block at a time, at most two held;
    made on two CPUs where `out` is a file (`truce.formats.piece_writer`; `fork`)."""
    pieces = evaluation_json_pieces(
        ev, indent=indent, ensure_ascii=ensure_ascii, block_rows=block_rows
    )
    write_pieces(pieces, out, fork=fork)


def evaluation_json(ev: Evaluation, *, indent: int | None = None, ensure_ascii: bool = True) -> str:
    """`json.dumps(evaluation_to_dict(ev), indent=indent, ensure_ascii=ensure_ascii)`,
    written column by column."""
    return "".join(evaluation_json_parts(ev, indent=indent, ensure_ascii=ensure_ascii))


def evaluation_json_parts(
    ev: Evaluation,
    *,
    indent: int | None = None,
    ensure_ascii: bool = True,
    block_rows: int = BLOCK_ROWS,
) -> Iterator[str]:
    """`evaluation_json(ev, ...)` as consecutive pieces of text, one per block of rows."""
    for piece in evaluation_json_pieces(
        ev, indent=indent, ensure_ascii=ensure_ascii, block_rows=block_rows
    ):
        yield piece()


def evaluation_json_pieces(
    ev: Evaluation,
    *,
    indent: int | None = None,
    ensure_ascii: bool = True,
    block_rows: int = BLOCK_ROWS,
) -> list[Piece]:
    """The pieces of `evaluation_json(ev, ...)` in order, each made when called and
    independent of the others (a block of rows each; what they share is made first):
    any share of them can be made elsewhere (`write_evaluation_json`)."""
    style = JsonStyle(indent, ensure_ascii)
    # The rest through json itself, with a marker where each big list goes.
    marker = "\x00truce %s\x00"
    small = small_parts(ev) | {
        "incidents": marker % "incidents",
        "violations": marker % "violations",
    }
    head = json.dumps(small, indent=indent, ensure_ascii=ensure_ascii)
    before, rest = head.split(style.string(marker % "incidents"))
    between, after = rest.split(style.string(marker % "violations"))
    # Each incident's id as JSON text, once: the violations point at them too.
    incident_ids = style.strings(ev.incident_ids)
    incidents = _blocks(
        len(ev.incidents), block_rows, _incident_fields(ev, style, incident_ids), style
    )
    violations = _blocks(
        len(ev.violations), block_rows, _violation_fields(ev, style, incident_ids), style
    )
    return [_text(before), *incidents, _text(between), *violations, _text(after)]


def _text(text: str) -> Piece:
    return lambda: text


FieldsOf = Callable[[int, int], list[tuple[str, Column]]]


def _blocks(n: int, block_rows: int, fields_of: FieldsOf, style: JsonStyle) -> list[Piece]:
    """An array of n records (opened at nesting level 1, in the top object), one piece of
    text per block of rows; `fields_of(a, b)` gives rows a..b-1's columns."""
    if n == 0:
        return [_text("[]")]

    def block(a: int, b: int) -> Piece:
        return lambda: "".join(records(fields_of(a, b), 1, style, opens=a == 0, closes=b == n))

    return [block(a, min(a + block_rows, n)) for a in range(0, n, block_rows)]


def _incident_fields(ev: Evaluation, style: JsonStyle, incident_ids: np.ndarray) -> FieldsOf:
    """Incidents a..b-1's SPEC §3 fields as JSON text columns; their fields open at
    nesting level 3."""
    tz = ev.agreement.timezone
    codes, names = source_codes(ev.reports)
    ids = plain_report_ids(ev.reports, names, style)
    all_violation_ids, all_violation_offsets = violation_ids_by_incident(ev)
    # A few thousand distinct sets of sources among all incidents: each encoded once.
    sources = source_set_texts(ev.incidents, codes, names, style)
    event_types = style.strings(EVENT_TYPES)
    weapons = style.strings([*WEAPONS, None])

    def fields_of(a: int, b: int) -> list[tuple[str, Column]]:
        inc = incident_slice(ev.incidents, a, b)
        v_offsets = all_violation_offsets[a : b + 1]
        violation_ids = all_violation_ids[v_offsets[0] : v_offsets[-1]]
        return [
            ("id", incident_ids[a:b]),
            ("key", style.strings(inc.anchor)),
            ("report_ids", report_id_lists(inc, ev.reports, ids, codes, names, style)),
            ("sources", sources.rows(a, b)),
            ("event_type", Categories(inc.event_type.astype(np.int64), event_types)),
            ("weapon", Categories(inc.weapon % (len(WEAPONS) + 1), weapons)),
            ("observed_at", iso_many(inc.observed_at, tz, around='"')),  # plain ASCII
            ("lon", floats(round_like_python(inc.lon, 6))),
            ("lat", floats(round_like_python(inc.lat, 6))),
            ("precision_m", numbers(number_texts, inc.precision_m)),
            ("party", style.few_strings(inc.party)),
            ("target", style.few_strings(targets(inc))),
            ("corroboration", numbers(int_texts, inc.corroboration)),
            ("grade", style.few_strings(grades(inc))),
            ("count", numbers(number_texts, inc.count)),
            ("fatalities", numbers(number_texts, inc.fatalities)),
            ("violations", string_lists(violation_ids, v_offsets - v_offsets[0], 3, style)),
            ("observed_to", iso_or_null(inc.observed_to, tz, around='"')),
            ("location_precision_m", numbers(number_texts, inc.precision_m)),
            ("fatalities_range", fatality_range_texts(inc, style)),
            ("direction", style.few_strings(directions(inc))),
            ("involved", label_list_texts(inc.involved, style)),
            ("datasets", label_list_texts(inc.datasets, style)),
        ]

    return fields_of


def _violation_fields(ev: Evaluation, style: JsonStyle, incident_ids: np.ndarray) -> FieldsOf:
    """Violations a..b-1's SPEC §3 fields as JSON text columns."""
    vt, tz = ev.violations, ev.agreement.timezone
    all_measured = measured_m(ev)
    status = vt.status
    certainty = np.where(vt.certain, "certain", "possible").astype(object)

    def fields_of(a: int, b: int) -> list[tuple[str, Column]]:
        incident = vt.incident[a:b]
        measured = floats(all_measured[a:b])
        measured[np.isnan(all_measured[a:b])] = "null"
        return [
            ("id", style.strings(vt.ids[a:b])),
            ("rule", style.few_strings(vt.rule[a:b])),
            ("kind", style.few_strings(vt.kind[a:b])),
            ("incident", incident_ids.take(incident)),
            ("party", style.few_strings(vt.party[a:b])),
            ("at", iso_many(ev.incidents.observed_at[incident], tz, around='"')),
            ("zone", style.few_strings(vt.zone[a:b])),
            ("evidence", style.strings(vt.evidence[a:b])),
            ("status", style.few_strings(status[a:b])),
            ("measured_m", measured),
            ("certainty", style.few_strings(certainty[a:b])),
            ("involved", label_list_texts(vt.involved[a:b], style)),
        ]

    return fields_of
