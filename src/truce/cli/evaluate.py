"""`truce evaluate`: the offline pipeline (SPEC §3)."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections import Counter
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from truce.cli.exits import exit_now, fail
from truce.cli.text import plural
from truce.domain.consolidate import load_compiled
from truce.domain.evaluate import evaluate
from truce.domain.model import Evaluation
from truce.domain.timeparse import iso, parse_local_datetime
from truce.errors import TruceError
from truce.formats.evaluation_json import write_evaluation_json
from truce.formats.reports import read_reports
from truce.library.catalog import resolve_agreement
from truce.library.gazetteer import Gazetteer, place_resolver


class OutputFormat(StrEnum):
    json = "json"
    table = "table"


class InputFormat(StrEnum):
    """--input-format (SPEC §4); "auto" recognises each by the file's header."""

    auto = "auto"
    truce = "truce"
    ucdp_ged = "ucdp-ged"
    acled = "acled"
    hxl = "hxl"


def run_evaluate(
    agreement_ref: str,
    reports: Path | bytes,
    as_of_text: str | None,
    source: str | None,
    input_format: str = "auto",
    notices: list[str] | None = None,
) -> Evaluation:
    """The evaluation; what the reader says about the file as a whole goes to `notices`."""
    agreement = resolve_agreement(agreement_ref)
    as_of = (
        parse_local_datetime(as_of_text, agreement.timezone) if as_of_text else datetime.now(UTC)
    )
    gazetteer = Gazetteer.load().with_agreement(agreement)
    # The compiled consolidation pass loads while Arrow parses the file (both mostly
    # without the GIL): ~0.3 s off the command at 1M reports.
    threading.Thread(target=load_compiled, name="truce-load-compiled", daemon=True).start()
    read = read_reports(
        reports,
        format=input_format,
        source=source,
        resolve_place=place_resolver(gazetteer),
    )
    if notices is not None:
        notices.extend(read.notices)
    return evaluate(agreement, read.reports, as_of=as_of, rejected=read.rejected)


def print_table(ev: Evaluation, console: Console) -> None:
    a = ev.agreement
    console.print(f"[bold]{a.title}[/] ({a.id})   as of {iso(ev.as_of.astimezone(a.timezone))}")
    console.print(
        f"{plural(len(ev.reports), 'report')} accepted, {len(ev.rejected):,} rejected -> "
        f"{plural(len(ev.incidents), 'incident')}, {plural(len(ev.violations), 'violation')}"
    )
    phases = Table("phase", "start", "end", "status", title="Timeline")
    for p in ev.phases:
        phases.add_row(p.id, iso(p.start) or "-", iso(p.end) or "open", p.status)
    console.print(phases)
    for c in ev.conditions:
        state = f"met {iso(c.met_at)}" if c.met_at else f"not met: {c.blocking}"
        console.print(f"condition [bold]{c.id}[/]: {state}")
    by = Counter((v.party, v.rule) for v in ev.violations)
    if by:
        summary = Table("party", "rule", "violations", title="Violations by party and rule")
        # People read rule names; the ids stay in the detailed table below.
        names = {r.id: r.name or r.kind.replace("_", " ") for r in a.rules}
        for (party, rule), n in sorted(by.items()):
            summary.add_row(party, names.get(rule, rule), str(n))
        console.print(summary)
        detail = Table("id", "at", "rule", "party", "status", "evidence", title="Violations")
        for v in ev.violations:
            detail.add_row(v.id, iso(v.at) or "", v.rule, v.party, v.status, v.evidence)
        console.print(detail)
    if ev.rejected:
        rej = Table("line", "report_id", "reason", title="Rejected rows")
        for r in ev.rejected:
            rej.add_row(str(r.line), r.report_id or "", r.reason)
        console.print(rej)


def register(app: typer.Typer) -> None:
    @app.command("evaluate")
    def evaluate_command(
        ctx: typer.Context,
        agreement: Annotated[
            str, typer.Option("--agreement", "-a", help="Agreement file or built-in id.")
        ],
        file: Annotated[
            Path | None,
            typer.Argument(
                show_default=False,
                help="The reports file, as `truce ingest` takes it (or give it with -r).",
            ),
        ] = None,
        reports: Annotated[
            Path | None,
            typer.Option(
                "--reports",
                "-r",
                show_default=False,
                help="Reports: SPEC §2 CSV or JSON Lines, or UCDP GED, ACLED or HXL CSV "
                "(.gz and a .zip holding one such file read as they are; - reads standard "
                "input).",
            ),
        ] = None,
        as_of: Annotated[
            str | None,
            typer.Option(
                "--as-of", help="Evaluate as of this time (default: now); nothing later is used."
            ),
        ] = None,
        output: Annotated[
            OutputFormat | None,
            typer.Option(
                "--format",
                show_default=False,
                help="json (SPEC §3) or table [default: table; json with --output].",
            ),
        ] = None,
        to: Annotated[
            Path | None,
            typer.Option(
                "--output",
                "-o",
                show_default=False,
                help="Write to this file, not standard output (JSON unless --format table).",
            ),
        ] = None,
        source: Annotated[
            str | None, typer.Option(help="Source name for rows that state none.")
        ] = None,
        input_format: Annotated[
            InputFormat,
            typer.Option(help="The reports' format; auto recognises each by its header."),
        ] = InputFormat.auto,
    ) -> None:
        """Consolidate reports into incidents and check them against an agreement."""
        path = reports if reports is not None else file
        if file is not None and file != path:
            raise fail(f"two reports files given ({file} and --reports {reports}): give one")
        piped = path is None and not sys.stdin.isatty()  # `truce evaluate -a ID < FILE`
        if path is None and not piped:
            raise fail("no reports given: name the file (or -r FILE; -r - reads standard input)")
        given: Path | bytes
        if piped or str(path) == "-":
            given = sys.stdin.buffer.read()
            if piped and not given:
                raise fail(
                    "no reports given: name the file (or -r FILE; -r - reads standard input)"
                )
        else:
            assert path is not None  # not piped: a file was named
            if not path.exists():
                raise fail(f"no such reports file: {path}")
            given = path
        try:
            notices: list[str] = []
            ev = run_evaluate(agreement, given, as_of, source, input_format.value, notices)
        except (TruceError, ValueError) as exc:
            raise fail(str(exc)) from None
        for notice in notices:  # on stderr: the JSON on stdout stays one document
            Console(stderr=True, soft_wrap=True).print(f"note: {notice}", highlight=False)
        if output is None:
            output = OutputFormat.table if to is None else OutputFormat.json
        try:
            with contextlib.ExitStack() as stack:
                out = (
                    sys.stdout
                    if to is None
                    else stack.enter_context(to.open("w", encoding="utf-8"))
                )
                if output is OutputFormat.json:
                    write_evaluation_json(ev, out, indent=1, ensure_ascii=False)
                    out.write("\n")
                else:
                    print_table(ev, Console(width=160, file=out))
        except OSError as exc:
            raise fail(f"cannot write {to}: {exc.strerror or exc}") from None
        exit_now(ctx)
