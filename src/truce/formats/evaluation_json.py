"""Evaluation -> the SPEC §3 JSON object (times in the agreement's timezone).

A million reports make a quarter of a million incidents, so every field is
computed for the whole column at once. `evaluation_to_dict` assembles the
dicts the server works on; `evaluation_json` writes the same object straight
to JSON text, column by column (`formats.json_columns`): byte for byte what
`json.dumps(evaluation_to_dict(ev), indent=..., ensure_ascii=...)` gives, in a
fraction of the time.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

from truce.domain.model import EVENT_TYPES, WEAPONS, Evaluation, IncidentTable, ReportTable
from truce.domain.timeparse import iso, iso_many
from truce.formats.json_columns import (
    Categories,
    JsonStyle,
    Lists,
    floats,
    numbers,
    records,
    round_like_python,
    string_lists,
)

_EVENT_NAMES = np.array(EVENT_TYPES, dtype=object)
_WEAPON_NAMES = np.array([*WEAPONS, None], dtype=object)  # NO_CODE (-1) -> None
_CREDIBILITY = np.array([str(k) for k in range(-128, 128)], dtype=object)  # int8 -> digits


# --- columns shared by the dicts and the text ------------------------------------------


def _groups(inc: IncidentTable) -> np.ndarray:
    """The incident row of each entry of `inc.members`."""
    return np.repeat(np.arange(len(inc)), np.diff(inc.offsets))


def _distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values of an integer array."""
    values = np.sort(values)
    return values[np.concatenate([[True], values[1:] != values[:-1]])] if len(values) else values


def _source_codes(reports: ReportTable) -> tuple[np.ndarray, list[str]]:
    """Each report's source as a code, and the sources by code."""
    codes, names = pd.factorize(reports.source)
    return codes.astype(np.int64), names.tolist()


def _report_ids(
    inc: IncidentTable, reports: ReportTable, codes: np.ndarray, names: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Each incident's `source:report_id` keys in sorted order, concatenated in incident
    order (incident i's are `[inc.offsets[i]:inc.offsets[i+1]]`), and their lengths."""
    members, group = inc.members, _groups(inc)
    prefixes = np.array([f"{name}:" for name in names], dtype=object)
    # Keys from different sources sort as their `source:` prefixes do, unless a source name
    # holds a ":" (then all are compared in full). So sort by source, then break the ties:
    # runs of one source's reports in one incident, compared by key.
    if any(":" in name for name in names):
        rank = np.zeros(len(names), dtype=np.int64)
    else:
        rank = np.argsort(np.argsort(prefixes))
    source_rank = rank[codes[members]]
    # Stable sort of (incident, source): members are already grouped, so this is quick.
    order = np.argsort(group * max(len(names), 1) + source_rank, kind="stable")
    reps, group, source_rank = members[order], group[order], source_rank[order]
    # The keys are made in their final order, so what reads them next reads memory in order.
    keys = prefixes[codes[reps]] + reports.report_id[reps] if len(reps) else reps.astype(object)
    prefix_length = np.array([len(p) for p in prefixes], dtype=np.int64)
    id_length = np.fromiter(map(len, reports.report_id.tolist()), np.int64, len(reports))
    lengths = prefix_length[codes[reps]] + id_length[reps]
    tied = (group[1:] == group[:-1]) & (source_rank[1:] == source_rank[:-1])
    if tied.any():
        edges = np.diff(np.concatenate([[0], tied.astype(np.int8), [0]]))
        run_start, run_end = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) + 1
        pairs = run_start[run_end - run_start == 2]
        swap = pairs[keys[pairs] > keys[pairs + 1]]
        for column in (keys, lengths):
            column[swap], column[swap + 1] = column[swap + 1], column[swap].copy()
        longer = np.flatnonzero(run_end - run_start > 2)
        if len(longer):
            key_list, length_list = keys.tolist(), lengths.tolist()
            for a, b in zip(run_start[longer].tolist(), run_end[longer].tolist(), strict=True):
                key_list[a:b], length_list[a:b] = zip(
                    *sorted(zip(key_list[a:b], length_list[a:b], strict=True)), strict=True
                )
            keys[:], lengths[:] = key_list, length_list
    return keys, lengths


def _source_pairs(
    inc: IncidentTable, codes: np.ndarray, names: list[str]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(incident, source rank) for each distinct source of each incident, sorted; the
    source names in rank (alphabetical) order."""
    width = max(len(names), 1)
    ordered = sorted(range(len(names)), key=names.__getitem__)
    rank = np.empty(len(names), dtype=np.int64)
    rank[ordered] = np.arange(len(names))
    pairs = _distinct(_groups(inc) * width + rank[codes[inc.members]])
    group, source_rank = np.divmod(pairs, width)
    return group, source_rank, [names[k] for k in ordered]


def _sources(
    inc: IncidentTable, codes: np.ndarray, names: list[str]
) -> tuple[list[str], np.ndarray]:
    """Every incident's distinct sources, sorted within the incident, concatenated; offsets."""
    group, source_rank, sorted_names = _source_pairs(inc, codes, names)
    offsets = np.searchsorted(group, np.arange(len(inc) + 1))
    return np.array(sorted_names, dtype=object)[source_rank].tolist(), offsets


def _violation_ids(ev: Evaluation) -> tuple[np.ndarray, np.ndarray]:
    """Every incident's violation ids, in id order, concatenated; offsets."""
    vt = ev.violations
    order = np.argsort(vt.incident, kind="stable")
    flat = np.array(vt.ids, dtype=object)[order]
    counts = np.bincount(vt.incident, minlength=len(ev.incidents))
    return flat, np.concatenate([[0], np.cumsum(counts)])


def _grades(inc: IncidentTable) -> np.ndarray:
    """`B2`: best source reliability (F when unknown) and information credibility."""
    reliability = np.where(inc.reliability == "", "F", inc.reliability).astype(object)
    return reliability + _CREDIBILITY[inc.credibility.astype(np.int64) + 128]


def _targets(inc: IncidentTable) -> np.ndarray:
    target = inc.target.astype(object)
    return np.where(target == "", None, target)


def _whole(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of a float column: (a whole number that fits int64, neither that nor NaN)."""
    whole = np.isfinite(values) & (values == np.floor(values)) & (np.abs(values) < 2**62)
    return whole, ~np.isnan(values) & ~whole


def _nums(values: np.ndarray) -> list[float | int | None]:
    """Each value as SPEC §3 gives it: NaN -> None, whole numbers -> int, else float."""
    values = np.asarray(values, dtype=np.float64)
    whole, other = _whole(values)
    out = np.full(len(values), None, dtype=object)
    out[whole] = values[whole].astype(np.int64).tolist()
    out[other] = [int(v) if v.is_integer() else v for v in values[other].tolist()]
    return out.tolist()  # type: ignore[no-any-return]


def _num_texts(values: np.ndarray) -> np.ndarray:
    """`_nums`, as json writes each."""
    values = np.asarray(values, dtype=np.float64)
    whole, other = _whole(values)
    out = np.full(len(values), "null", dtype=object)
    out[whole] = values[whole].astype(np.int64).astype(str).astype(object)
    out[other] = [
        int.__repr__(int(v)) if v.is_integer() else text
        for v, text in zip(values[other].tolist(), floats(values[other]).tolist(), strict=True)
    ]
    return out


def _measured(ev: Evaluation) -> np.ndarray:
    """Each violation's measured distance to 0.1 m; NaN where nothing was measured."""
    return round_like_python(ev.violations.measured_m, 1)


# --- dicts ---------------------------------------------------------------------------------


def _split(flat: list[Any], offsets: np.ndarray) -> list[list[Any]]:
    """`flat` cut into consecutive lists at `offsets` (len n+1)."""
    return [flat[a:b] for a, b in pairwise(offsets.tolist())]


def incident_dicts(ev: Evaluation, observed_at: np.ndarray | None = None) -> list[dict[str, Any]]:
    """The SPEC §3 incidents. `observed_at`: their local ISO times, if already made."""
    inc = ev.incidents
    if observed_at is None:
        observed_at = iso_many(inc.observed_at, ev.agreement.timezone)
    codes, names = _source_codes(ev.reports)
    report_ids, _ = _report_ids(inc, ev.reports, codes, names)
    violation_ids, violation_offsets = _violation_ids(ev)
    columns = zip(
        ev.incident_ids,
        inc.anchor.tolist(),
        _split(report_ids.tolist(), inc.offsets),
        _split(*_sources(inc, codes, names)),
        _EVENT_NAMES[inc.event_type].tolist(),
        _WEAPON_NAMES[inc.weapon].tolist(),
        observed_at.tolist(),
        round_like_python(inc.lon, 6).tolist(),
        round_like_python(inc.lat, 6).tolist(),
        _nums(inc.precision_m),
        inc.party.tolist(),
        _targets(inc).tolist(),
        inc.corroboration.tolist(),
        _grades(inc).tolist(),
        _nums(inc.count),
        _nums(inc.fatalities),
        _split(violation_ids.tolist(), violation_offsets),
        strict=True,
    )
    return [
        {
            "id": inc_id,
            "key": key,
            "report_ids": report_ids,
            "sources": sources,
            "event_type": event_type,
            "weapon": weapon,
            "observed_at": at,
            "lon": lon,
            "lat": lat,
            "precision_m": precision_m,
            "party": party,
            "target": target,
            "corroboration": corroboration,
            "grade": grade,
            "count": count,
            "fatalities": fatalities,
            "violations": violations,
        }
        for (
            inc_id,
            key,
            report_ids,
            sources,
            event_type,
            weapon,
            at,
            lon,
            lat,
            precision_m,
            party,
            target,
            corroboration,
            grade,
            count,
            fatalities,
            violations,
        ) in columns
    ]


def violation_dicts(ev: Evaluation, observed_at: np.ndarray | None = None) -> list[dict[str, Any]]:
    """The SPEC §3 violations. `observed_at`: the incidents' local ISO times, if already made."""
    vt = ev.violations
    if observed_at is None:
        observed_at = iso_many(ev.incidents.observed_at, ev.agreement.timezone)
    measured = _measured(ev).astype(object)
    measured[np.isnan(vt.measured_m)] = None
    columns = zip(
        vt.ids,
        vt.rule.tolist(),
        vt.kind.tolist(),
        np.array(ev.incident_ids, dtype=object)[vt.incident].tolist(),
        vt.party.tolist(),
        observed_at[vt.incident].tolist(),
        vt.zone.tolist(),
        vt.evidence.tolist(),
        vt.status.tolist(),
        measured.tolist(),
        strict=True,
    )
    return [
        {
            "id": vid,
            "rule": rule,
            "kind": kind,
            "incident": incident,
            "party": party,
            "at": at,
            "zone": zone,
            "evidence": evidence,
            "status": status,
            "measured_m": measured_m,
        }
        for vid, rule, kind, incident, party, at, zone, evidence, status, measured_m in columns
    ]


def _small_parts(ev: Evaluation) -> dict[str, Any]:
    """The whole object, with None for the incidents and violations."""
    return {
        "agreement": ev.agreement.id,
        "as_of": iso(ev.as_of.astimezone(ev.agreement.timezone)),
        "rejected": [
            {
                "line": r.line,
                "report_id": r.report_id,
                "reason": r.reason,
                "field": r.field,
                "source": r.source,
            }
            for r in ev.rejected
        ],
        "incidents": None,
        "violations": None,
        "phases": [
            {"id": p.id, "start": iso(p.start), "end": iso(p.end), "status": p.status}
            for p in ev.phases
        ],
        "conditions": [
            {
                "id": c.id,
                "met_at": iso(c.met_at),
                "blocking": c.blocking,
                "streak_days": c.streak_days,
                "daily": [
                    {
                        "day": d.day.isoformat(),
                        "incidents": d.incidents,
                        "quiet": d.quiet,
                        "complete": d.complete,
                    }
                    for d in c.days
                ],
            }
            for c in ev.conditions
        ],
    }


def evaluation_to_dict(ev: Evaluation) -> dict[str, Any]:
    """The object `truce evaluate --format json` prints."""
    observed_at = iso_many(ev.incidents.observed_at, ev.agreement.timezone)
    out = _small_parts(ev)
    with _collector_paused():
        out["incidents"] = incident_dicts(ev, observed_at)
        out["violations"] = violation_dicts(ev, observed_at)
    return out


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Hundreds of thousands of new dicts and lists would set off Python's cycle collector
    again and again, each time walking all of them; they hold no cycles, so it waits."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# --- text ----------------------------------------------------------------------------------


def _source_sets(
    inc: IncidentTable, codes: np.ndarray, names: list[str], style: JsonStyle
) -> Categories | Lists:
    """Each incident's sources as JSON text (lists opened at level 3), made once per
    distinct set of sources."""
    if len(names) > 62:
        flat, offsets = _sources(inc, codes, names)
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
        start + sep.join(e for k, e in enumerate(encoded) if bits >> k & 1) + end if bits else "[]"
        for bits in distinct.tolist()
    ]
    return Categories(which.astype(np.int64), np.array(texts, dtype=object))


def evaluation_json(ev: Evaluation, *, indent: int | None = None, ensure_ascii: bool = True) -> str:
    """`json.dumps(evaluation_to_dict(ev), indent=indent, ensure_ascii=ensure_ascii)`,
    written column by column."""
    style = JsonStyle(indent, ensure_ascii)
    inc, vt = ev.incidents, ev.violations
    # The incidents open at nesting level 1 (in the top object), their fields at 3.
    observed_at = iso_many(inc.observed_at, ev.agreement.timezone, around='"')  # plain ASCII
    incident_ids = style.strings(ev.incident_ids)
    codes, names = _source_codes(ev.reports)
    report_ids, report_id_lengths = _report_ids(inc, ev.reports, codes, names)
    violation_ids, violation_offsets = _violation_ids(ev)
    incidents = records(
        [
            ("id", incident_ids),
            ("key", style.strings(inc.anchor)),
            ("report_ids", string_lists(report_ids, inc.offsets, 3, style, report_id_lengths)),
            ("sources", _source_sets(inc, codes, names, style)),
            ("event_type", Categories(inc.event_type.astype(np.int64), style.strings(EVENT_TYPES))),
            (
                "weapon",
                Categories(inc.weapon % (len(WEAPONS) + 1), style.strings([*WEAPONS, None])),
            ),
            ("observed_at", observed_at),
            ("lon", floats(round_like_python(inc.lon, 6))),
            ("lat", floats(round_like_python(inc.lat, 6))),
            ("precision_m", numbers(_num_texts, inc.precision_m)),
            ("party", style.few_strings(inc.party)),
            ("target", style.few_strings(_targets(inc))),
            ("corroboration", numbers(_int_texts, inc.corroboration)),
            ("grade", style.few_strings(_grades(inc))),
            ("count", numbers(_num_texts, inc.count)),
            ("fatalities", numbers(_num_texts, inc.fatalities)),
            ("violations", string_lists(violation_ids, violation_offsets, 3, style)),
        ],
        1,
        style,
    )
    measured = floats(_measured(ev))
    measured[np.isnan(vt.measured_m)] = "null"
    violations = records(
        [
            ("id", style.strings(vt.ids)),
            ("rule", style.few_strings(vt.rule)),
            ("kind", style.few_strings(vt.kind)),
            ("incident", incident_ids[vt.incident]),
            ("party", style.few_strings(vt.party)),
            ("at", observed_at[vt.incident]),
            ("zone", style.few_strings(vt.zone)),
            ("evidence", style.strings(vt.evidence)),
            ("status", style.few_strings(vt.status)),
            ("measured_m", measured),
        ],
        1,
        style,
    )
    # The rest through json itself, with a marker where each big list goes.
    marker = "\x00truce %s\x00"
    small = _small_parts(ev) | {
        "incidents": marker % "incidents",
        "violations": marker % "violations",
    }
    head = json.dumps(small, indent=indent, ensure_ascii=ensure_ascii)
    before, rest = head.split(style.string(marker % "incidents"))
    between, after = rest.split(style.string(marker % "violations"))
    text = [before]
    text += incidents
    text.append(between)
    text += violations
    text.append(after)
    return "".join(text)


def _int_texts(values: np.ndarray) -> np.ndarray:
    return np.asarray(values).astype(np.int64).astype(str).astype(object)
