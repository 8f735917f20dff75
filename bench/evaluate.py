"""Benchmark `truce evaluate` against the obvious geopandas + scikit-learn alternative.

    .venv/bin/python bench/evaluate.py --n 1000000 [--seed 1] [--skip-alternative] [--repeat 3]
        [--workdir DIR] [--alt-timeout 600] [--alt-sample 0.1] [--profile]

1. Generates (once per n and seed, cached in --workdir) a synthetic Aleppo-like
   agreement and n SPEC §2 report rows (bench/scenario.py).
2. Runs truce in a fresh subprocess: read_reports, then evaluate(); prints the
   wall time of each stage (read, then evaluate's own project, consolidate,
   phases, rules timings), the total, reports/s and the peak resident memory
   (the child's VmHWM, cross-checked by sampling its RSS from here).
3. Runs the alternative in another subprocess, doing the same work the way most
   people would write it: pandas.read_csv, geopandas points_from_xy + to_crs,
   scikit-learn DBSCAN (eps = 2 km on (x, y, t) with 6 h scaled to 2 km,
   min_samples=1, per compatibility key) for duplicates, and geopandas sjoin of
   the incidents against the zones buffered with GeoSeries.buffer for zone
   membership. It has a time budget; past it the ratio is a lower bound. With
   --alt-sample F it runs on a random fraction F of the rows after reading them
   all, and its later stages are extrapolated by 1/F (labelled; since density
   falls with sampling, that underestimates the alternative, so the ratio stays
   conservative).
4. Prints both side by side with ratios (alternative / truce), the targets
   (1M reports <= 10 s, >= 3x faster than the alternative, peak <= 2 GB) as
   PASS/MISS, and sanity figures (incidents, violations by kind, DBSCAN's
   incident count against truce's) so a reader sees both did real work.

The alternative stops at zone membership: it has no phases or rules, so the
totals compare truce's whole pipeline with a subset of it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGET_TOTAL_S = 10.0
TARGET_RATIO = 3.0
TARGET_PEAK_BYTES = 2 * 1024**3
TARGET_N = 1_000_000
RADIUS_M = 2000.0
WINDOW_S = 6 * 3600.0


# --- measurement helpers (used in the workers) ------------------------------------------


def peak_rss_bytes() -> int:
    """This process's resident-set high-water mark (VmHWM; ru_maxrss where there is no /proc)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def emit(kind: str, payload: dict[str, Any]) -> None:
    print(f"{kind} {json.dumps(payload)}", flush=True)


# --- workers ------------------------------------------------------------------------------


def worker_generate(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))
    from bench.scenario import cached

    start = time.perf_counter()
    agreement, reports, meta = cached(args.n, args.seed, Path(args.workdir))
    emit(
        "RESULT",
        {
            "agreement": str(agreement),
            "reports": str(reports),
            "meta": meta,
            "seconds": time.perf_counter() - start,
            "bytes": reports.stat().st_size,
        },
    )


def worker_truce(args: argparse.Namespace) -> None:
    from datetime import datetime

    import numpy as np

    from truce.formats.agreement import parse_agreement

    as_of = datetime.fromisoformat(args.as_of)
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()

    wall = time.perf_counter()
    from truce.domain.evaluate import evaluate
    from truce.formats.reports import read_reports

    imported = time.perf_counter()
    agreement = parse_agreement(Path(args.agreement).read_text(encoding="utf-8"), args.agreement)
    read = read_reports(Path(args.reports))
    t_read = time.perf_counter() - imported
    emit("STAGE", {"stage": "read", "s": t_read, "peak": peak_rss_bytes()})
    ev = evaluate(agreement, read.reports, as_of=as_of, rejected=read.rejected)
    done = time.perf_counter()
    t_json = None
    if args.json_output:
        from truce.formats.evaluation_json import evaluation_json

        text = evaluation_json(ev)  # what `truce evaluate --format json` writes
        t_json = time.perf_counter() - done
        json_bytes = len(text)
        del text
    if profiler is not None:
        import pstats

        profiler.disable()
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(40)
        if args.profile_out:
            stats.dump_stats(args.profile_out)

    timings = dict(ev.extra["timings"])
    kinds: dict[str, int] = {}
    for v in ev.violations:
        kinds[v.kind] = kinds.get(v.kind, 0) + 1
    inc = ev.incidents
    emit(
        "RESULT",
        {
            "stages": {"read": t_read, **timings},
            "total": done - imported,
            "import_s": imported - wall,
            "json_s": t_json,
            "json_bytes": json_bytes if t_json is not None else None,
            "peak": peak_rss_bytes(),
            "accepted": len(read.reports),
            "rejected": len(read.rejected),
            "duplicates": read.duplicates,
            "evaluated": len(ev.reports),
            "incidents": len(inc),
            "corroborated": int(np.sum(inc.corroboration >= 2)),
            "largest_incident": int(np.max(np.diff(inc.offsets))) if len(inc) else 0,
            "violations": len(ev.violations),
            "by_kind": dict(sorted(kinds.items())),
            "phases": {p.id: p.status for p in ev.phases},
            "conditions": {c.id: c.met_at.isoformat() if c.met_at else None for c in ev.conditions},
        },
    )


def worker_alternative(args: argparse.Namespace) -> None:
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import yaml
    from shapely.geometry import LineString, Point, Polygon
    from sklearn.cluster import DBSCAN

    def stage(name: str, seconds: float, **extra: Any) -> None:
        emit("STAGE", {"stage": name, "s": seconds, "peak": peak_rss_bytes(), **extra})

    doc = yaml.safe_load(Path(args.agreement).read_text(encoding="utf-8"))
    crs = doc.get("crs", "EPSG:32637")
    as_of = pd.Timestamp(args.as_of).tz_convert("UTC")
    from truce.domain.model import EVENT_TYPES

    event_types = list(EVENT_TYPES)

    # read: parse, validate the essentials, drop re-sent keys, apply as_of
    t = time.perf_counter()
    df = pd.read_csv(args.reports, dtype=str, keep_default_na=False, na_values=[], encoding="utf-8")
    df["lat"] = pd.to_numeric(df["lat"], errors="coerce")
    df["lon"] = pd.to_numeric(df["lon"], errors="coerce")
    df["observed_at"] = pd.to_datetime(
        df["observed_at"], utc=True, format="ISO8601", errors="coerce"
    )
    ok = (
        df["lat"].between(-90, 90)
        & df["lon"].between(-180, 180)
        & df["observed_at"].notna()
        & df["event_type"].isin(event_types)
    )
    df = df[ok].drop_duplicates(["source", "report_id"])
    df = df[df["observed_at"] <= as_of].reset_index(drop=True)
    stage("read", time.perf_counter() - t, rows=len(df))

    scale = 1.0
    if args.alt_sample and args.alt_sample < 1.0:
        df = df.sample(frac=args.alt_sample, random_state=0).reset_index(drop=True)
        scale = 1.0 / args.alt_sample

    # project
    t = time.perf_counter()
    points = gpd.GeoDataFrame(
        df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326"
    ).to_crs(crs)
    x = points.geometry.x.to_numpy()
    y = points.geometry.y.to_numpy()
    stage("project", (time.perf_counter() - t) * scale)

    # consolidate: DBSCAN per compatibility key on (x, y, t scaled so 6 h = 2 km)
    t = time.perf_counter()
    t_s = (df["observed_at"] - df["observed_at"].min()).dt.total_seconds().to_numpy()
    key = df["event_type"].astype(object)
    key = key.where(key != "weapon_sighting", key + "/" + df["weapon"])
    key = key.where(key != "checkpoint_observation", key + "/" + df["side"])
    codes, uniques = pd.factorize(key)
    labels = np.empty(len(df), dtype=np.int64)
    coords = np.column_stack((x, y, t_s * (RADIUS_M / WINDOW_S)))
    next_label = 0
    for k in range(len(uniques)):
        rows = np.flatnonzero(codes == k)
        found = DBSCAN(eps=RADIUS_M, min_samples=1).fit_predict(coords[rows])
        labels[rows] = found + next_label
        next_label += int(found.max()) + 1
    grouped = pd.DataFrame({"label": labels, "x": x, "y": y, "source": df["source"]}).groupby(
        "label"
    )
    incidents = grouped[["x", "y"]].mean()
    corroboration = grouped["source"].nunique()
    stage(
        "consolidate",
        (time.perf_counter() - t) * scale,
        incidents=len(incidents),
        corroborated=int((corroboration >= 2).sum()),
    )

    # zones: features to the metric CRS, buffer, sjoin the incidents
    t = time.perf_counter()
    geoms = {}
    for fid, f in doc["features"].items():
        if "line" in f:
            geoms[fid] = LineString(f["line"])
        elif "polygon" in f:
            geoms[fid] = Polygon(f["polygon"])
        else:
            geoms[fid] = Point(f["point"])
    feats = gpd.GeoSeries(geoms, crs="EPSG:4326").to_crs(crs)
    zone_ids = [z["id"] for z in doc["zones"]]
    zone_feature = [z.get("around") or z.get("feature") for z in doc["zones"]]
    zone_distance = np.array([z.get("distance_m") or 0.0 for z in doc["zones"]])
    base = gpd.GeoSeries(feats.loc[zone_feature].to_numpy(), crs=crs)
    zones = gpd.GeoDataFrame(
        {"zone": zone_ids},
        geometry=base.buffer(zone_distance, resolution=16).where(zone_distance > 0, base),
        crs=crs,
    )
    inc_points = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(incidents["x"], incidents["y"]), crs=crs
    )
    joined = gpd.sjoin(inc_points, zones, predicate="intersects", how="inner")
    stage(
        "zones",
        (time.perf_counter() - t) * scale,
        memberships=len(joined),
        incidents_in_zones=int(joined.index.nunique()),
    )
    emit("RESULT", {"scale": scale, "peak": peak_rss_bytes()})


# --- the driver ---------------------------------------------------------------------------


class Child:
    """A worker subprocess: its STAGE/RESULT lines, and its RSS sampled from outside."""

    def __init__(self, argv: list[str], timeout_s: float | None, echo_stderr: bool) -> None:
        import psutil

        env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
        self.start = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), *argv],
            stdout=subprocess.PIPE,
            stderr=None if echo_stderr else subprocess.PIPE,
            text=True,
            env=env,
        )
        self.stages: dict[str, dict[str, Any]] = {}
        self.result: dict[str, Any] | None = None
        self.sampled_peak = 0
        self.timed_out = False
        self._ps = psutil.Process(self.proc.pid)
        self._done = threading.Event()
        sampler = threading.Thread(target=self._sample, daemon=True)
        sampler.start()
        reader = threading.Thread(target=self._read, daemon=True)
        reader.start()
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.timed_out = True
            self.proc.kill()
            self.proc.wait()
        self.elapsed = time.perf_counter() - self.start
        self._done.set()
        reader.join(timeout=5)
        self.stderr = self.proc.stderr.read() if self.proc.stderr else ""

    def _sample(self) -> None:
        while not self._done.is_set():
            try:
                self.sampled_peak = max(self.sampled_peak, self._ps.memory_info().rss)
            except Exception:
                return
            time.sleep(0.02)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            kind, _, payload = line.partition(" ")
            if kind == "STAGE":
                data = json.loads(payload)
                self.stages[data["stage"]] = data
            elif kind == "RESULT":
                self.result = json.loads(payload)
            else:
                print(line, end="")

    @property
    def peak(self) -> int:
        reported = [s.get("peak", 0) for s in self.stages.values()]
        if self.result:
            reported.append(self.result.get("peak", 0))
        return max([self.sampled_peak, *reported])

    def failed(self) -> bool:
        return self.result is None and not self.timed_out


def fmt_s(value: float | None) -> str:
    return "—" if value is None else f"{value:8.2f} s"


def fmt_gb(value: float) -> str:
    return f"{value / 1024**3:.2f} GB"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=100_000, help="report rows to generate")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "truce-bench"))
    p.add_argument("--skip-alternative", action="store_true")
    p.add_argument("--alt-timeout", type=float, default=600.0, help="seconds")
    p.add_argument(
        "--alt-sample",
        type=float,
        default=None,
        help="run the alternative's later stages on this fraction of the rows and extrapolate",
    )
    p.add_argument(
        "--repeat", type=int, default=3, help="runs of each side; the fastest is reported"
    )
    p.add_argument("--json-output", action="store_true", help="also time the SPEC §3 JSON output")
    p.add_argument("--profile", action="store_true", help="cProfile the truce run (to stderr)")
    p.add_argument("--profile-out", default=None, help="also dump the cProfile stats here")
    p.add_argument("--worker", choices=["generate", "truce", "alternative"], help=argparse.SUPPRESS)
    p.add_argument("--agreement", help=argparse.SUPPRESS)
    p.add_argument("--reports", help=argparse.SUPPRESS)
    p.add_argument("--as-of", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker == "generate":
        worker_generate(args)
        return 0
    if args.worker == "truce":
        worker_truce(args)
        return 0
    if args.worker == "alternative":
        worker_alternative(args)
        return 0

    print(
        f"truce bench: n={args.n:,} seed={args.seed} cpus={os.cpu_count()} workdir={args.workdir}"
    )
    gen = Child(
        [
            "--worker",
            "generate",
            "--n",
            str(args.n),
            "--seed",
            str(args.seed),
            "--workdir",
            args.workdir,
        ],
        None,
        echo_stderr=True,
    )
    if gen.result is None:
        print("scenario generation failed", file=sys.stderr)
        return 1
    meta = gen.result["meta"]
    files = ["--agreement", gen.result["agreement"], "--reports", gen.result["reports"]]
    files += ["--as-of", meta["as_of"]]
    print(
        f"scenario: {meta['n']:,} rows ({gen.result['bytes'] / 1e6:.0f} MB CSV), "
        f"{meta['events']:,} ground-truth events, {meta['zones']} zones, "
        f"{meta['resent_rows']} re-sent, {meta['malformed_rows']} malformed; "
        f"ready in {gen.result['seconds']:.1f} s ({gen.result['reports']})"
    )

    truce_argv = ["--worker", "truce", *files]
    if args.json_output:
        truce_argv.append("--json-output")
    if args.profile:
        truce_argv.append("--profile")
    if args.profile_out:
        truce_argv += ["--profile-out", args.profile_out]
    # Best of --repeat runs for each side, as timeit does: the machine's other load only
    # ever adds time. Every run's total is printed too.
    truce_runs = [Child(truce_argv, None, echo_stderr=True) for _ in range(args.repeat)]
    if any(run.result is None for run in truce_runs):
        print("truce run failed", file=sys.stderr)
        return 1
    truce = min(truce_runs, key=lambda run: run.result["total"])  # type: ignore[index]
    tr = truce.result
    assert tr is not None
    tr["all_totals"] = [run.result["total"] for run in truce_runs]  # type: ignore[index]

    alt: Child | None = None
    alt_totals: list[float] = []
    if not args.skip_alternative:
        alt_argv = ["--worker", "alternative", *files]
        if args.alt_sample:
            alt_argv += ["--alt-sample", str(args.alt_sample)]
        for _ in range(args.repeat):
            run = Child(alt_argv, args.alt_timeout, echo_stderr=False)
            if run.failed():
                print("alternative failed:\n" + run.stderr[-3000:], file=sys.stderr)
            run_total = sum(stage.get("s", 0.0) for stage in run.stages.values())
            alt_totals.append(run_total)
            if alt is None or (run.result is not None and run_total < min(alt_totals[:-1])):
                alt = run
            if run.timed_out:
                break  # a budget-limited run is a lower bound already; do not repeat it
    args.alt_totals = alt_totals

    report(args, tr, truce, alt)
    return 0


def report(args: argparse.Namespace, tr: dict[str, Any], truce: Child, alt: Child | None) -> None:
    n = args.n
    st = tr["stages"]
    total = tr["total"]
    alt_stages = alt.stages if alt else {}
    alt_label = "alternative"
    if alt and args.alt_sample:
        alt_label = f"alt (x{1 / args.alt_sample:g} extrap.)"
    # Stage mapping: truce's "phases" stage includes zone membership, the alternative's sjoin.
    rows = [
        ("read", "read", "read_reports | read_csv+to_datetime"),
        ("project", "project", "pyproj | points_from_xy+to_crs"),
        ("consolidate", "consolidate", "grid pairs+anchors | DBSCAN"),
        ("phases", "zones", "zones+timeline | buffer+sjoin"),
        ("rules", None, "7 rule kinds | (none)"),
    ]
    print()
    print(f"{'stage':<12}{'truce':>11}{alt_label:>24}{'ratio':>9}   what")
    alt_sum = 0.0
    for name, alt_name, what in rows:
        a = alt_stages.get(alt_name, {}).get("s") if alt_name else None
        alt_sum += a or 0.0
        not_reached = alt is not None and alt.timed_out and alt_name and a is None
        a_text = "not reached" if not_reached else fmt_s(a)
        ratio = f"{a / st[name]:7.1f}x" if a is not None and st[name] > 0 else ""
        print(f"{name:<12}{fmt_s(st[name]):>11}{a_text:>24}{ratio:>9}   {what}")
    alt_total: float | None = None
    lower_bound = False
    if alt is not None:
        if alt.timed_out:
            alt_total, lower_bound = max(args.alt_timeout, alt_sum), True
        elif alt.result is not None:
            alt_total = alt_sum
    total_text = f"> {args.alt_timeout:.0f} s budget" if lower_bound else fmt_s(alt_total)
    ratio_value = alt_total / total if alt_total else None
    ratio_text = (
        ("≥" if lower_bound else "") + f"{ratio_value:.1f}x" if ratio_value is not None else ""
    )
    print(f"{'total':<12}{fmt_s(total):>11}{total_text:>24}{ratio_text:>9}")
    runs = ", ".join(f"{t:.2f} s" for t in tr["all_totals"])
    alt_runs = ", ".join(f"{t:.2f} s" for t in getattr(args, "alt_totals", []))
    print(
        f"{'':<12}best of {args.repeat}: truce runs {runs}"
        + (f"; alternative {alt_runs}" if alt_runs else "")
    )
    print(f"{'':<12}(truce's first run also compiles its numba kernels when their cache is cold)")
    if tr.get("json_s") is not None:
        print(
            f"{'json out':<12}{fmt_s(tr['json_s']):>11}{'':>24}{'':>9}   "
            f"SPEC §3 JSON, {tr['json_bytes'] / 1e6:.0f} MB (not in total)"
        )
    print(
        f"\ntruce: {n / total:,.0f} reports/s; peak memory {fmt_gb(truce.peak)} "
        f"(VmHWM {fmt_gb(tr['peak'])}, sampled {fmt_gb(truce.sampled_peak)}); "
        f"remaining imports {tr['import_s']:.2f} s (not in total)"
    )
    if alt is not None:
        state = "timed out" if alt.timed_out else ("failed" if alt.failed() else "finished")
        print(
            f"alternative: {state} after {alt.elapsed:.1f} s wall; peak memory {fmt_gb(alt.peak)}"
        )

    print("\nsanity")
    print(
        f"  truce: accepted {tr['accepted']:,}, rejected {tr['rejected']:,}, "
        f"re-sent duplicates {tr['duplicates']:,}, evaluated (<= as_of) {tr['evaluated']:,}"
    )
    print(
        f"  truce: {tr['incidents']:,} incidents ({tr['corroborated']:,} corroborated, "
        f"largest {tr['largest_incident']} reports); {tr['violations']:,} violations"
    )
    for kind, count in tr["by_kind"].items():
        print(f"    {kind:<22}{count:>10,}")
    print(f"  phases: {', '.join(f'{k}={v}' for k, v in tr['phases'].items())}")
    print(f"  conditions: {', '.join(f'{k} met {v}' for k, v in tr['conditions'].items())}")
    db = alt_stages.get("consolidate")
    if db:
        if args.alt_sample:
            print(
                f"  DBSCAN: {db['incidents']:,} clusters on a {args.alt_sample:g} sample "
                "(not comparable with truce's count)"
            )
        else:
            print(
                f"  DBSCAN: {db['incidents']:,} clusters ({db['corroborated']:,} multi-source); "
                f"truce/DBSCAN incident count {tr['incidents'] / db['incidents']:.3f} "
                "(single linkage chains nearby incidents; truce's anchor guard splits them)"
            )
    zones = alt_stages.get("zones")
    if zones:
        print(
            f"  sjoin: {zones['memberships']:,} incident-zone memberships, "
            f"{zones['incidents_in_zones']:,} incidents inside a zone"
        )

    print("\ntargets")
    scaled = n >= TARGET_N
    t_total = total * (TARGET_N / n if not scaled else 1.0)
    verdict = "PASS" if t_total <= TARGET_TOTAL_S else "MISS"
    note = "" if scaled else f" (extrapolated linearly from n={n:,}; run --n {TARGET_N} to decide)"
    print(f"  [{verdict}] 1M reports in <= {TARGET_TOTAL_S:.0f} s: {t_total:.2f} s{note}")
    if ratio_value is None:
        print(f"  [----] >= {TARGET_RATIO:.0f}x faster than the alternative: not measured")
    else:
        ok = ratio_value >= TARGET_RATIO
        bound = " (lower bound: alternative hit its budget)" if lower_bound else ""
        extrap = " (alternative extrapolated from a sample)" if args.alt_sample else ""
        print(
            f"  [{'PASS' if ok else 'MISS'}] >= {TARGET_RATIO:.0f}x faster than the alternative: "
            f"{ratio_value:.1f}x{bound}{extrap}"
        )
    peak_ok = truce.peak <= TARGET_PEAK_BYTES
    print(f"  [{'PASS' if peak_ok else 'MISS'}] peak memory <= 2 GB: {fmt_gb(truce.peak)}")


if __name__ == "__main__":
    raise SystemExit(main())
