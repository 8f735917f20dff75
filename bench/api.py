"""Latency of OGC bbox queries under concurrent clients, against a real `truce serve`.

    .venv/bin/python bench/api.py [--incidents 1000000] [--clients 50] [--duration 30]
        [--repeat 2] [--workers 2] [--backend sqlite|postgresql|both] [--limit 100]
        [--client auto|wrk|asyncio] [--keep]

Per backend:
1. Seed: an empty database gets --incidents reports that do not merge (a grid
   ~2.5 km apart, 7 h apart in time) through the bulk ingest path
   (`Service.ingest_reports`). With --keep the database is kept and reused by the
   next run with the same --incidents (SQLite: $TMPDIR/truce-bench-api/n{N}.sqlite;
   PostgreSQL: schema bench_api_n{N} at TRUCE_TEST_PG_URL).
2. Serve: `truce serve --workers W --warm` on a free loopback port.
3. Warm-up: the first request pays for the evaluation (or, when a stored snapshot
   is current, for loading it) and the OGC index; then rounds of --clients
   simultaneous requests until every worker answers within a second. Prints both
   times and the memory of the server processes (RSS now, peak).
4. Load: --clients connections, each sending its next request as soon as the
   previous answer is in (closed loop), for --duration seconds, to
   `/ogc/collections/us-ru-2016-09-incidents/items?bbox=...&limit=--limit` with
   random 0.5 x 0.5 degree boxes (~400 incidents each; checked on a sample before).
   --repeat runs; each prints p50/p95/p99, requests/s, the server's CPU time per
   request and the load average (the machine may be shared), against the target
   p95 < 50 ms.

The load generator shares the machine's cores with the server, so it should be
cheap: `wrk` (Debian: `apt-get install -y wrk`) is used when it is on PATH
(--client auto), else a lean asyncio HTTP/1.1 client on raw sockets (no httpx
per request). Both keep one connection per client.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np
import pandas as pd
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from truce.service import AgreementRegistry, Service  # noqa: E402
from truce.store.engine import make_engine  # noqa: E402
from truce.store.migrate import upgrade  # noqa: E402
from truce.store.users import SYSTEM_USER  # noqa: E402

PG_URL = os.environ.get(
    "TRUCE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/truce_test"
)
AGREEMENT = "us-ru-2016-09"
COLLECTION = f"{AGREEMENT}-incidents"
TARGET_P95_MS = 50.0
SPACING_DEG = 0.025
SIDE = 1000  # grid columns
LON0, LAT0 = 30.0, 20.0
BOX_DEG = 0.5

WRK_SCRIPT = r"""
local token, limit = os.getenv("BENCH_TOKEN"), os.getenv("BENCH_LIMIT")
local max_lon, max_lat = tonumber(os.getenv("BENCH_MAX_LON")), tonumber(os.getenv("BENCH_MAX_LAT"))
local box = tonumber(os.getenv("BENCH_BOX"))
wrk.headers["Authorization"] = "Bearer " .. token
local n = 0
function setup(thread) thread:set("id", n); n = n + 1 end
function init(args) math.randomseed(7 + id) end
function request()
  local x = LON0 + math.random() * (max_lon - LON0 - box)
  local y = LAT0 + math.random() * (max_lat - LAT0 - box)
  return wrk.format("GET", string.format(
    "/ogc/collections/COLLECTION/items?bbox=%.4f,%.4f,%.4f,%.4f&limit=%s",
    x, y, x + box, y + box, limit))
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %.6f %.3f %.3f %.3f\n", summary.requests,
    e.connect + e.read + e.write + e.status + e.timeout, summary.duration / 1e6,
    latency:percentile(50) / 1e3, latency:percentile(95) / 1e3, latency:percentile(99) / 1e3))
end
"""


# --- the database -----------------------------------------------------------------------


class BenchDb:
    """A truce database on one backend, seeded once; `close()` drops it unless kept."""

    def __init__(self, backend: str, n: int, keep: bool, name: str = "bench_api") -> None:
        self.backend, self.keep = backend, keep
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._schema: str | None = None
        if backend == "sqlite":
            if keep:
                folder = Path(tempfile.gettempdir()) / "truce-bench-api"
                folder.mkdir(exist_ok=True)
                self.url = f"sqlite:///{folder / f'n{n}.sqlite'}"
            else:
                self._tmp = tempfile.TemporaryDirectory()
                self.url = f"sqlite:///{self._tmp.name}/bench.sqlite"
        else:
            self._schema = f"{name}_n{n}" if keep else f"{name}_{os.getpid()}"
            with create_engine(PG_URL).begin() as conn:
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self._schema}"'))
            sep = "&" if "?" in PG_URL else "?"
            self.url = f"{PG_URL}{sep}options=-csearch_path%3D{self._schema},public"
        self.engine = make_engine(self.url)
        upgrade(self.engine)

    def service(self) -> Service:
        return Service(self.engine, AgreementRegistry.load())

    def stored(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM reports")).scalar_one())

    def vacuum(self) -> None:
        """PostgreSQL: what autovacuum would have done by now (it is off on some
        machines): rows a run deleted are dropped and the planner's statistics made.
        Without it a kept store gathers dead rows run after run, and a reader's
        queries on it slow down tenfold."""
        if self.backend != "postgresql":
            return
        auto = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        with auto as conn:
            conn.execute(
                text("VACUUM ANALYZE reports, incident_publications, evaluation_incidents")
            )

    def close(self) -> None:
        self.engine.dispose()
        if self._schema and not self.keep:
            with create_engine(PG_URL).begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{self._schema}" CASCADE'))
        if self._tmp is not None:
            self._tmp.cleanup()


def seed(db: BenchDb, n: int, chunk: int = 100_000) -> float:
    """n grid reports (ids g-0..g-{n-1}); with a kept database, only the missing ones."""
    have = db.stored()
    if have == n:
        return 0.0
    if have:
        raise SystemExit(f"{db.url} holds {have:,} reports, not {n:,}: remove it or drop --keep")
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


# --- the server ---------------------------------------------------------------------------


def start_server(url: str, workers: int) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "truce", "serve", "--host", "127.0.0.1", "--port", "0"]
    cmd += ["--db", url, "--workers", str(workers), "--warm"]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if m := re.search(r"at (http://[^\s/]+)/", line):
            _drain(proc.stdout, Path(tempfile.gettempdir()) / f"truce-bench-serve-{proc.pid}.log")
            return proc, m.group(1)
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit("truce serve did not start")


def _drain(stream: Any, log: Path) -> None:
    """The server's output from here on, copied to `log` by a thread: left in the pipe,
    it would fill it and the server would stop at its next log line."""

    def copy() -> None:
        with log.open("w") as out:
            for line in stream:
                out.write(line)
                out.flush()

    threading.Thread(target=copy, name="serve-log", daemon=True).start()
    print(f"  (the server's log: {log})", flush=True)


def _tree(pid: int) -> list[int]:
    """pid and its descendants (Linux /proc)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                kids = Path(f"/proc/{p}/task/{task}/children").read_text().split()
                todo.extend(int(k) for k in kids)
        except OSError:
            continue
    return out


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _serves(pid: int) -> bool:
    """A uvicorn worker (spawned), not a computing process (forked from the fork server)
    or the fork server itself."""
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def memory_mb(pid: int, workers: int) -> tuple[list[float], list[float]]:
    """(RSS, peak RSS) in MB of each process that serves: `truce serve` itself, or its
    worker processes when there are several (their computing processes are not
    counted: see `compute_memory_mb`)."""
    pids = [pid]
    if workers > 1:
        pids = [p for p in _tree(pid) if p != pid and _serves(p)]
    return (
        [_status_kb(p, "VmRSS") / 1024 for p in pids],
        [_status_kb(p, "VmHWM") / 1024 for p in pids],
    )


def compute_memory_mb(pid: int) -> list[float]:
    """RSS in MB of the server's other processes: the fork server and the computing
    processes (`truce serve --compute-process`), and the supervisor."""
    return [_status_kb(p, "VmRSS") / 1024 for p in _tree(pid) if not _serves(p)]


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of the server processes so far."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in _tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            continue
    return total / tick


# --- load ---------------------------------------------------------------------------------


@dataclass
class Box:
    max_lon: float
    max_lat: float

    def urls(self, n: int, limit: int, seed: int = 7) -> list[str]:
        rng = np.random.default_rng(seed)
        x = rng.uniform(LON0, max(LON0, self.max_lon - BOX_DEG), n)
        y = rng.uniform(LAT0, max(LAT0, self.max_lat - BOX_DEG), n)
        return [
            f"/ogc/collections/{COLLECTION}/items?bbox={a:.4f},{b:.4f},{a + BOX_DEG:.4f},"
            f"{b + BOX_DEG:.4f}&limit={limit}"
            for a, b in zip(x, y, strict=True)
        ]


@dataclass
class Result:
    requests: int
    errors: int
    wall_s: float
    p50: float
    p95: float
    p99: float


def run_wrk(base: str, token: str, box: Box, args: argparse.Namespace) -> Result:
    script = WRK_SCRIPT.replace("LON0", str(LON0)).replace("LAT0", str(LAT0))
    script = script.replace("COLLECTION", COLLECTION)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    env = {
        **os.environ,
        "BENCH_TOKEN": token,
        "BENCH_LIMIT": str(args.limit),
        "BENCH_MAX_LON": str(box.max_lon),
        "BENCH_MAX_LAT": str(box.max_lat),
        "BENCH_BOX": str(BOX_DEG),
    }
    cmd = ["wrk", "-t1", f"-c{args.clients}", f"-d{int(args.duration)}s", "--timeout", "30s"]
    try:
        out = subprocess.run(
            [*cmd, "-s", f.name, base], capture_output=True, text=True, env=env, check=True
        ).stdout
    finally:
        os.unlink(f.name)
    m = re.search(r"^BENCH (\d+) (\d+) (\S+) (\S+) (\S+) (\S+)$", out, re.M)
    if not m:
        raise SystemExit(f"unexpected wrk output:\n{out}")
    n, errors = int(m.group(1)), int(m.group(2))
    wall, p50, p95, p99 = (float(m.group(k)) for k in range(3, 7))
    return Result(n, errors, wall, p50, p95, p99)


async def _client(
    host: str, port: int, header: bytes, urls: list[str], start: int, stop_at: float
) -> tuple[list[float], int]:
    """One keep-alive connection sending `urls` (from `start`, cycling) until `stop_at`."""
    reader, writer = await asyncio.open_connection(host, port)
    latencies: list[float] = []
    errors, i = 0, start
    try:
        while time.monotonic() < stop_at:
            t = time.perf_counter()
            writer.write(b"GET " + urls[i % len(urls)].encode() + header)
            i += 1
            status = await reader.readuntil(b"\r\n")
            length = 0
            while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            latencies.append((time.perf_counter() - t) * 1000)
            if status.split(b" ", 2)[1] != b"200":
                errors += 1
    finally:
        writer.close()
    return latencies, errors


def run_asyncio(base: str, token: str, box: Box, args: argparse.Namespace) -> Result:
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    header = (
        f" HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()
    urls = box.urls(20_000, args.limit, seed=11)

    async def main() -> tuple[list[float], int, float]:
        t0 = time.perf_counter()
        stop_at = time.monotonic() + args.duration
        step = len(urls) // args.clients
        done = await asyncio.gather(
            *(_client(host, port, header, urls, k * step, stop_at) for k in range(args.clients))
        )
        lat = [x for d in done for x in d[0]]
        return lat, sum(d[1] for d in done), time.perf_counter() - t0

    try:
        import uvloop

        lat, errors, wall = uvloop.run(main())
    except ImportError:
        lat, errors, wall = asyncio.run(main())
    a = np.array(lat)
    p50, p95, p99 = (float(np.percentile(a, q)) for q in (50, 95, 99))
    return Result(len(a), errors, wall, p50, p95, p99)


def warm_up(base: str, token: str, box: Box, clients: int) -> tuple[float, float, int]:
    """(first answer s, all workers warm s, matched per box on a sample)."""
    h = {"Authorization": f"Bearer {token}"}
    t0 = time.perf_counter()
    r = httpx.get(f"{base}/ogc/collections/{COLLECTION}/items?limit=1", headers=h, timeout=3600)
    r.raise_for_status()
    first = time.perf_counter() - t0

    async def round_s() -> float:
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=0)
        async with httpx.AsyncClient(headers=h, timeout=3600, limits=limits) as c:
            t = time.perf_counter()
            urls = box.urls(clients, 1, seed=int(t))
            answers = await asyncio.gather(*(c.get(base + u) for u in urls))
            for a in answers:
                a.raise_for_status()
            return time.perf_counter() - t

    while asyncio.run(round_s()) > 1.0:
        pass
    # The stored evaluation may be behind the reports (an earlier run's): measured while
    # it is computed again, the readers would share the machine with that computation.
    dashboard = f"{base}/api/agreements/{AGREEMENT}/dashboard"
    while httpx.get(dashboard, headers=h, timeout=3600).headers.get("Truce-Stale") != "false":
        time.sleep(0.5)
    warm = time.perf_counter() - t0
    sample = [httpx.get(base + u, headers=h).json()["numberMatched"] for u in box.urls(20, 1)]
    return first, warm, int(np.mean(sample))


def run(backend: str, args: argparse.Namespace, client: str) -> None:
    db = BenchDb(backend, args.incidents, args.keep)
    proc = None
    try:
        seed_s = seed(db, args.incidents)
        _, token = db.service().add_user(f"bench-{os.getpid()}-{time.time_ns()}", "admin")
        db.engine.dispose()
        proc, base = start_server(db.url, args.workers)
        rows = max(1, -(-args.incidents // SIDE))
        box = Box(LON0 + min(SIDE, args.incidents) * SPACING_DEG, LAT0 + rows * SPACING_DEG)
        first_s, warm_s, matched = warm_up(base, token, box, args.clients)
        rss, peak = memory_mb(proc.pid, args.workers)
        seeded = f"seeded in {seed_s:.1f} s" if seed_s else "kept from an earlier run"
        print(
            f"{backend}: {args.incidents:,} incidents ({seeded}); {args.workers} worker(s)\n"
            f"  warm-up: first answer {first_s:.1f} s (evaluation or stored snapshot + index),"
            f" all workers warm {warm_s:.1f} s\n"
            f"  memory per worker: RSS {', '.join(f'{m:,.0f}' for m in rss)} MB,"
            f" peak {', '.join(f'{m:,.0f}' for m in peak)} MB; the server's other"
            f" processes {', '.join(f'{m:,.0f}' for m in compute_memory_mb(proc.pid))} MB",
            flush=True,
        )
        for k in range(args.repeat):
            cpu0, load0 = cpu_s(proc.pid), os.getloadavg()[0]
            res = (run_wrk if client == "wrk" else run_asyncio)(base, token, box, args)
            cpu = cpu_s(proc.pid) - cpu0
            verdict = "PASS" if res.p95 < TARGET_P95_MS and not res.errors else "MISS"
            print(
                f"  run {k + 1} ({client}, {args.clients} clients, {args.duration:.0f} s,"
                f" limit={args.limit}, ~{matched} matched per box):"
                f" {res.requests:,} requests, {res.errors} errors,"
                f" {res.requests / res.wall_s:,.0f} req/s\n"
                f"    p50 {res.p50:.1f} ms  p95 {res.p95:.1f} ms  p99 {res.p99:.1f} ms"
                f"  (target p95 < {TARGET_P95_MS:.0f} ms: {verdict});"
                f" server CPU {cpu / max(res.requests, 1) * 1000:.2f} ms/request;"
                f" load average {load0:.1f} -> {os.getloadavg()[0]:.1f}",
                flush=True,
            )
        rss, _ = memory_mb(proc.pid, args.workers)
        print(f"  memory per worker after the runs: {', '.join(f'{m:,.0f}' for m in rss)} MB")
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        db.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--incidents", type=int, default=1_000_000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=30.0, help="seconds per run")
    ap.add_argument("--repeat", type=int, default=2, help="runs per backend")
    ap.add_argument("--workers", type=int, default=2, help="truce serve --workers")
    ap.add_argument("--limit", type=int, default=100)
    ap.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--client", choices=["auto", "wrk", "asyncio"], default="auto")
    ap.add_argument("--keep", action="store_true", help="keep and reuse the seeded database")
    args = ap.parse_args()
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "asyncio"
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    print(
        f"bench/api.py: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f};"
        f" load generator: {client}",
        flush=True,
    )
    for backend in backends:
        run(backend, args, client)


if __name__ == "__main__":
    main()
