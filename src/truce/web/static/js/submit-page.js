// The report form: SPEC §2 fields, gazetteer lookup, server-side validation shown beside each field.
import { endpoints } from "./api.js";
import { SUBMIT_ROLES, explain, initShell, session, showStatus } from "./shell.js";
import { clear, h } from "./util.js";

const $ = (id) => document.getElementById(id);
const form = $("report-form");
const FIELDS = [
  "report_id", "source", "observed_at", "lat", "lon", "place", "location_precision_m", "event_type",
  "weapon", "actor", "side", "target", "count", "fatalities", "reliability", "credibility", "notes",
];
const NUMERIC = new Set(["lat", "lon", "location_precision_m", "count", "fatalities"]);
const FIELD_ALIASES = { longitude: "lon", latitude: "lat", precision_m: "location_precision_m", time: "observed_at" };
let agreement = null;

function newReportId() {
  const t = new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14);
  return `web-${t}-${Math.random().toString(36).slice(2, 6)}`;
}

/** The form as one SPEC §2 row: empty fields left out, numbers sent as numbers when they are numbers. */
function collect() {
  const row = {};
  for (const name of FIELDS) {
    const input = form.elements[name];
    if (!input) continue;
    const value = input.value.trim();
    if (value === "") continue;
    if (NUMERIC.has(name) && /^[-+]?\d+(\.\d+)?$/.test(value)) row[name] = Number(value);
    else if (name === "credibility" && /^\d$/.test(value)) row[name] = Number(value);
    else row[name] = value;
  }
  return row;
}

function clearErrors() {
  for (const p of form.querySelectorAll(".field-error")) {
    p.hidden = true;
    p.textContent = "";
  }
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  for (const f of form.querySelectorAll(".field.has-error")) f.classList.remove("has-error");
  const box = $("form-errors");
  box.hidden = true;
  box.replaceChildren();
}

function fieldOf(rejection) {
  let f = rejection.field || "";
  f = FIELD_ALIASES[f] || f;
  if (!f) {
    // fall back to a field named at the start of the reason ("lat out of range: 123.0")
    const m = /^([a-z_]+)\b/.exec(rejection.reason || "");
    if (m && FIELDS.includes(FIELD_ALIASES[m[1]] || m[1])) f = FIELD_ALIASES[m[1]] || m[1];
  }
  return FIELDS.includes(f) ? f : null;
}

/** Show each problem beside its field; the rest in the box at the top. Returns the count. */
function showErrors(problems) {
  const general = [];
  let first = null;
  for (const p of problems) {
    const name = fieldOf(p);
    const err = name && $(`err-${name}`);
    if (!err) {
      general.push(p.reason || String(p));
      continue;
    }
    err.hidden = false;
    err.textContent = err.textContent ? `${err.textContent} ${p.reason}` : p.reason;
    const input = form.elements[name];
    input?.setAttribute("aria-invalid", "true");
    err.closest(".field")?.classList.add("has-error");
    first = first || input;
  }
  const box = $("form-errors");
  const n = problems.length;
  box.hidden = false;
  clear(box,
    h("p", {}, h("strong", {}, `The report was not stored: ${n === 1 ? "1 problem" : `${n} problems`} to fix.`)),
    general.length ? h("ul", {}, general.map((g) => h("li", {}, g))) : null);
  (first || box).focus();
  return n;
}

function clientChecks(row) {
  const problems = [];
  for (const [name, label] of [["report_id", "report id"], ["source", "source"], ["observed_at", "time observed"], ["event_type", "event type"]]) {
    if (!(name in row)) problems.push({ field: name, reason: `Give the ${label}.` });
  }
  if (!("place" in row) && !("lat" in row && "lon" in row)) {
    if (!("lat" in row)) problems.push({ field: "lat", reason: "Give latitude and longitude, or a place name." });
    if (!("lon" in row)) problems.push({ field: "lon", reason: "Give latitude and longitude, or a place name." });
  }
  return problems;
}

async function send({ store }) {
  clearErrors();
  const result = $("submit-result");
  result.replaceChildren();
  const row = collect();
  const local = clientChecks(row);
  if (local.length) {
    showErrors(local);
    return;
  }
  const buttons = form.querySelectorAll("button");
  for (const b of buttons) b.disabled = true;
  try {
    const checked = await endpoints.validateReports([row]);
    if (checked.rejected?.length) {
      showErrors(checked.rejected);
      return;
    }
    if (!store) {
      clear(result, h("p", { class: "ok" }, "✓ No problems found. Nothing was stored yet."));
      return;
    }
    const answer = await endpoints.submitReports([row]);
    if (answer.rejected?.length) {
      showErrors(answer.rejected);
      return;
    }
    const res = answer.results?.[0] || {};
    const dup = answer.duplicate > 0 || res.status === "duplicate";
    clear(result,
      h("p", { class: "ok", id: "submit-ok" }, dup
        ? `This report was already stored (${res.key || row.report_id}); nothing changed.`
        : `✓ Stored report ${res.key || `${row.source}:${row.report_id}`}.`),
      h("p", {}, h("a", { href: `/?agreement=${encodeURIComponent(session.agreementId || "")}` }, "See it on the map"),
        " · ", h("button", { type: "button", class: "link-button", onclick: resetForm }, "Write another report")));
  } catch (err) {
    if (err.status === 400 || err.status === 422) {
      const detail = Array.isArray(err.detail)
        ? err.detail.map((d) => ({ field: Array.isArray(d.loc) ? d.loc[d.loc.length - 1] : null, reason: d.msg || String(d) }))
        : [{ reason: err.message }];
      showErrors(detail);
    } else {
      clear(result, h("p", { class: "error" }, explain(err)));
    }
  } finally {
    for (const b of buttons) b.disabled = false;
  }
}

function resetForm() {
  form.reset();
  clearErrors();
  $("submit-result").replaceChildren();
  prefill();
  form.elements.report_id.focus();
}

function prefill() {
  form.elements.report_id.value = newReportId();
  if (session.me && !form.elements.source.value) form.elements.source.value = session.me.name || "";
  if (session.me?.role === "centre") {
    form.elements.source.readOnly = true;
    form.elements.side.value = session.me.party || "";
  }
}

// --- gazetteer lookup -------------------------------------------------------------

async function lookup(name) {
  const list = $("place-results");
  const err = $("err-place");
  err.hidden = true;
  const q = (name ?? form.elements.place.value).trim();
  if (!q) {
    err.hidden = false;
    err.textContent = "Type a place name to look up.";
    form.elements.place.focus();
    return;
  }
  list.hidden = false;
  clear(list, h("li", { class: "muted" }, "Looking up…"));
  try {
    const places = await endpoints.gazetteer({ q });
    clear(list, places.slice(0, 8).map((p) => h("li", {}, h("button", {
      type: "button", class: "place-choice",
      onclick: () => {
        form.elements.place.value = p.name;
        form.elements.lat.value = Number(p.lat).toFixed(5);
        form.elements.lon.value = Number(p.lon).toFixed(5);
        list.hidden = true;
        form.elements.lat.focus();
      },
    }, h("strong", {}, p.name), ` — ${p.kind || "place"}, ${Number(p.lat).toFixed(4)}, ${Number(p.lon).toFixed(4)}`,
    p.source ? h("span", { class: "muted" }, ` (${p.source})`) : ""))));
    if (!places.length) clear(list, h("li", { class: "muted" }, "No match."));
  } catch (e) {
    const body = e.body || {};
    const suggestions = body.suggestions || body.detail?.suggestions || [];
    const message = typeof body.detail === "string" ? body.detail : body.detail?.message || explain(e);
    clear(list,
      h("li", { class: "muted" }, e.status === 404 ? `No place called “${q}”. ${message === "Not Found" ? "" : message}` : explain(e)),
      suggestions.map((sug) => {
        const label = typeof sug === "string" ? sug : sug.name;
        return h("li", {}, h("button", { type: "button", class: "place-choice", onclick: () => { form.elements.place.value = label; lookup(label); } }, `Did you mean ${label}?`));
      }));
  }
}

$("place-lookup").addEventListener("click", () => lookup());
form.elements.place.addEventListener("keydown", (e) => {
  if (e.key === "Enter") {
    e.preventDefault();
    lookup();
  }
});
form.addEventListener("submit", (e) => {
  e.preventDefault();
  send({ store: true });
});
$("check-button").addEventListener("click", () => send({ store: false }));

initShell({
  onAgreement: async (id) => {
    try {
      agreement = await endpoints.agreement(id);
    } catch (err) {
      showStatus(explain(err), "error");
      return;
    }
    const side = form.elements.side;
    const current = side.value;
    clear(side, h("option", { value: "" }, "— not stated —"),
      (agreement.parties || []).map((p) => h("option", { value: p.id }, `${p.id} — ${p.name}`)));
    side.value = current;
    const tz = agreement.timezone || "UTC";
    $("hint-observed_at").textContent = `ISO 8601 with its UTC offset, e.g. 2016-09-13T04:10:00${/^[+-]\d\d:\d\d$/.test(tz) ? tz : "+03:00"}.`;
  },
}).then(() => {
  prefill();
  if (session.me && !SUBMIT_ROLES.has(session.me.role)) {
    showStatus(`Your role (${session.me.role}) may not submit reports; the server will refuse them.`, "info");
  }
  document.body.dataset.ready = session.me ? "true" : "signed-out";
});
