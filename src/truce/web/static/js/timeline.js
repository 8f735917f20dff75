// The time slider: one step per hour across the agreement's timeline,
// with phase starts and ends as ticks, and a window mode.
import { clear, fmtTime, h, humanize, ms } from "./util.js";

const HOUR = 3600 * 1000;
const WINDOWS = { "24h": 24 * HOUR, "7d": 7 * 24 * HOUR };

export function timelineRange(evaluation) {
  const times = [];
  for (const p of evaluation.phases || []) {
    if (p.start) times.push(ms(p.start));
    if (p.end) times.push(ms(p.end));
  }
  for (const inc of evaluation.incidents || []) times.push(ms(inc.observed_at));
  const finite = times.filter(Number.isFinite);
  if (!finite.length) {
    const now = Date.now();
    return [now - 7 * 24 * HOUR, now];
  }
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  lo = Math.floor(lo / HOUR) * HOUR - 6 * HOUR;
  hi = Math.ceil(hi / HOUR) * HOUR + 6 * HOUR;
  const asOf = ms(evaluation.as_of);
  if (Number.isFinite(asOf) && asOf < hi) hi = Math.max(asOf, lo + HOUR);
  return [lo, hi];
}

export class TimeFilter {
  constructor({ slider, mode, label, ticks, play, tz, onChange }) {
    Object.assign(this, { slider, mode, label, ticks, play, tz, onChange });
    this.lo = 0;
    this.hi = 0;
    this.timer = null;
    slider.addEventListener("input", () => this.changed());
    mode.addEventListener("change", () => this.changed());
    play.addEventListener("click", () => this.togglePlay());
  }

  /** Set the range from an evaluation; keep `initial` ({t, mode}) if given. */
  setRange(evaluation, tz, initial = {}) {
    this.tz = tz;
    [this.lo, this.hi] = timelineRange(evaluation);
    const steps = Math.max(1, Math.round((this.hi - this.lo) / HOUR));
    this.slider.min = "0";
    this.slider.max = String(steps);
    this.slider.step = "1";
    this.slider.disabled = false;
    const t = ms(initial.t);
    this.slider.value = String(Number.isFinite(t) ? Math.round((t - this.lo) / HOUR) : steps);
    if (initial.mode && [...this.mode.options].some((o) => o.value === initial.mode)) this.mode.value = initial.mode;
    this.drawTicks(evaluation.phases || []);
    this.changed();
  }

  time() {
    return this.lo + Number(this.slider.value) * HOUR;
  }

  /** {from, to} in ms (inclusive end) of what to show; null bounds are open. */
  window() {
    const t = this.time();
    const m = this.mode.value;
    if (m === "all") return { from: null, to: null, t, mode: m };
    if (m in WINDOWS) return { from: t - WINDOWS[m], to: t, t, mode: m };
    return { from: null, to: t, t, mode: m };
  }

  changed() {
    const w = this.window();
    const text = w.mode === "all" ? "the whole timeline" : fmtTime(w.t, this.tz);
    this.label.value = text;
    this.label.textContent = text;
    this.slider.setAttribute("aria-valuetext", text);
    this.slider.disabled = w.mode === "all";
    this.onChange(w);
  }

  drawTicks(phases) {
    const span = this.hi - this.lo || 1;
    const pct = (t) => `${(((t - this.lo) / span) * 100).toFixed(2)}%`;
    const items = [];
    phases.forEach((p, i) => {
      const start = ms(p.start);
      const end = ms(p.end);
      if (Number.isFinite(start)) {
        const endPos = Number.isFinite(end) ? end : this.hi;
        items.push(h("span", {
          class: `phase-band phase-${p.status} band-${i % 4}`,
          style: `left:${pct(start)};width:calc(${pct(endPos)} - ${pct(start)})`,
          title: `${humanize(p.id)} (${p.status}): ${fmtTime(p.start, this.tz)} – ${p.end ? fmtTime(p.end, this.tz) : "open-ended"}`,
        }));
        items.push(h("span", { class: "tick tick-start", style: `left:${pct(start)}` }));
        const edge = (start - this.lo) / span > 0.85 ? " edge-right" : "";
        items.push(h("span", { class: `tick-label row-${i % 2}${edge}`, style: `left:${pct(start)}` }, humanize(p.id)));
      }
      if (Number.isFinite(end)) items.push(h("span", { class: "tick tick-end", style: `left:${pct(end)}` }));
    });
    clear(this.ticks, items);
  }

  togglePlay() {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = null;
      this.play.setAttribute("aria-pressed", "false");
      this.play.textContent = "▶ Play";
      return;
    }
    if (this.mode.value === "all") this.mode.value = "24h";
    if (Number(this.slider.value) >= Number(this.slider.max)) this.slider.value = "0";
    this.play.setAttribute("aria-pressed", "true");
    this.play.textContent = "❚❚ Pause";
    const stepH = Math.max(1, Math.round(Number(this.slider.max) / 120));
    this.timer = setInterval(() => {
      const next = Number(this.slider.value) + stepH;
      this.slider.value = String(Math.min(next, Number(this.slider.max)));
      this.changed();
      if (next >= Number(this.slider.max)) this.togglePlay();
    }, 150);
  }
}
