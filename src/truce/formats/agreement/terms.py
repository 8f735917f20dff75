"""The terms of SPEC §6 beyond rules: `commitments` (who signed up, through whom,
when), `sites` (notified protected sites and declared positions) and `convoys`
(notified humanitarian movements)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from truce.domain.model import Commitment, Convoy, Site
from truce.domain.timeparse import LocalDateTime
from truce.formats.agreement.checker import Checker
from truce.formats.agreement.document import _Doc
from truce.formats.agreement.yaml_paths import PathT


class CommitmentDoc(_Doc):
    group: str = Field(min_length=1)
    party: str
    via: str | None = None
    accepted: LocalDateTime | None = None
    declined: LocalDateTime | None = None
    withdrew: LocalDateTime | None = None
    aliases: tuple[str, ...] = ()
    note: str | None = None
    source: str | None = None


class SiteDoc(_Doc):
    id: str
    kind: str
    point: tuple[float, float]
    radius_m: float = Field(gt=0)
    notified: LocalDateTime | None = None
    via: str | None = None
    declared_by: str | None = None
    notified_to: tuple[str, ...] = ()
    name: str | None = None
    note: str | None = None


class WindowDoc(_Doc):
    from_: LocalDateTime = Field(alias="from")
    to: LocalDateTime


class ConvoyDoc(_Doc):
    id: str
    organisation: str
    route: list[str] = Field(min_length=1)
    corridor_m: float = Field(default=1000.0, gt=0)
    window: WindowDoc
    notified: LocalDateTime | None = None
    name: str | None = None
    note: str | None = None


def commitments(check: Checker, items: list[Any]) -> tuple[Commitment, ...]:
    out: list[Commitment] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        path: PathT = ("commitments", i)
        doc = check.validate(CommitmentDoc, item, path, context={"tz": check.tz})
        if doc is None:
            continue
        ok = check.ref((*path, "party"), "party", doc.party)
        key = doc.group.strip().lower()
        if key in seen:
            check.add(
                (*path, "group"),
                f"group '{doc.group}' is already listed at commitments[{seen[key]}]; give each "
                "group one entry with its accepted / declined / withdrew times",
                doc.group,
            )
            ok = False
        seen.setdefault(key, i)
        if doc.withdrew is not None and (doc.accepted is None or doc.withdrew <= doc.accepted):
            check.add(
                (*path, "withdrew"),
                "a group can only withdraw after it accepted: give `accepted` earlier than `withdrew`",
                doc.withdrew,
            )
            ok = False
        if doc.accepted is not None and doc.declined is not None and doc.declined >= doc.accepted:
            check.add(
                (*path, "declined"),
                "declined at or after accepting: a group that accepted and then left gives "
                "`withdrew`; one that declined and later accepted gives both, declined first",
                doc.declined,
            )
            ok = False
        if ok:
            out.append(
                Commitment(
                    doc.group.strip(),
                    doc.party,
                    doc.via,
                    doc.accepted,
                    doc.declined,
                    doc.withdrew,
                    tuple(doc.aliases),
                    doc.note,
                    doc.source,
                )
            )
    return tuple(out)


def sites(check: Checker, items: list[Any]) -> tuple[Site, ...]:
    out: list[Site] = []
    for i, item in enumerate(items):
        path: PathT = ("sites", i)
        doc = check.validate(SiteDoc, item, path, context={"tz": check.tz})
        if doc is None:
            continue
        lon, lat = doc.point
        ok = True
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            check.add(
                (*path, "point"),
                f"[{lon}, {lat}] is out of range; coordinates are [lon, lat] in WGS84 degrees",
                [lon, lat],
            )
            ok = False
        for j, party in enumerate(doc.notified_to):
            ok = check.ref((*path, "notified_to", j), "party", party) and ok
        if ok:
            out.append(
                Site(
                    doc.id,
                    doc.kind,
                    lon,
                    lat,
                    doc.radius_m,
                    doc.notified,
                    doc.via,
                    doc.declared_by,
                    tuple(doc.notified_to),
                    doc.name,
                    doc.note,
                )
            )
    return tuple(out)


def convoys(check: Checker, items: list[Any]) -> tuple[Convoy, ...]:
    out: list[Convoy] = []
    for i, item in enumerate(items):
        path: PathT = ("convoys", i)
        doc = check.validate(ConvoyDoc, item, path, context={"tz": check.tz})
        if doc is None:
            continue
        ok = True
        for j, feature in enumerate(doc.route):
            if not check.ref((*path, "route", j), "feature", feature):
                ok = False
                continue
            kind = check.feature_kinds.get(feature)
            if kind == "point":
                check.add(
                    (*path, "route", j),
                    f"route feature '{feature}' is a point; a route is made of line features",
                    feature,
                )
                ok = False
        if doc.window.to <= doc.window.from_:
            check.add(
                (*path, "window", "to"),
                "the window ends before it starts; give `from` earlier than `to`",
                doc.window.to,
            )
            ok = False
        if ok:
            out.append(
                Convoy(
                    doc.id,
                    doc.organisation,
                    tuple(doc.route),
                    doc.corridor_m,
                    doc.window.from_,
                    doc.window.to,
                    doc.notified,
                    doc.name,
                    doc.note,
                )
            )
    return tuple(out)
