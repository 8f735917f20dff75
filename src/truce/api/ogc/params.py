"""OGC API – Features query parameters and collection ids: parse or raise.

Bad values raise `BadInput` (400, OGC code `InvalidParameterValue`), unknown
collections `NotFound` (404, `NotFound`); `truce.api.errors` answers both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import shapely

from truce.errors import BadInput, NotFound

KINDS: tuple[str, ...] = ("zones", "incidents", "violations", "checkpoints")
DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000


# --- query parameters --------------------------------------------------------------


@dataclass(frozen=True)
class Bbox:
    """WGS84 lon/lat box; `minx > maxx` crosses the antimeridian."""

    minx: float
    miny: float
    maxx: float
    maxy: float

    def lon_ranges(self) -> list[tuple[float, float]]:
        if self.minx <= self.maxx:
            return [(self.minx, self.maxx)]
        return [(self.minx, 180.0), (-180.0, self.maxx)]

    def polygons(self) -> list[Any]:
        return [shapely.box(a, self.miny, b, self.maxy) for a, b in self.lon_ranges()]


@dataclass(frozen=True)
class Interval:
    """Closed interval in UTC nanoseconds; `None` is open."""

    start_ns: int | None
    end_ns: int | None


def parse_bbox(text: str | None) -> Bbox | None:
    """`minx,miny,maxx,maxy` (or the 6-number 3D form) in CRS84.

    >>> parse_bbox("37.1,36.2,37.2,36.3")
    Bbox(minx=37.1, miny=36.2, maxx=37.2, maxy=36.3)
    """
    if text is None or text == "":
        return None
    parts = text.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise BadInput(
            f"bbox {text!r}: not numbers; give minx,miny,maxx,maxy in WGS84 degrees"
        ) from None
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    if len(values) != 4:
        raise BadInput(f"bbox {text!r}: {len(parts)} numbers; give 4 (minx,miny,maxx,maxy)")
    if not all(math.isfinite(v) for v in values):
        raise BadInput(f"bbox {text!r}: numbers must be finite")
    minx, miny, maxx, maxy = values
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180):
        raise BadInput(f"bbox {text!r}: longitudes must be within -180..180")
    if not (-90 <= miny <= 90 and -90 <= maxy <= 90):
        raise BadInput(f"bbox {text!r}: latitudes must be within -90..90")
    if miny > maxy:
        raise BadInput(f"bbox {text!r}: miny {miny} is above maxy {maxy}")
    return Bbox(minx, miny, maxx, maxy)


def _ns(dt: datetime) -> int:
    delta = dt.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def _bound(text: str, whole: str, *, end: bool) -> int | None:
    if text in ("", ".."):
        return None
    if len(text) == 10:  # a bare date: the whole UTC day
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise BadInput(f"datetime {whole!r}: {text!r} is not a date") from None
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return _ns(start + timedelta(days=1)) - 1 if end else _ns(start)
    try:
        dt = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise BadInput(
            f"datetime {whole!r}: {text!r} is not RFC 3339; e.g. 2016-09-15T00:00:00Z"
        ) from None
    if dt.tzinfo is None:
        raise BadInput(f"datetime {whole!r}: {text!r} has no offset; add Z or +03:00 (RFC 3339)")
    return _ns(dt)


def parse_datetime(text: str | None) -> Interval | None:
    """An instant, a closed interval `a/b`, or a half-open one `../b`, `a/..`.

    >>> parse_datetime("../1970-01-01T00:00:01Z")
    Interval(start_ns=None, end_ns=1000000000)
    """
    if text is None or text == "":
        return None
    if "/" in text:
        a, _, b = text.partition("/")
        if "/" in b:
            raise BadInput(f"datetime {text!r}: at most one '/'")
        start, end = _bound(a, text, end=False), _bound(b, text, end=True)
        if start is None and end is None:
            return Interval(None, None)
        if start is not None and end is not None and start > end:
            raise BadInput(f"datetime {text!r}: the start is after the end")
        return Interval(start, end)
    if text == "..":
        raise BadInput("datetime '..': give an instant or an interval")
    return Interval(_bound(text, text, end=False), _bound(text, text, end=True))


def _int(name: str, text: str | None, default: int) -> int:
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError:
        raise BadInput(f"{name} {text!r}: not an integer") from None


def parse_limit(text: str | None) -> int:
    """1..MAX_LIMIT; larger values are clamped to MAX_LIMIT (OGC API – Features §7.15.3)."""
    value = _int("limit", text, DEFAULT_LIMIT)
    if value < 1:
        raise BadInput(f"limit {value}: must be at least 1")
    return min(value, MAX_LIMIT)


def parse_offset(text: str | None) -> int:
    value = _int("offset", text, 0)
    if value < 0:
        raise BadInput(f"offset {value}: must be 0 or more")
    return value


def parse_f(text: str | None) -> None:
    if text not in (None, "", "json", "geojson"):
        raise BadInput(f"f {text!r}: only f=json is served")


# --- collection ids -----------------------------------------------------------------


def collection_id(agreement_id: str, kind: str) -> str:
    return f"{agreement_id}-{kind}"


def split_collection_id(cid: str, known_agreements: Sequence[str]) -> tuple[str, str]:
    agreement_id, _, kind = cid.rpartition("-")
    if kind not in KINDS or agreement_id not in known_agreements:
        known = ", ".join(collection_id(a, k) for a in known_agreements for k in KINDS)
        raise NotFound(f"no collection {cid!r}; known: {known}")
    return agreement_id, kind
