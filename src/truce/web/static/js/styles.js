// How incidents look: shape + colour + a text badge for status, a glyph for event type.
// Colour is never the only cue: each status also has its own shape and badge letter.
import { humanize } from "./util.js";

export const STATUSES = {
  confirmed: { label: "Confirmed violation", badge: "✓", shape: "square", fill: "#b42318", stroke: "#5c0f0a", ink: "#ffffff", rank: 6,
    help: "A violation the secretariat has confirmed." },
  violation: { label: "Violation (under review)", badge: "!", shape: "diamond", fill: "#e8890c", stroke: "#6b3d00", ink: "#1a1a1a", rank: 5,
    help: "Breaks a rule of the agreement; not yet confirmed." },
  disputed: { label: "Disputed violation", badge: "?", shape: "diamond", fill: "#f2d4f0", stroke: "#7b2a78", ink: "#4a1148", rank: 4, dashed: true,
    help: "A party or reviewer disputes the finding." },
  corroborated: { label: "Corroborated incident", badge: "2+", shape: "circle", fill: "#1f63a8", stroke: "#0b2f55", ink: "#ffffff", rank: 3,
    help: "Two or more independent sources; no rule broken." },
  alleged: { label: "Alleged incident", badge: "1", shape: "circle", fill: "#ffffff", stroke: "#4a5568", ink: "#2d3748", rank: 2, dashed: true,
    help: "A single source; no rule broken." },
  dismissed: { label: "Dismissed", badge: "×", shape: "circle", fill: "#d9d9d9", stroke: "#6b6b6b", ink: "#4a4a4a", rank: 1, faded: true,
    help: "Reviewed and dismissed: not a violation." },
};
export const STATUS_ORDER = ["confirmed", "violation", "disputed", "corroborated", "alleged", "dismissed"];

// 16×16 glyphs, drawn in the status's ink colour.
const GLYPHS = {
  airstrike: '<path d="M8 1.2l1 4.6 5.8 3v1.3L9 8.7l-.2 3.7 1.6 1.3v1.1L8 14.1l-2.4.7v-1.1l1.6-1.3L7 8.7 1.2 10.1V8.8l5.8-3z"/>',
  shelling: '<path d="M8 1l1.5 4 4.1-1.6-2 3.8L15 9l-4 .9.8 4.3L8 11.6l-3.8 2.6.8-4.3L1 9l3.4-1.8-2-3.8L6.5 5z"/>',
  armed_clash: '<path d="M2.5 2.5l11 11M13.5 2.5l-11 11" stroke-width="2.6" stroke-linecap="round" fill="none"/>',
  small_arms_fire: '<circle cx="3.5" cy="8" r="1.8"/><circle cx="8" cy="8" r="1.8"/><circle cx="12.5" cy="8" r="1.8"/>',
  atgm_attack: '<path d="M1.5 6.8h8.5V3.5L15 8l-5 4.5V9.2H1.5z"/>',
  ground_advance: '<path d="M2 9.5L8 4l6 5.5M2 14L8 8.5l6 5.5" stroke-width="2.2" fill="none" stroke-linejoin="round"/>',
  weapon_sighting: '<path d="M1 8s2.7-4.5 7-4.5S15 8 15 8s-2.7 4.5-7 4.5S1 8 1 8z" fill="none" stroke-width="1.6"/><circle cx="8" cy="8" r="2.3"/>',
  checkpoint_observation: '<path d="M3 1.5v13" stroke-width="1.8" fill="none"/><path d="M4 2h9l-2.2 3L13 8H4z"/>',
  convoy_obstruction: '<rect x="1" y="5" width="9" height="6" rx="1"/><path d="M10.5 7h2.5l2 2.2V11h-4.5z"/><path d="M1.5 14.5L14.5 1.5" stroke-width="1.8" fill="none"/>',
  attack_on_humanitarian: '<path d="M6.2 1.5h3.6v4.7h4.7v3.6H9.8v4.7H6.2V9.8H1.5V6.2h4.7z"/>',
  checkpoint_status: '<path d="M3 1.5v13" stroke-width="1.8" fill="none"/><path d="M4 2h9v6H4z" fill="none" stroke-width="1.6"/>',
  convoy_status: '<rect x="1" y="5" width="9" height="6" rx="1"/><path d="M10.5 7h2.5l2 2.2V11h-4.5z"/><circle cx="4" cy="12.5" r="1.5"/><circle cx="12" cy="12.5" r="1.5"/>',
};
const UNKNOWN_GLYPH = '<circle cx="8" cy="8" r="3"/>';

export const EVENT_LABELS = {
  airstrike: "Airstrike", shelling: "Shelling", armed_clash: "Armed clash", small_arms_fire: "Small arms fire",
  atgm_attack: "ATGM attack", ground_advance: "Ground advance", weapon_sighting: "Weapon sighting",
  checkpoint_observation: "Checkpoint observation", convoy_obstruction: "Convoy obstruction",
  attack_on_humanitarian: "Attack on humanitarian",
  checkpoint_status: "Checkpoint status", convoy_status: "Convoy status",
};
export const eventLabel = (type) => EVENT_LABELS[type] || humanize(type);

function shapePath(shape, size, dashed, stroke) {
  const c = size / 2;
  const r = size / 2 - 2;
  const common = `stroke="${stroke}" stroke-width="2"${dashed ? ' stroke-dasharray="3 2"' : ""}`;
  if (shape === "diamond") {
    return `<path d="M${c} 1.5L${size - 1.5} ${c}L${c} ${size - 1.5}L1.5 ${c}z" ${common}/>`;
  }
  if (shape === "square") {
    return `<rect x="2.5" y="2.5" width="${size - 5}" height="${size - 5}" rx="3" ${common}/>`;
  }
  return `<circle cx="${c}" cy="${c}" r="${r}" ${common}/>`;
}

/** The SVG of an incident symbol, as markup (for markers, legend, list). */
export function symbolSvg(eventType, status, size = 30) {
  const st = STATUSES[status] || STATUSES.alleged;
  const glyph = GLYPHS[eventType] || UNKNOWN_GLYPH;
  const g = size * 0.5;
  const off = (size - g) / 2;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}" aria-hidden="true" focusable="false">`
    + `<g fill="${st.fill}">${shapePath(st.shape, size, st.dashed, st.stroke)}</g>`
    + `<g transform="translate(${off} ${off}) scale(${g / 16})" fill="${st.ink}" stroke="${st.ink}" stroke-width="0">${glyph}</g>`
    + `</svg>`;
}

export function glyphSvg(eventType, size = 18, color = "#1a1a1a") {
  const glyph = GLYPHS[eventType] || UNKNOWN_GLYPH;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 16 16" aria-hidden="true" focusable="false">`
    + `<g fill="${color}" stroke="${color}" stroke-width="0">${glyph}</g></svg>`;
}

/** Leaflet icon of an incident: symbol plus a status badge (text cue). */
export function incidentIcon(L, incident) {
  const st = STATUSES[incident.status] || STATUSES.alleged;
  const html = `<span class="incident-symbol">${symbolSvg(incident.event_type, incident.status)}`
    + `<span class="status-badge-mini status-${incident.status}" aria-hidden="true">${st.badge}</span></span>`;
  return L.divIcon({
    html,
    className: `incident-marker status-${incident.status} type-${incident.event_type}${st.faded ? " faded" : ""}`,
    iconSize: [30, 30],
    iconAnchor: [15, 15],
    popupAnchor: [0, -14],
  });
}

/** Derive an incident's display status from its violations' reviews. */
export function incidentStatus(incident, violations) {
  if (violations.length) {
    const reviews = violations.map((v) => v.review || "alleged");
    if (reviews.includes("confirmed")) return "confirmed";
    if (reviews.every((r) => r === "dismissed")) return "dismissed";
    if (reviews.every((r) => r === "disputed" || r === "dismissed")) return "disputed";
    return "violation";
  }
  return (incident.corroboration || 0) >= 2 ? "corroborated" : "alleged";
}

export function statusBadge(status) {
  const st = STATUSES[status] || { label: humanize(status), badge: "" };
  const span = document.createElement("span");
  span.className = `status-pill status-${status}`;
  span.innerHTML = `${symbolSvg("none", status, 14)}`;
  span.append(document.createTextNode(` ${st.label}`));
  return span;
}

export const REVIEW_LABELS = {
  alleged: "Not yet reviewed", disputed: "Disputed", confirmed: "Confirmed", dismissed: "Dismissed",
};

export const ZONE_COLORS = ["#2b7a78", "#7b4fa0", "#a0522d", "#3b6fb6", "#6b8e23", "#b8860b"];
