"""`bench/ingest.py` still runs on both backends (tiny n), so it cannot silently rot."""

from __future__ import annotations

import pytest
from bench import ingest


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_ingest_bench_runs_end_to_end_store_only_and_the_alternative(backend, request):
    if backend == "postgresql":
        request.getfixturevalue("pg_schema_url")  # fails under CI, skips locally, without PG
    chunks = ingest.make_csv_chunks(300, 100)
    for measure in (ingest.truce_end_to_end, ingest.truce_store_only):
        run = measure(backend, chunks, 300)
        assert run.n == 300 and run.rate > 0 and run.client_cpu_s >= 0
        if backend == "sqlite":  # PostgreSQL: the backend's CPU when the server is local
            assert run.server_cpu_s is None
    assert ingest.alternative(backend, chunks, 300) > 0
