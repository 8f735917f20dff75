"""Reads while reports arrive, and the first answer after a crash, against a real
`truce serve --workers 2`.

    .venv/bin/python bench/serve_load.py [--n 1000000] [--backend sqlite|postgresql]
        [--duration 60] [--readers 15] [--ingesters 5] [--batch 50] [--workers 2] [--keep]

1. Seed: a store of --n reports (bench/api.py's grid: none merge), kept between runs
   with --keep.
2. Serve: `truce serve --workers W --warm`; the first evaluation is computed (or a
   stored one loaded) before timing starts.
3. Without ingest: --readers threads in a closed loop, each alternating the
   evaluation summary (`GET .../dashboard`: the evaluation's counts) and an OGC
   items page in a random 0.5 x 0.5 degree box, for --duration seconds.
4. With ingest: the same readers while --ingesters clients post batches of --batch
   new reports in a closed loop (each batch makes the evaluation stale and starts
   its refresh in the background). Prints p50/p95/p99 per endpoint, errors, the
   share of stale answers, and the ratio of the read p95 to step 3's.
   Reports lost: every acknowledged report must be in the store afterwards.
5. Crash: one more batch starts a refresh; once its lease is held in the database,
   the server (supervisor and workers) is killed with SIGKILL and started again.
   Prints the time from the restart to the first evaluation answer, and to the
   first answer that is no longer stale (the dead process's lease taken over and
   the new reports evaluated).

Targets (issue 13): read p95 < 200 ms with ingest, 0 errors, 0 lost; first answer
after kill -9 and restart <= 5 s.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench.api import (  # noqa: E402
    AGREEMENT,
    BOX_DEG,
    LAT0,
    LON0,
    SIDE,
    SPACING_DEG,
    BenchDb,
    _tree,
    memory_mb,
    seed,
    start_server,
)

from truce.store.reports import bump_version  # noqa: E402
from truce.store.schema import derived  # noqa: E402

DASHBOARD = f"/api/agreements/{AGREEMENT}/dashboard"
ITEMS = f"/ogc/collections/{AGREEMENT}-incidents/items"
TARGET_P95_MS = 200.0
TARGET_FIRST_ANSWER_S = 5.0


@dataclass
class Tally:
    """Latencies (ms) per endpoint, errors, stale answers, acknowledged reports."""

    ms: dict[str, list[float]] = field(default_factory=lambda: {"summary": [], "items": []})
    errors: list[str] = field(default_factory=list)
    stale: int = 0
    acknowledged: int = 0
    ingest_ms: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _bbox_params(rng: np.random.Generator, n: int) -> dict[str, str]:
    rows = max(1, n // SIDE)
    max_lon = LON0 + min(n, SIDE) * SPACING_DEG
    max_lat = LAT0 + rows * SPACING_DEG
    x = rng.uniform(LON0, max(LON0, max_lon - BOX_DEG))
    y = rng.uniform(LAT0, max(LAT0, max_lat - BOX_DEG))
    return {"bbox": f"{x:.4f},{y:.4f},{x + BOX_DEG:.4f},{y + BOX_DEG:.4f}", "limit": "100"}


def reader(base: str, token: str, n: int, seed_: int, stop: threading.Event, t: Tally) -> None:
    rng = np.random.default_rng(seed_)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as c:
        turn = seed_ % 2
        while not stop.is_set():
            what = ("summary", "items")[turn]
            turn ^= 1
            started = time.perf_counter()
            try:
                if what == "summary":
                    r = c.get(DASHBOARD)
                else:
                    r = c.get(ITEMS, params=_bbox_params(rng, n))
                ok = r.status_code == 200
            except httpx.HTTPError as exc:
                ok, r = False, None
                detail = f"{what}: {type(exc).__name__}"
            ms = (time.perf_counter() - started) * 1000
            with t.lock:
                if ok:
                    t.ms[what].append(ms)
                    if r is not None and r.headers.get("Truce-Stale") == "true":
                        t.stale += 1
                else:
                    t.errors.append(f"{what}: {r.status_code}" if r is not None else detail)


def ingester(base: str, token: str, who: int, batch: int, stop: threading.Event, t: Tally) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
    k = 0
    with httpx.Client(base_url=base, headers=headers, timeout=120) as c:
        while not stop.is_set():
            body = _batch_csv(f"w{who}-{os.getpid()}-{k}", batch)
            k += 1
            started = time.perf_counter()
            try:
                r = c.post("/api/reports", content=body)
                ok = r.status_code == 200 and r.json()["accepted"] == batch
                why = f"ingest: {r.status_code} {r.text[:100]}"
            except httpx.HTTPError as exc:
                ok, why = False, f"ingest: {type(exc).__name__}"
            with t.lock:
                if ok:
                    t.acknowledged += batch
                    t.ingest_ms.append((time.perf_counter() - started) * 1000)
                else:
                    t.errors.append(why)


def _batch_csv(prefix: str, batch: int) -> str:
    rng = np.random.default_rng(abs(hash(prefix)) % (1 << 32))
    lines = ["report_id,source,observed_at,lat,lon,event_type,actor,reliability,credibility"]
    for i in range(batch):
        lat = LAT0 + rng.uniform(0, 2)
        lon = LON0 + rng.uniform(0, 2)
        day = 10 + int(rng.integers(0, 10))
        lines.append(
            f"{prefix}-{i},live,2016-09-{day:02d}T{int(rng.integers(0, 24)):02d}:00:00+03:00,"
            f"{lat:.5f},{lon:.5f},shelling,SAA,B,2"
        )
    return "\n".join(lines) + "\n"


def run(base: str, token: str, args: argparse.Namespace, ingest: bool) -> Tally:
    t = Tally()
    stop = threading.Event()
    threads = [
        threading.Thread(target=reader, args=(base, token, args.n, 7 + i, stop, t))
        for i in range(args.readers)
    ]
    if ingest:
        threads += [
            threading.Thread(target=ingester, args=(base, token, i, args.batch, stop, t))
            for i in range(args.ingesters)
        ]
    for th in threads:
        th.start()
    time.sleep(args.duration)
    stop.set()
    for th in threads:
        th.join()
    return t


def pct(values: list[float]) -> tuple[float, float, float]:
    if not values:
        return (float("nan"),) * 3
    a = np.asarray(values)
    return tuple(float(np.percentile(a, q)) for q in (50, 95, 99))  # type: ignore[return-value]


def report(label: str, t: Tally, duration: float) -> float:
    """Prints the run; returns the read p95 over both endpoints (ms)."""
    print(f"\n== {label}")
    for what, values in t.ms.items():
        p50, p95, p99 = pct(values)
        print(
            f"  {what:8s} n={len(values):6d}  p50 {p50:8.1f} ms  p95 {p95:8.1f} ms  "
            f"p99 {p99:8.1f} ms  ({len(values) / duration:.1f}/s)"
        )
    reads = t.ms["summary"] + t.ms["items"]
    p95 = pct(reads)[1]
    print(f"  reads    p95 {p95:.1f} ms; errors {len(t.errors)}; stale answers {t.stale}")
    if t.errors:
        print("  first errors:", t.errors[:5])
    if t.ingest_ms:
        p50, ip95, _ = pct(t.ingest_ms)
        print(
            f"  ingest   {len(t.ingest_ms)} batches, {t.acknowledged:,} reports acknowledged, "
            f"p50 {p50:.0f} ms, p95 {ip95:.0f} ms"
        )
    return p95


def lease_held(db: BenchDb) -> bool:
    with db.engine.connect() as conn:
        q = select(derived.c.claim_token).where(derived.c.agreement_id == AGREEMENT)
        return conn.execute(q).scalar() is not None


def kill_tree(proc) -> None:  # type: ignore[no-untyped-def]
    for pid in reversed(_tree(proc.pid)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait(30)


def stop_server(proc) -> None:  # type: ignore[no-untyped-def]
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(60)
    except Exception:
        kill_tree(proc)


def wait_ready(base: str, token: str) -> tuple[float, float]:
    """Seconds to the first summary answer, then to the first that is not stale."""
    headers = {"Authorization": f"Bearer {token}"}
    started = time.perf_counter()
    first = fresh = None
    with httpx.Client(base_url=base, headers=headers, timeout=600) as c:
        while fresh is None:
            try:
                r = c.get(DASHBOARD)
            except httpx.TransportError:
                time.sleep(0.05)
                continue
            now = time.perf_counter() - started
            if r.status_code == 200:
                first = now if first is None else first
                if r.headers.get("Truce-Stale") == "false":
                    fresh = now
            if now > 900:
                raise SystemExit("no fresh answer within 15 minutes")
            time.sleep(0.1)
    assert first is not None
    return first, fresh


def crash_and_restart(db: BenchDb, proc, base: str, token: str, args) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
    r = httpx.post(
        f"{base}/api/reports", content=_batch_csv("crash", args.batch), headers=headers, timeout=120
    )
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 120
    while not lease_held(db):
        if time.monotonic() > deadline:
            raise SystemExit("no refresh started after the batch")
        time.sleep(0.01)
    kill_tree(proc)
    assert lease_held(db), "the lease should outlive its process"
    started = time.perf_counter()
    proc, base = start_server(db.url, args.workers)
    spawn_s = time.perf_counter() - started
    first, fresh = wait_ready(base, token)
    stop_server(proc)
    return spawn_s + first, spawn_s + fresh


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="reports in the store")
    ap.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--duration", type=float, default=60.0, help="seconds per run")
    ap.add_argument("--readers", type=int, default=15)
    ap.add_argument("--ingesters", type=int, default=5)
    ap.add_argument("--batch", type=int, default=50, help="reports per ingest request")
    ap.add_argument("--workers", type=int, default=2, help="truce serve --workers")
    ap.add_argument("--keep", action="store_true", help="keep and reuse the seeded store")
    args = ap.parse_args()

    db = BenchDb(args.backend, args.n, args.keep)
    try:
        with db.engine.begin() as conn:  # a previous run's live reports and lease
            gone = conn.execute(text("DELETE FROM reports WHERE source = 'live'"))
            conn.execute(text("UPDATE derived SET claim_token = NULL, claim_at = NULL"))
            if gone.rowcount:  # the stored evaluation counted them: no longer current
                bump_version(conn)
        print(f"seeding {args.n:,} reports ({args.backend}) ...", flush=True)
        print(f"  seeded in {seed(db, args.n):.1f} s (0: kept from before)")
        db.vacuum()  # a kept store's dead rows from earlier runs (autovacuum may be off)
        _, token = db.service().add_user(f"bench-{os.getpid()}", "admin")
        started = time.perf_counter()
        proc, base = start_server(db.url, args.workers)
        first, fresh = wait_ready(base, token)
        print(f"  server up; first answer {first:.1f} s, current evaluation {fresh:.1f} s")
        try:
            quiet = run(base, token, args, ingest=False)
            p95_quiet = report("reads without ingest", quiet, args.duration)
            before = _count(db)
            busy = run(base, token, args, ingest=True)
            p95_busy = report("reads while 5 clients ingest", busy, args.duration)
            lost = before + busy.acknowledged - _count(db)
            rss, peak = memory_mb(proc.pid, args.workers)
            print(f"  reports lost: {lost}")
            print(f"  worker RSS now {', '.join(f'{m:.0f}' for m in rss)} MB, peak "
                  f"{', '.join(f'{m:.0f}' for m in peak)} MB")  # fmt: skip
            print(f"  read p95 with ingest / without: {p95_busy / p95_quiet:.2f}x")
        except BaseException:
            kill_tree(proc)
            raise
        first_s, fresh_s = crash_and_restart(db, proc, base, token, args)
        errors = len(quiet.errors) + len(busy.errors)
        print("\n== kill -9 mid-refresh, then restart")
        print(f"  first answer {first_s:.1f} s after the restart; current again {fresh_s:.1f} s")
        print("\n== verdicts")
        print(f"  read p95 with ingest {p95_busy:.0f} ms < {TARGET_P95_MS:.0f} ms: "
              f"{'PASS' if p95_busy < TARGET_P95_MS else 'MISS'}")  # fmt: skip
        print(f"  errors {errors}, lost {lost}: {'PASS' if errors == 0 and lost == 0 else 'MISS'}")
        print(f"  first answer after kill -9 {first_s:.1f} s <= {TARGET_FIRST_ANSWER_S:.0f} s: "
              f"{'PASS' if first_s <= TARGET_FIRST_ANSWER_S else 'MISS'}")  # fmt: skip
        print(f"  (n = {args.n:,}, {args.backend}, --workers {args.workers}, total "
              f"{time.perf_counter() - started:.0f} s, load average {os.getloadavg()[0]:.1f})")  # fmt: skip
    finally:
        db.close()


def _count(db: BenchDb) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM reports")).scalar_one())


if __name__ == "__main__":
    main()
