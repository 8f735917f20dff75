"""A bulletin for people: HTML in the style of an OSCE SMM daily report, and PDF from it.

Header (number, centre, agreement, period and cut-off in the agreement's
timezone), then summary bullets in a fixed order, each against the previous
bulletin of the same agreement (violations per party and rule, reports,
incidents, fatalities reported, weapons sighted, review decisions), a small
map of the period's reports, then the details: each report with place, time,
what was seen and by whom. Pure (bulletin dicts in, text out) except `to_pdf`,
which runs WeasyPrint.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, select_autoescape

from truce.errors import Unavailable

__all__ = ["to_html", "to_pdf"]

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Bulletin {{ b.seq }} — {{ b.origin }} — {{ b.agreement }}</title>
<style>
 @page { size: A4; margin: 18mm 16mm; }
 body { font-family: "DejaVu Sans", sans-serif; font-size: 10pt; color: #111; }
 h1 { font-size: 15pt; margin: 0 0 2mm; } h2 { font-size: 11.5pt; border-bottom: 1px solid #999; margin-top: 6mm; }
 .meta { color: #333; margin-bottom: 4mm; } ul.summary li { margin: 1mm 0; }
 table { border-collapse: collapse; width: 100%; font-size: 8.5pt; }
 th, td { border: 1px solid #bbb; padding: 1mm 1.5mm; text-align: left; vertical-align: top; }
 th { background: #eee; } .up { color: #a00; } .down { color: #060; }
 .digest { font-family: "DejaVu Sans Mono", monospace; font-size: 7.5pt; word-break: break-all; }
</style></head><body>
<h1>Bulletin No. {{ b.seq }} — {{ b.origin }}</h1>
<div class="meta">Agreement <b>{{ b.agreement }}</b> · period {{ b.period.from }} to {{ b.period.to }}
 · cut-off {{ b.period.to }} · issued {{ b.issued_at }}</div>
<h2>Summary</h2>
<ul class="summary">
{% for line in summary %}<li>{{ line|safe }}</li>
{% endfor %}</ul>
{% if svg %}<h2>Map of the period's reports</h2>{{ svg|safe }}{% endif %}
<h2>Reports in the period ({{ b.reports|length }})</h2>
{% if b.reports %}<table><tr><th>time (UTC)</th><th>place</th><th>what was seen</th><th>by whom</th><th>source</th></tr>
{% for r in reports %}<tr><td>{{ r.observed_at }}</td><td>{{ r.place }}</td><td>{{ r.what }}</td>
<td>{{ r.actor }}</td><td>{{ r.source }}</td></tr>
{% endfor %}</table>{% if more %}<p>… and {{ more }} more reports (in the JSON bulletin).</p>{% endif %}
{% else %}<p>No reports were accepted in this period.</p>{% endif %}
{% if b.reviews %}<h2>Review decisions</h2><table><tr><th>when</th><th>violation</th><th>decision</th><th>by</th></tr>
{% for r in b.reviews %}<tr><td>{{ r.at }}</td><td>{{ r.violation_key }}</td>
<td>{{ r.action }}: {{ r.from_state }} → {{ r.to_state }}{% if r.comment %} ({{ r.comment }}){% endif %}</td>
<td>{{ r.actor }}</td></tr>{% endfor %}</table>{% endif %}
<h2>Integrity</h2>
<p>This bulletin is leaf {{ b.seq }} of {{ b.origin }}'s log. Evaluation digest:
<span class="digest">{{ b.evaluation_digest }}</span></p>
</body></html>
"""

MAX_ROWS = 500


def _change(now: int, before: int | None) -> str:
    if before is None or now == before:
        return f"{now}" + ("" if before is None else " (unchanged)")
    cls = "up" if now > before else "down"
    return f'{now} <span class="{cls}">({now - before:+d} against the previous bulletin)</span>'


def _by(counts: Mapping[str, int], before: Mapping[str, int] | None) -> str:
    if not counts and not before:
        return "none"
    keys = sorted(set(counts) | set(before or {}))
    return "; ".join(
        f"{k} {_change(counts.get(k, 0), (before or {}).get(k, 0) if before is not None else None)}"
        for k in keys
    )


def _summary(b: Mapping[str, Any], prev: Mapping[str, Any] | None) -> list[str]:
    s, p = b["summary"], prev["summary"] if prev else None
    reports = b["reports"]
    fatalities = sum(float(r.get("fatalities", 0) or 0) for r in reports)
    weapons = Counter(
        r["weapon"] for r in reports if r.get("event_type") == "weapon_sighting" and r.get("weapon")
    )
    events = Counter(r["event_type"] for r in reports)
    return [
        f"Violations recorded as of the cut-off: {_change(s['violations'], p and p['violations'])}.",
        f"By party: {_by(s['by_party'], p and p['by_party'])}.",
        f"By rule: {_by(s['by_rule'], p and p['by_rule'])}.",
        f"Incidents: {_change(s['incidents'], p and p['incidents'])}; reports accepted in the period: {s['reports']}.",
        "Event types reported: "
        + ("; ".join(f"{k} {v}" for k, v in sorted(events.items())) or "none")
        + ".",
        f"Fatalities reported in the period: {fatalities:g}.",
        "Weapons sighted: "
        + ("; ".join(f"{k} {v}" for k, v in sorted(weapons.items())) or "none")
        + ".",
        f"Review decisions in the period: {len(b.get('reviews', []))}.",
    ]


def _svg(reports: list[Mapping[str, Any]]) -> str:
    """A small equirectangular plot of the reports (no tiles: works offline and in print)."""
    pts = [
        (float(r["lon"]), float(r["lat"]), r["event_type"])
        for r in reports
        if "lon" in r and "lat" in r
    ]
    if not pts:
        return ""
    w, h, pad = 480, 300, 12
    lons, lats = [p[0] for p in pts], [p[1] for p in pts]
    x0, x1 = min(lons), max(lons)
    y0, y1 = min(lats), max(lats)
    dx, dy = max(x1 - x0, 0.01), max(y1 - y0, 0.01)
    colours = {
        "airstrike": "#c00",
        "shelling": "#e60",
        "armed_clash": "#a0a",
        "small_arms_fire": "#06c",
    }
    dots = "".join(
        f'<circle cx="{pad + (x - x0) / dx * (w - 2 * pad):.1f}" cy="{h - pad - (y - y0) / dy * (h - 2 * pad):.1f}" r="3" fill="{colours.get(t, "#333")}" fill-opacity="0.7"/>'
        for x, y, t in pts[:5000]
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">'
        f'<rect width="{w}" height="{h}" fill="#f4f4ef" stroke="#999"/>{dots}'
        f'<text x="{pad}" y="{h - 3}" font-size="9">{x0:.3f}..{x1:.3f} E, {y0:.3f}..{y1:.3f} N</text></svg>'
    )


def to_html(bulletin: Mapping[str, Any], previous: Mapping[str, Any] | None = None) -> str:
    env = Environment(autoescape=select_autoescape(default=True))
    rows = [
        {
            "observed_at": r.get("observed_at", ""),
            "place": r.get("place") or f"{r.get('lat', '')}, {r.get('lon', '')}",
            "what": " ".join(
                str(x)
                for x in (
                    r.get("event_type"),
                    r.get("weapon"),
                    r.get("target") and f"on {r['target']}",
                )
                if x
            )
            + (f" — {r['notes']}" if r.get("notes") else ""),
            "actor": r.get("actor", "unknown"),
            "source": f"{r['source']}:{r['report_id']}",
        }
        for r in bulletin["reports"][:MAX_ROWS]
    ]
    return env.from_string(_TEMPLATE).render(
        b=bulletin,
        summary=_summary(bulletin, previous),
        svg=_svg(bulletin["reports"]),
        reports=rows,
        more=max(0, len(bulletin["reports"]) - MAX_ROWS),
    )


def to_pdf(html: str) -> bytes:
    """PDF through WeasyPrint (Debian's Pango libraries; see scripts/setup-weasyprint.sh)."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: the Pango libraries are missing
        raise Unavailable(
            f"PDF needs WeasyPrint and its libraries ({exc}); run scripts/setup-weasyprint.sh"
        ) from None
    return HTML(string=html).write_pdf()  # type: ignore[no-any-return]
