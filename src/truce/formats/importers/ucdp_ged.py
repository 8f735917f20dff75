"""UCDP Georeferenced Event Dataset (GED) CSV, codebook 19.1 and later, to SPEC §2/§4.

Each decision and its reason is in docs/input-formats.md; in short:

- `type_of_violence` 1 (state-based) and 2 (non-state): the two sides fought and
  UCDP does not say who attacked: direction `mutual`, actor `side_a`, target
  `side_b`. 3 (one-sided): `side_a` attacked civilians: direction `attack`.
- UCDP does not code the weapon: event_type comes from words in the article's
  headline and name (air strike ... -> airstrike; shell, rocket ... -> shelling;
  else armed_clash), and `notes` says which word decided it.
- `where_prec` -> location_precision_m; 7 (international waters or airspace) has
  no usable location and is rejected.
- `date_start`..`date_end` -> observed_at..observed_to, whole local days in the
  country's time zone.
- `best`/`low`/`high` -> fatalities and its range; reliability B, credibility 2
  (event_clarity 1) or 3 (event_clarity 2).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from truce.formats.importers.common import (
    Mapped,
    SourceRows,
    clip,
    read_source_csv,
    reject,
    require_columns,
)
from truce.formats.importers.timezones import day_window, parse_date, zone_for
from truce.formats.reports.rows import Raw, TextRows

NAME = "ucdp-ged"
SOURCE = "ucdp-ged"
REQUIRED = (
    "id",
    "type_of_violence",
    "side_a",
    "side_b",
    "where_prec",
    "latitude",
    "longitude",
    "date_start",
    "date_end",
    "best",
)
# Columns that tell a GED file apart from any other CSV (for --input-format auto).
SIGNATURE = frozenset({"id", "type_of_violence", "side_a", "side_b", "where_prec", "date_start"})

# where_prec -> radius of uncertainty in metres (codebook 19.1 §where_prec).
PRECISION_M: dict[str, int] = {
    "1": 1_000,  # the exact place (a town, a village)
    "2": 25_000,  # within about 25 km of a known place
    "3": 50_000,  # a second-order administrative area (district)
    "4": 150_000,  # a first-order administrative area (governorate)
    "5": 150_000,  # a linear feature (road, river, front) or an area larger than adm2
    "6": 450_000,  # only the country is known
}
TYPE_OF_VIOLENCE = {"1": "state-based", "2": "non-state", "3": "one-sided"}

# The first pattern that matches the headline or article name decides; air first,
# because "warplanes fired missiles" is an air strike. (RE2 syntax, run by Arrow.)
_KEYWORDS: tuple[tuple[str, str], ...] = (
    (
        "airstrike",
        r"(?i)\b(?P<word>air[ -]?strikes?|air[ -]?raids?|warplanes?|war planes?|jets?"
        r"|helicopters?|barrel[ -]?bombs?|drones?|aircraft|aerial)\b",
    ),
    ("shelling", r"(?i)\b(?P<word>shell(?:s|ed|ing)?|artillery|mortars?|rockets?|missiles?)\b"),
)


def matches(header: list[str]) -> bool:
    return set(header) >= SIGNATURE


def event_type_of(text: str) -> tuple[str, str]:
    """(event_type, how it was derived) from a headline and article name."""
    kinds, how = event_types_of([text])
    return kinds[0], how[0]


def event_types_of(texts: list[str]) -> tuple[list[str], list[str]]:
    """(event_type, how it was derived) per text, the patterns run over the whole column."""
    column = pa.array(texts, type=pa.string())
    kinds = ["armed_clash"] * len(texts)
    how = ["event_type armed_clash: the source names no air or artillery weapon"] * len(texts)
    decided = np.zeros(len(texts), dtype=bool)
    for event_type, pattern in _KEYWORDS:
        matched = pc.extract_regex(column, pattern)  # null where nothing matches
        words = matched.field("word")
        found = np.asarray(matched.is_valid()) & ~decided
        for i in np.flatnonzero(found).tolist():
            kinds[i] = event_type
            how[i] = f"event_type {event_type}: the source mentions {words[i].as_py()!r}"
        decided |= found
    return kinds, how


def parse(raw: Raw, start: int, name: str) -> TextRows:
    rows = read_source_csv(raw, start, name)
    require_columns(rows.header, REQUIRED, name, "a UCDP GED")
    mapped, keep = _map(rows)
    return mapped.to_text_rows(rows, keep)


def _map(rows: SourceRows) -> tuple[Mapped, np.ndarray]:
    n = len(rows)
    col = rows.get
    out = Mapped(n)
    keep = np.ones(n, dtype=bool)
    ids, violence, where = col("id"), col("type_of_violence"), col("where_prec")
    starts, ends, clarity = col("date_start"), col("date_end"), col("event_clarity")
    countries, country_ids = col("country"), col("country_id")
    windows: dict[tuple[str, str, str | None], tuple[str, str] | str] = {}

    observed_at, observed_to, direction, precision = [], [], [], []
    event_type, notes, credibility = [], [], []
    low, high, best, widened = list(col("low")), list(col("high")), col("best"), 0
    headlines, articles = col("source_headline"), col("source_article")
    kinds, hows = event_types_of([f"{h} {a}" for h, a in zip(headlines, articles, strict=True)])
    zones: dict[tuple[str, str], str | None] = {}
    for i in range(n):
        line, rid = int(rows.lines[i]), ids[i].strip()
        problems: list[tuple[str, str]] = []
        tov = violence[i].strip()
        if tov not in TYPE_OF_VIOLENCE:
            problems.append(("type_of_violence", f"type_of_violence must be 1, 2 or 3: {tov!r}"))
        prec = where[i].strip()
        if prec == "7":
            problems.append(
                (
                    "where_prec",
                    "where_prec 7: international waters or airspace, no location to "
                    "test against an agreement's zones",
                )
            )
        elif prec not in PRECISION_M:
            problems.append(("where_prec", f"where_prec must be 1-7: {prec!r}"))
        country = (countries[i], country_ids[i])
        if country not in zones:
            zones[country] = zone_for(country[0], f"gw:{country[1].strip()}")
        zone = zones[country]
        key = (starts[i], ends[i], zone)
        if key not in windows:
            windows[key] = _window(starts[i], ends[i], zone)
        window = windows[key]
        if isinstance(window, str):
            problems.append(("date_start", window))
        clear = clarity[i].strip()
        if clear not in ("1", "2", ""):
            problems.append(("event_clarity", f"event_clarity must be 1 or 2: {clear!r}"))
        if problems:
            keep[i] = False
            out.rejected.append(
                reject(line, rid, SOURCE, problems[0][0], "; ".join(p for _, p in problems))
            )
            observed_at.append("")
            observed_to.append("")
            direction.append("")
            precision.append("")
            event_type.append("")
            notes.append("")
            credibility.append("")
            continue
        assert not isinstance(window, str)
        observed_at.append(window[0])
        observed_to.append(window[1])
        direction.append("attack" if tov == "3" else "mutual")
        precision.append(str(PRECISION_M[prec]))
        event_type.append(kinds[i])
        credibility.append("3" if clear == "2" else "2")
        note = _notes(rows, i, tov, prec, clear, zone, hows[i])
        fixed = _ordered_range(low[i], best[i], high[i])
        if fixed is not None:
            widened += 1
            note += (
                f"; UCDP low/best/high {low[i]}/{best[i]}/{high[i]} out of order: "
                f"range read as {fixed[0]}-{fixed[1]}"
            )
            low[i], high[i] = fixed
        notes.append(note)

    out.columns = {
        "report_id": ids,
        "source": [SOURCE] * n,
        "dataset": [SOURCE] * n,
        "observed_at": observed_at,
        "observed_to": observed_to,
        "lat": rows.array("latitude"),
        "lon": rows.array("longitude"),
        "place": rows.array("where_coordinates"),
        "location_precision_m": precision,
        "event_type": event_type,
        "actor": rows.array("side_a"),
        "target": rows.array("side_b"),
        "direction": direction,
        "fatalities": rows.array("best"),
        "fatalities_low": low,
        "fatalities_high": high,
        "reliability": ["B"] * n,
        "credibility": credibility,
        "notes": notes,
    }
    if widened:
        out.notices.append(
            f"UCDP low/best/high out of order in {widened} row(s): each range was widened "
            "to hold all three figures (see the rows' notes)"
        )
    return out, keep


def _ordered_range(low: str, best: str, high: str) -> tuple[str, str] | None:
    """(low, high) holding all three figures when UCDP's are out of order, else None
    (also when one is not a number: the report checks reject that)."""
    try:
        values = [int(v) for v in (low, best, high)]
    except ValueError:
        return None
    if values[0] <= values[1] <= values[2]:
        return None
    return str(min(values)), str(max(values))


def _window(start_text: str, end_text: str, zone: str | None) -> tuple[str, str] | str:
    """The observed_at/observed_to text, or why the dates cannot be read."""
    first, last = parse_date(start_text), parse_date(end_text)
    if first is None:
        return f"date_start is not a date (YYYY-MM-DD): {start_text.strip()!r}"
    if last is None:
        return f"date_end is not a date (YYYY-MM-DD): {end_text.strip()!r}"
    if last < first:
        return f"date_end {last} is before date_start {first}"
    return day_window(first, last, zone)


def _notes(
    rows: SourceRows, i: int, tov: str, prec: str, clarity: str, zone: str | None, how: str
) -> str:
    col = rows.get
    parts = [
        f"UCDP GED event {col('id')[i].strip()}: {col('dyad_name')[i].strip()}"
        f" ({TYPE_OF_VIOLENCE[tov]} violence)",
        how,
        f"where_prec {prec}, date_prec {col('date_prec')[i].strip() or '?'}",
    ]
    if clarity == "2":
        parts.append("event_clarity 2: UCDP calls the event unclear")
    if zone is None:
        country = col("country")[i].strip() or "unknown"
        parts.append(
            f"time zone of {country} unknown: dates read from UTC+14 to UTC-12 (widest window)"
        )
    deaths = [col(c)[i].strip() for c in ("deaths_a", "deaths_b", "deaths_civilians")]
    if any(deaths):
        parts.append(
            "deaths side_a/side_b/civilians/unknown: "
            + "/".join([*deaths, col("deaths_unknown")[i].strip()])
        )
    headline, article = col("source_headline")[i], col("source_article")[i]
    if headline.strip():
        parts.append(f"headline: {clip(headline)}")
    if article.strip():
        parts.append(f"article: {clip(article)}")
    return "; ".join(parts)
