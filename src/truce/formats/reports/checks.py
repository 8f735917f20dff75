"""The row checks of SPEC §2: parsed text (`TextRows`) in, a `ReportTable` and
rejections out. Every check is a whole-column operation (a boolean mask per
check); messages are built only for the rows that fail."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

import numpy as np

from truce.domain.model import (
    EVENT_TYPES,
    WEAPONS,
    Rejection,
    ReportTable,
    empty_reports,
)
from truce.formats.reports.extras import check_extras
from truce.formats.reports.field_checks import (
    Converted,
    PlaceResolver,
    Problems,
    check_location,
    check_time,
    credibility_grade,
    first_of_each_key,
    number_column,
    reliability_grade,
    same_reason,
    text_at,
    vocabulary_codes,
)
from truce.formats.reports.rows import FEW_DISTINCT, TextRows
from truce.formats.reports.status import status_notes
from truce.formats.reports.tuning import TUNING, ReaderTuning
from truce.formats.reports.values import (
    Distinct,
    byte_lengths,
    coordinates,
    dictionary_codes,
    stripped_text,
    times,
)

T = TypeVar("T")


@dataclass
class ReadResult:
    """What a report file yielded. Every input row is in exactly one of the three."""

    reports: ReportTable  # accepted, (source, report_id) unique, in file order
    rejected: list[Rejection] = field(default_factory=list)  # sorted by line
    duplicates: int = 0  # valid rows dropped because their key repeated an earlier row
    notices: list[str] = field(default_factory=list)  # e.g. an importer's unmapped kinds


def _convert(rows: TextRows, tuning: ReaderTuning) -> Converted:
    """The Arrow work (hashing, casts) runs on a thread pool for big inputs: Arrow
    releases the GIL, so it overlaps with building the report_id strings."""
    n = len(rows.lines)
    text = rows.columns.get
    workers = min(4, os.cpu_count() or 1) if n >= tuning.parallel_rows else 1
    with ThreadPoolExecutor(workers) if workers > 1 else _InThisThread() as pool:
        id_text = text("report_id")  # the longest jobs first
        id_codes = pool.submit(dictionary_codes, id_text) if id_text is not None else None
        observed = pool.submit(times, text("observed_at"), n, tuning)
        lat = pool.submit(coordinates, text("lat"), n, tuning)
        lon = pool.submit(coordinates, text("lon"), n, tuning)
        distinct = {c: pool.submit(Distinct.of, text(c), n) for c in FEW_DISTINCT}
        report_id, stripped_id_text = stripped_text(id_text, n)
        if id_codes is None or stripped_id_text is not id_text:
            codes = dictionary_codes(stripped_id_text)[0]
        else:
            codes = id_codes.result()[0]
        observed_at, time_problem = observed.result()
        return Converted(
            report_id=report_id,
            report_id_codes=codes,
            report_id_empty=byte_lengths(stripped_id_text) == 0,
            distinct={c: f.result() for c, f in distinct.items()},
            observed_at=observed_at,
            time_problem=time_problem,
            lat=lat.result(),
            lon=lon.result(),
        )


class _InThisThread:
    """The executor interface, running each call at once (small inputs)."""

    def __enter__(self) -> _InThisThread:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(self, fn: Callable[..., T], *args: object) -> Future[T]:
        future: Future[T] = Future()
        future.set_result(fn(*args))
        return future


def check_rows(
    rows: TextRows,
    default_source: str | None,
    resolve_place: PlaceResolver | None,
    tuning: ReaderTuning = TUNING,
) -> ReadResult:
    n = len(rows.lines)
    text = rows.columns.get
    values = _convert(rows, tuning)
    p = Problems(n)

    report_id = values.report_id
    p.add(values.report_id_empty, "report_id", lambda i: "report_id is empty")

    source = values.distinct["source"].stripped()
    if default_source is not None and default_source.strip():
        fill = default_source.strip()
        source = source.mapped(lambda v: v or fill)
    p.add(
        source.where(lambda v: v == ""),
        "source",
        lambda i: "source is empty; give a source column or --source",
    )

    check_time(p, values.time_problem, text("observed_at"))
    lat, lon, precision, place = check_location(p, values, text, resolve_place)

    event_text = values.distinct["event_type"]
    event_type = vocabulary_codes(event_text, EVENT_TYPES)
    p.add(event_text.where_code(event_type, -2), "event_type", lambda i: "event_type is empty")
    p.add(
        event_text.where_code(event_type, -3),
        "event_type",
        lambda i: (
            f"unknown event_type {event_text.text(i).strip()!r}; expected one of {', '.join(EVENT_TYPES)}"
        ),
    )
    weapon_text = values.distinct["weapon"]
    weapon = vocabulary_codes(weapon_text, WEAPONS)
    p.add(
        weapon_text.where_code(weapon, -3),
        "weapon",
        lambda i: (
            f"unknown weapon {weapon_text.text(i).strip()!r}; expected one of {', '.join(WEAPONS)} or empty"
        ),
    )

    count_text = values.distinct["count"]
    count, count_bad = number_column(count_text, integer=True)
    p.add(
        count_bad,
        "count",
        lambda i: f"count is not a non-negative integer: {count_text.text(i).strip()!r}",
    )
    fatalities_text = values.distinct["fatalities"]
    fatalities, fatalities_bad = number_column(fatalities_text, integer=True)
    p.add(
        fatalities_bad,
        "fatalities",
        lambda i: f"fatalities is not a non-negative integer: {fatalities_text.text(i).strip()!r}",
    )

    reliability_text = values.distinct["reliability"]
    reliability = reliability_text.mapped(reliability_grade)
    p.add(
        reliability.where(lambda grade: grade == "?"),
        "reliability",
        lambda i: f"reliability must be a grade A-F or empty: {reliability_text.text(i).strip()!r}",
    )
    credibility_text = values.distinct["credibility"]
    credibility = np.array([credibility_grade(v) for v in credibility_text.values], dtype=np.int8)
    p.add(
        credibility_text.where_code(credibility, -1),
        "credibility",
        lambda i: f"credibility must be a grade 1-6 or empty: {credibility_text.text(i).strip()!r}",
    )

    fatalities_all = fatalities_text.at(fatalities, slice(None))
    extras = check_extras(rows, values.distinct, values.observed_at, fatalities_all, p.add)
    notes_text = values.distinct["notes"]
    notes, status_bad = status_notes(
        event_text.at(event_type.astype(np.int8), slice(None)),
        None if text("status") is None else [text_at(text("status"), i) for i in range(n)],
        notes_text.objects(),
    )
    for i, reason in status_bad.items():
        mask = np.zeros(n, dtype=bool)
        mask[i] = True
        p.add(mask, "status", partial(same_reason, reason))

    rejected = list(rows.rejected)
    for i, problems in p.reasons().items():
        src = source.text(i)
        rejected.append(
            Rejection(
                line=int(rows.lines[i]),
                report_id=report_id[i] or None,
                reason="; ".join(reason for _, reason in problems),
                source=src or None,
                field=problems[0][0],
                problems=tuple(problems),
            )
        )
    rejected.sort(key=lambda r: r.line)

    valid = np.flatnonzero(~p.bad)
    keep = valid[first_of_each_key(source.codes[valid], values.report_id_codes[valid])]
    duplicates = len(valid) - len(keep)
    if len(keep) == 0:
        return ReadResult(empty_reports(), rejected, duplicates, rows.notices)
    table = ReportTable(
        source=source.objects(keep),
        report_id=report_id.take(keep),
        observed_at=values.observed_at.take(keep),
        lon=lon.take(keep),
        lat=lat.take(keep),
        precision_m=precision.take(keep),
        event_type=event_text.at(event_type.astype(np.int8), keep),
        weapon=weapon_text.at(weapon.astype(np.int8), keep),
        actor=values.distinct["actor"].stripped().objects(keep),
        side=values.distinct["side"].stripped().objects(keep),
        target=values.distinct["target"].stripped().objects(keep),
        count=count_text.at(count, keep),
        fatalities=fatalities_text.at(fatalities, keep),
        reliability=reliability.objects(keep),
        credibility=credibility_text.at(np.maximum(credibility, 0), keep),
        place=place.objects(keep),
        notes=notes[keep],
        line=rows.lines.take(keep),
        **extras.take(keep),
    )
    return ReadResult(table, rejected, duplicates, rows.notices)
