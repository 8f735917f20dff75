// The incident panel: reports, violations with evidence, review history, review actions.
import { endpoints } from "./api.js";
import { REVIEW_ACTIONS, explain, partyName, session } from "./shell.js";
import { REVIEW_LABELS, STATUSES, eventLabel, statusBadge, symbolSvg } from "./styles.js";
import { clear, fmtTime, h, humanize } from "./util.js";

const ACTION_LABELS = {
  confirm: "Confirm violation", dismiss: "Dismiss", dispute: "Dispute", comment: "Add comment", publish: "Publish",
};

function dl(pairs) {
  return h("dl", { class: "facts" }, pairs.filter(([, v]) => v !== undefined && v !== null && v !== "").map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

function gradeText(r) {
  const g = r.grade || `${r.reliability || ""}${r.credibility || ""}`;
  return g || "ungraded";
}

function reportsList(reports, tz) {
  if (!reports?.length) return h("p", { class: "muted" }, "No reports visible to you.");
  return h("ol", { class: "reports" }, reports.map((r) => {
    const saw = [
      r.actor && `actor: ${r.actor}`, r.target && `target: ${r.target}`,
      r.weapon && `weapon: ${humanize(r.weapon)}`,
      r.count !== undefined && r.count !== null && r.count !== "" ? `count: ${r.count}` : null,
    ].filter(Boolean).join("; ");
    return h("li", { class: "report-row", "data-key": r.key },
      h("div", { class: "report-head" },
        h("strong", {}, r.source || "—"), " ",
        h("abbr", { class: "grade", title: "Admiralty grade: source reliability A–F, information credibility 1–6" }, gradeText(r)),
        " · ", h("span", { class: "nowrap" }, fmtTime(r.observed_at, tz, { weekday: false }))),
      saw ? h("div", { class: "report-saw" }, saw) : null,
      r.notes ? h("div", { class: "report-notes" }, r.notes) : null,
    );
  }));
}

function historyList(history, tz) {
  if (!history?.length) return h("p", { class: "muted history-empty" }, "No reviews yet.");
  return h("ol", { class: "history" }, history.map((e) => h("li", {},
    h("span", { class: "history-when" }, fmtTime(e.at, tz, { weekday: false })), " ",
    h("strong", {}, e.by || "someone"), " ", humanize(e.action || ""),
    e.from && e.to && e.from !== e.to ? ` (${REVIEW_LABELS[e.from] || e.from} → ${REVIEW_LABELS[e.to] || e.to})` : "",
    e.comment ? h("q", {}, e.comment) : "",
  )));
}

function reviewForm(violation, onReviewed) {
  const role = session.me?.role;
  // Offer what would change something: not "confirm" on a confirmed violation, etc.
  const reached = { confirm: "confirmed", dismiss: "dismissed", dispute: "disputed" };
  const actions = (REVIEW_ACTIONS[role] || []).filter((a) => {
    if (a === "publish") return !violation.published;
    return !reached[a] || reached[a] !== (violation.review || "alleged");
  });
  if (!actions.length) return null;
  const comment = h("textarea", { id: `comment-${violation.key}`, rows: 2, class: "review-comment" });
  const message = h("p", { class: "review-message", role: "status", "aria-live": "polite" });
  const form = h("form", { class: "review-form", "data-violation": violation.key },
    h("label", { for: `comment-${violation.key}` }, "Comment (optional for most actions)"),
    comment,
    h("div", { class: "buttons" }, actions.map((action) => h("button", {
      type: "submit", value: action, class: `review-action action-${action}${action === "confirm" ? " primary" : ""}`,
      "data-action": action,
    }, ACTION_LABELS[action] || humanize(action)))),
    message,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const action = event.submitter?.value;
    if (!action) return;
    if (action === "comment" && !comment.value.trim()) {
      message.textContent = "Write a comment first.";
      comment.focus();
      return;
    }
    for (const b of form.querySelectorAll("button")) b.disabled = true;
    message.textContent = "Saving…";
    try {
      const updated = await endpoints.review(violation.key, action, comment.value.trim() || null);
      message.textContent = `Saved: ${REVIEW_LABELS[updated.review] || updated.review}.`;
      onReviewed(updated);
    } catch (err) {
      message.textContent = err.status === 409 ? `Not allowed now: ${err.message}` : explain(err);
      for (const b of form.querySelectorAll("button")) b.disabled = false;
    }
  });
  return form;
}

function violationCard(v, agreement, tz, onReviewed) {
  const rule = agreement?.rules?.find((r) => r.id === v.rule);
  const review = v.review || "alleged";
  return h("article", { class: `violation-card review-${review}`, "data-violation": v.key || v.id },
    h("h4", { title: `rule ${v.rule}` }, rule?.name || humanize(v.kind)),
    rule?.description ? h("p", { class: "rule-text" }, rule.description) : null,
    dl([
      ["Party charged", partyName(agreement, v.party)],
      ["When", fmtTime(v.at, tz)],
      ["Zone", v.zone ? humanize(v.zone) : null],
      ["Sources", v.status === "corroborated" ? "Corroborated (2+ sources)" : "Alleged (1 source)"],
      ["Review", h("span", { class: `review-pill review-${review}` }, REVIEW_LABELS[review] || review)],
      ["Published", v.published === undefined ? null : v.published ? "Yes: observers see it" : "Not yet"],
      ["Measured", v.measured_m !== undefined && v.measured_m !== null ? `${Math.round(v.measured_m)} m` : null],
    ]),
    h("p", { class: "evidence" }, h("strong", {}, "Evidence: "), v.evidence || "—"),
    h("details", { class: "history-details", open: (v.history || []).length > 0 },
      h("summary", {}, `Review history (${(v.history || []).length})`),
      historyList(v.history, tz)),
    reviewForm(v, onReviewed),
  );
}

export class IncidentPanel {
  constructor({ root, body, title, close, onClose }) {
    Object.assign(this, { root, body, title });
    this.current = null;
    close.addEventListener("click", () => { this.hide(); onClose?.(); });
    root.addEventListener("keydown", (e) => { if (e.key === "Escape") { this.hide(); onClose?.(); } });
  }

  hide() {
    this.root.hidden = true;
    this.current = null;
  }

  /** Show one incident; `onReviewed(violation)` is called after each review. */
  async show(agreementId, incident, { agreement, tz, onReviewed }) {
    this.current = incident.key;
    this.root.hidden = false;
    this.title.textContent = `${eventLabel(incident.event_type)}`;
    clear(this.body, h("p", { class: "muted" }, "Loading…"));
    this.root.focus({ preventScroll: false });
    this.root.scrollIntoView({ block: "nearest" });
    let detail;
    try {
      detail = await endpoints.incident(agreementId, incident.key);
    } catch (err) {
      if (this.current !== incident.key) return;
      clear(this.body, h("p", { class: "error" }, explain(err)));
      return;
    }
    if (this.current !== incident.key) return;
    this.render(detail, incident, { agreement, tz, onReviewed, agreementId });
  }

  render(detail, incident, ctx) {
    const { agreement, tz } = ctx;
    const reviewed = (updated) => {
      const list = detail.violations || [];
      const i = list.findIndex((v) => (v.key && v.key === updated.key) || v.id === updated.id);
      if (i >= 0) list[i] = { ...list[i], ...updated };
      ctx.onReviewed(updated); // restyles the map and updates incident.status
      this.render(detail, incident, ctx);
      this.body.querySelector(`[data-violation="${CSS.escape(updated.key || updated.id)}"] .review-message`)
        ?.replaceChildren(`Saved: ${REVIEW_LABELS[updated.review] || updated.review}.`);
    };
    const st = STATUSES[incident.status];
    const violations = detail.violations || [];
    clear(this.body,
      h("div", { class: "panel-summary" },
        h("span", { class: "panel-symbol", "aria-hidden": "true" }),
        statusBadge(incident.status),
      ),
      dl([
        ["Observed", fmtTime(detail.observed_at || incident.observed_at, tz)],
        ["Party charged", partyName(agreement, detail.party ?? incident.party)],
        ["Weapon", detail.weapon ? humanize(detail.weapon) : null],
        ["Sources", `${(detail.sources || incident.sources || []).join(", ") || "—"} (${detail.corroboration ?? incident.corroboration ?? "?"} independent)`],
        ["Best grade", detail.grade || incident.grade],
        ["Location", `${Number(detail.lat ?? incident.lat).toFixed(4)}, ${Number(detail.lon ?? incident.lon).toFixed(4)}`],
        ["Incident id", detail.id || incident.id],
      ]),
      h("h3", {}, `Violations (${violations.length})`),
      violations.length
        ? violations.map((v) => violationCard(v, agreement, tz, reviewed))
        : h("p", { class: "muted" }, st?.help || "No rule of the agreement is broken by this incident."),
      h("h3", {}, `Reports (${(detail.reports || []).length})`),
      reportsList(detail.reports, tz),
    );
    this.body.querySelector(".panel-symbol").innerHTML = symbolSvg(incident.event_type, incident.status, 28);
  }
}
