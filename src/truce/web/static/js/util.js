// Small DOM and formatting helpers shared by the pages.

/** Build an element: h("p", {class: "x", onclick: f}, "text", child, ...). */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Same for SVG elements. */
export function s(tag, attrs = {}, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

export function clear(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

export function humanize(id) {
  if (!id) return "";
  return String(id).replace(/[_-]+/g, " ").replace(/^\w/, (c) => c.toUpperCase());
}

// --- time ---------------------------------------------------------------
// The API writes times with the agreement's offset; we show them in the
// agreement's timezone too, whatever the browser's own zone is.

const OFFSET_RE = /^([+-])(\d{2}):?(\d{2})$/;

export function tzOffsetMinutes(tz, date) {
  if (!tz || tz === "UTC" || tz === "Z") return 0;
  const m = OFFSET_RE.exec(tz);
  if (m) return (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
  try {
    const parts = new Intl.DateTimeFormat("en-US", {
      timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    }).formatToParts(date);
    const get = (t) => Number(parts.find((p) => p.type === t).value);
    const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
    return Math.round((asUtc - date.getTime()) / 60000);
  } catch {
    return 0;
  }
}

function offsetLabel(minutes) {
  const sign = minutes < 0 ? "−" : "+";
  const a = Math.abs(minutes);
  return `${sign}${String(Math.floor(a / 60)).padStart(2, "0")}:${String(a % 60).padStart(2, "0")}`;
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Parts of a time in `tz`: {y, mo, d, hh, mm, dow, offset}. */
export function localParts(value, tz) {
  const date = value instanceof Date ? value : new Date(value);
  const off = tzOffsetMinutes(tz, date);
  const local = new Date(date.getTime() + off * 60000);
  return {
    y: local.getUTCFullYear(), mo: local.getUTCMonth(), d: local.getUTCDate(),
    hh: String(local.getUTCHours()).padStart(2, "0"), mm: String(local.getUTCMinutes()).padStart(2, "0"),
    dow: local.getUTCDay(), offset: off,
  };
}

/** "Tue 13 Sep 2016, 04:10 (+03:00)" */
export function fmtTime(value, tz, { offset = true, weekday = true } = {}) {
  if (value === null || value === undefined || value === "") return "—";
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  const p = localParts(date, tz);
  const wd = weekday ? `${DAYS[p.dow]} ` : "";
  const off = offset ? ` (${offsetLabel(p.offset)})` : "";
  return `${wd}${p.d} ${MONTHS[p.mo]} ${p.y}, ${p.hh}:${p.mm}${off}`;
}

/** "13 Sep" */
export function fmtDay(value, tz) {
  const p = localParts(value, tz);
  return `${p.d} ${MONTHS[p.mo]}`;
}

/** A YYYY-MM-DD day label -> "Tue 13 Sep". */
export function fmtDate(day) {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(day || "");
  if (!m) return day || "—";
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return `${DAYS[d.getUTCDay()]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
}

/** ISO 8601 with the agreement's offset, for as_of and form defaults. */
export function isoInTz(value, tz) {
  const date = value instanceof Date ? value : new Date(value);
  const p = localParts(date, tz);
  const ss = String(new Date(date.getTime() + p.offset * 60000).getUTCSeconds()).padStart(2, "0");
  const off = offsetLabel(p.offset).replace("−", "-");
  return `${p.y}-${String(p.mo + 1).padStart(2, "0")}-${String(p.d).padStart(2, "0")}T${p.hh}:${p.mm}:${ss}${off}`;
}

export function ms(value) {
  if (value === null || value === undefined) return NaN;
  return new Date(value).getTime();
}

export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}
