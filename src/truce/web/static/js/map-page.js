// The map page: zones and features, incidents styled by type and status,
// clustered, filtered by the time slider; summary header; incident panel.
/* global L */
import { endpoints } from "./api.js";
import { legendControl } from "./legend.js";
import { IncidentPanel } from "./panel.js";
import { config, explain, initShell, partyName, partyShort, session, showStatus } from "./shell.js";
import { STATUSES, ZONE_COLORS, eventLabel, incidentIcon, incidentStatus, symbolSvg } from "./styles.js";
import { ruleName, storySentence } from "./story.js";
import { TimeFilter } from "./timeline.js";
import { clear, fmtTime, h, humanize, isoInTz, ms, plural } from "./util.js";

const $ = (id) => document.getElementById(id);
const isNarrow = () => window.matchMedia("(max-width: 760px)").matches;

const state = {
  agreementId: null,
  agreement: null,
  evaluation: null,
  tz: "UTC",
  incidents: [], // evaluation incidents + {t, status, marker, violationList}
  violationsById: new Map(),
  visible: [],
  window: null,
};

// --- the map ---------------------------------------------------------------

const map = L.map("map", { zoomControl: true, attributionControl: true, minZoom: 3, maxZoom: 18 });
map.setView([36.2, 37.15], 11);
L.control.scale({ imperial: false }).addTo(map);
map.attributionControl.setPrefix(false);
if (config.tileUrl) {
  L.tileLayer(config.tileUrl, { attribution: config.tileAttribution || "", maxZoom: 19 }).addTo(map);
  $("map").classList.add("with-tiles");
} else {
  map.attributionControl.addAttribution("No base map: place names from the gazetteer");
}

// Zone names sit above the incident clusters (markerPane, z 600), below tooltips (650).
map.createPane("zone-labels").style.zIndex = 640;
const zonesLayer = L.featureGroup().addTo(map);
const featuresLayer = L.featureGroup().addTo(map);
const placesLayer = L.layerGroup().addTo(map);
const termsLayer = L.featureGroup().addTo(map); // convoy routes with their status
const sitesLayer = L.featureGroup().addTo(map); // protected sites (only for those allowed)
const clusters = L.markerClusterGroup({
  maxClusterRadius: 36,
  disableClusteringAtZoom: 14,
  spiderfyOnMaxZoom: true,
  showCoverageOnHover: false,
  chunkedLoading: true,
  iconCreateFunction: clusterIcon,
});
map.addLayer(clusters);
let legend = null;

function clusterIcon(cluster) {
  const children = cluster.getAllChildMarkers();
  let worst = "dismissed";
  let nViolations = 0;
  for (const m of children) {
    const st = m.options.incident.status;
    if (STATUSES[st].rank > STATUSES[worst].rank) worst = st;
    if (["violation", "confirmed", "disputed"].includes(st)) nViolations += 1;
  }
  const n = children.length;
  const size = n < 10 ? 34 : n < 100 ? 40 : 48;
  const label = `${n} incidents${nViolations ? `, ${nViolations} with violations` : ""}; zoom in to see them`;
  return L.divIcon({
    html: `<span title="${label}">${n}</span>${nViolations ? `<span class="cluster-v" aria-hidden="true">${nViolations}!</span>` : ""}`,
    className: `incident-cluster cluster-${worst}`,
    iconSize: [size, size],
  });
}

function drawAgreement(geojson) {
  zonesLayer.clearLayers();
  featuresLayer.clearLayers();
  const zoneIds = (state.agreement?.zones || []).map((z) => z.id);
  const features = geojson?.features || [];
  for (const f of features) {
    const p = f.properties || {};
    const rawName = p.name || humanize(p.id);
    const name = escapeHtml(rawName);
    if (p.layer === "zone") {
      const i = Math.max(0, zoneIds.indexOf(p.id));
      const color = ZONE_COLORS[(i >= 0 ? i : 0) % ZONE_COLORS.length];
      const area = state.agreement?.zones?.find((z) => z.id === p.id)?.area_km2;
      L.geoJSON(f, { style: { color, weight: 1.5, fillColor: color, fillOpacity: 0.14, dashArray: "6 4", className: `zone-shape zone-${p.id}` } })
        .bindTooltip(`<strong>${name}</strong><br>zone${area ? ` · ${Number(area).toFixed(1)} km²` : ""}`, { sticky: true })
        .addTo(zonesLayer);
      const labelAt = L.geoJSON(f).getBounds();
      if (labelAt.isValid()) {
        L.marker([labelAt.getNorth(), labelAt.getCenter().lng], {
          icon: L.divIcon({ className: "zone-label", html: `<span style="color:${color}">${name}</span>`, iconSize: null }),
          interactive: false, keyboard: false, pane: "zone-labels",
        }).addTo(zonesLayer);
      }
    } else if (p.kind === "point" || f.geometry?.type === "Point") {
      const [lon, lat] = f.geometry.coordinates;
      const cp = (state.evaluation?.checkpoints || []).find((c) => c.id === p.id);
      const status = cp ? cp.status : null;
      const cls = status === "removed" ? " cp-removed" : ["established", "staffed"].includes(status) ? " cp-up" : "";
      const last = cp?.history?.length ? cp.history[cp.history.length - 1] : null;
      const statusText = status ? ` — ${humanize(status)}${last ? ` since ${fmtTime(last.at, state.tz, { offset: false })}` : ""}` : "";
      L.marker([lat, lon], {
        icon: L.divIcon({ className: `checkpoint-icon${cls}`, html: "CP", iconSize: [26, 18] }),
        title: `Checkpoint: ${rawName}${statusText}`, alt: `Checkpoint ${rawName}${statusText}`, keyboard: false, zIndexOffset: -500,
      }).bindTooltip(`Checkpoint: ${name}${escapeHtml(statusText)}`).addTo(featuresLayer);
    } else if (p.kind === "line" || /LineString/.test(f.geometry?.type || "")) {
      L.geoJSON(f, { style: { color: "#3d3d3d", weight: 3.5, opacity: 0.85, className: `feature-line feature-${p.id}` } })
        .bindTooltip(`Road / corridor: ${name}`, { sticky: true }).addTo(featuresLayer);
    } else {
      L.geoJSON(f, { style: { color: "#555", weight: 1, fill: false, dashArray: "2 3", className: `feature-area feature-${p.id}` } })
        .bindTooltip(name, { sticky: true }).addTo(featuresLayer);
    }
  }
}

const CONVOY_COLORS = { notified: "#3b6fb6", departed: "#2b7a78", delivered: "#1e7b34", stopped: "#b8860b", turned_back: "#9b1c1c" };

function drawConvoys(geojson) {
  termsLayer.clearLayers();
  const byId = new Map((geojson?.features || []).filter((f) => f.properties?.layer === "feature").map((f) => [f.properties.id, f]));
  for (const c of state.evaluation?.convoys || []) {
    const color = CONVOY_COLORS[c.status] || "#3b6fb6";
    const tip = `<strong>Convoy ${escapeHtml(c.name || c.id)}</strong> (${escapeHtml(c.organisation)})<br>`
      + `status: ${escapeHtml(humanize(c.status))}<br>window: ${fmtTime(c.window.from, state.tz, { offset: false })} – ${fmtTime(c.window.to, state.tz, { offset: false })}`
      + (c.incidents?.length ? `<br>${c.incidents.length} incidents near its route in its window` : "");
    for (const fid of c.route) {
      const f = byId.get(fid);
      if (!f) continue;
      L.geoJSON(f, { style: { color, weight: 7, opacity: 0.55, className: `convoy-route convoy-${c.status}` } })
        .bindTooltip(tip, { sticky: true }).addTo(termsLayer);
    }
  }
}

async function drawSites(id) {
  sitesLayer.clearLayers();
  if (!session.me || session.me.role === "observer") return; // never shown to observers
  let answer;
  try {
    answer = await endpoints.sites(id);
  } catch {
    return;
  }
  for (const site of answer?.sites || []) {
    const label = site.kind === "observation_post" ? "OP" : "H";
    const tip = `<strong>Protected site ${escapeHtml(site.name || site.id)}</strong> (${escapeHtml(humanize(site.kind))})<br>`
      + `protected within ${Math.round(site.radius_m)} m${site.notified ? `, notified ${fmtTime(site.notified, state.tz, { offset: false })}` : ""}`;
    L.circle([site.lat, site.lon], { radius: site.radius_m, color: "#b42318", weight: 1.5, fillOpacity: 0.08, className: "site-area" })
      .bindTooltip(tip, { sticky: true }).addTo(sitesLayer);
    L.marker([site.lat, site.lon], {
      icon: L.divIcon({ className: "site-icon", html: label, iconSize: [22, 22] }),
      title: `Protected site ${site.name || site.id}`, alt: `Protected site ${site.name || site.id}`, keyboard: false,
    }).bindTooltip(tip).addTo(sitesLayer);
  }
}

function fitView() {
  let bounds = zonesLayer.getBounds();
  if (!bounds.isValid()) bounds = featuresLayer.getBounds();
  if (!bounds.isValid() && state.incidents.length) {
    bounds = L.latLngBounds(state.incidents.map((i) => [i.lat, i.lon]));
  }
  // Keep the zones clear of the legend (bottom right) so it never covers them.
  const box = legend?.getContainer?.();
  const right = box && box.offsetWidth < map.getSize().x / 2 ? box.offsetWidth + 16 : 10;
  if (bounds.isValid()) {
    map.fitBounds(bounds.pad(0.08), { maxZoom: 14, paddingTopLeft: [10, 10], paddingBottomRight: [right, 10] });
  }
}

/**
 * Places inside `bounds` from the gazetteer. The API searches by name only (`q`, "a name or
 * its beginning"), so this asks once per initial letter and keeps what lies in the map's
 * area. Cached for the tab's session.
 */
async function gazetteerPlaces(bounds) {
  const bbox = [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()].map((x) => x.toFixed(3)).join(",");
  const cacheKey = `truce.places.${bbox}`;
  try {
    const cached = sessionStorage.getItem(cacheKey);
    if (cached) return JSON.parse(cached);
  } catch { /* no cache */ }
  let places = [];
  {
    const letters = "abcdefghijklmnopqrstuvwxyz".split("");
    const answers = await Promise.allSettled(letters.map((q) => endpoints.gazetteer({ q, limit: 100 })));
    const seen = new Set();
    for (const a of answers) {
      for (const p of a.status === "fulfilled" && Array.isArray(a.value) ? a.value : []) {
        const id = `${p.name}|${p.lat}|${p.lon}`;
        if (!seen.has(id)) {
          seen.add(id);
          places.push(p);
        }
      }
    }
  }
  places = (Array.isArray(places) ? places : [])
    .filter((p) => Number.isFinite(p.lat) && Number.isFinite(p.lon) && bounds.contains([p.lat, p.lon]))
    .map((p) => ({ name: p.name, lat: p.lat, lon: p.lon, kind: p.kind }));
  try {
    sessionStorage.setItem(cacheKey, JSON.stringify(places));
  } catch { /* storage full: fine */ }
  return places;
}

async function drawPlaces() {
  placesLayer.clearLayers();
  if (config.tileUrl) return;
  const places = await gazetteerPlaces(map.getBounds().pad(0.5));
  for (const p of places.slice(0, 150)) {
    L.marker([p.lat, p.lon], {
      icon: L.divIcon({ className: `place-label place-${p.kind || "place"}`, html: `<i></i><span>${escapeHtml(p.name)}</span>`, iconSize: null }),
      interactive: false, keyboard: false, zIndexOffset: -1000,
    }).addTo(placesLayer);
  }
}

function escapeHtml(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// --- incidents -----------------------------------------------------------

function buildIncidents(evaluation) {
  state.violationsById = new Map();
  for (const v of evaluation.violations || []) state.violationsById.set(v.id, v);
  const byIncident = new Map();
  for (const v of evaluation.violations || []) {
    if (!byIncident.has(v.incident)) byIncident.set(v.incident, []);
    byIncident.get(v.incident).push(v);
  }
  clusters.clearLayers();
  state.incidents = (evaluation.incidents || []).map((inc) => {
    const list = Array.isArray(inc.violations) && inc.violations.length
      ? inc.violations.map((id) => state.violationsById.get(id)).filter(Boolean)
      : byIncident.get(inc.id) || [];
    const item = { ...inc, t: ms(inc.observed_at), violationList: list };
    item.status = incidentStatus(item, list);
    item.marker = L.marker([inc.lat, inc.lon], {
      icon: incidentIcon(L, item),
      title: markerTitle(item),
      alt: markerTitle(item),
      keyboard: true,
      riseOnHover: true,
      incident: item,
    });
    item.marker.on("click", () => openIncident(item, { pan: false }));
    item.marker.on("add", () => {
      const el = item.marker.getElement();
      if (!el) return;
      el.dataset.key = inc.key;
      el.dataset.status = item.status;
      if (highlighted === item) el.classList.add("selected");
    });
    return item;
  });
}

function markerTitle(item) {
  return `${eventLabel(item.event_type)}, ${STATUSES[item.status].label}, ${fmtTime(item.t, state.tz, { offset: false })}`;
}

function restyle(item) {
  item.status = incidentStatus(item, item.violationList);
  item.marker.setIcon(incidentIcon(L, item));
  item.marker.options.title = markerTitle(item);
  const el = item.marker.getElement();
  if (el) {
    el.title = markerTitle(item);
    el.dataset.key = item.key;
    el.dataset.status = item.status;
  }
  clusters.refreshClusters(item.marker);
}

function applyFilter(w) {
  state.window = w;
  if (!state.evaluation) return;
  const from = w.from ?? -Infinity;
  const to = w.to ?? Infinity;
  const visible = state.incidents.filter((i) => i.t > from && i.t <= to);
  const visibleSet = new Set(visible);
  const toRemove = [];
  const toAdd = [];
  for (const i of state.incidents) {
    const on = clusters.hasLayer(i.marker);
    if (visibleSet.has(i) && !on) toAdd.push(i.marker);
    else if (!visibleSet.has(i) && on) toRemove.push(i.marker);
  }
  if (toRemove.length) clusters.removeLayers(toRemove);
  if (toAdd.length) clusters.addLayers(toAdd);
  state.visible = visible;
  const nv = visible.filter((i) => ["violation", "confirmed", "disputed"].includes(i.status)).length;
  const count = $("time-count");
  count.textContent = `Showing ${plural(visible.length, "incident")} of ${state.incidents.length}`
    + ` (${nv} with violations).`;
  count.dataset.visible = String(visible.length);
  count.dataset.total = String(state.incidents.length);
  renderSummary();
  renderList();
  saveUrl();
}

// --- summary header ------------------------------------------------------------

function phasesAt(t) {
  return (state.evaluation?.phases || []).filter((p) => {
    const s = ms(p.start);
    const e = p.end ? ms(p.end) : Infinity;
    return Number.isFinite(s) && s <= t && t < e;
  });
}

function renderSummary() {
  const w = state.window;
  const vis = state.visible;
  const violations = vis.flatMap((i) => i.violationList.filter((v) => v.review !== "dismissed"));
  const parties = [...new Set(violations.map((v) => v.party))].sort();
  const rules = [...new Set(violations.map((v) => v.rule))].sort();
  const counts = new Map();
  for (const v of violations) counts.set(`${v.party}|${v.rule}`, (counts.get(`${v.party}|${v.rule}`) || 0) + 1);
  const confirmed = violations.filter((v) => v.review === "confirmed").length;
  const now = phasesAt(w.t);
  const when = w.mode === "all" ? "over the whole timeline"
    : w.mode === "upto" ? `up to ${fmtTime(w.t, state.tz)}`
      : `in the ${w.mode === "24h" ? "24 hours" : "7 days"} up to ${fmtTime(w.t, state.tz)}`;
  const ruleTitle = (id) => {
    const r = state.agreement?.rules?.find((x) => x.id === id);
    return r?.description || ruleName(state.agreement, id);
  };
  const kindOf = (id) => violations.find((v) => v.rule === id)?.kind;
  const phaseText = w.mode === "all"
    ? (state.evaluation.phases || []).filter((p) => p.status === "active").map((p) => humanize(p.id)).join(", ") || "none active now"
    : now.map((p) => humanize(p.id)).join(", ") || "no phase in force";

  const stats = h("ul", { class: "stats" },
    h("li", {}, h("strong", { id: "stat-incidents" }, String(vis.length)), vis.length === 1 ? " incident" : " incidents"),
    h("li", {}, h("strong", { id: "stat-violations" }, String(violations.length)), violations.length === 1 ? " violation" : " violations",
      confirmed ? h("span", { class: "muted" }, ` (${confirmed} confirmed)`) : ""),
    h("li", {}, w.mode === "all" ? "Phase now: " : "Phase then: ", h("strong", { id: "stat-phase" }, phaseText)),
  );
  const table = violations.length
    ? h("div", { class: "table-scroll party-rule-wrap" }, h("table", { class: "party-rule" },
      h("caption", {}, "Violations by rule and party ", h("span", { class: "muted" }, when)),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Rule"),
        parties.map((p) => h("th", { scope: "col", title: partyName(state.agreement, p) }, partyShort(p))),
        h("th", { scope: "col" }, "Total"))),
      h("tbody", {}, rules.map((r) => h("tr", { "data-rule": r },
        h("th", { scope: "row", title: ruleTitle(r) }, ruleName(state.agreement, r, kindOf(r))),
        parties.map((p) => {
          const n = counts.get(`${p}|${r}`) || 0;
          return h("td", { class: n ? "hit" : "zero" }, n ? String(n) : "·");
        }),
        h("td", { class: "total" }, String(violations.filter((v) => v.rule === r).length)),
      ))),
      h("tfoot", {}, h("tr", {}, h("th", { scope: "row" }, "Total"),
        parties.map((p) => h("td", { class: "total" }, String(violations.filter((v) => v.party === p).length))),
        h("td", { class: "total" }, String(violations.length))))))
    : h("p", { class: "muted" }, `No violations ${when}.`,
      !(state.evaluation.violations || []).length && session.agreements.length > 1
        ? " This agreement has none at all: choose another in the agreement list at the top." : "");
  clear($("summary-body"), h("div", { class: "summary-left" }, h("p", { class: "summary-when" }, `Shown: ${when}.`), stats), table);
}

// --- list --------------------------------------------------------------------

function renderList() {
  const list = $("incident-list");
  const sorted = [...state.visible].sort((a, b) => {
    const r = STATUSES[b.status].rank - STATUSES[a.status].rank;
    return r || b.t - a.t;
  });
  const shown = sorted.slice(0, 200);
  $("list-count").textContent = `(${state.visible.length}${sorted.length > shown.length ? `, first ${shown.length}` : ""})`;
  clear(list, shown.map((i) => {
    const rules = [...new Set(i.violationList.map((v) => ruleName(state.agreement, v.rule, v.kind)))].join(", ");
    const li = h("li", {}, h("button", {
      type: "button", class: `incident-item status-${i.status}`, "data-key": i.key,
      onclick: () => openIncident(i, { pan: true }),
    },
    h("span", { class: "item-symbol" }),
    h("span", { class: "item-text" },
      h("span", { class: "item-title" }, eventLabel(i.event_type), " · ", partyShort(i.party)),
      h("span", { class: "item-meta" }, fmtTime(i.t, state.tz, { offset: false }), rules ? ` · ${rules}` : ""),
      h("span", { class: "item-status" }, STATUSES[i.status].label))));
    li.querySelector(".item-symbol").innerHTML = symbolSvg(i.event_type, i.status, 24);
    return li;
  }));
}

// --- incident panel ---------------------------------------------------------

const panel = new IncidentPanel({
  root: $("incident-panel"), body: $("panel-body"), title: $("panel-title"), close: $("panel-close"),
  onClose: () => { highlight(null); saveUrl(); },
});
let highlighted = null;

function highlight(item) {
  highlighted?.marker.getElement()?.classList.remove("selected");
  highlighted = item;
  item?.marker.getElement()?.classList.add("selected");
}

function openIncident(item, { pan }) {
  const go = () => {
    highlight(item);
    panel.show(state.agreementId, item, {
      agreement: state.agreement, tz: state.tz,
      onReviewed: (updated) => {
        const v = [...state.violationsById.values()].find((x) => (updated.key && x.key === updated.key) || x.id === updated.id);
        if (v) Object.assign(v, { review: updated.review, history: updated.history });
        for (const inc of state.incidents) {
          if (inc.violationList.some((x) => x === v)) restyle(inc);
        }
        highlight(item);
        renderSummary();
        renderList();
      },
    });
    saveUrl();
  };
  if (pan && clusters.hasLayer(item.marker)) clusters.zoomToShowLayer(item.marker, go);
  else go();
}

// --- URL state ------------------------------------------------------------------

function saveUrl() {
  const url = new URL(window.location.href);
  if (state.agreementId) url.searchParams.set("agreement", state.agreementId);
  if (state.window) {
    url.searchParams.set("mode", state.window.mode);
    if (state.window.mode !== "all") url.searchParams.set("t", isoInTz(state.window.t, state.tz));
    else url.searchParams.delete("t");
  }
  if (panel.current) url.searchParams.set("incident", panel.current);
  else url.searchParams.delete("incident");
  window.history.replaceState(null, "", url);
}

// --- loading ----------------------------------------------------------------------

const timeFilter = new TimeFilter({
  slider: $("time-slider"), mode: $("time-mode"), label: $("time-label"), ticks: $("time-ticks"),
  play: $("time-play"), tz: "UTC", onChange: applyFilter,
});

async function loadAgreement(id, initial = {}) {
  state.agreementId = id;
  panel.hide();
  clear($("summary-body"), h("p", { class: "muted" }, "Loading…"));
  let agreement, geojson, evaluation;
  try {
    [agreement, geojson, evaluation] = await Promise.all([
      endpoints.agreement(id), endpoints.geojson(id), endpoints.evaluation(id),
    ]);
  } catch (err) {
    showStatus(explain(err), "error");
    clear($("summary-body"), h("p", { class: "error" }, explain(err)));
    return;
  }
  showStatus(null);
  state.agreement = agreement;
  state.evaluation = evaluation;
  state.tz = agreement.timezone || session.agreements.find((a) => a.id === id)?.timezone || "UTC";
  $("agreement-title").textContent = agreement.title || id;
  $("story").textContent = storySentence(agreement, evaluation, state.tz);
  $("story").hidden = false;
  drawAgreement(geojson);
  drawConvoys(geojson);
  drawSites(id);
  buildIncidents(evaluation);
  legend?.remove();
  legend = legendControl(L, {
    eventTypes: [...new Set(state.incidents.map((i) => i.event_type))].sort(),
    collapsed: isNarrow(),
  }).addTo(map);
  fitView();
  timeFilter.setRange(evaluation, state.tz, initial);
  document.body.dataset.ready = "true";
  drawPlaces();
  if (initial.incident) {
    const item = state.incidents.find((i) => i.key === initial.incident);
    if (item) openIncident(item, { pan: true });
  }
}

const params = new URLSearchParams(window.location.search);
let firstLoad = true;
initShell({
  onAgreement: (id) => {
    const initial = firstLoad
      ? { t: params.get("t"), mode: params.get("mode"), incident: params.get("incident") }
      : {};
    firstLoad = false;
    return loadAgreement(id, initial);
  },
}).then(() => {
  if (!session.me) {
    clear($("summary-body"), h("p", { class: "muted" }, "Sign in to see the agreement's incidents and violations."));
    document.body.dataset.ready = "signed-out";
  }
});
window.truce = { map, state }; // for debugging in the console
