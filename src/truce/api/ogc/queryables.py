"""What a filter may name (OGC API – Features Part 3 queryables) and the columns it reads.

The queryables of the incidents and violations collections are feature properties
whose values a viewer sees exactly as the items show them: a filter only selects
among the items the viewer may see (its mask is applied after the visibility
mask) and reads, for the properties that vary with the viewer (`published`, the
incidents' `violations` count, the violations' `review` and `measured_m`), that
viewer's values. Properties whose shown value is cut per viewer and that are free
text or lists (`sources`, `evidence`) are not queryable. Zones and checkpoints
have no queryables (their queryables document is empty).

Columns are built on first use from the snapshot's dicts, in index order, and kept
with the index (`AgreementIndex.filter_columns`) or, if they vary with the
viewer, with the view (`View.filter_columns`); with `block=False` a column not
built yet raises `WouldBlock`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import numpy as np
from pygeofilter import ast

from truce.api.ogc.agreement_index import AgreementIndex, View
from truce.api.ogc.columns import Column, Points
from truce.api.ogc.index import WouldBlock
from truce.domain.review import STATES
from truce.errors import BadInput
from truce.service.scopes import review_key
from truce.service.sites import redact

__all__ = ["QUERYABLES", "FilterColumns", "queryable_params", "queryables"]

JSON_SCHEMA = "https://json-schema.org/draft/2020-12/schema"


@dataclass(frozen=True)
class Queryable:
    """`type`: string, integer, number, boolean, timestamp or geometry."""

    name: str
    type: str
    title: str
    enum: tuple[str, ...] | None = None

    def schema(self) -> dict[str, Any]:
        if self.type == "geometry":
            return {"title": self.title, "format": "geometry-point"}
        if self.type == "timestamp":
            return {"title": self.title, "type": "string", "format": "date-time"}
        out: dict[str, Any] = {"title": self.title, "type": self.type}
        if self.enum:
            out["enum"] = list(self.enum)
        return out


def _by_name(*items: Queryable) -> dict[str, Queryable]:
    return {q.name: q for q in items}


GEOMETRY = Queryable("geometry", "geometry", "Location (the incident's point)")
QUERYABLES: dict[str, dict[str, Queryable]] = {
    "incidents": _by_name(
        GEOMETRY,
        Queryable("key", "string", "Incident key (the feature id)"),
        Queryable("incident", "string", "Incident id within the evaluation"),
        Queryable("event_type", "string", "Event type, e.g. airstrike, shelling"),
        Queryable("weapon", "string", "Weapon class"),
        Queryable("observed_at", "timestamp", "When it was observed"),
        Queryable("party", "string", "Party held responsible"),
        Queryable("target", "string", "Target"),
        Queryable("corroboration", "integer", "Independent sources reporting it"),
        Queryable("status", "string", "alleged or corroborated", ("alleged", "corroborated")),
        Queryable("grade", "string", "Admiralty grade, e.g. B2"),
        Queryable("count", "integer", "How many (e.g. shells)"),
        Queryable("fatalities", "integer", "Fatalities"),
        Queryable("precision_m", "number", "Location precision in metres"),
        Queryable("violations", "integer", "Violations you can see at this incident"),
        Queryable("published", "boolean", "Published by the secretariat"),
    ),
    "violations": _by_name(
        GEOMETRY,
        Queryable("key", "string", "Violation key (the feature id)"),
        Queryable("rule", "string", "Rule id"),
        Queryable("kind", "string", "Rule kind"),
        Queryable("party", "string", "Party"),
        Queryable("at", "timestamp", "When (the incident's time)"),
        Queryable("zone", "string", "Zone id"),
        Queryable("status", "string", "Rule verdict status"),
        Queryable("review", "string", "Review state", STATES),
        Queryable("published", "boolean", "Published by the secretariat"),
        Queryable("incident_key", "string", "Key of its incident"),
        Queryable("measured_m", "number", "Measured distance in metres"),
    ),
    "zones": {},
    "checkpoints": {},
}


def queryables(base: str, cid: str, kind: str, title: str) -> dict[str, Any]:
    """The queryables JSON Schema of a collection (Part 3, /req/queryables)."""
    props = QUERYABLES[kind]
    return {
        "$schema": JSON_SCHEMA,
        "$id": f"{base}/collections/{cid}/queryables",
        "type": "object",
        "title": title,
        "description": (
            "The properties a filter (CQL2) or a query parameter may name."
            if props
            else "This collection is not filterable by property."
        ),
        "properties": {name: q.schema() for name, q in props.items()},
        "additionalProperties": False,
    }


def queryable_params(kind: str, query: dict[str, str | None]) -> ast.Node | None:
    """`?party=SAA&corroboration=2`: each simple-valued queryable given as a query
    parameter must equal its value (Part 3, /req/queryables-query-parameters)."""
    conditions: list[ast.Node] = []
    for name, q in QUERYABLES[kind].items():
        text = query.get(name)
        if text is None or q.type in ("geometry", "timestamp"):
            continue
        value: Any = text
        if q.type in ("integer", "number"):
            try:
                value = float(text)
            except ValueError:
                raise BadInput(f"{name} {text!r}: not a number") from None
        elif q.type == "boolean":
            if text not in ("true", "false"):
                raise BadInput(f"{name} {text!r}: give true or false")
            value = text == "true"
        conditions.append(ast.Equal(ast.Attribute(name), value))
    return ast.And.from_items(*conditions) if conditions else None


class FilterColumns:
    """The queryables of `kind` at index positions `rows`, as `viewer` sees them."""

    def __init__(
        self, idx: AgreementIndex, view: View, kind: str, rows: np.ndarray, *, block: bool
    ) -> None:
        self.idx, self.view, self.kind, self.rows, self.block = idx, view, kind, rows, block
        self.points = idx.incidents if kind == "incidents" else idx.violations

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, name: str) -> Column | Points:
        q = QUERYABLES[self.kind].get(name)
        if q is None:
            known = ", ".join(QUERYABLES[self.kind])
            raise BadInput(
                f"filter: {name!r} is not a queryable of the {self.kind}; known: {known} "
                "(see the collection's queryables)"
            )
        return self._whole(name).take(self.rows)

    def _whole(self, name: str) -> Column | Points:
        """The column over every index position."""
        if name == "geometry":
            return Points(self.points.lon, self.points.lat)
        if name in ("observed_at", "at"):
            return Column.timestamps(self.points.t_ns)
        per_viewer = _PER_VIEWER.get((self.kind, name))
        cache: dict[Any, Any] = self.view.filter_columns if per_viewer else self.idx.filter_columns
        key = (self.kind, name)
        hit = cache.get(key)
        if hit is None:
            if not self.block:
                raise WouldBlock
            hit = per_viewer(self) if per_viewer else self._stored(name)
            cache[key] = hit
        return hit  # type: ignore[no-any-return]

    def _dicts(self) -> list[dict[str, Any]]:
        """The snapshot's dicts of `kind`, in index order (listed once per index)."""
        key = ("dicts", self.kind)
        listed = self.idx.filter_columns.get(key)
        if listed is None:
            items = self.idx.data[self.kind]
            listed = self.idx.filter_columns[key] = [items[p] for p in self.points.order.tolist()]
        return listed  # type: ignore[no-any-return]

    def _values(self, field: str) -> list[Any]:
        try:
            return list(map(itemgetter(field), self._dicts()))
        except KeyError:  # not in every dict
            return [d.get(field) for d in self._dicts()]

    def _stored(self, name: str) -> Column:
        q = QUERYABLES[self.kind][name]
        field = {"incident": "id"}.get(name, name) if self.kind == "incidents" else name
        if self.kind == "incidents" and name == "status":
            corroboration = self._whole("corroboration")
            assert isinstance(corroboration, Column)
            status = np.where(corroboration.values >= 2, "corroborated", "alleged")
            return Column.strings(status.astype(object))
        raw = self._values(field)
        if q.type == "string":
            return Column.strings(raw)
        if q.type in ("integer", "number"):
            return Column.numbers(raw)
        return Column.booleans(np.array([bool(v) for v in raw]))

    # --- the columns that vary with the viewer -------------------------------------------

    def _published_incidents(self) -> Column:
        return Column.booleans(self.view.incident_published)

    def _violation_counts(self) -> Column:
        if self.view.violation_visible_by_pos is None:
            return Column.numbers(self.idx.violation_count.astype(np.float64))
        seen = self.idx.violation_incident[self.view.violation_visible_by_pos]
        counts = np.bincount(seen, minlength=len(self.idx.incident_keys))
        return Column.numbers(counts[self.idx.incidents.order].astype(np.float64))

    def _states(self) -> list[tuple[str, bool]]:
        states = self.view.visibility.states
        return [states.get(review_key(d), ("alleged", False)) for d in self._dicts()]

    def _reviews(self) -> Column:
        return Column.strings([state for state, _ in self._states()])

    def _published_violations(self) -> Column:
        return Column.booleans(np.array([published for _, published in self._states()], bool))

    def _measured(self) -> Column:
        vis = self.view.visibility
        dicts = self._dicts()
        values = [d.get("measured_m") for d in dicts]
        if not vis.user.sees_everything:
            # protected-site distances are redacted for those who may not see the site
            for i, d in enumerate(dicts):
                if d.get("kind") == "protected_sites":
                    values[i] = redact(d, vis.user, vis.sites).get("measured_m")
        return Column.numbers(values)


_PER_VIEWER: dict[tuple[str, str], Callable[[FilterColumns], Column]] = {
    ("incidents", "published"): FilterColumns._published_incidents,
    ("incidents", "violations"): FilterColumns._violation_counts,
    ("violations", "review"): FilterColumns._reviews,
    ("violations", "published"): FilterColumns._published_violations,
    ("violations", "measured_m"): FilterColumns._measured,
}
