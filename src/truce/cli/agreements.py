"""`truce agreements`: list, show and validate agreements (SPEC §1)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from truce.cli.exits import fail, problems_found
from truce.cli.terms_words import print_conditions, print_terms
from truce.domain.coordinates import agreement_coordinate_warnings
from truce.domain.geo import choose_crs, zone_polygons
from truce.domain.model import AfterPhase, Agreement, AtTime, Condition, Phase, TimeRef, Zone
from truce.domain.rules import rule_kinds
from truce.domain.rules.wording import fmt_local, fmt_m
from truce.domain.timeparse import format_duration
from truce.errors import AgreementError, UnknownAgreement
from truce.formats.agreement import load_agreement
from truce.library.catalog import list_agreements, resolve_agreement

agreements_app = typer.Typer(
    help="List, show and validate agreements (the built-in library or your own YAML files).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(agreements_app, name="agreements")


def _console() -> Console:
    return Console(highlight=False)


@agreements_app.command("list")
def list_command() -> None:
    """The agreements in the built-in library: id, title, date signed."""
    try:
        agreements = list_agreements()
    except AgreementError as exc:
        raise fail(exc) from exc
    table = Table("id", "title", "signed", box=None, pad_edge=False)
    for a in agreements:
        table.add_row(escape(a.id), escape(a.title), a.signed.isoformat() if a.signed else "")
    _console().print(table)


@agreements_app.command("show")
def show_command(
    file_or_id: Annotated[
        str, typer.Argument(metavar="ID_OR_FILE", help="A built-in id or a YAML file.")
    ],
) -> None:
    """Everything an agreement says, in plain words."""
    try:
        agreement = resolve_agreement(file_or_id)
    except (AgreementError, UnknownAgreement) as exc:
        raise fail(exc) from exc
    print_agreement(agreement, _console())


@agreements_app.command("validate")
def validate_command(
    files: Annotated[list[Path], typer.Argument(metavar="FILE...", help="Agreement YAML files.")],
) -> None:
    """Check agreement files; print every problem. Exit 1 if any file has problems."""
    failed = 0
    for path in files:
        try:
            agreement = load_agreement(path)
        except AgreementError as exc:
            failed += 1
            typer.echo(f"{path}: {len(exc.problems)} problem(s)")
            for problem in exc.problems:
                typer.echo(f"  {problem}")
            continue
        # Swapped [lat, lon] pairs parse fine but move features far away: flag them.
        suspicious = agreement_coordinate_warnings(agreement)
        if suspicious:
            failed += 1
            typer.echo(f"{path}: {len(suspicious)} feature(s) whose coordinates look wrong")
            for warning in suspicious:
                typer.echo(f"  {warning}")
            continue
        typer.echo(
            f"{path}: ok ({agreement.id}: {len(agreement.phases)} phases, "
            f"{len(agreement.zones)} zones, {len(agreement.rules)} rules)"
        )
    if failed:
        typer.echo(f"{failed} of {len(files)} file(s) have problems")
        raise problems_found()


# --- show ----------------------------------------------------------------------


def time_ref_words(ref: TimeRef, agreement: Agreement) -> str:
    """A phase start or counting start in plain words."""
    if isinstance(ref, AtTime):
        return fmt_local(ref.at, agreement.timezone)
    offset = f" + {format_duration(ref.offset)}" if ref.offset else ""
    if isinstance(ref, AfterPhase):
        return f"when {ref.phase} ends{offset}"
    return f"when {ref.condition} is first met{offset}"


def zone_words(zone: Zone, agreement: Agreement) -> str:
    feature = agreement.features[zone.feature]
    if zone.distance_m:
        return f"within {fmt_m(zone.distance_m)} of {feature.kind} {zone.feature}"
    return f"the area of {zone.feature}"


def condition_words(condition: Condition, agreement: Agreement) -> str:
    where = f" within {', '.join(condition.within)}" if condition.within else " anywhere"
    since = (
        f", counting from {time_ref_words(condition.start, agreement)}"
        if condition.start
        else ", counting from the first phase's start"
    )
    return (
        f"{condition.days} consecutive days with at most {condition.max_incidents} "
        f"violent incidents{where}{since}"
    )


def phase_duration_words(phase: Phase) -> str:
    return format_duration(phase.duration) if phase.duration else "open-ended"


def zone_areas_km2(agreement: Agreement) -> dict[str, float]:
    """Each zone's area in km², in the agreement's metric CRS."""
    if not agreement.zones:
        return {}
    polygons = zone_polygons(agreement, choose_crs(agreement))
    return {zone_id: polygon.area / 1e6 for zone_id, polygon in polygons.items()}


def _area_words(a: Agreement) -> str:
    if a.area is None:
        return "everywhere (no area given): every incident can be a violation"
    return f"{a.area}: incidents outside it are listed but are never violations"


def _end_words(a: Agreement) -> str:
    if a.ends is None:
        return "no end given: the terms bind until the data runs out"
    words = fmt_local(a.ends.at, a.timezone) + ": nothing after it is a violation"
    if a.ends.source:
        words += f" [{a.ends.source}]"
    return words + (f" ({a.ends.note})" if a.ends.note else "")


def _section(console: Console, title: str) -> None:
    console.print()
    console.print(f"[bold]{escape(title)}[/bold]")


def print_agreement(agreement: Agreement, console: Console) -> None:
    a = agreement
    console.print(f"[bold]{escape(a.title)}[/bold]")
    console.print(f"id: {escape(a.id)}")
    console.print(f"signed: {a.signed.isoformat() if a.signed else 'unknown'}")
    console.print(f"timezone: {escape(a.timezone_name)}")
    crs = choose_crs(a)
    console.print(
        f"crs: {escape(crs)}" + ("" if a.crs else " (UTM zone of the agreement's centroid)")
    )
    console.print(f"area: {escape(_area_words(a))}")
    console.print(f"ends: {escape(_end_words(a))}")
    if a.description:
        console.print()
        console.print(escape(a.description))
    if a.sources:
        _section(console, "Sources")
        for s in a.sources:
            console.print(f"  - {escape(s.title)}" + (f" <{escape(s.url)}>" if s.url else ""))

    _section(console, "Parties")
    for p in a.parties:
        guarantor = f" (guarantor: {escape(p.guarantor)})" if p.guarantor else ""
        console.print(f"  {escape(p.id)}: {escape(p.name)}{guarantor}")
        console.print(f"    actors: {escape(', '.join(p.actors)) or '(none listed)'}")
    if a.excluded:
        _section(console, "Excluded groups (outside the terms)")
        for g in a.excluded:
            console.print(f"  {escape(g.id)}: {escape(g.name)}")
            console.print(f"    actors: {escape(', '.join(g.actors)) or '(none listed)'}")

    if a.features:
        _section(console, "Features")
        table = Table("id", "kind", "name", "uncertainty", "note", box=None, pad_edge=False)
        for f in a.features.values():
            table.add_row(
                escape(f.id),
                f.kind,
                escape(f.name or ""),
                f"±{fmt_m(f.uncertainty_m)}" if f.uncertainty_m is not None else "",
                escape(f.note or ""),
            )
        console.print(table)

    if a.zones:
        _section(console, "Zones")
        areas = zone_areas_km2(a)
        table = Table("id", "name", "definition", "area", box=None, pad_edge=False)
        for z in a.zones:
            area = areas.get(z.id)
            table.add_row(
                escape(z.id),
                escape(z.name or ""),
                escape(zone_words(z, a)),
                f"{area:,.1f} km²" if area is not None else "",
            )
        console.print(table)

    _section(console, "Phases")
    table = Table("id", "starts", "duration", "name", box=None, pad_edge=False)
    for ph in a.phases:
        table.add_row(
            escape(ph.id),
            escape(time_ref_words(ph.start, a)),
            phase_duration_words(ph),
            escape(ph.name or ""),
        )
    console.print(table)

    print_terms(a, console, _section)
    if a.conditions:
        _section(console, "Conditions")
        print_conditions(a, console)

    _section(console, "Rules")
    kinds = rule_kinds()
    table = Table("id", "kind", "what it requires", box=None, pad_edge=False)
    for r in a.rules:
        kind = kinds.get(r.kind)
        words = kind.describe(r, a) if kind else "(unknown rule kind)"
        if r.name:
            words = f"{r.name}: {words}"
        if r.note:
            words += f" Note: {r.note}"
        table.add_row(escape(r.id), escape(r.kind), escape(words))
    console.print(table)

    if a.notes:
        _section(console, "Notes and caveats")
        for note in a.notes:
            console.print(f"  - {escape(note)}")
