"""Where and until when the terms bind (SPEC §6 `area`, `ends`), and actor aliases
written with their source."""

from __future__ import annotations

from typing import Any

from truce.domain.model import AgreementEnd
from truce.domain.timeparse import parse_local_datetime
from truce.formats.agreement.checker import Checker
from truce.formats.agreement.document import ActorDoc, EndsDoc


def area(check: Checker, value: Any, polygon_features: set[str]) -> str | None:
    """The area's id: a zone, or a polygon feature (a line or point has no inside)."""
    if value is None:
        return None
    if not isinstance(value, str):
        check.add(("area",), f"area {value!r} must be the id of a zone or a polygon feature", value)
        return None
    if value in check.ids["zone"] or value in polygon_features:
        return value
    known = sorted({*check.ids["zone"], *polygon_features})
    check.add(
        ("area",),
        f"area '{value}' is neither a zone nor a polygon feature; "
        f"known: {', '.join(known) or 'none'}",
        value,
    )
    return None


def ends(check: Checker, value: Any) -> AgreementEnd | None:
    if value is None:
        return None
    doc = check.validate(EndsDoc, value if isinstance(value, dict) else {"at": value}, ("ends",))
    if doc is None:
        return None
    try:
        at = parse_local_datetime(doc.at, check.tz)
    except ValueError as exc:
        check.add(("ends", "at"), f"{exc}; write the end as an ISO 8601 time", doc.at)
        return None
    return AgreementEnd(at, doc.note, doc.source)


def actor_names(
    actors: list[str | ActorDoc],
) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """(names, (name, source) for those that give one)."""
    names = tuple(a if isinstance(a, str) else a.name for a in actors)
    sources = tuple((a.name, a.source) for a in actors if isinstance(a, ActorDoc) and a.source)
    return names, sources
