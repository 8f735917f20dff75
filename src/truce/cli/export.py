"""`truce export`: a stored agreement's incidents or violations as GeoJSON, CSV, HXL,
GeoPackage or GeoParquet (docs/exports.md).

Like `truce ingest`, the command works on the local database with full access
(everything, published or not); the API's export honours each token's view.
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from truce.cli.db import DbOption, open_service
from truce.cli.exits import err, fail
from truce.errors import TruceError
from truce.formats.exports import export_format


class ExportFormatName(StrEnum):
    """The names of `truce.formats.exports.FORMATS` (a test keeps the two equal)."""

    geojson = "geojson"
    ndjson = "ndjson"
    csv = "csv"
    hxl = "hxl"
    gpkg = "gpkg"
    parquet = "parquet"


class What(StrEnum):
    incidents = "incidents"
    violations = "violations"


def export(
    agreement: Annotated[
        str,
        typer.Option(
            help="agreement id (the built-in library) or an agreement file", show_default=False
        ),
    ],
    what: Annotated[What, typer.Option(help="incidents or violations")] = What.incidents,
    format: Annotated[
        ExportFormatName, typer.Option("--format", help="output format")
    ] = ExportFormatName.geojson,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="file to write (replaced only once complete); text formats default to stdout",
            dir_okay=False,
        ),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option(help="evaluate as of this time (ISO 8601); default: now")
    ] = None,
    db: DbOption = None,
) -> None:
    """Write an agreement's incidents or violations, evaluated over the stored reports."""
    from truce.domain.timeparse import parse_local_datetime
    from truce.service import AgreementRegistry, Service
    from truce.service.exports import export_table, save
    from truce.store.users import SYSTEM_USER

    fmt = export_format(format.value)
    if fmt.binary and output is None:
        raise fail(
            f"--format {fmt.name} is a binary format: give a file with --output "
            f"(e.g. --output {agreement}-{what.value}.{fmt.extension})"
        )
    if output is not None and not output.parent.is_dir():
        raise fail(f"--output: no directory {str(output.parent)!r}")
    svc = open_service(db, migrate=False)
    try:
        if Path(agreement).is_file():
            extra = AgreementRegistry.load([Path(agreement)], builtins=False).all()[0]
            registry = AgreementRegistry([*AgreementRegistry.load().all(), extra])
            svc = Service(svc.engine, registry, clock=svc.clock)
            agreement = extra.agreement.id
        at = None
        if as_of:
            tz = svc.agreements.get(agreement).agreement.timezone
            at = parse_local_datetime(as_of, tz)
        table = export_table(svc.evaluations, agreement, what.value, SYSTEM_USER, as_of=at)
        if output is not None:
            save(fmt, table, output)
            err.print(f"wrote {output}", highlight=False)
            return
        assert fmt.chunks is not None
        out = sys.stdout.buffer
        for chunk in fmt.chunks(table):
            out.write(chunk)
        out.flush()
    except BrokenPipeError:
        # The reader stopped early (`| head`): not an error, and nothing more to say.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (TruceError, ValueError, OSError) as exc:
        raise fail(exc) from None
    finally:
        svc.engine.dispose()


def register(app: typer.Typer) -> None:
    app.command("export")(export)
