"""The whole document, section by section, into an Agreement: every id is
known first so references resolve, then each section is built and checked."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from truce.domain.model import Agreement, Commitment, ExcludedGroup, Party, SourceRef
from truce.formats.agreement.checker import Checker, Namespace
from truce.formats.agreement.document import ExcludedDoc, PartyDoc, TopDoc
from truce.formats.agreement.features import features
from truce.formats.agreement.header import header, top_doc
from truce.formats.agreement.rules import rules
from truce.formats.agreement.scope import actor_names, area, ends
from truce.formats.agreement.terms import commitments, convoys, sites
from truce.formats.agreement.timeline import conditions, cycles, phases
from truce.formats.agreement.yaml_paths import PathT, format_path
from truce.formats.agreement.zones import zones


def build_agreement(check: Checker, data: dict[str, Any]) -> Agreement | None:
    """The Agreement, or None when `check` has found any problem."""
    top = top_doc(check, data)
    header(check, top)
    _collect_ids(check, top)
    parties = _parties(check, top.parties or [])
    excluded = _excluded(check, top.excluded or [])
    built_features = features(check, top.features or {})
    built_zones = zones(check, top.zones or [])
    built_phases = phases(check, top.phases or [])
    built_commitments = commitments(check, top.commitments or [])
    built_sites = sites(check, top.sites or [])
    built_convoys = convoys(check, top.convoys or [])
    built_conditions = conditions(check, top.conditions or [], top.rules or [])
    built_rules = rules(check, top.rules or [])
    cycles(check)
    polygons = {fid for fid, f in built_features.items() if f.kind == "polygon"}
    built_area = area(check, top.area, polygons)
    built_end = ends(check, top.ends)
    if check.problems:
        return None
    return Agreement(
        id=top.id,
        title=top.title or "",
        timezone=check.tz,
        timezone_name=str(top.timezone),
        signed=top.signed,
        crs=top.crs,
        sources=tuple(SourceRef(s.title, s.url) for s in top.sources or []),
        parties=_with_committed_groups(parties, built_commitments),
        excluded=excluded,
        features=built_features,
        zones=built_zones,
        phases=built_phases,
        conditions=built_conditions,
        rules=built_rules,
        commitments=built_commitments,
        sites=built_sites,
        convoys=built_convoys,
        description=top.description,
        notes=tuple(top.notes or ()),
        area=built_area,
        ends=built_end,
    )


def _collect_ids(check: Checker, top: TopDoc) -> None:
    """Know every id first (also of items with other problems) so references resolve."""
    seen: dict[str, PathT] = {}
    sections: list[tuple[str, list[Any], Namespace | None]] = [
        ("parties", top.parties or [], "party"),
        ("excluded", top.excluded or [], None),
        ("zones", top.zones or [], "zone"),
        ("phases", top.phases or [], "phase"),
        ("conditions", top.conditions or [], "condition"),
        ("rules", top.rules or [], "rule"),
        ("sites", top.sites or [], "site"),
        ("convoys", top.convoys or [], "convoy"),
    ]
    for section, items, namespace in sections:
        for i, item in enumerate(items):
            item_id = item.get("id") if isinstance(item, dict) else None
            if not isinstance(item_id, str):
                continue
            if item_id in seen:
                check.add(
                    (section, i, "id"),
                    f"duplicate id '{item_id}': already used by {format_path(seen[item_id])}; "
                    "every party, excluded group, zone, phase, condition, rule, site and convoy "
                    "needs its own id",
                    item_id,
                )
                continue
            seen[item_id] = (section, i)
            if namespace:
                check.ids[namespace].append(item_id)
    check.ids["feature"] = [str(k) for k in (top.features or {})]


def _parties(check: Checker, items: list[Any]) -> tuple[Party, ...]:
    out = []
    for i, item in enumerate(items):
        doc = check.validate(PartyDoc, item, ("parties", i))
        if doc:
            names, sources = actor_names(doc.actors)
            out.append(Party(doc.id, doc.name, names, doc.guarantor, sources))
    return tuple(out)


def _excluded(check: Checker, items: list[Any]) -> tuple[ExcludedGroup, ...]:
    out = []
    for i, item in enumerate(items):
        doc = check.validate(ExcludedDoc, item, ("excluded", i))
        if doc:
            names, sources = actor_names(doc.actors)
            out.append(ExcludedGroup(doc.id, doc.name or doc.id, names, sources))
    return tuple(out)


def _with_committed_groups(
    parties: tuple[Party, ...], signed: tuple[Commitment, ...]
) -> tuple[Party, ...]:
    """A group in `commitments` acts for its party: its name and aliases become the
    party's actor names, so reports naming it are attributed to the party."""
    out = []
    for p in parties:
        extra = [n for c in signed if c.party == p.id for n in (c.group, *c.aliases)]
        out.append(replace(p, actors=tuple(dict.fromkeys((*p.actors, *extra)))) if extra else p)
    return tuple(out)
