"""The evaluation behind a bulletin's `evaluation_digest`, over the reports it stood for.

A centre holds its own reports (any submitter but `exchange:*`) and the reports
it imported from each peer's bulletins (submitted by `exchange:PEER`). A
bulletin's digest is the SPEC §3 evaluation, as of its period's end, over its
own reports with id <= the bulletin's `max_report_id` plus, per peer, the
reports imported up to the peer bulletin named in `holds`. The peer can rebuild
the same set from its side and so check that both reach the same verdicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_

from truce.domain.conditions.base import Coverage
from truce.domain.model import Agreement
from truce.store import reports as report_store
from truce.store.schema import reports

IMPORT_PREFIX = "exchange:"


def importer_name(peer: str) -> str:
    return f"{IMPORT_PREFIX}{peer}"


def held_evaluation(
    conn: Connection,
    agreement: Agreement,
    as_of: datetime,
    *,
    own_max_id: int | None = None,
    peer_max_ids: Mapping[str, int] | None = None,
    coverage: Coverage | None = None,
) -> dict[str, Any]:
    """SPEC §3 evaluation as of `as_of` over the held reports, or the bounded set, with the
    bulletins' coverage for quiet-days conditions that count against it."""
    from truce.domain.evaluate import evaluate
    from truce.formats.evaluation_json import evaluation_to_dict

    parts = []
    if own_max_id is not None:
        imported = reports.c.submitted_by.startswith(IMPORT_PREFIX, autoescape=True)
        parts = [and_(~imported, reports.c.id <= own_max_id)]
        parts += [
            and_(reports.c.submitted_by == importer_name(peer), reports.c.id <= bound)
            for peer, bound in (peer_max_ids or {}).items()
        ]
    # The bound set is selected in SQL: a centre holding 1M reports rebuilds a peer's
    # 100k-report bulletin without reading (and then dropping) the other 900k.
    table, _ = report_store.load_all(conn, parts, original=False)
    return evaluation_to_dict(evaluate(agreement, table, as_of=as_of, coverage=coverage))
