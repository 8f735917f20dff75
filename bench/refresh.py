"""How soon the served evaluation reflects new reports, against a real
`truce serve --workers 2`, computing in a child process and in a thread.

    .venv/bin/python bench/refresh.py [--n 1000000] [--batch 10000] [--rounds 3]
        [--readers 2] [--backend sqlite|postgresql|both] [--keep]

Per backend and mode: start from scratch, then --rounds rounds, one more with
--readers readers (serve_load.py's) and one from scratch (a report deleted). A round
POSTs --batch new reports (dated after everything stored, 10 km apart: one incident
each) and polls the summary until it is served not stale at the store's new reports
version; prints when the lease was taken, the evaluation stored and served, when
the OGC incidents count the batch, the server's CPU (by worker) and the load. See
bench/README.md. Target (issue 13): 10k new reports into 1M reflected within 2 s.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench.api import AGREEMENT, LAT0, LON0, BenchDb, _status_kb, _tree, cpu_s, seed, start_server  # noqa: E402
from bench.serve_load import DASHBOARD, ITEMS, Tally, pct, reader, stop_server, wait_ready  # noqa: E402

from truce.store.reports import bump_version, reports_version  # noqa: E402
from truce.store.schema import derived  # noqa: E402

SOURCE = "live-refresh"
TARGET_S = 2.0
MAX_ROWS = 10_000  # per ingest request
STREAK = 10  # answers in a row not stale: both workers hold the new evaluation
MODES = {"process": "1", "thread": "0"}  # TRUCE_COMPUTE_PROCESS (truce serve's flag)


@dataclass
class Round:
    ingest_s: float
    lease_s: float
    stored_s: float
    first_s: float
    all_s: float
    ogc_s: float
    cpu_ingest_s: float
    cpu_refresh_s: float
    shown: int
    by_worker: str = ""  # refresh CPU of each worker with its compute child


FIELDS = [f for f in Round.__dataclass_fields__ if f not in ("shown", "by_worker")]


def last_seeded(n: int) -> datetime:
    """The latest observed_at of bench/api.py's seed (every 7 h, 4,000 steps)."""
    seeded = datetime.fromisoformat("2016-09-10T00:00:00+03:00")
    return (seeded + timedelta(hours=7 * (min(n, 4000) - 1))).astimezone(UTC)


def batch_csv(k: int, start: datetime, batch: int) -> list[str]:
    """Round k's reports, one a second from `start`, on a 0.1 degree grid (no merging)."""
    j = np.arange(batch)
    when = [(start + timedelta(seconds=int(s))).strftime("%Y-%m-%dT%H:%M:%SZ") for s in j]
    lat, lon = LAT0 + (j // 100) * 0.1, LON0 + (j % 100) * 0.1
    rows = [
        f"r{k}-{i},{SOURCE},{w},{a:.4f},{b:.4f},shelling,SAA,B,2"
        for i, w, a, b in zip(j, when, lat, lon, strict=True)
    ]
    head = "report_id,source,observed_at,lat,lon,event_type,actor,reliability,credibility\n"
    return [head + "\n".join(rows[s : s + MAX_ROWS]) + "\n" for s in range(0, batch, MAX_ROWS)]


def poll_fresh(c: httpx.Client, db: BenchDb, version: int, t0: float) -> tuple[float, ...]:
    """Seconds from t0 until: the lease is taken, the evaluation at `version` stored, the
    first summary answer not stale at `version`, the first of STREAK such in a row."""
    seen: dict[str, float] = {}
    streak = 0
    q = select(derived.c.claim_token, derived.c.reports_version)
    while streak < STREAK:
        r = c.get(DASHBOARD)
        with db.engine.connect() as conn:
            lease, stored = conn.execute(q.where(derived.c.agreement_id == AGREEMENT)).one()
        now = time.perf_counter() - t0
        if r.status_code != 200:
            raise SystemExit(f"summary answered {r.status_code}: {r.text[:300]}")
        got = int(r.headers["Truce-Reports-Version"])
        fresh = r.headers["Truce-Stale"] == "false" and got >= version
        streak = streak + 1 if fresh else 0
        marks = {"lease": lease is not None, "stored": (stored or 0) >= version, "first": fresh}
        for what in (k for k, reached in marks.items() if reached):
            seen.setdefault(what, now)
        if streak == 1:
            seen["streak"] = now
        if now > 900:
            raise SystemExit(f"not reflected after 900 s (serving version {got}, want {version})")
        time.sleep(0.02)
    return tuple(seen.get(k, float("nan")) for k in ("lease", "stored", "first", "streak"))


def ogc_count(c: httpx.Client, start: datetime, want: int, t0: float) -> tuple[float, int]:
    """Seconds from t0 until the OGC incidents in the round's hours number `want`."""
    span = f"{start:%Y-%m-%dT%H:%M:%SZ}/{start + timedelta(hours=12):%Y-%m-%dT%H:%M:%SZ}"
    while True:
        r = c.get(ITEMS, params={"limit": "1", "datetime": span})
        got = int(r.json()["numberMatched"]) if r.status_code == 200 else -1
        if got == want or time.perf_counter() - t0 > 120:
            return time.perf_counter() - t0, got
        time.sleep(0.05)


def one_round(
    pid: int, base: str, token: str, db: BenchDb, k: int, scratch: bool, args: argparse.Namespace
) -> Round:
    start = last_seeded(args.n) + timedelta(days=k + 1)
    if scratch:  # a report gone from the store: the next refresh starts from scratch
        with db.engine.begin() as conn:
            gone = text("DELETE FROM reports WHERE source = :s AND report_id = :r")
            assert conn.execute(gone, {"s": SOURCE, "r": f"r{k - 1}-0"}).rowcount == 1
    bodies = batch_csv(k, start, args.batch)
    headers = {"Authorization": f"Bearer {token}"}
    no_keepalive = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(base_url=base, headers=headers, timeout=600, limits=no_keepalive) as c:
        cpu0, t0 = cpu_s(pid), time.perf_counter()
        for body in bodies:
            r = c.post("/api/reports", content=body, headers={"Content-Type": "text/csv"})
            if r.status_code != 200 or r.json()["accepted"] != body.count("\n") - 1:
                raise SystemExit(f"ingest answered {r.status_code}: {r.text[:300]}")
        t_ack, cpu1, w1 = time.perf_counter(), cpu_s(pid), worker_cpu(pid)
        with db.engine.connect() as conn:
            version = reports_version(conn)
        lease, stored, first, streak = poll_fresh(c, db, version, t_ack)
        cpu2, w2 = cpu_s(pid), worker_cpu(pid)
        ogc_s, shown = ogc_count(c, start, args.batch, t_ack)
    by_worker = " / ".join(f"{w2[k] - w1.get(k, 0):.1f}" for k in sorted(w2) if w2[k] > 1)
    marks = (lease, stored, first, streak, ogc_s)
    return Round(t_ack - t0, *marks, cpu1 - cpu0, cpu2 - cpu1, shown, by_worker)


def worker_cpu(pid: int) -> dict[int, float]:
    """CPU seconds of each child of `truce serve` (a worker and its compute child)."""
    task = Path(f"/proc/{pid}/task")
    kids = [int(k) for t in task.iterdir() for k in (t / "children").read_text().split()]
    return {k: cpu_s(k) for k in kids}


def pss_kb(pid: int) -> int:
    """`pid`'s proportional set size: its private pages, and its share of those it
    shares (a library's pages mapped by every server process count once in all)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def rss_mb(pid: int) -> str:
    """Each server process's RSS and peak, saying which it is; a worker's PSS too (its
    RSS counts some 150 MB of library pages every server process maps)."""

    def cmd(p: int) -> bytes:
        with contextlib.suppress(OSError):
            return Path(f"/proc/{p}/cmdline").read_bytes()
        return b""

    def role(p: int) -> str:
        if p == pid:
            return "supervisor"
        if b"spawn_main" in cmd(p):
            return "worker"
        parent = int(_status_kb(p, "PPid")) if p else 0
        return "compute" if b"forkserver" in cmd(parent) else "fork server"

    rows = sorted(
        ((_status_kb(p, "VmRSS"), _status_kb(p, "VmHWM"), p) for p in _tree(pid)), reverse=True
    )

    def pss(p: int) -> str:
        return f", PSS {pss_kb(p) / 1024:,.0f}" if role(p) == "worker" else ""

    return ", ".join(
        f"{role(p)} {r / 1024:,.0f} (peak {h / 1024:,.0f}{pss(p)})"
        for r, h, p in rows
        if r > 20_000
    )


def reset_peaks(pid: int) -> None:
    """Starts each server process's peak (VmHWM) again from its RSS now (Linux's
    `clear_refs` 5), so the next `rss_mb` shows the peak of what happened since, not
    of the start."""
    for p in _tree(pid):
        with contextlib.suppress(OSError):
            Path(f"/proc/{p}/clear_refs").write_text("5")


def show(k: int, rd: Round, tally: Tally, what: str, load: float, batch: int) -> None:
    print(
        f"    round {k + 1}{what}: ingest {rd.ingest_s:.2f} s;"
        f" then lease taken {rd.lease_s:.2f} s, stored {rd.stored_s:.2f} s, reflected"
        f" {rd.first_s:.2f} s, {STREAK} in a row {rd.all_s:.2f} s, OGC counts"
        f" {rd.shown:,}/{batch:,} at {rd.ogc_s:.2f} s; server CPU ingest {rd.cpu_ingest_s:.2f}"
        f" s + refresh {rd.cpu_refresh_s:.2f} s (by worker {rd.by_worker}); load {load:.1f} -> {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    for read, ms in tally.ms.items() if tally.ms["summary"] else ():
        p50, p95, p99 = pct(ms)
        print(f"      reads {read:7s} n={len(ms):5d} p50 {p50:6.1f} ms p95 {p95:6.1f} ms"
              f" p99 {p99:6.1f} ms")  # fmt: skip
    if tally.ms["summary"]:
        print(f"      stale answers {tally.stale}, errors {len(tally.errors)} {tally.errors[:3]}")


def run_mode(db: BenchDb, token: str, mode: str, k0: int, args: argparse.Namespace) -> list[Round]:
    os.environ["TRUCE_COMPUTE_PROCESS"] = MODES[mode]
    with db.engine.begin() as conn:  # so the server starts with a computation from scratch
        bump_version(conn)
    t = time.perf_counter()
    proc, base = start_server(db.url, 2)
    try:
        up = time.perf_counter() - t
        first, fresh = wait_ready(base, token)
        print(f"  compute in a {mode}: listening after {up:.1f} s, then first summary "
              f"{first:.1f} s, not stale (computed from scratch) {fresh:.1f} s")  # fmt: skip
        rounds = []
        for k in range(args.rounds + 2):
            tally, stop = Tally(), threading.Event()
            readers = [
                threading.Thread(target=reader, args=(base, token, args.n, 7 + i, stop, tally))
                for i in range(args.readers if k == args.rounds else 0)
            ]
            for th in readers:
                th.start()
            load = os.getloadavg()[0]
            rd = one_round(proc.pid, base, token, db, k0 + k, k > args.rounds, args)
            stop.set()
            for th in readers:
                th.join()
            rounds.append(rd)
            what = " (from scratch)" if k > args.rounds else ""
            show(k, rd, tally, f" ({len(readers)} readers)" if readers else what, load, args.batch)
        print(f"    server processes RSS MB: {rss_mb(proc.pid)}")
        return rounds
    finally:
        stop_server(proc)


def clean(db: BenchDb) -> None:
    """Removes an earlier run's live reports and lease; the version moves on."""
    with db.engine.begin() as conn:
        gone = conn.execute(text("DELETE FROM reports WHERE source = :s"), {"s": SOURCE})
        conn.execute(text("UPDATE derived SET claim_token = NULL, claim_at = NULL"))
        if gone.rowcount:
            bump_version(conn)
    db.vacuum()


def summarize(by_mode: dict[str, list[Round]]) -> None:
    """Medians of the incremental rounds (the one with readers included), the round from
    scratch beside them, and the thread/process ratios."""
    med = {}
    for mode, rounds in by_mode.items():
        med[mode] = m = {
            f: float(np.nanmedian([getattr(r, f) for r in rounds[:-1]])) for f in FIELDS
        }
        full = rounds[-1]
        ok = "PASS" if m["all_s"] <= TARGET_S else "MISS"
        print(f"  {mode:7s} median: ingest {m['ingest_s']:.2f} s, stored {m['stored_s']:.2f} s, "
              f"reflected {m['first_s']:.2f} s, {STREAK} in a row {m['all_s']:.2f} s (target <= "
              f"{TARGET_S:.0f} s: {ok}); server CPU refresh {m['cpu_refresh_s']:.2f} s\n"
              f"          from scratch: stored {full.stored_s:.2f} s, {STREAK} in a row "
              f"{full.all_s:.2f} s ({full.all_s / m['all_s']:.1f}x), server CPU "
              f"{full.cpu_refresh_s:.2f} s ({full.cpu_refresh_s / m['cpu_refresh_s']:.1f}x)")  # fmt: skip
    if set(med) != set(MODES):
        return
    p, th = med["process"], med["thread"]
    print(f"  thread / process: reflected {th['all_s'] / p['all_s']:.2f}x, "
          f"refresh CPU {th['cpu_refresh_s'] / p['cpu_refresh_s']:.2f}x")  # fmt: skip


def run(backend: str, args: argparse.Namespace) -> None:
    db = BenchDb(backend, args.n, args.keep)
    try:
        if args.keep:
            clean(db)
        print(f"{backend}: {args.n:,} reports, batches of {args.batch:,}", flush=True)
        print(f"  seeded in {seed(db, args.n):.1f} s (0: kept from an earlier run)", flush=True)
        _, token = db.service().add_user(f"bench-{os.getpid()}-{time.time_ns()}", "admin")
        db.engine.dispose()
        by_mode = {}
        for i, mode in enumerate(args.modes.split(",")):
            by_mode[mode] = run_mode(db, token, mode, i * (args.rounds + 2), args)
        summarize(by_mode)
        if args.keep:
            clean(db)
    finally:
        db.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="reports in the store")
    ap.add_argument("--batch", type=int, default=10_000, help="new reports per round")
    ap.add_argument("--rounds", type=int, default=3, help="rounds per mode without readers")
    ap.add_argument("--readers", type=int, default=2, help="readers in the last round")
    ap.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--keep", action="store_true", help="keep and reuse the seeded store")
    ap.add_argument("--modes", default=",".join(MODES), help="where evaluations are computed")
    args = ap.parse_args()
    if not set(args.modes.split(",")) <= set(MODES):
        ap.error(f"--modes: a comma-separated subset of {', '.join(MODES)}")
    print(f"bench/refresh.py: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    for backend in ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]:
        run(backend, args)


if __name__ == "__main__":
    main()
