"""Agreement files (SPEC §1): YAML text -> `truce.domain.model.Agreement`.

The loader never stops at the first mistake: it collects every problem in the
file and raises them together as one `AgreementError`. Each `Problem` names the
path (`rules[2].min_distance_m.tank`, `features.castello_road.line[1]`), the YAML
line, the offending value, and says what to do.

>>> a = parse_agreement('''
... truce: 1
... id: demo
... title: Demo
... timezone: "+03:00"
... phases: [{id: cessation, start: 2016-09-12T19:00:00, duration: 48h}]
... ''')
>>> a.phases[0].start.at.isoformat(), a.phases[0].duration
('2016-09-12T19:00:00+03:00', datetime.timedelta(days=2))
"""

from __future__ import annotations

import difflib
import math
import re
from datetime import UTC, date, timedelta, tzinfo
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import pyproj
import shapely
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from truce.domain.errors import AgreementError, Problem
from truce.domain.model import (
    WEAPONS,
    AfterPhase,
    Agreement,
    AtTime,
    Condition,
    ExcludedGroup,
    Feature,
    Party,
    Phase,
    Rule,
    SourceRef,
    TimeRef,
    WhenCondition,
    Zone,
)
from truce.domain.rules import rule_kinds
from truce.domain.timeparse import Duration, parse_duration, parse_local_datetime, parse_timezone

__all__ = ["FORMAT_VERSION", "load_agreement", "parse_agreement"]

FORMAT_VERSION = 1
AGREEMENT_ID = re.compile(r"^[a-z0-9-]+$")
CONDITION_KINDS: tuple[str, ...] = ("quiet_days",)
# A coordinate this far from the others, whose swap lies near them, was written [lat, lon].
SWAP_DISTANCE_KM = 500.0

PathT = tuple[str | int, ...]
Namespace = Literal["phase", "zone", "feature", "party", "condition"]

# --- the document shape ------------------------------------------------------


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class SourceDoc(_Doc):
    title: str
    url: str | None = None


class PartyDoc(_Doc):
    id: str
    name: str
    guarantor: str | None = None
    actors: list[str] = []


class ExcludedDoc(_Doc):
    id: str
    name: str | None = None
    actors: list[str] = []


Coord = tuple[float, float]


class FeatureDoc(_Doc):
    line: list[Coord] | None = None
    polygon: list[Coord] | None = None
    point: Coord | None = None
    name: str | None = None
    uncertainty_m: float | None = Field(default=None, ge=0)
    note: str | None = None


class ZoneDoc(_Doc):
    id: str
    name: str | None = None
    note: str | None = None
    around: str | None = None
    feature: str | None = None
    distance_m: float | None = Field(default=None, gt=0)


class PhaseDoc(_Doc):
    id: str
    start: Any
    duration: Duration | None = None
    name: str | None = None
    note: str | None = None


class ConditionDoc(_Doc):
    id: str
    kind: str
    days: int = Field(gt=0)
    max_incidents: int = Field(ge=0)
    within: list[str] = []
    from_: Any = Field(default=None, alias="from")
    name: str | None = None
    note: str | None = None


class RuleHeadDoc(_Doc):
    id: str
    kind: str
    name: str | None = None
    note: str | None = None


RULE_HEAD_KEYS = tuple(RuleHeadDoc.model_fields)


class TopDoc(_Doc):
    """The top level. Required keys are checked by hand, for clearer messages."""

    truce: Any = None
    id: Any = None
    title: str | None = None
    signed: date | None = None
    timezone: Any = None
    crs: str | None = None
    description: str | None = None
    sources: list[SourceDoc] | None = None
    notes: list[str] | None = None
    parties: list[Any] | None = None
    excluded: list[Any] | None = None
    features: dict[str, Any] | None = None
    zones: list[Any] | None = None
    phases: list[Any] | None = None
    conditions: list[Any] | None = None
    rules: list[Any] | None = None


# --- entry points --------------------------------------------------------------


def load_agreement(path: str | Path) -> Agreement:
    """Read and validate an agreement file; raise AgreementError with every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AgreementError(
            [Problem("", f"cannot read the file: {exc}", file=str(path))], str(path)
        ) from exc
    return parse_agreement(text, file=str(path))


def parse_agreement(text: str, file: str | None = None) -> Agreement:
    """Validate agreement YAML text; raise AgreementError with every problem found."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        what = getattr(exc, "problem", None) or str(exc)
        problem = Problem(
            "",
            f"not valid YAML: {what}; check indentation, colons and quoting near this line",
            file=file,
            line=mark.line + 1 if mark else None,
        )
        raise AgreementError([problem], file) from exc
    if not isinstance(data, dict):
        problem = Problem(
            "", "an agreement file is a YAML mapping that starts with `truce: 1`", file=file, line=1
        )
        raise AgreementError([problem], file)
    builder = _Builder(file, _line_index(root))
    for path, _line, name in _duplicate_keys(root):
        builder.add(
            path,
            f"key '{name}' appears twice in the same mapping; YAML would silently keep only the last",
        )
    agreement = builder.build(data)
    if builder.problems or agreement is None:
        problems = sorted(builder.problems, key=lambda p: p.line or 0)
        raise AgreementError(problems, file)
    return agreement


# --- paths and line numbers ------------------------------------------------------


def format_path(path: PathT) -> str:
    """('rules', 2, 'min_distance_m', 'tank') -> 'rules[2].min_distance_m.tank'."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _parse_path(text: str) -> PathT:
    """'phases[0]' -> ('phases', 0): the inverse of format_path for rule ref paths."""
    parts: list[str | int] = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", text):
        parts.append(int(index) if index else name)
    return tuple(parts)


def _line_index(root: yaml.Node | None) -> dict[PathT, int]:
    """Every path in the YAML node tree -> its 1-based line (the key's line for mapping values)."""
    lines: dict[PathT, int] = {}

    def walk(node: yaml.Node, path: PathT) -> None:
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = (*path, str(key.value))
                lines[child] = key.start_mark.line + 1
                walk(value, child)
        elif isinstance(node, yaml.SequenceNode):
            for i, value in enumerate(node.value):
                walk(value, (*path, i))

    if root is not None:
        walk(root, ())
    return lines


def _duplicate_keys(root: yaml.Node | None) -> list[tuple[PathT, int, str]]:
    out: list[tuple[PathT, int, str]] = []

    def walk(node: yaml.Node, path: PathT) -> None:
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                name = str(key.value)
                if name in seen:
                    out.append(((*path, name), key.start_mark.line + 1, name))
                seen.add(name)
                walk(value, (*path, name))
        elif isinstance(node, yaml.SequenceNode):
            for i, value in enumerate(node.value):
                walk(value, (*path, i))

    if root is not None:
        walk(root, ())
    return out


# --- pydantic errors -> problems -----------------------------------------------------


def _field_keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        field = next((f for n, f in current.model_fields.items() if part in (n, f.alias)), None)
        current = _inner_model(field.annotation) if field else None
    return current


def _literal_choices(err: dict[str, Any]) -> list[str]:
    return re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))


def _error_message(err: dict[str, Any], model: type[BaseModel], extra_keys: tuple[str, ...]) -> str:
    kind, loc, value = err["type"], err["loc"], err.get("input")
    if kind == "missing":
        return f"missing required key '{loc[-1]}'; add it"
    if kind == "extra_forbidden":
        inner = _model_at(model, loc[:-1]) or model
        known = [*_field_keys(inner), *(extra_keys if inner is model else ())]
        hint = difflib.get_close_matches(str(loc[-1]), known, n=1)
        maybe = f"did you mean '{hint[0]}'? " if hint else ""
        return f"unknown key '{loc[-1]}'; {maybe}known keys: {', '.join(known)}"
    if kind == "literal_error":
        choices = _literal_choices(err)
        if set(choices) == set(WEAPONS):
            return f"unknown weapon class '{value}'; known: {', '.join(WEAPONS)}"
        return f"unknown value '{value}'; expected one of: {', '.join(choices)}"
    message = str(err["msg"]).removeprefix("Value error, ")
    if kind != "value_error" and not isinstance(value, dict | list):
        message += f" (got {value!r})"
    return message


# --- geometry helpers --------------------------------------------------------------


def _haversine_km(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> Any:
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def _in_range(lon: float, lat: float) -> bool:
    return -180 <= lon <= 180 and -90 <= lat <= 90 and math.isfinite(lon) and math.isfinite(lat)


# --- the builder --------------------------------------------------------------------


class _Builder:
    """Walks the validated document, collecting problems, and builds the Agreement."""

    def __init__(self, file: str | None, lines: dict[PathT, int]) -> None:
        self.file = file
        self.lines = lines
        self.problems: list[Problem] = []
        self.tz: tzinfo = UTC
        self.ids: dict[Namespace, list[str]] = {
            "phase": [],
            "zone": [],
            "feature": [],
            "party": [],
            "condition": [],
        }
        self.feature_kinds: dict[str, str] = {}
        # dependency graph for cycle detection: node id -> [(depends-on id, path of the reference)]
        self.depends: dict[str, list[tuple[str, PathT]]] = {}

    # problems

    def add(self, path: PathT, message: str, value: object = None) -> None:
        line = None
        for n in range(len(path), -1, -1):
            if path[:n] in self.lines:
                line = self.lines[path[:n]]
                break
        self.problems.append(
            Problem(format_path(path), message, file=self.file, line=line, value=value)
        )

    def validate(
        self,
        model: type[BaseModel],
        data: Any,
        path: PathT,
        *,
        context: dict[str, Any] | None = None,
        extra_keys: tuple[str, ...] = (),
    ) -> Any:
        """model.model_validate(data), turning every error into a problem; None if invalid."""
        if not isinstance(data, dict):
            self.add(path, f"expected a mapping of keys ({', '.join(_field_keys(model))})", data)
            return None
        try:
            return model.model_validate(data, context=context)
        except ValidationError as exc:
            errors: list[dict[str, Any]] = [dict(e) for e in exc.errors()]
            locs = [tuple(p for p in e["loc"] if p != "[key]") for e in errors]
            for err, loc in zip(errors, locs, strict=True):
                # an error on a container that only repeats an error inside it says nothing new
                if any(other != loc and other[: len(loc)] == loc for other in locs):
                    continue
                self.add((*path, *loc), _error_message(err, model, extra_keys), err.get("input"))
            return None

    def ref(self, path: PathT, namespace: Namespace, ref_id: object) -> bool:
        known = self.ids[namespace]
        if ref_id in known:
            return True
        hint = difflib.get_close_matches(str(ref_id), known, n=1)
        maybe = f"did you mean '{hint[0]}'? " if hint else ""
        plural = "parties" if namespace == "party" else f"{namespace}s"
        self.add(
            path,
            f"unknown {namespace} '{ref_id}' in {format_path(path)}; {maybe}"
            f"known {plural}: {', '.join(known) or '(none defined)'}",
            ref_id,
        )
        return False

    # the whole document

    def build(self, data: dict[str, Any]) -> Agreement | None:
        top = self._top(data)
        self._header(top)
        self._collect_ids(top)
        parties = self._parties(top.parties or [])
        excluded = self._excluded(top.excluded or [])
        features = self._features(top.features or {})
        zones = self._zones(top.zones or [])
        phases = self._phases(top.phases or [])
        conditions = self._conditions(top.conditions or [])
        rules = self._rules(top.rules or [])
        self._cycles()
        if self.problems:
            return None
        return Agreement(
            id=top.id,
            title=top.title or "",
            timezone=self.tz,
            timezone_name=str(top.timezone),
            signed=top.signed,
            crs=top.crs,
            sources=tuple(SourceRef(s.title, s.url) for s in top.sources or []),
            parties=parties,
            excluded=excluded,
            features=features,
            zones=zones,
            phases=phases,
            conditions=conditions,
            rules=rules,
            description=top.description,
            notes=tuple(top.notes or ()),
        )

    def _top(self, data: dict[str, Any]) -> TopDoc:
        top = self.validate(TopDoc, data, ())
        if top is None:
            # keep what is valid so the sections can still be checked
            bad = {e["loc"][0] for e in _errors_of(TopDoc, data)}
            top = TopDoc.model_validate({k: v for k, v in data.items() if k not in bad})
        return top

    def _header(self, top: TopDoc) -> None:
        if top.truce is None:
            self.add(("truce",), "missing `truce: 1` (the format version) at the top of the file")
        elif top.truce != FORMAT_VERSION or isinstance(top.truce, bool):
            self.add(
                ("truce",),
                f"unsupported format version {top.truce!r}; this truce reads `truce: {FORMAT_VERSION}`",
                top.truce,
            )
        if top.id is None:
            self.add(
                ("id",),
                "missing required key 'id' (lower-case letters, digits and '-', e.g. us-ru-2016-09)",
            )
        elif not isinstance(top.id, str) or not AGREEMENT_ID.match(top.id):
            self.add(
                ("id",), f"id {top.id!r} must use only a-z, 0-9 and '-', e.g. us-ru-2016-09", top.id
            )
        if not top.title:
            self.add(
                ("title",), "missing required key 'title': the agreement's name as people know it"
            )
        self._timezone(top.timezone)
        if top.crs is not None:
            self._crs(top.crs)

    def _timezone(self, value: Any) -> None:
        if value is None:
            self.add(
                ("timezone",),
                "missing required key 'timezone': bare dates and times are read in it; "
                'give an offset like "+03:00" (quoted) or an IANA name like Asia/Damascus',
            )
            return
        if not isinstance(value, str):
            self.add(
                ("timezone",),
                f'timezone {value!r} is not text; quote it, e.g. timezone: "+03:00"',
                value,
            )
            return
        try:
            self.tz = parse_timezone(value)
        except ValueError as exc:
            self.add(("timezone",), str(exc), value)

    def _crs(self, value: str) -> None:
        advice = "use a projected CRS in metres such as EPSG:32637 (UTM 37N), or leave crs out to use the UTM zone of the agreement"
        try:
            crs = pyproj.CRS.from_user_input(value)
        except pyproj.exceptions.CRSError:
            self.add(("crs",), f"unknown CRS {value!r}; {advice}", value)
            return
        units = {a.unit_name for a in crs.axis_info}
        if not crs.is_projected or not units <= {"metre", "meter"}:
            self.add(
                ("crs",),
                f"CRS {value!r} is not projected in metres ({', '.join(units)}); {advice}",
                value,
            )

    def _collect_ids(self, top: TopDoc) -> None:
        """Know every id first (also of items with other problems) so references resolve."""
        seen: dict[str, PathT] = {}
        sections: list[tuple[str, list[Any], Namespace | None]] = [
            ("parties", top.parties or [], "party"),
            ("excluded", top.excluded or [], None),
            ("zones", top.zones or [], "zone"),
            ("phases", top.phases or [], "phase"),
            ("conditions", top.conditions or [], "condition"),
            ("rules", top.rules or [], None),
        ]
        for section, items, namespace in sections:
            for i, item in enumerate(items):
                item_id = item.get("id") if isinstance(item, dict) else None
                if not isinstance(item_id, str):
                    continue
                if item_id in seen:
                    self.add(
                        (section, i, "id"),
                        f"duplicate id '{item_id}': already used by {format_path(seen[item_id])}; "
                        "every party, excluded group, zone, phase, condition and rule needs its own id",
                        item_id,
                    )
                    continue
                seen[item_id] = (section, i)
                if namespace:
                    self.ids[namespace].append(item_id)
        self.ids["feature"] = [str(k) for k in (top.features or {})]

    # sections

    def _parties(self, items: list[Any]) -> tuple[Party, ...]:
        out = []
        for i, item in enumerate(items):
            doc = self.validate(PartyDoc, item, ("parties", i))
            if doc:
                out.append(Party(doc.id, doc.name, tuple(doc.actors), doc.guarantor))
        return tuple(out)

    def _excluded(self, items: list[Any]) -> tuple[ExcludedGroup, ...]:
        out = []
        for i, item in enumerate(items):
            doc = self.validate(ExcludedDoc, item, ("excluded", i))
            if doc:
                out.append(ExcludedGroup(doc.id, doc.name or doc.id, tuple(doc.actors)))
        return tuple(out)

    def _features(self, items: dict[str, Any]) -> dict[str, Feature]:
        docs: dict[str, FeatureDoc] = {}
        for key, item in items.items():
            doc = self.validate(FeatureDoc, item, ("features", key))
            if doc is None:
                continue
            given = [k for k in ("line", "polygon", "point") if getattr(doc, k) is not None]
            if len(given) != 1:
                what = "none" if not given else " and ".join(given)
                self.add(
                    ("features", key),
                    f"a feature has exactly one of line, polygon or point (found {what})",
                )
                continue
            self.feature_kinds[key] = given[0]
            docs[key] = doc
        bad_coords = self._check_coordinates(docs)
        out = {}
        for key, doc in docs.items():
            geometry = self._geometry(key, doc, bad_coords)
            if geometry is not None:
                kind = self.feature_kinds[key]
                out[key] = Feature(key, kind, geometry, doc.name, doc.uncertainty_m, doc.note)  # type: ignore[arg-type]
        return out

    def _check_coordinates(self, docs: dict[str, FeatureDoc]) -> set[PathT]:
        """Range and swapped-[lat, lon] checks over all coordinates; returns the bad paths."""
        coords: list[tuple[PathT, float, float]] = []
        for key, doc in docs.items():
            if doc.point is not None:
                coords.append((("features", key, "point"), *doc.point))
            for kind in ("line", "polygon"):
                for i, c in enumerate(getattr(doc, kind) or []):
                    coords.append((("features", key, kind, i), *c))
        bad: set[PathT] = set()
        good = [(p, lon, lat) for p, lon, lat in coords if _in_range(lon, lat)]
        centre = (
            (float(np.median([c[1] for c in good])), float(np.median([c[2] for c in good])))
            if good
            else None
        )
        for path, lon, lat in coords:
            if _in_range(lon, lat):
                continue
            bad.add(path)
            which = (
                f"longitude {lon} is outside -180..180"
                if not -180 <= lon <= 180
                else f"latitude {lat} is outside -90..90"
            )
            swap_fits = _in_range(lat, lon) and (
                centre is None or _haversine_km(lat, lon, *centre) <= SWAP_DISTANCE_KM
            )
            hint = f"; it looks like [lat, lon]: write [{lat}, {lon}]" if swap_fits else ""
            self.add(
                path, f"{which}; coordinates are [lon, lat] in WGS84 degrees{hint}", [lon, lat]
            )
        if len(good) < 3:
            return bad
        lons = np.array([c[1] for c in good])
        lats = np.array([c[2] for c in good])
        for i, (path, lon, lat) in enumerate(good):
            others = np.arange(len(good)) != i
            mlon, mlat = float(np.median(lons[others])), float(np.median(lats[others]))
            if (
                _haversine_km(lon, lat, mlon, mlat) > SWAP_DISTANCE_KM
                and _in_range(lat, lon)
                and _haversine_km(lat, lon, mlon, mlat) <= SWAP_DISTANCE_KM
            ):
                bad.add(path)
                self.add(
                    path,
                    f"[{lon}, {lat}] lies far from the agreement's other coordinates and looks like "
                    f"[lat, lon]; coordinates are [lon, lat]: write [{lat}, {lon}]",
                    [lon, lat],
                )
        return bad

    def _geometry(self, key: str, doc: FeatureDoc, bad: set[PathT]) -> BaseGeometry | None:
        kind = self.feature_kinds[key]
        path: PathT = ("features", key, kind)
        if any(p[: len(path)] == path for p in bad):
            return None
        if doc.point is not None:
            return Point(doc.point)
        if doc.line is not None:
            if len(set(doc.line)) < 2:
                self.add(
                    path, f"a line needs at least 2 distinct points (found {len(set(doc.line))})"
                )
                return None
            return LineString(doc.line)
        ring = list(doc.polygon or [])
        if len(set(ring)) < 3:
            self.add(path, f"a polygon needs at least 3 distinct points (found {len(set(ring))})")
            return None
        if ring[0] != ring[-1]:
            ring.append(ring[0])
        polygon = Polygon(ring)
        if not polygon.is_valid:
            reason = shapely.is_valid_reason(polygon)
            self.add(
                path, f"polygon is not valid ({reason}); its edges must not cross or touch", None
            )
            return None
        return polygon

    def _zones(self, items: list[Any]) -> tuple[Zone, ...]:
        out = []
        for i, item in enumerate(items):
            path: PathT = ("zones", i)
            doc = self.validate(ZoneDoc, item, path)
            if doc is None:
                continue
            if doc.around and doc.feature:
                self.add(
                    path,
                    "give either `around: FEATURE` with distance_m (a buffer) or `feature: POLYGON`, not both",
                )
            elif doc.around:
                ok = self.ref((*path, "around"), "feature", doc.around)
                if doc.distance_m is None:
                    self.add(path, "a zone `around` a feature needs distance_m (metres, > 0)")
                elif ok:
                    out.append(Zone(doc.id, doc.around, doc.distance_m, doc.name))
            elif doc.feature:
                if not self.ref((*path, "feature"), "feature", doc.feature):
                    continue
                kind = self.feature_kinds.get(doc.feature)
                if kind in ("point", "line") and doc.distance_m is None:
                    self.add(
                        (*path, "feature"),
                        f"feature '{doc.feature}' is a {kind}, which has no area; use a polygon, "
                        f"or give distance_m to make a zone around it",
                        doc.feature,
                    )
                    continue
                out.append(Zone(doc.id, doc.feature, doc.distance_m or 0.0, doc.name))
            else:
                self.add(
                    path, "a zone needs `around: FEATURE` with distance_m, or `feature: POLYGON`"
                )
        return tuple(out)

    def _time_ref(self, value: Any, path: PathT, owner: str, *, allow_when: bool) -> TimeRef | None:
        if isinstance(value, dict):
            forms = "{after: PHASE, offset: 48h}" + (
                " or {when: CONDITION, offset: 48h}" if allow_when else ""
            )
            anchor = (
                "after" if "after" in value else "when" if "when" in value and allow_when else None
            )
            if anchor is None:
                self.add(path, f"expected a time, or {forms}", value)
                return None
            for key in value:
                if key not in (anchor, "offset"):
                    self.add((*path, str(key)), f"unknown key '{key}'; write {forms}", value[key])
            offset = timedelta(0)
            if "offset" in value:
                try:
                    offset = parse_duration(value["offset"])
                except ValueError as exc:
                    self.add((*path, "offset"), str(exc), value["offset"])
            target = value[anchor]
            namespace: Namespace = "phase" if anchor == "after" else "condition"
            if not self.ref((*path, anchor), namespace, target):
                return None
            self.depends.setdefault(owner, []).append((str(target), (*path, anchor)))
            return (
                AfterPhase(target, offset) if anchor == "after" else WhenCondition(target, offset)
            )
        try:
            return AtTime(parse_local_datetime(value, self.tz))
        except ValueError as exc:
            self.add(
                path,
                f"{exc}; write an ISO 8601 time like 2016-09-12T19:00:00+03:00"
                + (", {after: PHASE} or {when: CONDITION}" if allow_when else " or {after: PHASE}"),
                value,
            )
            return None

    def _phases(self, items: list[Any]) -> tuple[Phase, ...]:
        out = []
        for i, item in enumerate(items):
            path: PathT = ("phases", i)
            doc = self.validate(PhaseDoc, item, path)
            if doc is None:
                if isinstance(item, dict) and isinstance(item.get("id"), str) and "start" in item:
                    # still follow its start, so a cycle through it is reported too
                    self._time_ref(item["start"], (*path, "start"), item["id"], allow_when=True)
                continue
            start = self._time_ref(doc.start, (*path, "start"), doc.id, allow_when=True)
            if start is not None:
                out.append(Phase(doc.id, start, doc.duration, doc.name, doc.note))
        return tuple(out)

    def _conditions(self, items: list[Any]) -> tuple[Condition, ...]:
        out = []
        for i, item in enumerate(items):
            path: PathT = ("conditions", i)
            kind = item.get("kind") if isinstance(item, dict) else None
            if isinstance(kind, str) and kind not in CONDITION_KINDS:
                self.add(
                    (*path, "kind"),
                    f"unknown condition kind '{kind}'; known kinds: {', '.join(CONDITION_KINDS)}",
                    kind,
                )
                continue
            doc = self.validate(ConditionDoc, item, path)
            if doc is None:
                continue
            ok = all([self.ref((*path, "within", j), "zone", z) for j, z in enumerate(doc.within)])
            start = None
            if doc.from_ is not None:
                start = self._time_ref(doc.from_, (*path, "from"), doc.id, allow_when=False)
                ok = ok and start is not None
            if ok:
                out.append(
                    Condition(
                        doc.id,
                        doc.kind,
                        doc.days,
                        doc.max_incidents,
                        tuple(doc.within),
                        start,
                        doc.name,
                        doc.note,
                    )
                )
        return tuple(out)

    def _rules(self, items: list[Any]) -> tuple[Rule, ...]:
        kinds = rule_kinds()
        out = []
        for i, item in enumerate(items):
            path: PathT = ("rules", i)
            if not isinstance(item, dict):
                self.add(path, "expected a mapping with id, kind and the kind's parameters", item)
                continue
            head_data = {k: v for k, v in item.items() if k in RULE_HEAD_KEYS}
            params_data = {k: v for k, v in item.items() if k not in RULE_HEAD_KEYS}
            head = self.validate(RuleHeadDoc, head_data, path)
            if head is None:
                continue
            kind = kinds.get(head.kind)
            if kind is None:
                self.add(
                    (*path, "kind"),
                    f"unknown rule kind '{head.kind}'; known kinds: {', '.join(kinds)}",
                    head.kind,
                )
                continue
            params = self.validate(
                kind.Params, params_data, path, context={"tz": self.tz}, extra_keys=RULE_HEAD_KEYS
            )
            if params is None:
                continue
            ok = True
            for ref_path, namespace, ref_id in params.refs():
                full = (*path, *_parse_path(ref_path))
                ok = self.ref(full, namespace, ref_id) and ok
                if ok and head.kind == "checkpoint_limit" and namespace == "feature":
                    found = self.feature_kinds.get(ref_id)
                    if found not in (None, "point"):
                        self.add(
                            full,
                            f"checkpoint '{ref_id}' is a {found}; a checkpoint must be a point feature",
                            ref_id,
                        )
                        ok = False
            if ok:
                out.append(Rule(head.id, head.kind, params, head.name, head.note))
        return tuple(out)

    def _cycles(self) -> None:
        """Report every phase/condition dependency cycle once, as `a -> b -> a`."""
        state: dict[str, int] = {}  # 1: on the stack, 2: done
        stack: list[str] = []
        reported: set[frozenset[str]] = set()

        def visit(node: str) -> None:
            state[node] = 1
            stack.append(node)
            for target, path in self.depends.get(node, []):
                if state.get(target) == 1:
                    cycle = [*stack[stack.index(target) :], target]
                    if frozenset(cycle) not in reported:
                        reported.add(frozenset(cycle))
                        self.add(
                            path,
                            f"cycle: {' -> '.join(cycle)}; a phase cannot wait, directly or through "
                            "conditions, for itself; start one of them at a fixed time or after another phase",
                            target,
                        )
                elif target not in state:
                    visit(target)
            stack.pop()
            state[node] = 2

        for node in list(self.depends):
            if node not in state:
                visit(node)


def _errors_of(model: type[BaseModel], data: Any) -> list[Any]:
    try:
        model.model_validate(data)
    except ValidationError as exc:
        return list(exc.errors())
    return []
