"""Small report sets for us-ru-2016-09 (cessation phase from 2016-09-12T19:00+03:00, 48 h)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

AGREEMENT = "us-ru-2016-09"
AS_OF = "2016-09-20T00:00:00+03:00"
HEADER = ["report_id", "source", "observed_at", "lat", "lon", "event_type", "weapon", "actor",
          "target", "reliability", "credibility", "notes"]  # fmt: skip

# Two sources on one shelling by the government (one incident, corroborated), an
# opposition attack, and an airstrike: three cease_attacks violations.
BASE_ROWS: list[dict[str, Any]] = [
    {"report_id": "a-1", "source": "amman", "observed_at": "2016-09-13T04:10:00+03:00",
     "lat": 36.25, "lon": 37.13, "event_type": "shelling", "actor": "SAA", "reliability": "B", "credibility": 2},
    {"report_id": "h-7", "source": "hmeimim", "observed_at": "2016-09-13T04:30:00+03:00",
     "lat": 36.251, "lon": 37.131, "event_type": "shelling", "actor": "Syrian Arab Army",
     "reliability": "C", "credibility": 3},
    {"report_id": "h-8", "source": "hmeimim", "observed_at": "2016-09-13T15:00:00+03:00",
     "lat": 36.19, "lon": 37.17, "event_type": "armed_clash", "actor": "FSA", "reliability": "B",
     "credibility": 2},
    {"report_id": "a-2", "source": "amman", "observed_at": "2016-09-14T10:00:00+03:00",
     "lat": 36.20, "lon": 37.18, "event_type": "airstrike", "actor": "Syrian Air Force",
     "reliability": "B", "credibility": 2},
]  # fmt: skip


def to_csv(rows: list[dict[str, Any]], header: list[str] = HEADER) -> str:
    out = io.StringIO()
    w = csv.DictWriter(out, header, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    return out.getvalue()


def to_jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def many_rows(n: int, source: str = "bulk", start: int = 0) -> list[dict[str, Any]]:
    """n distinct small-arms reports spread over days and space (for bulk and crash tests)."""
    rows = []
    for i in range(start, start + n):
        rows.append(
            {
                "report_id": f"b-{i}",
                "source": source,
                "observed_at": f"2016-09-{10 + i % 10:02d}T{i % 24:02d}:{i % 60:02d}:00+03:00",
                "lat": 36.0 + (i % 997) * 0.001,
                "lon": 37.0 + (i % 991) * 0.001,
                "event_type": "small_arms_fire",
                "actor": "FSA" if i % 2 else "SAA",
                "reliability": "C",
                "credibility": 3,
            }
        )
    return rows
