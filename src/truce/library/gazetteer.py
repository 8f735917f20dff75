"""Place names -> coordinates, for reports that give a `place` instead of lat/lon.

The data is `gazetteer_sy.json` (built by `scripts/build_gazetteer.py` from
GeoNames, plus a few estimated places the agreements need). An agreement's
own named features can be layered on top with `Gazetteer.with_agreement`.

Matching is forgiving about how Arabic names are written in Latin script:
case, accents, punctuation, the article (`al-`, `el-`, `ash-`, ...) and common
transliteration variants (`ou`/`u`, `q`/`k`, `sheikh`/`shaykh`, ...) are
ignored. It is strict about ambiguity: a name that fits two different places
raises `GazetteerError` listing them, never a silent guess.

>>> Gazetteer.load().lookup("Halab").name
'Aleppo'
>>> Gazetteer.load().lookup("Sarakib").name
'Saraqib'
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from truce.domain.model import Agreement, Feature
from truce.domain.names import ARTICLES, VOWELS, consonant_skeleton, name_words
from truce.errors import GazetteerError

__all__ = [
    "Gazetteer",
    "Place",
    "normalise_place_name",
    "place_resolver",
    "place_skeleton",
    "resolve_place",
]

# Place names also drop the French-style articles (ech-Cheikh, es-Suwayda, er-Raqqa,
# et-Tall, Deir ez-Zor) and a bare `dh` that GeoNames spellings carry. Actor
# skeletons drop only ARTICLES: widening theirs would change which actors match.
_PLACE_ARTICLES = ARTICLES | {"ech", "es", "er", "en", "et", "ez", "dh"}
# Place skeletons drop h as well as vowels (Hamah = Hama, Khan = Kan, Shaykh = Sheikh),
# which also covers kh/gh/dh/th; the French ch is read as sh first (Cheikh = Sheikh).
_PLACE_FOLDS = (("dj", "j"), ("ch", "sh"), ("ph", "f"), ("q", "k"), ("ou", "u"))
_PLACE_SILENT = VOWELS | {"h"}


def _place_words(name: str) -> list[str]:
    # Keys are ASCII: the Latin-script GeoNames spellings' odd letters (ə in Hələb) break
    # words rather than stand in a key, and apostrophes join (Ma‘arrat = Maarrat).
    return name_words(name, apostrophes="join", ascii_only=True, articles=_PLACE_ARTICLES)


def normalise_place_name(name: str) -> str:
    """Lower case, no accents, no punctuation, no articles, single spaces.

    >>> normalise_place_name("Jisr ash-Shughūr")
    'jisr shughur'
    >>> normalise_place_name("Ma‘arrat an Nu‘mān")
    'maarrat numan'
    """
    return " ".join(_place_words(name))


def place_skeleton(name: str) -> str:
    """A coarser key that also ignores vowels and common transliteration variants.

    >>> place_skeleton("Khan Shaykhun") == place_skeleton("Khan Sheikhoun")
    True
    >>> place_skeleton("Saraqib") == place_skeleton("Sarakib")
    True
    """
    return consonant_skeleton(
        _place_words(name), folds=_PLACE_FOLDS, silent=_PLACE_SILENT, separator=" "
    )


@dataclass(frozen=True)
class Place:
    """A resolved place. `precision_m` is the radius within which the real spot lies."""

    name: str
    lon: float
    lat: float
    precision_m: float
    source: str
    admin1: str = ""
    population: int = 0
    geonameid: int | None = None

    def describe(self) -> str:
        where = f", {self.admin1}" if self.admin1 else ""
        return f"{self.name}{where} ({self.lat:.5f}, {self.lon:.5f}; ±{self.precision_m:,.0f} m; {self.source})"


def settlement_precision_m(population: int) -> float:
    """How far a spot in a settlement may be from the GeoNames centroid.

    truce's convention (not a GeoNames figure): a rough town radius by population.
    """
    if population >= 1_000_000:
        return 10_000.0
    if population >= 100_000:
        return 5_000.0
    if population >= 20_000:
        return 2_500.0
    if population >= 5_000:
        return 1_500.0
    return 1_000.0


def _place_from_record(rec: dict[str, Any]) -> Place:
    precision = rec.get("precision_m")
    if precision is None:
        precision = settlement_precision_m(int(rec.get("population") or 0))
    gid = rec.get("geonameid")
    return Place(
        name=rec["name"],
        lon=float(rec["lon"]),
        lat=float(rec["lat"]),
        precision_m=float(precision),
        source=f"GeoNames {gid}" if gid else rec.get("provenance", "truce estimate"),
        admin1=rec.get("admin1", ""),
        population=int(rec.get("population") or 0),
        geonameid=gid,
    )


def _approx_distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Equirectangular distance; plenty for km-scale extents and de-duplication."""
    mean_lat = math.radians((lat1 + lat2) / 2)
    dx = math.radians(lon2 - lon1) * math.cos(mean_lat)
    dy = math.radians(lat2 - lat1)
    return 6_371_000.0 * math.hypot(dx, dy)


def feature_place(feature: Feature, agreement_id: str) -> Place:
    """A point standing for a feature: the point itself, or a representative point of a
    line or polygon with precision = half its extent (plus the feature's own uncertainty)."""
    geom = feature.geometry
    uncertainty = float(feature.uncertainty_m or 0.0)
    if feature.kind == "point":
        lon, lat, precision = geom.x, geom.y, uncertainty
    else:
        rep = (
            geom.interpolate(0.5, normalized=True)
            if feature.kind == "line"
            else geom.representative_point()
        )
        minx, miny, maxx, maxy = geom.bounds
        lon, lat = rep.x, rep.y
        precision = _approx_distance_m(minx, miny, maxx, maxy) / 2 + uncertainty
    return Place(
        name=feature.name or feature.id,
        lon=float(lon),
        lat=float(lat),
        precision_m=max(float(precision), 1.0),
        source=f"agreement {agreement_id}, feature {feature.id}",
    )


@dataclass(frozen=True)
class _Entry:
    place: Place
    primary: frozenset[str]  # normalised keys of its own name (and feature id)
    alternate: frozenset[str]  # normalised keys of alternate names
    skeletons: frozenset[str]
    tier: int  # 0: agreement feature, 1: gazetteer


def _entry(place: Place, names: Iterable[str], alternates: Iterable[str], tier: int) -> _Entry:
    primary = frozenset(k for k in (normalise_place_name(n) for n in names) if k)
    alternate = frozenset(k for k in (normalise_place_name(n) for n in alternates) if k) - primary
    skeletons = frozenset(place_skeleton(n) for n in [*names, *alternates] if place_skeleton(n))
    return _Entry(place, primary, alternate, skeletons, tier)


class Gazetteer:
    """Look up place names. Build with `Gazetteer.load()` (cached) or `with_agreement`."""

    def __init__(self, entries: list[_Entry]) -> None:
        self._entries = entries
        self._by_key: dict[str, list[int]] = {}
        self._by_skeleton: dict[str, list[int]] = {}
        for i, e in enumerate(entries):
            for k in e.primary | e.alternate:
                self._by_key.setdefault(k, []).append(i)
            for s in e.skeletons:
                self._by_skeleton.setdefault(s, []).append(i)

    # --- construction ------------------------------------------------------

    @classmethod
    def load(cls) -> Gazetteer:
        """The built-in Syrian gazetteer (read once per process)."""
        return _builtin()

    @classmethod
    def from_records(cls, records: Iterable[dict[str, Any]]) -> Gazetteer:
        entries = [
            _entry(_place_from_record(r), [r["name"]], r.get("alt", []), tier=1) for r in records
        ]
        return cls(entries)

    def with_agreement(self, agreement: Agreement) -> Gazetteer:
        """This gazetteer plus the agreement's named features (by id and by name);
        a feature wins over a gazetteer place of the same name."""
        extra = []
        for fid, feature in agreement.features.items():
            place = feature_place(feature, agreement.id)
            names = [fid, fid.replace("_", " ")] + ([feature.name] if feature.name else [])
            extra.append(_entry(place, names, [], tier=0))
        return Gazetteer(extra + self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    # --- queries -----------------------------------------------------------

    def lookup(self, name: str) -> Place:
        """The one place called `name`. Write `Name, Governorate` to pick between
        places of the same name. Raises GazetteerError when the name is unknown
        (with the nearest spellings) or fits several places (with the candidates)."""
        query, qualifier = _split_qualifier(name)
        key = normalise_place_name(query)
        if not key:
            raise GazetteerError(f"empty place name: {name!r}")
        skeleton = place_skeleton(query)
        stages: list[list[int]] = []
        exact = self._by_key.get(key, [])
        stages.append([i for i in exact if self._entries[i].tier == 0])
        stages.append([i for i in exact if key in self._entries[i].primary])
        stages.append(list(exact))
        stages.append(list(self._by_skeleton.get(skeleton, [])))
        for stage in stages:
            candidates = self._distinct([self._entries[i].place for i in stage])
            if qualifier:
                q = normalise_place_name(qualifier)
                candidates = [p for p in candidates if normalise_place_name(p.admin1) == q]
            if len(candidates) == 1:
                return candidates[0]
            if len(candidates) > 1:
                raise GazetteerError(
                    f"place name {name!r} is ambiguous: it fits {len(candidates)} places; "
                    "give coordinates, or add the governorate (e.g. 'Suran, Hama')",
                    candidates=[p.describe() for p in candidates],
                )
        suggestions = self.suggest(query)
        hint = f" Did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        raise GazetteerError(
            f"unknown place {name!r}.{hint} Give lat/lon instead, or add the place to the gazetteer",
            candidates=suggestions,
        )

    def suggest(self, name: str, n: int = 5) -> list[str]:
        """Display names whose spelling is closest to `name`."""
        key = normalise_place_name(name)
        close = difflib.get_close_matches(key, list(self._by_key), n=n * 2, cutoff=0.6)
        out: list[str] = []
        for k in close:
            for i in self._by_key[k]:
                shown = self._entries[i].place.name
                if shown not in out:
                    out.append(shown)
        return out[:n]

    def search(self, q: str, limit: int = 10) -> list[Place]:
        """Places whose name starts with or contains `q`, best first (for a form's look-up)."""
        key = normalise_place_name(q)
        if not key:
            return []
        skeleton = place_skeleton(q)
        scored: list[tuple[int, int, str, Place]] = []
        for e in self._entries:
            if key in e.primary:
                score = 0
            elif key in e.alternate:
                score = 1
            elif any(k.startswith(key) for k in e.primary):
                score = 2
            elif any(k.startswith(key) for k in e.alternate):
                score = 3
            elif any(key in k for k in e.primary | e.alternate):
                score = 4
            elif skeleton in e.skeletons:
                score = 5
            else:
                continue
            scored.append((score, -e.place.population, e.place.name, e.place))
        scored.sort(key=lambda t: (t[0], t[1], t[2]))
        results = [t[3] for t in scored[:limit]]
        if len(results) < limit:
            for shown in self.suggest(q, n=limit):
                for place in self._places_named(shown):
                    if place not in results and len(results) < limit:
                        results.append(place)
        return results

    def _places_named(self, shown: str) -> list[Place]:
        return [e.place for e in self._entries if e.place.name == shown]

    @staticmethod
    def _distinct(places: list[Place]) -> list[Place]:
        """Drop repeats: the same place listed twice (within its own precision)."""
        out: list[Place] = []
        for p in places:
            if not any(
                _approx_distance_m(p.lon, p.lat, o.lon, o.lat)
                <= max(p.precision_m, o.precision_m, 500.0) / 2
                and (p.name == o.name or p.source == o.source)
                for o in out
            ):
                out.append(p)
        return out


def _split_qualifier(name: str) -> tuple[str, str | None]:
    if "," in name:
        head, _, tail = name.rpartition(",")
        if head.strip() and tail.strip():
            return head.strip(), tail.strip()
    return name, None


@cache
def _builtin() -> Gazetteer:
    text = (Path(__file__).parent / "gazetteer_sy.json").read_text(encoding="utf-8")
    return Gazetteer.from_records(json.loads(text)["places"])


def resolve_place(name: str) -> tuple[float, float, float]:
    """`(lon, lat, precision_m)` for a place name: the report reader's `resolve_place` callback.

    Raises GazetteerError when the name is unknown or ambiguous.
    """
    place = Gazetteer.load().lookup(name)
    return place.lon, place.lat, place.precision_m


def place_resolver(gazetteer: Gazetteer) -> Callable[[str], tuple[float, float, float]]:
    """A `resolve_place` callback bound to a gazetteer (e.g. one `with_agreement`)."""

    def resolve(name: str) -> tuple[float, float, float]:
        place = gazetteer.lookup(name)
        return place.lon, place.lat, place.precision_m

    return resolve
