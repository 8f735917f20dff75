// The one sentence a first-time visitor reads: what happened, and which party broke which term.
import { humanize, localParts, ms, plural } from "./util.js";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** The name people read for a rule: its `name`, else its kind in words (never the id). */
export function ruleName(agreement, ruleId, kind) {
  const rule = agreement?.rules?.find((r) => r.id === ruleId);
  return rule?.name || humanize(rule?.kind || kind || ruleId);
}

function partyLabel(agreement, id) {
  const p = agreement?.parties?.find((x) => x.id === id) || agreement?.excluded?.find((x) => x.id === id);
  return p?.name || humanize(id);
}

/** "12–19 Sep 2016", "30 Sep – 2 Oct 2016", "12 Sep 2016". */
function span(fromMs, toMs, tz) {
  const a = localParts(new Date(fromMs), tz);
  const b = localParts(new Date(toMs), tz);
  if (a.y === b.y && a.mo === b.mo && a.d === b.d) return `${a.d} ${MONTHS[a.mo]} ${a.y}`;
  if (a.y === b.y && a.mo === b.mo) return `${a.d}–${b.d} ${MONTHS[a.mo]} ${a.y}`;
  if (a.y === b.y) return `${a.d} ${MONTHS[a.mo]} – ${b.d} ${MONTHS[b.mo]} ${a.y}`;
  return `${a.d} ${MONTHS[a.mo]} ${a.y} – ${b.d} ${MONTHS[b.mo]} ${b.y}`;
}

/**
 * One sentence: the period, the violations recorded and, per party (most violations first),
 * the term it broke most often. Dismissed violations do not count.
 */
export function storySentence(agreement, evaluation, tz) {
  const incidents = evaluation?.incidents || [];
  const violations = (evaluation?.violations || []).filter((v) => v.review !== "dismissed");
  const times = incidents.map((i) => ms(i.observed_at)).filter(Number.isFinite);
  if (!times.length) return "No reports have been recorded for this agreement yet.";
  const when = `From ${span(Math.min(...times), Math.max(...times), tz)}`;
  const seen = `${plural(incidents.length, "incident")}`;
  if (!violations.length) {
    return `${when}, monitors recorded ${seen} and no violation of the agreement's terms.`;
  }
  const byParty = new Map();
  for (const v of violations) {
    const rules = byParty.get(v.party) || new Map();
    rules.set(v.rule, (rules.get(v.rule) || 0) + 1);
    byParty.set(v.party, rules);
  }
  const total = (rules) => [...rules.values()].reduce((a, b) => a + b, 0);
  const parties = [...byParty.entries()]
    .filter(([party]) => party !== "unattributed")
    .sort((a, b) => total(b[1]) - total(a[1]) || a[0].localeCompare(b[0]));
  const clauses = parties.map(([party, rules]) => {
    const [rule, n] = [...rules.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0];
    const kind = violations.find((v) => v.rule === rule)?.kind;
    const all = total(rules);
    const most = all > n ? ` (${n} of ${all})` : "";
    return `${partyLabel(agreement, party)} broke “${ruleName(agreement, rule, kind)}” most often${most}`;
  });
  const unattributed = byParty.has("unattributed") ? total(byParty.get("unattributed")) : 0;
  if (unattributed) clauses.push(`${unattributed} could not be attributed to a party`);
  const list = clauses.length > 1
    ? `${clauses.slice(0, -1).join("; ")}; and ${clauses[clauses.length - 1]}`
    : clauses[0];
  return `${when}, monitors recorded ${plural(violations.length, "violation")} in ${seen}: ${list}.`;
}
