// The dashboard: phase timeline, conditions with their daily charts, violations per party per day.
import { endpoints } from "./api.js";
import { explain, initShell, partyName, showStatus } from "./shell.js";
import { clear, fmtDate, fmtDay, fmtTime, h, humanize, ms, s } from "./util.js";

const $ = (id) => document.getElementById(id);
const DAY = 86400000;
const PHASE_STATUS = {
  active: "Active now", ended: "Ended", pending: "Not started yet", never: "Did not start (condition not met)",
};

function phaseTimeline(phases, asOf, tz, agreement) {
  const starts = phases.map((p) => ms(p.start)).filter(Number.isFinite);
  const ends = phases.map((p) => ms(p.end)).filter(Number.isFinite);
  const now = ms(asOf);
  if (!starts.length) return h("p", { class: "muted" }, "No phase has a start time yet.");
  const lo = Math.min(...starts) - DAY / 2;
  let hi = Math.max(...starts, ...ends) + DAY;
  if (Number.isFinite(now) && now > hi && now - hi < 30 * DAY) hi = now + DAY / 2;
  // As wide as the page allows (a phone gets a narrower chart, not a sideways scroll).
  const W = Math.round(Math.max(300, Math.min(720, document.getElementById("phase-timeline")?.clientWidth || 720)));
  const label = W < 480 ? 92 : 150;
  const rowH = 34;
  const H = phases.length * rowH + 34;
  const x = (t) => label + ((t - lo) / (hi - lo)) * (W - label - 10);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart phase-chart", role: "img", "aria-labelledby": "phase-chart-title" },
    s("title", { id: "phase-chart-title" }, `Phases: ${phases.map((p) => `${humanize(p.id)} ${PHASE_STATUS[p.status] || p.status}`).join("; ")}`));
  // day grid
  const firstDay = Math.ceil(lo / DAY) * DAY;
  // A day label needs about 56 px: fewer labels on a narrow chart, never overlapping ones.
  const step = Math.max(1, Math.ceil((hi - lo) / DAY / Math.max(2, Math.floor((W - label) / 56))));
  for (let t = firstDay; t < hi; t += DAY * step) {
    svg.append(s("line", { x1: x(t), x2: x(t), y1: 0, y2: H - 24, class: "grid" }),
      s("text", { x: x(t), y: H - 8, class: "axis", "text-anchor": "middle" }, fmtDay(t, tz)));
  }
  phases.forEach((p, i) => {
    const y = i * rowH + 6;
    const start = ms(p.start);
    const end = ms(p.end);
    const def = agreement?.phases?.find((d) => d.id === p.id);
    svg.append(s("text", { x: 0, y: y + 15, class: "phase-name" }, humanize(p.id)));
    svg.append(s("text", { x: 0, y: y + 28, class: `phase-state state-${p.status}` }, PHASE_STATUS[p.status] || p.status));
    if (Number.isFinite(start)) {
      const x1 = x(start);
      const x2 = Number.isFinite(end) ? x(end) : W - 10;
      svg.append(s("rect", { x: x1, y: y + 2, width: Math.max(3, x2 - x1), height: 22, rx: 3, class: `phase-bar bar-${p.status}${Number.isFinite(end) ? "" : " open"}` },
        s("title", {}, `${humanize(p.id)}: ${fmtTime(p.start, tz)} – ${p.end ? fmtTime(p.end, tz) : "open-ended"}`)));
      if (!Number.isFinite(end)) {
        const roomRight = W - 10 - x1 > 110;
        svg.append(s("text", { x: roomRight ? W - 14 : x1 - 6, y: y + 18, class: "bar-text", "text-anchor": "end" }, roomRight ? "open-ended →" : "open-ended"));
      }
    } else {
      const waits = def?.start?.when || def?.start?.condition || def?.start?.after;
      svg.append(s("text", { x: label + 4, y: y + 18, class: "bar-text muted-text" }, waits ? `waits for ${humanize(waits)}` : "start unknown"));
    }
  });
  if (Number.isFinite(now) && now >= lo && now <= hi) {
    svg.append(s("line", { x1: x(now), x2: x(now), y1: 0, y2: H - 24, class: "now-line" }),
      s("text", { x: x(now) + 3, y: 10, class: "now-text" }, "as of"));
  }
  const list = h("ul", { class: "phase-list" }, phases.map((p) => h("li", { class: `state-${p.status}` },
    h("strong", {}, humanize(p.id)), `: ${PHASE_STATUS[p.status] || p.status}`,
    agreement?.phases?.find((d) => d.id === p.id)?.name ? ` (${agreement.phases.find((d) => d.id === p.id).name})` : "",
    p.start ? ` · from ${fmtTime(p.start, tz)}` : "",
    p.end ? ` to ${fmtTime(p.end, tz)}` : (p.start ? " · open-ended" : ""))));
  return [h("div", { class: "chart-scroll" }, svg), list];
}

function conditionNeeds(cond, def) {
  const within = def?.within?.length ? ` inside ${def.within.map(humanize).join(", ")}` : " anywhere";
  const centres = cond.coverage?.length ? cond.coverage : def?.coverage || [];
  const covered = centres.length ? `, counting only days the bulletins of ${centres.join(", ")} cover` : "";
  return `${cond.days ?? def?.days} consecutive days with at most ${cond.max_incidents ?? def?.max_incidents} violent incidents${within}${covered}.`;
}

function conditionChart(cond) {
  const daily = cond.daily || [];
  if (!daily.length) return h("p", { class: "muted" }, "Counting has not started.");
  const room = document.getElementById("conditions")?.clientWidth || 720;
  const left = 34;
  const right = room < 480 ? 72 : 104; // room for the threshold's label
  // Bars narrow to fit the page (down to 14 px), so every day shows without scrolling.
  const bw = Math.max(14, Math.min(44, Math.floor((room - left - right) / daily.length)));
  const W = left + daily.length * bw + right;
  const H = 200;
  const top = 18;
  const bottom = 40;
  const max = Math.max(cond.max_incidents + 2, ...daily.map((d) => d.incidents));
  const y = (v) => top + (1 - v / max) * (H - top - bottom);
  const svg = s("svg", {
    viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: "chart condition-chart", role: "img",
    "aria-label": `Violent incidents per day for ${cond.id}, threshold ${cond.max_incidents} per day`,
  });
  svg.append(s("defs", {}, s("pattern", { id: `hatch-${cond.id}`, width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
    s("line", { x1: 0, y1: 0, x2: 0, y2: 6, stroke: "#666", "stroke-width": 2 }))));
  for (const v of [0, Math.round(max / 2), max]) {
    svg.append(s("line", { x1: left, x2: W - right, y1: y(v), y2: y(v), class: "grid" }),
      s("text", { x: left - 6, y: y(v) + 4, class: "axis", "text-anchor": "end" }, String(v)));
  }
  const every = Math.ceil(44 / bw); // day labels need ~44 px each
  daily.forEach((d, i) => {
    const x = left + i * bw + 3;
    const w = Math.max(4, bw - 6);
    // A day the named centres' bulletins do not cover counts as not quiet, whatever its count.
    const uncovered = d.covered === false;
    const cls = !d.complete ? "day-open" : uncovered ? "day-uncovered" : d.quiet ? "day-quiet" : "day-loud";
    const state = !d.complete ? "day not over" : uncovered ? "not covered by the bulletins" : d.quiet ? "quiet" : "not quiet";
    const tip = `${fmtDate(d.day)}: ${d.incidents} violent incidents, ${state}`;
    svg.append(s("g", { class: `day ${cls}` },
      s("title", {}, tip),
      s("rect", { x, y: y(d.incidents), width: w, height: Math.max(1, y(0) - y(d.incidents)), class: "bar",
        fill: d.complete ? null : `url(#hatch-${cond.id})` }),
      s("text", { x: x + w / 2, y: y(d.incidents) - 4, class: "bar-value", "text-anchor": "middle" }, String(d.incidents)),
      i % every ? null : s("text", { x: x + w / 2, y: H - bottom + 15, class: "axis", "text-anchor": "middle" }, fmtDate(d.day).split(" ").slice(1).join(" ")),
      s("text", { x: x + w / 2, y: H - bottom + 30, class: `day-mark ${cls}`, "text-anchor": "middle" }, !d.complete ? "…" : uncovered ? "–" : d.quiet ? "✓" : "✗"),
    ));
  });
  svg.append(s("line", { x1: left, x2: W - right + 4, y1: y(cond.max_incidents), y2: y(cond.max_incidents), class: "threshold" }),
    s("text", { x: W - right + 8, y: y(cond.max_incidents) + 4, class: "threshold-text" }, `${room < 480 ? "" : "quiet: "}≤ ${cond.max_incidents}/day`));
  return h("div", { class: "chart-scroll" }, svg);
}

function conditionCard(cond, def, tz) {
  if (cond.kind && cond.kind !== "quiet_days") {
    const st = condState(cond);
    return h("article", { class: `condition ${st.cls}`, "data-condition": cond.id },
      h("h3", {}, def?.name || humanize(cond.id), " ", h("span", { class: `cond-pill ${st.cls}` }, st.label)),
      def?.description ? h("p", {}, h("strong", {}, "Needs: "), def.description) : "",
      cond.met_at ? h("p", {}, h("strong", {}, "First met: "), fmtTime(cond.met_at, tz)) : "",
      !cond.met ? h("p", {}, h("strong", {}, "Where it stands: "), cond.blocking || "—") : "");
  }
  const met = Boolean(cond.met_at);
  const streak = cond.streak_days ?? 0;
  const days = cond.days ?? def?.days ?? 0;
  return h("article", { class: `condition ${met ? "met" : "unmet"}`, "data-condition": cond.id },
    h("h3", {}, def?.name || humanize(cond.id), " ", h("span", { class: `cond-pill ${met ? "met" : "unmet"}` }, met ? "✓ Met" : "Not met yet")),
    h("p", {}, h("strong", {}, "Needs: "), conditionNeeds(cond, def)),
    met ? h("p", {}, h("strong", {}, "Met: "), fmtTime(cond.met_at, tz))
      : h("p", {}, h("strong", {}, "Where it stands: "), cond.blocking || "—"),
    h("div", { class: "streak" },
      h("span", {}, `Quiet-day streak: ${streak} of ${days}`),
      h("progress", { max: days || 1, value: Math.min(streak, days), "aria-label": `Quiet-day streak ${streak} of ${days}` })),
    conditionChart(cond),
    h("p", { class: "chart-key muted" }, "Bars: violent incidents per local day. ✓ quiet, ✗ over the threshold, … day not over (hatched)",
      cond.coverage?.length ? ", – not covered by the bulletins (grey)." : "."),
  );
}

// --- the composite condition as a tree: each part's state and the date it was met -------

function condState(c) {
  if (c.met) return { cls: "met", label: "✓ Met" };
  if (c.met_at) return { cls: "unmet-again", label: "Met, then no longer" };
  return { cls: "unmet", label: "Not met yet" };
}

const partIds = (c) => (c.parts || []).map((p) => (typeof p === "string" ? p : p.id));

function conditionNode(id, byId, agreement, tz, seen = new Set()) {
  const c = byId.get(id);
  const def = agreement?.conditions?.find((d) => d.id === id);
  const name = def?.name || humanize(id);
  if (!c || seen.has(id)) return h("li", {}, name);
  seen.add(id);
  const st = condState(c);
  const when = c.met
    ? `met ${fmtTime(c.met_at, tz)}`
    : c.met_at ? `met ${fmtTime(c.met_at, tz)}, no longer since ${c.unmet_at ? fmtTime(c.unmet_at, tz) : "—"}` : "";
  const kindWords = c.kind === "all_of" ? "all of:" : c.kind === "any_of" ? "any of:" : "";
  return h("li", { class: `cond-node ${st.cls}`, "data-condition-node": id },
    h("span", { class: `cond-pill ${st.cls}` }, st.label), " ",
    h("strong", {}, name),
    when ? h("span", { class: "muted" }, ` · ${when}`) : "",
    def?.description ? h("div", { class: "cond-what muted" }, def.description) : "",
    !c.met && c.blocking && !partIds(c).length ? h("div", { class: "cond-why" }, c.blocking) : "",
    partIds(c).length
      ? h("ul", { class: "cond-tree" }, h("li", { class: "cond-kind muted" }, kindWords),
        partIds(c).map((p) => conditionNode(p, byId, agreement, tz, seen)))
      : "");
}

function conditionTrees(conditions, agreement, tz) {
  const byId = new Map(conditions.map((c) => [c.id, c]));
  const parts = new Set(conditions.flatMap(partIds));
  const roots = conditions.filter((c) => partIds(c).length && !parts.has(c.id));
  if (!roots.length) return null;
  const waitedBy = (id) => (agreement?.phases || []).filter((p) => p.start?.when === id).map((p) => p.name || humanize(p.id));
  return roots.map((c) => h("div", { class: "cond-tree-card", "data-tree": c.id },
    waitedBy(c.id).length ? h("p", {}, h("strong", {}, "Starts the phase: "), waitedBy(c.id).join(", ")) : "",
    h("ul", { class: "cond-tree root" }, conditionNode(c.id, byId, agreement, tz))));
}

function statusList(title, items, what) {
  if (!items?.length) return null;
  return h("div", { class: "status-list" }, h("h3", {}, title), h("ul", {}, items.map((x) => h("li", { "data-status-of": x.id },
    h("strong", {}, x.name || humanize(x.id)), `: ${humanize(x.status)}`,
    x.history?.length ? h("span", { class: "muted" }, ` (${x.history.map((e) => `${humanize(e.status)} ${e.at.slice(0, 16).replace("T", " ")}`).join(" → ")})`) : "",
    what ? what(x) : ""))));
}

function violationsTable(rows, agreement) {
  if (!rows?.length) return h("p", { class: "muted" }, "No violations.");
  const days = [...new Set(rows.map((r) => r.day))].sort();
  const parties = [...new Set(rows.map((r) => r.party))].sort();
  const count = new Map(rows.map((r) => [`${r.day}|${r.party}`, r.count]));
  const max = Math.max(...rows.map((r) => r.count));
  return h("table", { class: "heat" },
    h("caption", { class: "visually-hidden" }, "Violations per party per day"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Day"),
      parties.map((p) => h("th", { scope: "col", title: partyName(agreement, p) }, p === "unattributed" ? "un\u00adattributed" : p)),
      h("th", { scope: "col" }, "Total"))),
    h("tbody", {}, days.map((d) => h("tr", {},
      h("th", { scope: "row" }, fmtDate(d)),
      parties.map((p) => {
        const n = count.get(`${d}|${p}`) || 0;
        const a = n ? 0.12 + 0.6 * (n / max) : 0;
        return h("td", { style: n ? `background: rgba(180, 35, 24, ${a.toFixed(2)})` : null, class: n ? "hit" : "zero" }, n ? String(n) : "·");
      }),
      h("td", { class: "total" }, String(parties.reduce((t, p) => t + (count.get(`${d}|${p}`) || 0), 0)))))),
    h("tfoot", {}, h("tr", {}, h("th", { scope: "row" }, "Total"),
      parties.map((p) => h("td", { class: "total" }, String(rows.filter((r) => r.party === p).reduce((t, r) => t + r.count, 0)))),
      h("td", { class: "total" }, String(rows.reduce((t, r) => t + r.count, 0))))));
}

async function load(id) {
  let agreement, dash;
  try {
    [agreement, dash] = await Promise.all([endpoints.agreement(id), endpoints.dashboard(id)]);
  } catch (err) {
    showStatus(explain(err), "error");
    return;
  }
  const tz = agreement.timezone || "UTC";
  $("agreement-title").textContent = agreement.title || id;
  $("bulletins-link").href = `/bulletins?agreement=${encodeURIComponent(id)}`;
  $("dash-asof").textContent = dash.as_of ? `As of ${fmtTime(dash.as_of, tz)}. Times in the agreement's timezone (${tz}).`
    : `Times in the agreement's timezone (${tz}).`;
  clear($("phase-timeline"), phaseTimeline(dash.phases || [], dash.as_of, tz, agreement));
  const trees = conditionTrees(dash.conditions || [], agreement, tz);
  $("condition-tree-section").hidden = !trees;
  if (trees) clear($("condition-tree"), trees);
  const lists = [
    statusList("Convoys", dash.convoys, (c) => c.incidents?.length ? ` · ${c.incidents.length} incidents near its route in its window` : ""),
    statusList("Checkpoints", dash.checkpoints),
  ].filter(Boolean);
  $("terms-section").hidden = !lists.length;
  if (lists.length) clear($("terms-status"), lists);
  clear($("conditions"), (dash.conditions || []).length
    ? dash.conditions.map((c) => conditionCard(c, agreement.conditions?.find((d) => d.id === c.id), tz))
    : h("p", { class: "muted" }, "This agreement has no conditions."));
  clear($("violations-by-party"), violationsTable(dash.violations_by_party_day, agreement));
  document.body.dataset.ready = "true";
}

initShell({ onAgreement: load }).then((session) => {
  if (!session.me) document.body.dataset.ready = "signed-out";
});
