// Bulletins: this centre's list for the agreement; one shown as its readable report, with its PDF.
import { api } from "./api.js";
import { explain, initShell, session, showStatus } from "./shell.js";
import { clear, fmtTime, h } from "./util.js";

const $ = (id) => document.getElementById(id);

function show(seq) {
  const base = `/exchange/bulletins/${encodeURIComponent(seq)}`;
  $("bulletin-view").hidden = false;
  $("shown-title").textContent = `Bulletin ${seq}`;
  $("bulletin-frame").src = `${base}/html`;
  $("bulletin-pdf").href = `${base}/pdf`;
  $("bulletin-json").href = base;
  for (const row of document.querySelectorAll("#bulletin-list tr[data-seq]")) {
    if (row.dataset.seq === String(seq)) row.setAttribute("aria-current", "true");
    else row.removeAttribute("aria-current");
  }
  const url = new URL(window.location.href);
  url.searchParams.set("seq", seq);
  history.replaceState(null, "", url);
}

function table(items, tz) {
  if (!items.length) {
    return h("p", { class: "muted" }, "No bulletins yet. A centre issues them once it has a key ",
      h("code", {}, "truce keys init"), ": on the interval inside ", h("code", {}, "truce serve"),
      " or with ", h("code", {}, "truce bulletin issue"), ".");
  }
  return h("table", { class: "bulletins" },
    h("thead", {}, h("tr", {}, ["No.", "Period from", "Period to (cut-off)", "Issued", ""].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, items.map((b) => h("tr", { "data-seq": String(b.seq) },
      h("td", {}, h("a", { href: `?agreement=${encodeURIComponent(b.agreement)}&seq=${b.seq}`, class: "bulletin-open",
        onclick: (e) => { e.preventDefault(); show(b.seq); } }, String(b.seq))),
      h("td", {}, fmtTime(b.period.from, tz)),
      h("td", {}, fmtTime(b.period.to, tz)),
      h("td", {}, fmtTime(b.issued_at, tz)),
      h("td", {}, h("a", { href: `/exchange/bulletins/${b.seq}/pdf` }, "PDF"))))));
}

async function load(agreementId) {
  let data;
  try {
    data = await api("/exchange/bulletins", { query: { agreement: agreementId, limit: 500 } });
  } catch (err) {
    showStatus(explain(err), "error");
    return;
  }
  const tz = session.agreements.find((a) => a.id === agreementId)?.timezone || "UTC";
  $("list-title").textContent = data.origin ? `Issued by ${data.origin}` : "Issued by this centre";
  clear($("bulletin-list"), table(data.bulletins, tz));
  const wanted = new URLSearchParams(window.location.search).get("seq");
  const shown = data.bulletins.find((b) => String(b.seq) === wanted) || data.bulletins[0];
  if (shown) show(shown.seq);
  else $("bulletin-view").hidden = true;
  document.body.dataset.ready = "true";
}

initShell({ onAgreement: load }).then((s) => {
  // Bulletins are public (peers read them without a token): list them signed out too.
  if (!s.me) load(new URLSearchParams(window.location.search).get("agreement") || undefined);
});
