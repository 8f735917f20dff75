"""Times and durations as agreements write them.

A bare date or time is read in the agreement's timezone, which the loader
passes as pydantic validation context (`{"tz": tzinfo}`), so the same field
types serve every rule kind.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from pydantic import BeforeValidator, ValidationInfo

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(d|h|m|s)\s*$")
_UNIT_S = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


def parse_duration(value: object) -> timedelta:
    """`48h`, `7d`, `90m`, `30s` -> timedelta.

    >>> parse_duration("48h")
    datetime.timedelta(days=2)
    """
    if isinstance(value, timedelta):
        return value
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(f"not a duration: {value!r}; write e.g. 48h, 7d or 90m")
    return timedelta(seconds=float(m.group(1)) * _UNIT_S[m.group(2)])


def format_duration(value: timedelta) -> str:
    s = int(value.total_seconds())
    for unit in ("d", "h", "m"):
        if s and s % _UNIT_S[unit] == 0:
            return f"{s // _UNIT_S[unit]}{unit}"
    return f"{s}s"


def parse_timezone(name: str) -> tzinfo:
    """An offset (`+03:00`) or an IANA name (`Asia/Damascus`)."""
    m = _OFFSET.match(name.strip())
    if m:
        sign = 1 if m.group(1) == "+" else -1
        return timezone(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))
    if name.strip().upper() in {"UTC", "Z"}:
        return UTC
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown timezone {name!r}; give an offset like +03:00 or an IANA name"
        ) from exc


def parse_local_datetime(value: object, tz: tzinfo | None) -> datetime:
    """An ISO 8601 instant; a bare date or a time without offset is read in `tz`."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime.combine(value, time(0))
    elif isinstance(value, str):
        text = value.strip().replace(" ", "T", 1) if "T" not in value else value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"not an ISO 8601 time: {value!r}") from exc
    else:
        raise ValueError(f"not a time: {value!r}")
    if dt.tzinfo is None:
        if tz is None:
            raise ValueError(f"time {value!r} has no offset and no timezone applies")
        dt = dt.replace(tzinfo=tz)
    return dt


def _local_datetime(value: Any, info: ValidationInfo) -> datetime:
    tz = (info.context or {}).get("tz")
    return parse_local_datetime(value, tz)


LocalDateTime = Annotated[datetime, BeforeValidator(_local_datetime)]
Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def to_utc64(dt: datetime) -> Any:
    """An aware datetime -> numpy datetime64[ns] in UTC (numpy has no timezones)."""
    return np.datetime64(dt.astimezone(UTC).replace(tzinfo=None), "ns")


def from_utc64(value: Any, tz: tzinfo) -> datetime:
    """numpy datetime64 (UTC) -> aware datetime in `tz`."""
    us = int(np.datetime64(value, "us").astype(np.int64))
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)).astimezone(tz)


_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)


def from_utc64_many(values: np.ndarray, tz: tzinfo) -> list[datetime]:
    """`from_utc64` for a whole datetime64 (UTC) array."""
    us = np.asarray(values).astype("datetime64[us]").astype(np.int64).tolist()
    return [(_EPOCH_UTC + timedelta(microseconds=u)).astimezone(tz) for u in us]


def utc_offsets_s(values: np.ndarray, tz: tzinfo) -> np.ndarray:
    """`tz`'s UTC offset in seconds at each instant of a datetime64 (UTC) array.

    A fixed-offset zone answers once. Otherwise the offset is looked up at the
    start and end of each UTC day the instants fall on (a zone changes offset at
    most once a day), and per instant only on a day it changes.
    """
    values = np.asarray(values)
    fixed = tz.utcoffset(None)
    if fixed is not None:
        return np.full(len(values), int(fixed.total_seconds()), dtype=np.int64)
    if len(values) == 0:
        return np.array([], dtype=np.int64)
    days, day_of = np.unique(values.astype("datetime64[D]"), return_inverse=True)
    first_us = days.astype("datetime64[us]").astype(np.int64).tolist()

    def offset_at(us: int) -> int:
        instant = _EPOCH_UTC + timedelta(microseconds=us)
        off = instant.astimezone(tz).utcoffset()
        return int(off.total_seconds()) if off is not None else 0

    at_start = np.array([offset_at(u) for u in first_us], dtype=np.int64)
    at_end = np.array([offset_at(u + 86_400_000_000 - 1) for u in first_us], dtype=np.int64)
    out = at_start[day_of.ravel()]
    changing = np.flatnonzero((at_start != at_end)[day_of.ravel()])
    if len(changing):
        us = values[changing].astype("datetime64[us]").astype(np.int64).tolist()
        out[changing] = [offset_at(u) for u in us]
    return out


def iso_many(values: np.ndarray, tz: tzinfo, around: str = "") -> np.ndarray:
    """`iso(from_utc64(t, tz))` for a whole datetime64 (UTC) array, as an object array;
    each text between two `around` (e.g. JSON's quotes), if given."""
    values = np.asarray(values)
    if len(values) == 0:
        return np.array([], dtype=object)
    offsets = utc_offsets_s(values, tz)
    distinct, which = np.unique(offsets, return_inverse=True)
    suffix = np.array(
        [
            datetime(2000, 1, 1, tzinfo=timezone(timedelta(seconds=int(o)))).isoformat()[19:]
            + around
            for o in distinct.tolist()
        ]
    )
    seconds = values.astype("datetime64[s]") + offsets.astype("timedelta64[s]")
    text = np.strings.add(np.datetime_as_string(seconds, unit="s"), suffix[which.ravel()])
    if around:
        text = np.strings.add(around, text)
    return text.astype(object)  # type: ignore[no-any-return]


def iso(dt: datetime | None) -> str | None:
    """ISO 8601 with offset, seconds precision, as SPEC §3 prints times."""
    if dt is None:
        return None
    return dt.replace(microsecond=0).isoformat()
