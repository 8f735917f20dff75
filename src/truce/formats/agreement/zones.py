"""Zones: a buffer `around` a feature, or a feature's own area."""

from __future__ import annotations

from typing import Any

from truce.domain.model import Zone
from truce.formats.agreement.checker import Checker
from truce.formats.agreement.document import ZoneDoc
from truce.formats.agreement.yaml_paths import PathT


def zones(check: Checker, items: list[Any]) -> tuple[Zone, ...]:
    out = []
    for i, item in enumerate(items):
        path: PathT = ("zones", i)
        doc = check.validate(ZoneDoc, item, path)
        if doc is None:
            continue
        if doc.around and doc.feature:
            check.add(
                path,
                "give either `around: FEATURE` with distance_m (a buffer) or `feature: POLYGON`, not both",
            )
        elif doc.around:
            ok = check.ref((*path, "around"), "feature", doc.around)
            if doc.distance_m is None:
                check.add(path, "a zone `around` a feature needs distance_m (metres, > 0)")
            elif ok:
                out.append(Zone(doc.id, doc.around, doc.distance_m, doc.name))
        elif doc.feature:
            if not check.ref((*path, "feature"), "feature", doc.feature):
                continue
            kind = check.feature_kinds.get(doc.feature)
            if kind in ("point", "line") and doc.distance_m is None:
                check.add(
                    (*path, "feature"),
                    f"feature '{doc.feature}' is a {kind}, which has no area; use a polygon, "
                    f"or give distance_m to make a zone around it",
                    doc.feature,
                )
                continue
            out.append(Zone(doc.id, doc.feature, doc.distance_m or 0.0, doc.name))
        else:
            check.add(path, "a zone needs `around: FEATURE` with distance_m, or `feature: POLYGON`")
    return tuple(out)
