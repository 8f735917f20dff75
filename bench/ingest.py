"""Bulk-ingest throughput through the service layer (the path of `POST /api/reports`
and `truce ingest`), on SQLite and PostgreSQL, against plain `executemany` INSERTs.

    .venv/bin/python bench/ingest.py [--n 200000] [--backend sqlite|postgresql|both]
        [--chunk 50000] [--alt-n 50000] [--repeat 2]

For each backend, on an empty database (SQLite: a temp file; PostgreSQL:
`TRUCE_TEST_PG_URL`, a fresh schema dropped afterwards):
1. truce end to end: CSV bytes in chunks of --chunk rows (like `truce ingest`)
   -> `Service.ingest_reports` (parse, validate, store, audit, commit).
2. truce store only: `Service.store_reports` on already parsed tables.
3. the alternative: the same rows as DBAPI tuples, one `executemany` of a plain
   INSERT per chunk, committed per chunk (no duplicate detection), on --alt-n rows.
truce's measurements run --repeat times each; best and worst reports/s are printed
with the least CPU seconds of this process and, for a local PostgreSQL, of the
server backend (/proc) -- on a shared machine CPU seconds move much less than wall
time. Targets: >= 20,000 reports/s (SQLite), >= 50,000 reports/s (PostgreSQL), end
to end (PASS when the best run reaches it).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from truce.domain.model import DIRECTIONS, EVENT_TYPES, NO_CODE, WEAPONS, ReportTable  # noqa: E402
from truce.service import AgreementRegistry, Service  # noqa: E402
from truce.store import reports as report_store  # noqa: E402
from truce.store.engine import make_engine  # noqa: E402
from truce.store.migrate import upgrade  # noqa: E402
from truce.store.users import SYSTEM_USER  # noqa: E402

PG_URL = os.environ.get(
    "TRUCE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/truce_test"
)
TARGETS = {"sqlite": 20_000.0, "postgresql": 50_000.0}
EVENTS = np.array(["shelling", "airstrike", "armed_clash", "small_arms_fire", "ground_advance"])
ACTORS = np.array(["SAA", "FSA", "Syrian Air Force", "", "NDF"])


def make_csv_chunks(n: int, chunk: int, *, seed: int = 1, prefix: str = "r") -> list[bytes]:
    """n distinct SPEC §2 rows (distinct places and times: they do not merge), as CSV chunks."""
    rng = np.random.default_rng(seed)
    i = np.arange(n)
    start = np.datetime64("2016-09-10T00:00:00")
    df = pd.DataFrame(
        {
            "report_id": np.char.add(f"{prefix}-", i.astype(str)),
            "source": np.where(i % 3 == 0, "amman", np.where(i % 3 == 1, "hmeimim", "ngo")),
            "observed_at": pd.to_datetime(start + (i * 7).astype("timedelta64[s]")).strftime(
                "%Y-%m-%dT%H:%M:%S+03:00"
            ),
            "lat": np.round(35.5 + rng.random(n) * 1.5, 6),
            "lon": np.round(36.5 + rng.random(n) * 1.5, 6),
            "event_type": EVENTS[i % len(EVENTS)],
            "actor": ACTORS[i % len(ACTORS)],
            "reliability": "B",
            "credibility": 2,
        }
    )
    return [df.iloc[s : s + chunk].to_csv(index=False).encode() for s in range(0, n, chunk)]


class Db:
    """An empty truce database on one backend; `close()` removes it."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self._drop: str | None = None
        if backend == "sqlite":
            self._dir = tempfile.TemporaryDirectory()
            self.url = f"sqlite:///{self._dir.name}/bench.sqlite"
        else:
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            self._admin = create_engine(PG_URL)
            with self._admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            self._drop = schema
            sep = "&" if "?" in PG_URL else "?"
            self.url = f"{PG_URL}{sep}options=-csearch_path%3D{schema},public"
        self.engine = make_engine(self.url)
        upgrade(self.engine)

    def service(self) -> Service:
        return Service(self.engine, AgreementRegistry.load(builtins=False))

    def close(self) -> None:
        self.engine.dispose()
        if self._drop:
            with self._admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{self._drop}" CASCADE'))
            self._admin.dispose()
        else:
            self._dir.cleanup()


@dataclass(frozen=True)
class Run:
    """One timed pass over all chunks: wall time, this process's CPU, the server's CPU."""

    n: int
    wall_s: float
    client_cpu_s: float
    server_cpu_s: float | None  # PostgreSQL backend on this machine; None when unreadable

    @property
    def rate(self) -> float:
        return self.n / self.wall_s


def _backend_cpu_s(pid: int | None) -> float | None:
    """utime + stime of a local PostgreSQL backend process (Linux /proc)."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _timed(db: Db, n: int, work: Callable[[], int]) -> Run:
    pid = None
    if db.backend == "postgresql":  # the pool hands the same connection to every chunk
        with db.engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    server0 = _backend_cpu_s(pid)
    cpu0, t0 = time.process_time(), time.perf_counter()
    accepted = work()
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    server1 = _backend_cpu_s(pid)
    assert accepted == n, (accepted, n)
    server = server1 - server0 if server0 is not None and server1 is not None else None
    return Run(n, wall, cpu, server)


def truce_end_to_end(backend: str, chunks: list[bytes], n: int) -> Run:
    db = Db(backend)
    try:
        svc = db.service()
        return _timed(
            db,
            n,
            lambda: sum(
                svc.ingest_reports(c, format="csv", user=SYSTEM_USER).accepted for c in chunks
            ),
        )
    finally:
        db.close()


def truce_store_only(backend: str, chunks: list[bytes], n: int) -> Run:
    db = Db(backend)
    try:
        svc = db.service()
        parsed = [svc.read(c, format="csv", user=SYSTEM_USER) for c in chunks]
        return _timed(
            db,
            n,
            lambda: sum(svc.store_reports(t, r, user=SYSTEM_USER).accepted for t, r in parsed),
        )
    finally:
        db.close()


def plain_rows(table: ReportTable, submitted_by: str, received_at: datetime) -> list[tuple]:
    """The rows as DBAPI parameter tuples in INSERT_COLUMNS order (what an ORM-less loader does)."""
    observed = pd.DatetimeIndex(table.observed_at).tz_localize(UTC).to_pydatetime()

    def text(values: np.ndarray) -> list[str | None]:
        return [v or None for v in values.tolist()]

    def number(values: np.ndarray) -> list[float | None]:
        return [None if v != v else v for v in values.tolist()]

    columns = {
        "report_id": table.report_id.tolist(),
        "source": table.source.tolist(),
        "observed_at": list(observed),
        "lat": table.lat.tolist(),
        "lon": table.lon.tolist(),
        "place": text(table.place),
        "location_precision_m": number(table.precision_m),
        "event_type": [EVENT_TYPES[c] for c in table.event_type.tolist()],
        "weapon": [WEAPONS[c] if c != NO_CODE else None for c in table.weapon.tolist()],
        "actor": text(table.actor),
        "side": text(table.side),
        "target": text(table.target),
        "count": number(table.count),
        "fatalities": number(table.fatalities),
        "reliability": text(table.reliability),
        "credibility": [c or None for c in table.credibility.tolist()],
        "notes": text(table.notes),
        "observed_to": [
            None if t != t else t
            for t in pd.DatetimeIndex(table.observed_to).tz_localize(UTC).to_pydatetime()
        ],
        "direction": [DIRECTIONS[c] for c in table.direction.tolist()],
        "fatalities_low": number(table.fatalities_low),
        "fatalities_high": number(table.fatalities_high),
        "source_url": text(table.source_url),
        "dataset": text(table.dataset),
        "original": text(table.original),
    }
    n = len(table)
    consts = {"submitted_by": [submitted_by] * n, "published": [False] * n}
    consts["received_at"] = [received_at] * n
    columns.update(consts)
    return list(zip(*(columns[c] for c in report_store.INSERT_COLUMNS), strict=True))


def alternative(backend: str, chunks: list[bytes], n: int) -> float:
    """Plain DBAPI executemany of INSERT, committed per chunk (store only)."""
    db = Db(backend)
    try:
        svc = db.service()
        batches = []
        for c in chunks:
            table, _ = svc.read(c, format="csv", user=SYSTEM_USER)
            batches.append(plain_rows(table, "bench", datetime.now(UTC)))
        cols = report_store.INSERT_COLUMNS
        mark = "?" if backend == "sqlite" else "%s"
        names = ", ".join(f'"{c}"' for c in cols)
        sql = f"INSERT INTO reports ({names}) VALUES ({', '.join([mark] * len(cols))})"
        raw = db.engine.raw_connection()
        try:
            t0 = time.perf_counter()
            for rows in batches:
                cur = raw.cursor()
                if backend == "sqlite":
                    cur.execute("BEGIN")
                cur.executemany(sql, rows)
                raw.commit()
                cur.close()
            dt = time.perf_counter() - t0
        finally:
            raw.close()
        return n / dt
    finally:
        db.close()


def _summary(runs: list[Run]) -> str:
    rates = sorted(r.rate for r in runs)
    client = min(r.client_cpu_s for r in runs)
    text = (
        f"best {rates[-1]:>8,.0f}  worst {rates[0]:>8,.0f} reports/s;  CPU: client {client:.2f} s"
    )
    servers = [r.server_cpu_s for r in runs if r.server_cpu_s is not None]
    if servers:
        text += f" + server {min(servers):.2f} s"
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--chunk", type=int, default=50_000)
    ap.add_argument("--alt-n", type=int, default=50_000, help="rows for the alternative")
    ap.add_argument("--repeat", type=int, default=2, help="runs of each truce measurement")
    args = ap.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    chunks = make_csv_chunks(args.n, args.chunk)
    alt_n = min(args.alt_n, args.n)
    alt_chunks = make_csv_chunks(alt_n, min(args.chunk, alt_n), prefix="alt")
    print(
        f"bench/ingest.py: n={args.n:,} reports, chunks of {args.chunk:,}, {args.repeat} runs "
        f"each; alternative on {alt_n:,}; CPU = least seconds over the runs"
    )
    for backend in backends:
        e2e = [truce_end_to_end(backend, chunks, args.n) for _ in range(args.repeat)]
        store = [truce_store_only(backend, chunks, args.n) for _ in range(args.repeat)]
        alt = alternative(backend, alt_chunks, alt_n)
        target = TARGETS[backend]
        best = max(r.rate for r in e2e)
        verdict = "PASS" if best >= target else "MISS"
        best_store = max(r.rate for r in store)
        print(
            f"{backend:>10}: truce end to end  {_summary(e2e)}  "
            f"(target >= {target:,.0f}: {verdict})\n"
            f"{'':>10}  truce store only  {_summary(store)}\n"
            f"{'':>10}  executemany INSERT (store only) {alt:>10,.0f} reports/s"
            f"  -> truce store (best) / alternative = {best_store / alt:.2f}x",
            flush=True,
        )


if __name__ == "__main__":
    main()
