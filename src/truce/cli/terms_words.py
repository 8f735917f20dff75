"""`truce agreements show`: the SPEC §6 terms in plain words — who signed up, the
protected sites, the convoys, the checkpoints, and each condition as its kind
describes it."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from truce.domain.conditions import condition_kinds
from truce.domain.model import Agreement, Commitment, Condition
from truce.domain.rules.wording import fmt_local, fmt_m
from truce.domain.timeparse import format_duration


def commitment_words(c: Commitment, agreement: Agreement) -> str:
    tz = agreement.timezone
    via = f" through {c.via}" if c.via else ""
    parts = []
    if c.declined:
        parts.append(f"declined {fmt_local(c.declined, tz)}")
    if c.accepted:
        parts.append(f"accepted{via} {fmt_local(c.accepted, tz)}: bound from then")
    if c.withdrew:
        parts.append(f"withdrew {fmt_local(c.withdrew, tz)}: not bound from then")
    if not parts:
        parts.append("has not accepted: not bound")
    return f"{c.group} ({c.party}): " + "; ".join(parts)


def condition_words(c: Condition, agreement: Agreement) -> str:
    kind = condition_kinds().get(c.kind)
    words = kind.describe(c, agreement) if kind else f"(unknown condition kind {c.kind})"
    if c.start is not None:
        from truce.cli.agreements import time_ref_words

        words += f", counting from {time_ref_words(c.start, agreement)}"
    elif c.kind == "quiet_days":
        words += ", counting from the first phase's start"
    if c.name:
        words = f"{c.name}: {words}"
    if c.note:
        words += f" Note: {c.note}"
    return words


def print_conditions(a: Agreement, console: Console) -> None:
    for c in a.conditions:
        console.print(f"  {escape(c.id)}: {escape(condition_words(c, a))}")


def print_terms(a: Agreement, console: Console, section: object) -> None:
    """The commitments, sites, convoys and checkpoints sections (those the agreement has)."""
    tz = a.timezone
    if a.commitments:
        section(console, "Who signed up (commitments)")  # type: ignore[operator]
        console.print(
            "  A listed group is bound only from when it accepted until it withdrew; its "
            "acts outside that are listed but not charged to its party."
        )
        for c in a.commitments:
            console.print(f"  - {escape(commitment_words(c, a))}")
            if c.note or c.source:
                console.print(f"    {escape(' '.join(filter(None, [c.note, c.source])))}")
    if a.sites:
        section(console, "Protected sites and declared positions (sensitive)")  # type: ignore[operator]
        console.print(
            "  Shown on a server only to the secretariat and the parties notified; never to "
            "observers, in OGC collections or in exports."
        )
        table = Table(
            "id", "kind", "where", "protected", "since", "notified to", box=None, pad_edge=False
        )
        for s in a.sites:
            since = fmt_local(s.notified, tz) if s.notified else "whenever in force"
            who = ", ".join(
                filter(
                    None,
                    [s.via and f"via {s.via}", s.declared_by and f"declared by {s.declared_by}"],
                )
            )
            table.add_row(
                escape(s.id),
                escape(s.kind),
                f"[{s.lon}, {s.lat}]",
                f"within {fmt_m(s.radius_m)}",
                escape(since + (f" ({who})" if who else "")),
                escape(", ".join(s.notified_to) or "every party"),
            )
        console.print(table)
    if a.convoys:
        section(console, "Convoys")  # type: ignore[operator]
        for convoy in a.convoys:
            notified = f", notified {fmt_local(convoy.notified, tz)}" if convoy.notified else ""
            console.print(
                f"  {escape(convoy.id)} ({escape(convoy.organisation)}): along "
                f"{escape(', '.join(convoy.route))}, protected within "
                f"{fmt_m(convoy.corridor_m)} of the route from "
                f"{fmt_local(convoy.window_from, tz)} to {fmt_local(convoy.window_to, tz)}{notified}"
            )
    checkpoints = a.checkpoint_ids()
    if checkpoints:
        section(console, "Checkpoints")  # type: ignore[operator]
        console.print(
            "  Status over time from checkpoint_status reports within 250 m: established, "
            "staffed, removed."
        )
        for cp in checkpoints:
            f = a.features[cp]
            console.print(
                f"  {escape(cp)}: {escape(f.name or cp)} at [{f.geometry.x}, {f.geometry.y}]"
            )


__all__ = [
    "commitment_words",
    "condition_words",
    "format_duration",
    "print_conditions",
    "print_terms",
]
