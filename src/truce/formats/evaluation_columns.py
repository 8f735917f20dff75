"""The SPEC §3 incident and violation fields, each for all rows at once: shared by
the dicts (`evaluation_to_dict`) and the text (`evaluation_json`)."""

from __future__ import annotations

from datetime import tzinfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from truce.domain.model import EVENT_TYPES, WEAPONS, Evaluation, IncidentTable, ReportTable
from truce.domain.timeparse import iso_many
from truce.formats.json_columns import (
    Categories,
    JsonStyle,
    Lists,
    floats,
    round_like_python,
    string_lists,
)
from truce.formats.reports.rows import text_objects

EVENT_NAMES = np.array(EVENT_TYPES, dtype=object)
WEAPON_NAMES = np.array([*WEAPONS, None], dtype=object)  # NO_CODE (-1) -> None
CREDIBILITY = np.array([str(k) for k in range(-128, 128)], dtype=object)  # int8 -> digits


def groups(inc: IncidentTable) -> np.ndarray:
    """The incident row of each entry of `inc.members`."""
    return np.repeat(np.arange(len(inc)), np.diff(inc.offsets))


def _distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values of an integer array."""
    values = np.sort(values)
    return values[np.concatenate([[True], values[1:] != values[:-1]])] if len(values) else values


def source_codes(
    reports: ReportTable, rows: np.ndarray | None = None
) -> tuple[np.ndarray, list[str]]:
    """Each report's source as a code, and the sources by code. `rows`: only those
    reports' (the others' codes are -1): a refresh writes the incidents of a few
    thousand reports, and hashing a million sources to code them costs 0.1 s."""
    if rows is None:
        codes, names = pd.factorize(reports.source)
        return codes.astype(np.int64), names.tolist()
    some, names = pd.factorize(reports.source[rows])
    codes = np.full(len(reports), -1, dtype=np.int64)
    codes[rows] = some
    return codes, names.tolist()


def _members_by_source(
    inc: IncidentTable, codes: np.ndarray, names: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each incident's reports grouped by source in `source:` prefix order (stable within
    a source): (reports, their incident, their source's rank, the prefixes by code)."""
    members, group = inc.members, groups(inc)
    prefixes = np.array([f"{name}:" for name in names], dtype=object)
    # Keys from different sources sort as their `source:` prefixes do, unless a source name
    # holds a ":" (then all are compared in full).
    if any(":" in name for name in names):
        rank = np.zeros(len(names), dtype=np.int64)
    else:
        rank = np.argsort(np.argsort(prefixes))
    source_rank = rank[codes[members]]
    # Stable sort of (incident, source): members are already grouped, so this is quick.
    order = np.argsort(group * max(len(names), 1) + source_rank, kind="stable")
    return members[order], group[order], source_rank[order], prefixes


def _sort_ties(
    group: np.ndarray, source_rank: np.ndarray, keys: np.ndarray, *columns: np.ndarray
) -> None:
    """Sort, in place, each run of one incident's one source's entries by `keys`
    (moving `columns` alike): the runs are mostly pairs, swapped as whole arrays."""
    tied = (group[1:] == group[:-1]) & (source_rank[1:] == source_rank[:-1])
    if not tied.any():
        return
    edges = np.diff(np.concatenate([[0], tied.astype(np.int8), [0]]))
    run_start, run_end = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) + 1
    pairs = run_start[run_end - run_start == 2]
    swap = pairs[keys[pairs] > keys[pairs + 1]]
    for column in (keys, *columns):
        column[swap], column[swap + 1] = column[swap + 1], column[swap].copy()
    longer = np.flatnonzero(run_end - run_start > 2)
    if len(longer):
        lists = [column.tolist() for column in (keys, *columns)]
        for a, b in zip(run_start[longer].tolist(), run_end[longer].tolist(), strict=True):
            rows = sorted(zip(*(values[a:b] for values in lists), strict=True))
            for values, sorted_values in zip(lists, zip(*rows, strict=True), strict=True):
                values[a:b] = sorted_values
        for column, values in zip((keys, *columns), lists, strict=True):
            column[:] = values


def report_ids_in_order(
    inc: IncidentTable, reports: ReportTable, codes: np.ndarray, names: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Each incident's `source:report_id` keys in sorted order, concatenated in incident
    order (incident i's are `[inc.offsets[i]:inc.offsets[i+1]]`), and their lengths."""
    reps, group, source_rank, prefixes = _members_by_source(inc, codes, names)
    # The keys are made in their final order, so what reads them next reads memory in order.
    keys = prefixes[codes[reps]] + reports.report_id[reps] if len(reps) else reps.astype(object)
    prefix_length = np.array([len(p) for p in prefixes], dtype=np.int64)
    # Only these reports' ids: the incidents may be a block of a few among a million reports.
    id_length = np.fromiter(map(len, reports.report_id[reps].tolist()), np.int64, len(reps))
    lengths = prefix_length[codes[reps]] + id_length
    _sort_ties(group, source_rank, keys, lengths)
    return keys, lengths


def plain_report_ids(reports: ReportTable, names: list[str], style: JsonStyle) -> pa.Array | None:
    """All reports' ids as Arrow strings, for `report_id_lists`; None where the quick way
    does not apply: a source name holding ":" (keys then compare in full) or any source
    or id that json would escape (both rare)."""
    if any(":" in name or not style.is_plain(name) for name in names):
        return None
    try:
        ids = pa.array(reports.report_id, type=pa.string())
    except (pa.ArrowException, TypeError, ValueError):  # not all (encodable) strings
        return None
    return None if pc.any(pc.match_substring_regex(ids, style.escaped)).as_py() else ids


def report_id_lists(
    inc: IncidentTable,
    reports: ReportTable,
    ids: pa.Array | None,
    codes: np.ndarray,
    names: list[str],
    style: JsonStyle,
) -> Lists:
    """`string_lists` of `report_ids_in_order`, for lists opened at level 3; `ids`:
    `plain_report_ids(reports, ...)`. Arrow sorts and joins the keys, so no Python
    string is made per report, only one per incident."""
    if ids is None:
        keys, lengths = report_ids_in_order(inc, reports, codes, names)
        return string_lists(keys, inc.offsets, 3, style, lengths)
    # No ":" in a name: keys sort by their `source:` prefixes ("sarc-x:" < "sarc:"), then ids.
    by_prefix = sorted(range(len(names)), key=lambda k: f"{names[k]}:")
    rank = np.empty(len(names), dtype=np.int64)
    rank[by_prefix] = np.arange(len(names))
    source = codes[inc.members]
    member_ids = ids.take(pa.array(inc.members))
    table = pa.table({"by": groups(inc) * max(len(names), 1) + rank[source], "id": member_ids})
    order = pc.sort_indices(table, sort_keys=[("by", "ascending"), ("id", "ascending")])
    quoted = pa.array([f'"{name}:' for name in names], type=pa.string())
    # '"' + source + ':', the id, '"', joined by "": each key as json writes it.
    items = pc.binary_join_element_wise(
        quoted.take(pa.array(source).take(order)), member_ids.take(order), '"', ""
    )
    rows = pa.LargeListArray.from_arrays(pa.array(inc.offsets.astype(np.int64)), items)
    sep = style.brackets("[", "]", 3)[1]
    texts = text_objects(pc.binary_join(rows, sep))
    return Lists(texts, np.diff(inc.offsets) == 0, 3)


def source_pairs(
    inc: IncidentTable, codes: np.ndarray, names: list[str]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(incident, source rank) for each distinct source of each incident, sorted; the
    source names in rank (alphabetical) order."""
    width = max(len(names), 1)
    ordered = sorted(range(len(names)), key=names.__getitem__)
    rank = np.empty(len(names), dtype=np.int64)
    rank[ordered] = np.arange(len(names))
    pairs = _distinct(groups(inc) * width + rank[codes[inc.members]])
    group, source_rank = np.divmod(pairs, width)
    return group, source_rank, [names[k] for k in ordered]


def source_lists(
    inc: IncidentTable, codes: np.ndarray, names: list[str]
) -> tuple[list[str], np.ndarray]:
    """Every incident's distinct sources, sorted within the incident, concatenated; offsets."""
    group, source_rank, sorted_names = source_pairs(inc, codes, names)
    offsets = np.searchsorted(group, np.arange(len(inc) + 1))
    return np.array(sorted_names, dtype=object)[source_rank].tolist(), offsets


def violation_ids_by_incident(ev: Evaluation) -> tuple[np.ndarray, np.ndarray]:
    """Every incident's violation ids, in id order, concatenated; offsets."""
    vt = ev.violations
    order = np.argsort(vt.incident, kind="stable")
    flat = np.array(vt.ids, dtype=object)[order]
    counts = np.bincount(vt.incident, minlength=len(ev.incidents))
    return flat, np.concatenate([[0], np.cumsum(counts)])


def grades(inc: IncidentTable) -> np.ndarray:
    """`B2`: best source reliability (F when unknown) and information credibility."""
    reliability = np.where(inc.reliability == "", "F", inc.reliability).astype(object)
    return reliability + CREDIBILITY[inc.credibility.astype(np.int64) + 128]


def targets(inc: IncidentTable) -> np.ndarray:
    target = inc.target.astype(object)
    return np.where(target == "", None, target)  # type: ignore[call-overload]  # numpy stubs: no None


def _whole(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of a float column: (a whole number that fits int64, neither that nor NaN)."""
    whole = np.isfinite(values) & (values == np.floor(values)) & (np.abs(values) < 2**62)
    return whole, ~np.isnan(values) & ~whole


def numbers_or_none(values: np.ndarray) -> list[float | int | None]:
    """Each value as SPEC §3 gives it: NaN -> None, whole numbers -> int, else float."""
    values = np.asarray(values, dtype=np.float64)
    whole, other = _whole(values)
    out = np.full(len(values), None, dtype=object)
    out[whole] = values[whole].astype(np.int64).tolist()
    out[other] = [int(v) if v.is_integer() else v for v in values[other].tolist()]
    return out.tolist()  # type: ignore[no-any-return]


def number_texts(values: np.ndarray) -> np.ndarray:
    """`numbers_or_none`, as json writes each."""
    values = np.asarray(values, dtype=np.float64)
    whole, other = _whole(values)
    out = np.full(len(values), "null", dtype=object)
    out[whole] = values[whole].astype(np.int64).astype(str).astype(object)
    out[other] = [
        int.__repr__(int(v)) if v.is_integer() else text
        for v, text in zip(values[other].tolist(), floats(values[other]).tolist(), strict=True)
    ]
    return out


def measured_m(ev: Evaluation) -> np.ndarray:
    """Each violation's measured distance to 0.1 m; NaN where nothing was measured."""
    return round_like_python(ev.violations.measured_m, 1)


def source_set_texts(
    inc: IncidentTable, codes: np.ndarray, names: list[str], style: JsonStyle
) -> Categories | Lists:
    """Each incident's sources as JSON text (lists opened at level 3), made once per
    distinct set of sources."""
    if len(names) > 62:
        flat, offsets = source_lists(inc, codes, names)
        return string_lists(np.array(flat, dtype=object), offsets, 3, style)
    sorted_names = sorted(names)
    rank = np.array([sorted_names.index(n) for n in names], dtype=np.int64)
    # Each incident's set of sources as bits (by alphabetical rank), or-ed over its reports.
    bits = np.left_shift(1, rank[codes[inc.members]])
    sets = np.zeros(len(inc), dtype=np.int64)
    reported = np.flatnonzero(np.diff(inc.offsets))
    if len(reported):
        sets[reported] = np.bitwise_or.reduceat(bits, inc.offsets[reported])
    which, distinct = pd.factorize(sets)
    start, sep, end = style.brackets("[", "]", 3)
    encoded = style.strings(sorted_names).tolist()
    texts = [
        start + sep.join(e for k, e in enumerate(encoded) if one_set >> k & 1) + end
        if one_set
        else "[]"
        for one_set in distinct.tolist()
    ]
    return Categories(which.astype(np.int64), np.array(texts, dtype=object))


def int_texts(values: np.ndarray) -> np.ndarray:
    """Each integer as json writes it."""
    return np.asarray(values).astype(np.int64).astype(str).astype(object)


# --- SPEC §5 additions ---------------------------------------------------------------


def label_lists(labels: np.ndarray) -> tuple[np.ndarray, list[list[str]]]:
    """Each "+"-joined label as a list of ids: (code per row, the lists by code)."""
    codes, distinct = pd.factorize(np.asarray(labels, dtype=object), use_na_sentinel=False)
    return codes.astype(np.int64), [str(d).split("+") if d else [] for d in distinct.tolist()]


def label_list_texts(labels: np.ndarray, style: JsonStyle, level: int = 3) -> Categories:
    """`label_lists` as JSON text, each distinct list encoded once."""
    codes, lists = label_lists(labels)
    start, sep, end = style.brackets("[", "]", level)
    texts = [start + sep.join(style.strings(ids).tolist()) + end if ids else "[]" for ids in lists]
    return Categories(codes, np.array(texts, dtype=object))


def fatality_ranges(inc: IncidentTable) -> list[dict[str, float | int | None] | None]:
    """`{"low", "best", "high"}` per incident; None where no report gives a figure."""
    low, best, high = (
        numbers_or_none(v) for v in (inc.fatalities_low, inc.fatalities, inc.fatalities_high)
    )
    return [
        None if lo is None and b is None and hi is None else {"low": lo, "best": b, "high": hi}
        for lo, b, hi in zip(low, best, high, strict=True)
    ]


def fatality_range_texts(inc: IncidentTable, style: JsonStyle, level: int = 3) -> Categories:
    """`fatality_ranges` as JSON text, each distinct (low, best, high) written once."""
    columns = (inc.fatalities_low, inc.fatalities, inc.fatalities_high)
    combined = np.zeros(len(inc), dtype=np.int64)
    for values in columns:  # few distinct figures: their codes combine into one int64
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        combined = combined * max(len(uniques), 1) + codes
    which, distinct = pd.factorize(combined)
    first = np.zeros(len(distinct), dtype=np.int64)
    first[which[::-1]] = np.arange(len(inc))[::-1]  # a row showing each distinct range
    low, best, high = (np.asarray(values)[first] for values in columns)
    start, sep, end = style.brackets("{", "}", level)
    texts = np.full(len(first), "null", dtype=object)
    given = ~(np.isnan(low) & np.isnan(best) & np.isnan(high))
    if given.any():
        parts = [number_texts(v[given]) for v in (low, best, high)]
        texts[given] = [
            f'{start}"low": {lo}{sep}"best": {b}{sep}"high": {hi}{end}'
            for lo, b, hi in zip(*(p.tolist() for p in parts), strict=True)
        ]
    return Categories(which.astype(np.int64), texts)


def directions(inc: IncidentTable) -> np.ndarray:
    return np.where(inc.mutual, "mutual", "attack").astype(object)


def iso_or_null(values: np.ndarray, tz: tzinfo, around: str = "") -> np.ndarray:
    """`iso_many`, with NaT as None (or, with `around`, as the JSON text null)."""
    given = ~np.isnat(values)
    out = np.full(len(values), "null" if around else None, dtype=object)
    if given.any():
        out[given] = iso_many(values[given], tz, around=around)
    return out
