"""10M reports on PostgreSQL: ingest, evaluate and store, and no stored value over 100 MB
(issue 13).

    .venv/bin/python bench/scale.py [--n 10000000] [--chunk 50000] [--keep]
        [--step ingest,evaluate,check,refresh] [--max-rss-gb 12] [--profile]

Against TRUCE_TEST_PG_URL (bench/api.py's `BenchDb`: a schema of its own, kept as
`bench_scale_n{N}` with --keep and reused by the next run with the same --n):
1. ingest: bench/scenario.py's synthetic scenario (~N/2 events seen by 1-4 sources),
   generated a chunk of --chunk rows at a time (one layout, so one agreement; each
   chunk's events spread over the same 30 days, so the density is that of one
   N-row scenario) and ingested through `Service.ingest_reports`, as
   `POST /api/reports` does. Prints reports/s, this process's and the PostgreSQL
   backend's CPU, and the database size. With --keep, a store already holding the
   rows (however many) is not ingested again.
2. evaluate: as a server's computing process does (`compute_process._serve`): a lease
   (`lease.claim`), `Computer(to_store=True).compute`, `derived.store`. The scenario's
   agreement is served as `truce serve --agreement FILE` serves it
   (`AgreementRegistry.load([file])`). Prints wall, CPU, peak RSS, rows written.
3. check: the largest `length(doc)` of the evaluation rows, `length(header)` of
   `derived` and `pg_column_size` of a report row, against 100 MB.
4. refresh: 10k more reports dated after the rest, ingested, then computed and stored
   again by the same `Computer` (incrementally, as the computing process would).

A watching process (psutil) prints the stacks and kills the run past --max-rss-gb.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import faulthandler
import json
import os
import pstats
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import psutil
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench.api import BenchDb  # noqa: E402
from bench.ingest import _backend_cpu_s  # noqa: E402
from bench.scenario import generate  # noqa: E402

from truce.service import AgreementRegistry, Service  # noqa: E402
from truce.service.agreements import AgreementEntry  # noqa: E402
from truce.service.compute import Computer, wall_clock  # noqa: E402
from truce.store import derived, heap, lease  # noqa: E402
from truce.store.users import SYSTEM_USER  # noqa: E402

STEPS = ("ingest", "evaluate", "check", "refresh")
LIMIT_B = 100 * 1024 * 1024
LATE = 10_000  # reports of the incremental refresh
SEED = 1


WATCH = """
import os, signal, sys, time, psutil
pid, limit = int(sys.argv[1]), float(sys.argv[2]) * 2**30
proc = psutil.Process(pid)
while True:
    try:
        rss = proc.memory_info().rss
    except psutil.NoSuchProcess:
        break
    if rss > limit:
        print(f"STOP: RSS {rss / 2**30:.1f} GB > {limit / 2**30:.0f} GB", file=sys.stderr, flush=True)
        os.kill(pid, signal.SIGUSR1)  # faulthandler: where it was
        time.sleep(2)
        os.kill(pid, signal.SIGKILL)
        break
    time.sleep(0.1)
"""


def watch(limit_gb: float) -> subprocess.Popen[bytes]:
    """Kills this process when its RSS passes `limit_gb`, after it prints every thread's
    stack (a thread of its own could not: a long C call holds the GIL)."""
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    return subprocess.Popen([sys.executable, "-c", WATCH, str(os.getpid()), str(limit_gb)])


def gb(b: float) -> str:
    return f"{b / 2**30:.2f} GB"


def peak_rss() -> str:
    return gb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)


def load_avg() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def agreement_entry(workdir: Path) -> tuple[AgreementRegistry, AgreementEntry]:
    path = workdir / "bench-aleppo-synthetic.yaml"
    path.write_text(generate(100, seed=SEED, layout_seed=SEED).agreement_yaml, encoding="utf-8")
    registry = AgreementRegistry.load([path])
    return registry, registry.get("bench-aleppo-synthetic")


def chunk_frame(k: int, rows: int, prefix: str) -> pd.DataFrame:
    """Chunk k of the scenario: its own events, the shared layout, ids unique across chunks."""
    frame = generate(rows, seed=SEED * 1_000_003 + k, layout_seed=SEED).reports
    frame["report_id"] = f"{prefix}{k}-" + frame["report_id"]
    return frame


def db_size(db: BenchDb) -> str:
    with db.engine.connect() as conn:
        whole = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
        mine = conn.execute(
            text(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
                " JOIN pg_namespace s ON s.oid = c.relnamespace"
                " WHERE s.nspname = current_schema() AND c.relkind IN ('r', 'm')"
            )
        ).scalar_one()
    return f"schema {gb(mine)} (database {gb(whole)})"


def backend_pid(db: BenchDb) -> int | None:
    with db.engine.connect() as conn:  # the pool hands this connection to every chunk
        return conn.execute(text("SELECT pg_backend_pid()")).scalar()


def ingest(db: BenchDb, svc: Service, frames: object, n: int, what: str) -> None:
    """Ingests the frames a --chunk at a time, printing progress and the totals."""
    pid = backend_pid(db)
    server0, cpu0 = _backend_cpu_s(pid) or 0.0, time.process_time()
    wall = gen_s = 0.0
    got = dup = bad = 0
    t_print = time.perf_counter()
    for frame in frames:  # type: ignore[attr-defined]
        t0 = time.perf_counter()
        body = frame.to_csv(index=False).encode()
        t1 = time.perf_counter()
        r = svc.ingest_reports(body, format="csv", user=SYSTEM_USER)
        wall += time.perf_counter() - t1
        gen_s += t1 - t0
        got, dup, bad = got + r.accepted, dup + r.duplicate, bad + len(r.rejected)
        if time.perf_counter() - t_print > 60:
            t_print = time.perf_counter()
            print(f"    {what}: {got:,} stored, {got / wall:,.0f}/s, RSS {peak_rss()} peak,"
                  f" load {load_avg()}", flush=True)  # fmt: skip
    server = (_backend_cpu_s(pid) or 0.0) - server0
    print(f"  {what}: {got:,} accepted, {dup:,} duplicates, {bad:,} rejected of {n:,} rows;"
          f" ingest {wall:.1f} s ({got / wall:,.0f} reports/s), CPU: this process"
          f" {time.process_time() - cpu0:.1f} s (of which making the CSV ~{gen_s:.1f} s wall),"
          f" PostgreSQL backend {server:.1f} s; {db_size(db)}; load {load_avg()}", flush=True)  # fmt: skip


def evaluate(db: BenchDb, computer: Computer, entry: AgreementEntry, what: str) -> None:
    """One computation and store, as `truce.service.compute_process._serve` does."""
    aid = entry.agreement.id
    cpu0, t0 = time.process_time(), time.perf_counter()
    token = lease.claim(db.engine, aid, now=wall_clock())
    assert token is not None, "the lease is held by another process"
    done = computer.compute(db.engine, entry, wall_clock(), wall_clock)
    t1, c1 = time.perf_counter(), time.process_time()
    stored = derived.store(db.engine, done.snapshot, token, kept_incidents=done.kept)
    assert stored is not None, "the lease was lost"
    computer.stored(aid, stored.generation)
    t2, c2 = time.perf_counter(), time.process_time()
    heap.give_back()
    ev = computer.held[aid].evaluation
    data = done.snapshot.data
    print(f"  {what}: {len(computer.held[aid].table):,} reports -> {len(ev.incidents):,} incidents,"
          f" {len(ev.violations):,} violations ({computer.last[aid]}); compute {t1 - t0:.1f} s"
          f" (CPU {c1 - cpu0:.1f} s), store {t2 - t1:.1f} s (CPU {c2 - c1:.1f} s): rows written"
          f" {len(data['incidents']):,} incidents + {len(data['violations']):,} violations;"
          f" peak RSS {peak_rss()}; {db_size(db)}; load {load_avg()}", flush=True)  # fmt: skip


def check(db: BenchDb) -> None:
    queries = {
        "evaluation_incidents doc": "SELECT max(length(doc)) FROM evaluation_incidents",
        "evaluation_violations doc": "SELECT max(length(doc)) FROM evaluation_violations",
        "derived header": "SELECT max(length(header)) FROM derived",
        "reports row (pg_column_size)": "SELECT max(pg_column_size(r.*)) FROM reports r",
    }
    t0 = time.perf_counter()
    with db.engine.connect() as conn:
        sizes = {k: int(conn.execute(text(q)).scalar() or 0) for k, q in queries.items()}
        header = conn.execute(
            text("SELECT header FROM derived ORDER BY length(header) DESC")
        ).scalar()
    parts = sorted(
        ((len(json.dumps(v)), k) for k, v in json.loads(header or "{}").items()), reverse=True
    )
    worst = max(sizes.values())
    verdict = "PASS" if worst <= LIMIT_B else "MISS"
    shown = ", ".join(f"{k} {v:,} B" for k, v in sizes.items())
    print(f"  largest values: {shown}; limit {LIMIT_B:,} B: {verdict}"
          f" ({time.perf_counter() - t0:.0f} s)", flush=True)  # fmt: skip
    print("  the header's largest keys: " + ", ".join(f"{k} {b:,} B" for b, k in parts[:4]))


def late_frames(db: BenchDb, rows: int, chunk: int) -> object:
    """`rows` scenario reports moved on in time: dated after every stored one."""
    with db.engine.connect() as conn:
        last = conn.execute(text("SELECT max(observed_at) FROM reports")).scalar_one()
    frame = chunk_frame(0, rows, f"late{time.time_ns()}-")  # new ids in a kept store too
    when = pd.to_datetime(frame["observed_at"], utc=True, format="ISO8601")
    when = when + (pd.Timestamp(last) - when.min() + pd.Timedelta(hours=1))
    frame["observed_at"] = when.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (frame.iloc[s : s + chunk] for s in range(0, rows, chunk))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000_000, help="scenario reports to ingest")
    ap.add_argument("--chunk", type=int, default=50_000, help="rows per ingest call")
    ap.add_argument("--keep", action="store_true", help="keep and reuse the seeded schema")
    ap.add_argument("--step", default=",".join(STEPS), help=f"subset of {','.join(STEPS)}")
    ap.add_argument("--profile", action="store_true", help="cProfile the incremental refresh")
    ap.add_argument("--max-rss-gb", type=float, default=12.0, help="stop past this RSS")
    args = ap.parse_args()
    steps = args.step.split(",")
    if not set(steps) <= set(STEPS):
        ap.error(f"--step: a comma-separated subset of {','.join(STEPS)}")
    watcher = watch(args.max_rss_gb)
    print(f"bench/scale.py: n={args.n:,}, {os.cpu_count()} CPUs, load {load_avg()},"
          f" RAM {gb(psutil.virtual_memory().total)}", flush=True)  # fmt: skip
    db = BenchDb("postgresql", args.n, args.keep, name="bench_scale")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            registry, entry = agreement_entry(Path(tmp))
        svc = Service(db.engine, registry)
        if "ingest" in steps:
            have = db.stored()
            if not have:
                chunks = range(-(-args.n // args.chunk))
                sizes = [min(args.chunk, args.n - k * args.chunk) for k in chunks]
                frames = (chunk_frame(k, sizes[k], "c") for k in chunks)
                ingest(db, svc, frames, args.n, "ingest")
            else:
                print(f"  ingest: kept, {have:,} reports stored; {db_size(db)}")
        computer = Computer(to_store=True)
        if "evaluate" in steps or "refresh" in steps:
            evaluate(db, computer, entry, "evaluate (from scratch)")
        if "check" in steps:
            check(db)
        if "refresh" in steps:
            ingest(db, svc, late_frames(db, LATE, args.chunk), LATE, "refresh: ingest")
            with cProfile.Profile() if args.profile else contextlib.nullcontext() as prof:
                evaluate(db, computer, entry, "refresh: evaluate (incremental)")
            if prof is not None:
                pstats.Stats(prof, stream=sys.stdout).sort_stats("cumulative").print_stats(25)
        print(f"done: peak RSS {peak_rss()}, load {load_avg()}", flush=True)
    finally:
        db.close()
        watcher.kill()


if __name__ == "__main__":
    main()
