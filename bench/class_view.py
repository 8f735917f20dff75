"""What a visibility class's evaluation costs a server worker (issue #13 item 3 and
its memory target), as dicts made in the worker against packed rows made in its
computing process.

    .venv/bin/python bench/class_view.py [--n 1000000] [--published 1.0]
        [--backend sqlite|postgresql] [--keep] [--skip-server | --only-server]

Seeds --n reports (bench/api.py's grid) and marks a --published share of them
published, as if the secretariat had published their incidents. Then:

1. In a fresh process per way, the published class's evaluation is made as dicts
   (the way before: `compute`, then `link_review_keys` on each dict) and packed
   (`compute(packed=True)`, review keys given on decoding): seconds, and the RSS the
   process holds afterwards above what it held before (the evaluation kept) and at
   its peak.
2. `truce serve --workers 2` with an observer's token: seconds to the first
   dashboard answer (the class's evaluation computed on demand) and to an OGC
   page, then each worker's RSS and peak, and its computing processes'.
3. Then reports the observer does not see arrive (stored unpublished, 10 and then
   10,000): seconds until its dashboard answers at their reports version, not
   stale (the class's evaluation kept: `Snapshot.still_at`), and the RSS again.
4. Then the newest of those reports are published (10, then 10,000): seconds until
   the observer's dashboard is current (its class computed from its last
   evaluation: `truce.service.class_compute`).
5. A server started again over the same store: seconds to the admin's and the
   observer's first dashboards.

Target (issue 13): per-worker memory <= 600 MB at 1M incidents, for every viewer.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench.api import AGREEMENT, COLLECTION, BenchDb, _status_kb, seed, start_server  # noqa: E402
from bench.refresh import batch_csv, clean, last_seeded, reset_peaks, rss_mb  # noqa: E402
from bench.serve_load import DASHBOARD, stop_server  # noqa: E402

from truce.store.reports import bump_version  # noqa: E402

TARGET_MB = 600.0
WAYS = ("dicts", "packed")
PAGES = 12  # OGC pages and dashboards read after the first answers
INGEST_BATCHES = (10, 10_000)  # unpublished reports stored, then the observer reads
PUBLISHED_BATCHES = (10, 10_000)  # then the newest of them published


def rss() -> float:
    return _status_kb(os.getpid(), "VmRSS") / 1024


def one(url: str, way: str) -> dict[str, float]:
    """Make the published class's evaluation one way in this process; what it cost."""
    from truce.service import AgreementRegistry
    from truce.service.compute import compute
    from truce.service.scopes import PUBLISHED, ReportIndex, link_review_keys
    from truce.store.deferred import resolved
    from truce.store.engine import make_engine
    from truce.store.heap import give_back
    from truce.store.packed import keys_of
    from truce.store.schema import reports

    engine = make_engine(url)
    entry = AgreementRegistry.load().get(AGREEMENT)
    # The full evaluation's report index is what a worker links review keys through:
    # made from a small evaluation here, as the class's own cost is what is measured.
    index = ReportIndex.of({"incidents": []})
    few = reports.c.id <= 2000  # warms up what a first evaluation loads (the kernels)
    compute(engine, entry, datetime.now(UTC), where=few, packed=way == "packed")
    gc.collect()
    give_back()
    before = rss()
    t0 = time.perf_counter()
    snap = compute(
        engine, entry, datetime.now(UTC), where=PUBLISHED.where(), packed=way == "packed"
    )
    link_review_keys(snap.data, AGREEMENT, index.moved(keys_of(resolved(snap.data["incidents"]))))
    seconds = time.perf_counter() - t0
    gc.collect()
    give_back()
    held = rss() - before
    incidents = len(snap.data["incidents"])
    return {
        "seconds": seconds,
        "held_mb": held,
        "peak_mb": _status_kb(os.getpid(), "VmHWM") / 1024,
        "incidents": incidents,
    }


def publish(db: BenchDb, share: float) -> int:
    """Publish about `share` of the reports and their incidents (each of the grid's
    reports is an incident of its own, keyed by it), as the secretariat would one by
    one; how many are."""
    every = max(1, round(1 / share)) if share > 0 else 0
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE reports SET published = false"))
        conn.execute(text("DELETE FROM incident_publications WHERE published_by = 'bench'"))
        if every:
            conn.execute(text(f"UPDATE reports SET published = true WHERE id % {every} = 0"))
            conn.execute(
                text(
                    "INSERT INTO incident_publications"
                    " (agreement_id, incident_key, published_by, published_at)"
                    " SELECT :aid, source || ':' || report_id, 'bench', :now"
                    " FROM reports WHERE published"
                ),
                {"aid": AGREEMENT, "now": datetime.now(UTC)},
            )
        bump_version(conn)
        return int(conn.execute(text("SELECT count(*) FROM reports WHERE published")).scalar_one())


def publish_newest(db: BenchDb, count: int) -> int:
    """Publish the newest `count` unpublished reports and their incidents, as the
    secretariat publishing what came in lately; the reports version it made."""
    with db.engine.begin() as conn:
        newest = "SELECT id FROM reports WHERE NOT published ORDER BY id DESC LIMIT :n"
        conn.execute(
            text(
                "INSERT INTO incident_publications"
                " (agreement_id, incident_key, published_by, published_at)"
                f" SELECT :aid, source || ':' || report_id, 'bench', :now FROM reports"
                f" WHERE id IN ({newest})"
            ),
            {"aid": AGREEMENT, "now": datetime.now(UTC), "n": count},
        )
        conn.execute(
            text(f"UPDATE reports SET published = true WHERE id IN ({newest})"), {"n": count}
        )
        return bump_version(conn)


def after_publication(base: str, headers: dict[str, str], db: BenchDb, server_pid: int) -> None:
    """The newest reports published (the observer's class gains them): seconds until
    the observer's dashboard answers at the version the publication made, not stale."""
    for count in PUBLISHED_BATCHES:
        _current(base, headers)
        reset_peaks(server_pid)
        version = publish_newest(db, count)
        t0 = time.perf_counter()
        with httpx.Client(base_url=base, headers=headers, timeout=900) as c:
            while True:
                d = c.get(DASHBOARD)
                d.raise_for_status()
                current = int(d.headers["Truce-Reports-Version"]) >= version
                if current and d.headers["Truce-Stale"] == "false":
                    break
                time.sleep(0.05)
        print(
            f"  {count:,} of the newest reports published: the observer current after "
            f"{time.perf_counter() - t0:.2f} s",
            flush=True,
        )
        print(f"  RSS MB (peaks: since the publication): {rss_mb(server_pid)}")


def in_process(url: str) -> None:
    print("  published class's evaluation, made in a fresh process each way:")
    for way in WAYS:
        out = subprocess.run(
            [sys.executable, __file__, "--one", way, "--url", url],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        got = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"    {way:7s} {got['seconds']:6.2f} s, held {got['held_mb']:7,.0f} MB, "
            f"peak {got['peak_mb']:7,.0f} MB ({got['incidents']:,} incidents)",
            flush=True,
        )


def _current(base: str, headers: dict[str, str]) -> int:
    """Waits for a dashboard answered current (not stale); its reports version."""
    while True:
        r = httpx.get(f"{base}{DASHBOARD}", headers=headers, timeout=900)
        r.raise_for_status()
        if r.headers["Truce-Stale"] == "false":
            return int(r.headers["Truce-Reports-Version"])
        time.sleep(0.2)


def after_ingest(base: str, headers: dict[str, str], admin: str, n: int, server_pid: int) -> None:
    """Reports the observer does not see (stored unpublished, dated after everything
    stored, as monitors' reports are) arrive: seconds until an admin's dashboard (the
    shared evaluation) and the observer's (its class's) answer at the reports version
    they made, not stale. First the shared evaluation is let settle: made from nothing
    after the publication, it is still being stored."""
    as_admin = {"Authorization": f"Bearer {admin}"}
    t0 = time.perf_counter()
    _current(base, as_admin)
    print(f"  (the shared evaluation current after {time.perf_counter() - t0:.1f} s more)")
    time.sleep(3)
    print(f"  RSS MB, the shared evaluation loaded too: {rss_mb(server_pid)}")
    for k, batch in enumerate(INGEST_BATCHES):
        reset_peaks(server_pid)
        bodies = batch_csv(k, last_seeded(n) + timedelta(hours=1 + k), batch)
        version = _current(base, headers) + len(bodies)  # one version per request
        for body in bodies:
            httpx.post(
                f"{base}/api/reports",
                content=body,
                headers={**as_admin, "Content-Type": "text/csv"},
                timeout=600,
            ).raise_for_status()
        t0 = time.perf_counter()
        took: dict[str, float] = {}
        with httpx.Client(base_url=base, timeout=900) as c:
            while len(took) < 2:
                for who, h in (("shared", as_admin), ("observer", headers)):
                    d = c.get(DASHBOARD, headers=h)
                    d.raise_for_status()
                    current = int(d.headers["Truce-Reports-Version"]) >= version
                    if who not in took and current and d.headers["Truce-Stale"] == "false":
                        took[who] = time.perf_counter() - t0
                time.sleep(0.05)
        print(
            f"  {batch:,} unpublished reports stored: current after {took['shared']:.2f} s "
            f"(admin, shared evaluation), {took['observer']:.2f} s (observer, its class)",
            flush=True,
        )
        print(f"  RSS MB (peaks: since these reports were sent): {rss_mb(server_pid)}")


def served(db: BenchDb, n: int) -> None:
    _, token = db.service().add_user(f"observer-{os.getpid()}-{time.time_ns()}", "observer")
    _, admin = db.service().add_user(f"admin-{os.getpid()}-{time.time_ns()}", "admin")
    db.engine.dispose()
    proc, base = start_server(db.url, 2)
    try:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=900) as c:
            t0 = time.perf_counter()
            answered: list[float] = []

            def ask() -> None:  # a connection of its own: the kernel spreads them
                httpx.get(f"{base}{DASHBOARD}", headers=headers, timeout=900).raise_for_status()
                answered.append(time.perf_counter() - t0)

            # Both workers make the class's evaluation (one keep-alive connection would
            # ask only one of them: the other would make it at the first publication).
            askers = [threading.Thread(target=ask) for _ in range(8)]
            for t in askers:
                t.start()
            for t in askers:
                t.join()
            first = min(answered)
            ogc = time.perf_counter()
            took = []
            for k in range(PAGES):
                start = time.perf_counter()
                page = c.get(
                    f"/ogc/collections/{COLLECTION}/items", params={"limit": 50, "offset": 50 * k}
                )
                page.raise_for_status()
                took.append(time.perf_counter() - start)
            shown = page.json().get("numberMatched")
            dash = []
            for _ in range(PAGES):
                start = time.perf_counter()
                c.get(DASHBOARD).raise_for_status()
                dash.append(time.perf_counter() - start)
        time.sleep(2)
        print(
            f"  served to an observer: first dashboard {first:.1f} s, both workers "
            f"{ogc - t0:.1f} s; first OGC page {took[0]:.2f} s, then median "
            f"{statistics.median(took[2:]) * 1000:.0f} ms ({shown:,} incidents matched); "
            f"dashboard median {statistics.median(dash) * 1000:.0f} ms"
        )
        workers = rss_mb(proc.pid)
        print(f"  RSS MB: {workers}")
        after_ingest(base, headers, admin, n, proc.pid)
        after_publication(base, headers, db, proc.pid)
        time.sleep(3)  # as above: idle, what the refreshes freed handed back
        print(f"  RSS MB: {rss_mb(proc.pid)}")
    finally:
        stop_server(proc)
    after_restart(db, {"Authorization": f"Bearer {admin}"}, headers)


def after_restart(db: BenchDb, admin: dict[str, str], observer: dict[str, str]) -> None:
    """A server started again over the same store: seconds until the admin's and the
    observer's first dashboards answer (current or not), asked at the same time."""
    proc, base = start_server(db.url, 2)
    try:
        took: dict[str, float] = {}
        t0 = time.perf_counter()

        def ask(who: str, h: dict[str, str]) -> None:
            httpx.get(f"{base}{DASHBOARD}", headers=h, timeout=900).raise_for_status()
            took[who] = time.perf_counter() - t0

        askers = [
            threading.Thread(target=ask, args=(who, h))
            for who, h in (("admin", admin), ("observer", observer))
        ]
        for t in askers:
            t.start()
        for t in askers:
            t.join()
        print(
            f"  after a restart: first dashboard {took['admin']:.1f} s (admin), "
            f"{took['observer']:.1f} s (observer)",
            flush=True,
        )
    finally:
        stop_server(proc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="reports in the store")
    ap.add_argument("--published", type=float, default=1.0, help="share of reports published")
    ap.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--keep", action="store_true", help="keep and reuse the seeded store")
    ap.add_argument("--skip-server", action="store_true", help="only the in-process part")
    ap.add_argument("--only-server", action="store_true", help="only the served part")
    ap.add_argument("--one", choices=WAYS, help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.url, args.one)))
        return
    if not 0 <= args.published <= 1:
        ap.error("--published: a share between 0 and 1")
    print(f"bench/class_view.py: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    db = BenchDb(args.backend, args.n, args.keep)
    try:
        print(f"{args.backend}: {args.n:,} reports; seeded in {seed(db, args.n):.1f} s")
        print(f"  published: {publish(db, args.published):,}")
        db.vacuum()
        if not args.only_server:
            in_process(db.url)
        if not args.skip_server:
            served(db, args.n)
        clean(db)  # the reports it added
        publish(db, 0)  # as it was seeded, for the other benches sharing a kept store
        db.vacuum()
    finally:
        db.close()


if __name__ == "__main__":
    main()
