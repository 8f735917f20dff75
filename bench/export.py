"""Benchmark the streaming exports against building the whole document first.

    .venv/bin/python bench/export.py --n 1000000 [--reports 1000000] [--seed 1]
        [--formats geojson,ndjson,csv,hxl,gpkg,parquet] [--block-rows 10000]
        [--input packed|dicts] [--skip-alternative] [--workdir DIR]

1. Input (once per --reports and --seed, cached in --workdir): bench/scenario.py's
   synthetic agreement and report rows, evaluated (`evaluate`, then
   `evaluation_to_dict` with the server's keys) into the incident dicts the
   server's view holds; pickled. Each run repeats them with distinct keys
   (`KEY#2`, `KEY#3`, ...) until there are --n incidents, held as the server holds
   its evaluation: packed rows (`truce.store.packed`, `--input packed`, the default)
   or dicts (`--input dicts`: an evaluation as the process that computed it in a
   thread holds it; a visibility class's and an `as_of`'s are packed too, with review
   keys, since they are computed in a worker's second computing process).
2. truce, per format, in a fresh subprocess: `truce.service.exports.source_table` and
   `save` (what the server's export and `truce export --output` do once they have the
   evaluation and the review states: rows made and filtered a block at a time ->
   writer -> file), for a user who sees everything.
   Wall time, features/s, and the peak memory growth over the process's
   resident set before the export (VmHWM reset through /proc/self/clear_refs,
   so the input itself is not counted). Also at --n / 10, so a reader sees the
   growth does not follow n.
3. The obvious alternative, per format, also in a fresh subprocess over the
   same incidents: the whole document built in memory, then written —
   `json.dumps` of the full FeatureCollection (GeoJSON; a joined string of
   `json.dumps` per Feature for NDJSON), a pandas DataFrame `to_csv` (CSV; HXL
   with the tag row on top), a geopandas GeoDataFrame `to_file(driver="GPKG")`
   and `to_parquet`.
4. Prints both with ratios (alternative / truce) and the target
   (>= 100,000 features/s per format) as PASS/MISS.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGET_FEATURES_PER_S = 100_000
FORMATS = ("geojson", "ndjson", "csv", "hxl", "gpkg", "parquet")
MB = 1024 * 1024


# --- memory ----------------------------------------------------------------------------


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak() -> int:
    """Hand free heap memory back to the system (so reusing it counts as growth), reset
    the resident-set high-water mark to now (Linux >= 4.0); the RSS now."""
    import ctypes
    from contextlib import suppress

    with suppress(OSError):  # not glibc: nothing to hand back
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    Path("/proc/self/clear_refs").write_text("5")
    return _status("VmRSS")


def peak() -> int:
    return _status("VmHWM")


# --- input -----------------------------------------------------------------------------


def base_view_path(args: argparse.Namespace) -> Path:
    return Path(args.workdir) / f"export-view-r{args.reports}-seed{args.seed}.pickle"


def worker_prepare(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))
    from bench.scenario import cached

    from truce.domain.evaluate import evaluate
    from truce.domain.keys import violation_key
    from truce.formats.agreement import parse_agreement
    from truce.formats.evaluation_json import evaluation_to_dict
    from truce.formats.reports import read_reports

    agreement_path, reports_path, meta = cached(args.reports, args.seed, Path(args.workdir))
    agreement = parse_agreement(agreement_path.read_text(encoding="utf-8"), str(agreement_path))
    from datetime import datetime

    ev = evaluate(
        agreement, read_reports(reports_path).reports, as_of=datetime.fromisoformat(meta["as_of"])
    )
    data = evaluation_to_dict(ev)
    key_of = {inc["id"]: inc["key"] for inc in data["incidents"]}
    for v in data["violations"]:  # as the server's evaluation adds them
        v["incident_key"] = key_of[v["incident"]]
        v["key"] = violation_key(agreement.id, v["rule"], v["incident_key"])
        v["review"], v["published"] = "alleged", False
    for inc in data["incidents"]:
        inc["published"] = False
    path = base_view_path(args)
    with path.open("wb") as f:
        pickle.dump(data["incidents"], f, protocol=pickle.HIGHEST_PROTOCOL)
    print(json.dumps({"incidents": len(data["incidents"]), "violations": len(data["violations"])}))


def incidents(args: argparse.Namespace, n: int) -> list[dict[str, Any]]:
    """The cached incidents repeated to `n`, as the stored evaluation holds them (without
    the `published` a view adds)."""
    with base_view_path(args).open("rb") as f:
        base: list[dict[str, Any]] = pickle.load(f)
    for inc in base:
        inc.pop("published", None)
    out = base[:n]
    copy = 2
    while len(out) < n:
        out.extend({**inc, "key": f"{inc['key']}#{copy}"} for inc in base[: n - len(out)])
        copy += 1
    return out


def evaluation_data(rows: list[dict[str, Any]], held: str) -> dict[str, Any]:
    """The evaluation a server holds: its incidents packed (`--input packed`, as a server
    process holds an evaluation) or as dicts (`dicts`: as one computed in a thread is
    held), and a violation for each of their ids."""
    violations = [
        {"id": vid, "key": f"{inc['key']}:{vid}", "incident_key": inc["key"]}
        for inc in rows
        for vid in inc["violations"]
    ]
    if held == "dicts":
        return {"incidents": rows, "violations": violations}
    from truce.store.packed import PackedIncidents, incident_doc

    def plain(value: Any) -> Any:  # numpy values, as the store writes them
        return value.tolist()

    at = {k: inc["violations"] for k, inc in enumerate(rows) if inc["violations"]}
    docs = ((inc["key"], incident_doc(inc, plain).decode()) for inc in rows)
    return {"incidents": PackedIncidents.pack(docs, at), "violations": violations}


# --- the two ways to write ---------------------------------------------------------------


def write_streaming(data: dict[str, Any], fmt: str, out: Path, block_rows: int) -> None:
    """What the server's export does once it has read the evaluation and the review
    states (`truce.service.exports.export_table`), for a user who sees everything."""
    from truce.formats.exports import export_format
    from truce.service.exports import save, source_table
    from truce.service.views import Source
    from truce.service.visibility import Visibility
    from truce.store.key_column import KeySet
    from truce.store.users import SYSTEM_USER

    src = Source(data, Visibility(SYSTEM_USER, {}, KeySet.of(()), frozenset()), 0, stale=False)
    save(export_format(fmt), source_table(src, "incidents", block_rows), out)


def write_whole(rows: list[dict[str, Any]], fmt: str, out: Path) -> None:
    """The obvious way: the whole document in memory, then written."""
    from truce.formats.exports.columns import INCIDENT_COLUMNS, incident_block

    names = [c.name for c in INCIDENT_COLUMNS]
    columns = incident_block(rows)  # the whole table at once
    if fmt in ("geojson", "ndjson"):
        features = [
            {
                "type": "Feature",
                "id": r[0],
                "geometry": {"type": "Point", "coordinates": [r[3], r[4]]},
                "properties": dict(zip(names, r, strict=True)),
            }
            for r in zip(*columns, strict=True)
        ]
        if fmt == "geojson":
            text = json.dumps({"type": "FeatureCollection", "features": features})
        else:
            text = "\n".join(json.dumps(f) for f in features) + "\n"
        out.write_text(text, encoding="utf-8")
        return
    import pandas as pd

    df = pd.DataFrame(dict(zip(names, columns, strict=True)))
    for c in INCIDENT_COLUMNS:
        if c.kind == "list":
            df[c.name] = df[c.name].str.join(";")
    if fmt in ("csv", "hxl"):
        if fmt == "hxl":
            tags = pd.DataFrame([[c.hxl for c in INCIDENT_COLUMNS]], columns=names)
            df = pd.concat([tags, df], ignore_index=True)
        df.to_csv(out, index=False)
        return
    import geopandas as gpd

    for c in INCIDENT_COLUMNS:
        if c.kind == "time":
            df[c.name] = pd.to_datetime(df[c.name], utc=True)
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.lon, df.lat), crs="EPSG:4326")
    if fmt == "gpkg":
        gdf.to_file(out, driver="GPKG", layer="incidents", engine="pyogrio")
    else:
        gdf.to_parquet(out)


def worker_run(args: argparse.Namespace) -> None:
    import gc

    # Everything either side imports, imported before the baseline.
    import geopandas  # noqa: F401
    import orjson  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow.parquet  # noqa: F401
    import pyogrio  # noqa: F401

    import truce.service.exports  # noqa: F401

    rows = incidents(args, args.n)
    data = None
    if args.way == "stream":
        data = evaluation_data(rows, args.input)
        if args.input == "packed":
            del rows  # as a server holds them: packed only
    gc.collect()
    out = Path(args.workdir) / f"export-bench-{os.getpid()}.{args.format}"
    base = reset_peak()
    start, cpu = time.perf_counter(), os.times()
    if data is not None:
        write_streaming(data, args.format, out, args.block_rows)
    else:
        write_whole(rows, args.format, out)
    seconds = time.perf_counter() - start
    after = os.times()
    cpu_s = (after.user - cpu.user) + (after.system - cpu.system)
    growth = peak() - base
    size = out.stat().st_size
    out.unlink()
    result = {"s": seconds, "cpu_s": cpu_s, "growth": growth, "bytes": size, "n": args.n}
    print("RESULT " + json.dumps(result))


# --- the driver ----------------------------------------------------------------------------


def child(args: argparse.Namespace, *extra: str) -> dict[str, Any]:
    cmd = [
        sys.executable,
        __file__,
        "--workdir",
        args.workdir,
        "--reports",
        str(args.reports),
        "--seed",
        str(args.seed),
        "--block-rows",
        str(args.block_rows),
        "--input",
        args.input,
        *extra,
    ]
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(extra)} failed:\n{done.stderr[-3000:]}")
    line = next(x for x in done.stdout.splitlines() if x.startswith(("RESULT ", "{")))
    return json.loads(line.removeprefix("RESULT "))  # type: ignore[no-any-return]


def run(args: argparse.Namespace, fmt: str, way: str, n: int) -> dict[str, Any]:
    return child(args, "--worker", "run", "--format", fmt, "--way", way, "--n", str(n))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=1_000_000, help="incidents to export")
    p.add_argument("--reports", type=int, default=1_000_000, help="reports evaluated for them")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--formats", default=",".join(FORMATS))
    p.add_argument("--block-rows", type=int, default=10_000)
    p.add_argument(
        "--input",
        choices=["packed", "dicts"],
        default="packed",
        help="the incidents as a server holds its evaluation (packed rows) or as dicts",
    )
    p.add_argument("--skip-alternative", action="store_true")
    p.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "truce-bench"))
    p.add_argument("--worker", choices=["prepare", "run"], help=argparse.SUPPRESS)
    p.add_argument("--format", help=argparse.SUPPRESS)
    p.add_argument("--way", choices=["stream", "whole"], help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    if args.worker == "prepare":
        worker_prepare(args)
        return 0
    if args.worker == "run":
        worker_run(args)
        return 0

    formats = [f for f in args.formats.split(",") if f]
    print(
        f"truce export bench: n={args.n:,} incidents (from {args.reports:,} reports, seed "
        f"{args.seed}), held {args.input}, block {args.block_rows:,} rows, "
        f"cpus={os.cpu_count()}"
    )
    if not base_view_path(args).exists():
        start = time.perf_counter()
        made = child(args, "--worker", "prepare")
        print(
            f"input: evaluated {args.reports:,} reports -> {made['incidents']:,} incidents "
            f"in {time.perf_counter() - start:.1f} s (cached)"
        )
    small = max(args.n // 10, 1)
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    header = (
        f"{'format':8} {'truce s':>8} {'feat/s':>10} {'target':>6} {'cpu s':>6} "
        f"{'feat/cpu-s':>10} {'grow MB':>8} {'@n/10 MB':>9} {'alt s':>8} {'alt MB':>8} "
        f"{'x mem':>7} {'x speed':>8} {'MB out':>8}"
    )
    print(header)
    print("-" * len(header))
    misses = 0
    for fmt in formats:
        s = run(args, fmt, "stream", args.n)
        s_small = run(args, fmt, "stream", small)
        rate = s["n"] / s["s"]
        ok = rate >= TARGET_FEATURES_PER_S
        misses += not ok
        alt = None if args.skip_alternative else run(args, fmt, "whole", args.n)
        alt_cols = (
            f"{alt['s']:8.2f} {alt['growth'] / MB:8.0f} "
            f"{alt['growth'] / max(s['growth'], 1):6.1f}x {alt['s'] / s['s']:7.2f}x"
            if alt
            else f"{'-':>8} {'-':>8} {'-':>7} {'-':>8}"
        )
        print(
            f"{fmt:8} {s['s']:8.2f} {rate:10,.0f} {'PASS' if ok else 'MISS':>6} "
            f"{s['cpu_s']:6.2f} {s['n'] / s['cpu_s']:10,.0f} "
            f"{s['growth'] / MB:8.1f} {s_small['growth'] / MB:9.1f} {alt_cols} "
            f"{s['bytes'] / MB:8.1f}",
            flush=True,
        )
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(
        "feat/s: wall clock; feat/cpu-s: per second of the process's own CPU time (what a "
        "machine not shared with other work gives); grow MB: peak resident memory growth "
        "while exporting (input excluded); @n/10: the same at a tenth of n; "
        "x mem, x speed: alternative / truce"
    )
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
