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

import numpy as np
from sqlalchemy import Connection, select

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
) -> dict[str, Any]:
    """SPEC §3 evaluation as of `as_of` over the held reports, or the bounded set."""
    from truce.domain.evaluate import evaluate
    from truce.formats.evaluation_json import evaluation_to_dict

    table, submitted_by = report_store.load_all(conn)
    if own_max_id is not None and len(table):
        ids = np.fromiter(
            conn.execute(select(reports.c.id).order_by(reports.c.id)).scalars(),
            dtype=np.int64,
            count=len(table),
        )
        imported = np.char.startswith(submitted_by.astype(str), IMPORT_PREFIX)
        keep = ~imported & (ids <= own_max_id)
        for peer, bound in (peer_max_ids or {}).items():
            keep |= (submitted_by == importer_name(peer)) & (ids <= bound)
        if not keep.all():
            table = table.take(np.flatnonzero(keep))
    return evaluation_to_dict(evaluate(agreement, table, as_of=as_of))
