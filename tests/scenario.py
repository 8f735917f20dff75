"""Build small, readable scenarios: the SPEC example agreement and report rows as dicts."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from typing import Any

from truce.domain.evaluate import evaluate
from truce.domain.model import Agreement, Evaluation
from truce.formats.agreement import load_agreement
from truce.formats.reports import COLUMNS, read_reports

FIXTURES = Path(__file__).parent / "fixtures"
SPEC_AGREEMENT = FIXTURES / "agreements" / "spec-example.yaml"


def spec_agreement() -> Agreement:
    return load_agreement(SPEC_AGREEMENT)


def to_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    w = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    w.writeheader()
    for k, row in enumerate(rows, start=1):
        w.writerow({"report_id": f"r-{k}", "source": "amman", **row})
    return out.getvalue()


def run(
    rows: list[dict[str, Any]],
    as_of: str = "2016-10-01T00:00:00+03:00",
    agreement: Agreement | None = None,
) -> Evaluation:
    read = read_reports(to_csv(rows), format="csv")
    return evaluate(
        agreement or spec_agreement(),
        read.reports,
        as_of=datetime.fromisoformat(as_of),
        rejected=read.rejected,
    )


def at(lonlat: tuple[float, float]) -> dict[str, float]:
    return {"lon": lonlat[0], "lat": lonlat[1]}
