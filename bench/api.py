"""Latency of OGC bbox queries under concurrent clients, against a real `truce serve`.

    .venv/bin/python bench/api.py [--incidents 1000000] [--clients 50] [--requests 2000]
        [--backend sqlite|postgresql|both] [--limit 100] [--time-limit 120]

Per backend: an empty database is seeded with --incidents reports that do not
merge (a grid ~2.5 km apart, 7 h apart in time), through the bulk ingest path
(`Service.ingest_reports`); `truce serve` starts on a free loopback port; one
warm-up request pays for the evaluation and the OGC index; then --clients
httpx.AsyncClient tasks send --requests requests in total (or stop at
--time-limit seconds) to `/ogc/collections/us-ru-2016-09-incidents/items?bbox=...`
with random 0.5 x 0.5 degree boxes. Prints p50/p95/p99 against the target p95 < 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

from ingest import Db  # noqa: E402

from truce.store.users import SYSTEM_USER  # noqa: E402

AGREEMENT = "us-ru-2016-09"
COLLECTION = f"{AGREEMENT}-incidents"
TARGET_P95_MS = 50.0
SPACING_DEG = 0.025
SIDE = 1000  # grid columns
LON0, LAT0 = 30.0, 20.0


def seed(db: Db, n: int, chunk: int = 100_000) -> float:
    svc = db.service()
    i_all = np.arange(n)
    t0 = time.perf_counter()
    start = np.datetime64("2016-09-10T00:00:00")
    for s in range(0, n, chunk):
        i = i_all[s : s + chunk]
        df = pd.DataFrame(
            {
                "report_id": np.char.add("g-", i.astype(str)),
                "source": "bench",
                "observed_at": pd.to_datetime(
                    start + ((i % 4000) * 7 * 3600).astype("timedelta64[s]")
                ).strftime("%Y-%m-%dT%H:%M:%S+03:00"),
                "lat": np.round(LAT0 + (i // SIDE) * SPACING_DEG, 6),
                "lon": np.round(LON0 + (i % SIDE) * SPACING_DEG, 6),
                "event_type": "shelling",
                "actor": np.where(i % 2 == 0, "SAA", "FSA"),
                "reliability": "B",
                "credibility": 2,
            }
        )
        r = svc.ingest_reports(df.to_csv(index=False).encode(), format="csv", user=SYSTEM_USER)
        assert r.accepted == len(i), (r.accepted, r.rejected[:3])
    return time.perf_counter() - t0


def start_server(url: str) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [
        sys.executable,
        "-m",
        "truce",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--db",
        url,
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if m := re.search(r"at (http://[^\s/]+)/", line):
            return proc, m.group(1)
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit("truce serve did not start")


async def load(base: str, token: str, n_incidents: int, args: argparse.Namespace) -> dict:
    rows = max(1, n_incidents // SIDE)
    rng = np.random.default_rng(7)
    width = 0.5
    max_lon = LON0 + min(SIDE, n_incidents) * SPACING_DEG
    max_lat = LAT0 + rows * SPACING_DEG
    minx = rng.uniform(LON0, max(LON0, max_lon - width), args.requests)
    miny = rng.uniform(LAT0, max(LAT0, max_lat - width), args.requests)
    urls = [
        f"{base}/ogc/collections/{COLLECTION}/items?bbox={x:.4f},{y:.4f},{x + width:.4f},{y + width:.4f}&limit={args.limit}"
        for x, y in zip(minx, miny, strict=True)
    ]
    latencies: list[float] = []
    matched: list[int] = []
    errors = 0
    next_i = 0
    stop_at = time.monotonic() + args.time_limit
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)

    async with httpx.AsyncClient(headers=headers, timeout=60, limits=limits) as client:

        async def worker() -> None:
            nonlocal next_i, errors
            while next_i < len(urls) and time.monotonic() < stop_at:
                u = urls[next_i]
                next_i += 1
                t = time.perf_counter()
                r = await client.get(u)
                latencies.append((time.perf_counter() - t) * 1000)
                if r.status_code != 200:
                    errors += 1
                else:
                    matched.append(r.json()["numberMatched"])

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(args.clients)))
        wall = time.perf_counter() - t0
    lat = np.array(latencies)
    return {
        "requests": len(lat),
        "errors": errors,
        "wall_s": wall,
        "p50": float(np.percentile(lat, 50)),
        "p95": float(np.percentile(lat, 95)),
        "p99": float(np.percentile(lat, 99)),
        "rps": len(lat) / wall,
        "matched_mean": float(np.mean(matched)) if matched else 0.0,
    }


def run(backend: str, args: argparse.Namespace) -> None:
    db = Db(backend)
    proc = None
    try:
        seed_s = seed(db, args.incidents)
        _, token = db.service().add_user("bench", "admin")
        db.engine.dispose()
        proc, base = start_server(db.url)
        t = time.perf_counter()
        r = httpx.get(
            f"{base}/ogc/collections/{COLLECTION}/items?limit=1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=3600,
        )
        r.raise_for_status()
        warm_s = time.perf_counter() - t
        n = r.json()["numberMatched"]
        res = asyncio.run(load(base, token, args.incidents, args))
        verdict = "PASS" if res["p95"] < TARGET_P95_MS else "MISS"
        print(
            f"{backend:>10}: n={n:,} incidents (seeded {args.incidents:,} reports in {seed_s:.1f} s; "
            f"first request incl. evaluation + index {warm_s:.1f} s)\n"
            f"{'':>10}  {res['requests']:,} requests, {args.clients} clients, limit={args.limit}, "
            f"~{res['matched_mean']:.0f} matched per bbox, {res['errors']} errors, "
            f"{res['rps']:.0f} req/s\n"
            f"{'':>10}  p50 {res['p50']:.1f} ms  p95 {res['p95']:.1f} ms  p99 {res['p99']:.1f} ms"
            f"  (target p95 < {TARGET_P95_MS:.0f} ms: {verdict})",
            flush=True,
        )
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        db.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--incidents", type=int, default=1_000_000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--limit", type=int, default=100)
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = ap.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        run(backend, args)


if __name__ == "__main__":
    main()
