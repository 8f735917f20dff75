"""The top level of an agreement file: its keys, the format version, id, title,
timezone and CRS."""

from __future__ import annotations

import re
from typing import Any

import pyproj

from truce.domain.timeparse import parse_timezone
from truce.formats.agreement.checker import Checker
from truce.formats.agreement.document import TopDoc
from truce.formats.agreement.pydantic_errors import errors_of

FORMAT_VERSION = 1
AGREEMENT_ID = re.compile(r"^[a-z0-9-]+$")


def top_doc(check: Checker, data: dict[str, Any]) -> TopDoc:
    top = check.validate(TopDoc, data, ())
    if top is None:
        # keep what is valid so the sections can still be checked
        bad = {e["loc"][0] for e in errors_of(TopDoc, data)}
        top = TopDoc.model_validate({k: v for k, v in data.items() if k not in bad})
    return top


def header(check: Checker, top: TopDoc) -> None:
    """Check the version, id and title, and set `check.tz` from the timezone."""
    if top.truce is None:
        check.add(("truce",), "missing `truce: 1` (the format version) at the top of the file")
    elif top.truce != FORMAT_VERSION or isinstance(top.truce, bool):
        check.add(
            ("truce",),
            f"unsupported format version {top.truce!r}; this truce reads `truce: {FORMAT_VERSION}`",
            top.truce,
        )
    if top.id is None:
        check.add(
            ("id",),
            "missing required key 'id' (lower-case letters, digits and '-', e.g. us-ru-2016-09)",
        )
    elif not isinstance(top.id, str) or not AGREEMENT_ID.match(top.id):
        check.add(
            ("id",), f"id {top.id!r} must use only a-z, 0-9 and '-', e.g. us-ru-2016-09", top.id
        )
    if not top.title:
        check.add(
            ("title",), "missing required key 'title': the agreement's name as people know it"
        )
    _timezone(check, top.timezone)
    if top.crs is not None:
        _crs(check, top.crs)


def _timezone(check: Checker, value: Any) -> None:
    if value is None:
        check.add(
            ("timezone",),
            "missing required key 'timezone': bare dates and times are read in it; "
            'give an offset like "+03:00" (quoted) or an IANA name like Asia/Damascus',
        )
        return
    if not isinstance(value, str):
        check.add(
            ("timezone",),
            f'timezone {value!r} is not text; quote it, e.g. timezone: "+03:00"',
            value,
        )
        return
    try:
        check.tz = parse_timezone(value)
    except ValueError as exc:
        check.add(("timezone",), str(exc), value)


def _crs(check: Checker, value: str) -> None:
    advice = "use a projected CRS in metres such as EPSG:32637 (UTM 37N), or leave crs out to use the UTM zone of the agreement"
    try:
        crs = pyproj.CRS.from_user_input(value)
    except pyproj.exceptions.CRSError:
        check.add(("crs",), f"unknown CRS {value!r}; {advice}", value)
        return
    units = {a.unit_name for a in crs.axis_info}
    if not crs.is_projected or not units <= {"metre", "meter"}:
        check.add(
            ("crs",),
            f"CRS {value!r} is not projected in metres ({', '.join(units)}); {advice}",
            value,
        )
