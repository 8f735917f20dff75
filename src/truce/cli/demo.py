"""`truce demo-data`: write a synthetic, reproducible report set for an agreement."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from truce.cli.exits import fail
from truce.errors import TruceError
from truce.library.catalog import resolve_agreement

_NUMERIC = frozenset({"lat", "lon", "location_precision_m", "count", "fatalities", "credibility"})


def _json_row(row: dict[str, str]) -> str:
    out: dict[str, object] = {}
    for key, value in row.items():
        if value == "":
            continue
        try:
            out[key] = (
                float(value)
                if key in _NUMERIC and "." in value
                else int(value)
                if key in _NUMERIC
                else value
            )
        except ValueError:
            out[key] = value  # a deliberately bad value stays as written
    return json.dumps(out, ensure_ascii=False) + "\n"


def render_rows(rows: list[dict[str, str]], path: Path) -> str:
    """The rows as SPEC §2 CSV, or JSON Lines when `path` ends in .jsonl/.ndjson."""
    if path.suffix.lower() in {".jsonl", ".ndjson"}:
        return "".join(_json_row(r) for r in rows)
    from truce.demodata import COLUMNS  # loaded only by the demo commands

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def register(app: typer.Typer) -> None:
    @app.command("demo-data")
    def demo_data(
        agreement: Annotated[
            str, typer.Option("--agreement", help="Agreement file or built-in id.")
        ],
        out: Annotated[
            Path, typer.Option("--out", help="File to write: .csv, or .jsonl for JSON Lines.")
        ],
        seed: Annotated[int, typer.Option("--seed", help="Same seed, same file.")] = 0,
        n_events: Annotated[
            int | None, typer.Option("--n-events", min=1, help="Ground-truth events to aim for.")
        ] = None,
    ) -> None:
        """Write a synthetic report set for AGREEMENT: six sources with their own noise and
        bias, duplicates across sources, place-only rows and a few deliberately bad rows."""
        from truce.demodata import generate

        console = Console(stderr=True)
        try:
            chosen = resolve_agreement(agreement)
            rows = generate(chosen, seed=seed, n_events=n_events)
        except (TruceError, ValueError) as exc:
            raise fail(exc) from exc
        out.write_bytes(render_rows(rows, out).encode("utf-8"))
        sources = Counter(r["source"] for r in rows)
        console.print(
            f"wrote {len(rows)} reports for {chosen.id} to {out} "
            f"({', '.join(f'{s} {n}' for s, n in sorted(sources.items()))}; "
            f"{sum(1 for r in rows if r['report_id'].startswith('bad-'))} bad on purpose)",
            highlight=False,
        )
