// What every page shares: sign-in, the agreement picker, the status banner.
import { ApiError, endpoints, getToken, setToken } from "./api.js";
import { clear, h, humanize } from "./util.js";

export const config = JSON.parse(document.getElementById("truce-config")?.textContent || "{}");

/** Review actions each role may take (docs/api.md); the API enforces them too. */
export const REVIEW_ACTIONS = {
  admin: ["confirm", "dismiss", "dispute", "comment", "publish"],
  secretariat: ["confirm", "dismiss", "dispute", "comment", "publish"],
  centre: ["dispute", "comment"],
};
export const SUBMIT_ROLES = new Set(["admin", "secretariat", "centre", "humanitarian"]);

export const session = { me: null, agreements: [], agreementId: null };

export function showStatus(message, kind = "info") {
  const node = document.getElementById("status");
  if (!node) return;
  if (!message) {
    node.hidden = true;
    return;
  }
  node.hidden = false;
  node.className = `status-banner status-${kind}`;
  clear(node, message);
}

export function explain(err) {
  if (err instanceof ApiError) {
    if (err.status === 401) return "Sign in to see this: your token is missing, wrong, revoked or expired.";
    if (err.status === 403) return `Your role may not do this: ${err.message}`;
    if (err.status === 0) return err.message;
    return `${err.status}: ${err.message}`;
  }
  return String(err?.message || err);
}

function openSignIn() {
  const dialog = document.getElementById("signin-dialog");
  const input = document.getElementById("signin-token");
  const error = document.getElementById("signin-error");
  error.hidden = true;
  input.value = "";
  dialog.showModal();
  input.focus();
}

function wireSignIn() {
  const dialog = document.getElementById("signin-dialog");
  const form = document.getElementById("signin-form");
  const input = document.getElementById("signin-token");
  const error = document.getElementById("signin-error");
  document.getElementById("signin-cancel").addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    const previous = getToken();
    setToken(token);
    try {
      await endpoints.me();
    } catch (err) {
      setToken(previous);
      error.hidden = false;
      error.textContent = err.status === 401 ? "That token was not accepted." : explain(err);
      input.focus();
      return;
    }
    dialog.close();
    window.location.reload();
  });
}

function renderAuth() {
  const node = document.getElementById("auth");
  const me = session.me;
  if (!me) {
    clear(node, h("button", { type: "button", class: "primary", id: "signin-button", onclick: openSignIn }, "Sign in"));
    return;
  }
  const role = me.party ? `${me.role}, ${me.party}` : me.role;
  clear(
    node,
    h("span", { class: "whoami", id: "whoami", "data-role": me.role }, me.name, " ", h("span", { class: "role-badge" }, role)),
    h("button", {
      type: "button", id: "signout-button",
      onclick: () => { setToken(""); window.location.reload(); },
    }, "Sign out"),
  );
}

function pickAgreement(agreements) {
  const params = new URLSearchParams(window.location.search);
  const wanted =
    params.get("agreement") || localStorage.getItem("truce.agreement") || config.defaultAgreement;
  if (wanted && agreements.some((a) => a.id === wanted)) return wanted;
  return agreements[0]?.id || null;
}

function renderPicker(onAgreement) {
  const select = document.getElementById("agreement-select");
  if (!select) return;
  const list = session.agreements;
  if (!list.length) {
    clear(select, h("option", {}, session.me ? "No agreements" : "Sign in to choose"));
    select.disabled = true;
    return;
  }
  clear(select, list.map((a) => h("option", { value: a.id, selected: a.id === session.agreementId }, a.title || a.id)));
  select.disabled = list.length < 2;
  select.title = list.find((a) => a.id === session.agreementId)?.title || "";
  select.addEventListener("change", () => {
    session.agreementId = select.value;
    localStorage.setItem("truce.agreement", select.value);
    const url = new URL(window.location.href);
    url.searchParams.set("agreement", select.value);
    window.history.replaceState(null, "", url);
    for (const a of document.querySelectorAll("nav a")) {
      const u = new URL(a.href);
      u.searchParams.set("agreement", select.value);
      a.href = u.pathname + u.search;
    }
    onAgreement(select.value);
  });
}

/**
 * Sign-in state and agreement list, then `onAgreement(id)` for the chosen agreement
 * (and again whenever the picker changes). Returns the session.
 */
export async function initShell({ onAgreement = () => {}, needsAgreement = true } = {}) {
  wireSignIn();
  if (getToken()) {
    try {
      session.me = await endpoints.me();
    } catch (err) {
      if (err.status === 401) setToken("");
      showStatus(explain(err), "error");
    }
  }
  renderAuth();
  if (!session.me) {
    showStatus(
      h("span", {}, "You are not signed in. ",
        h("button", { type: "button", class: "link-button", onclick: openSignIn }, "Sign in with your token"),
        " to see the agreement's incidents and violations."),
      "info",
    );
    renderPicker(onAgreement);
    return session;
  }
  try {
    session.agreements = await endpoints.agreements();
  } catch (err) {
    showStatus(explain(err), "error");
  }
  session.agreementId = pickAgreement(session.agreements);
  if (session.agreementId) localStorage.setItem("truce.agreement", session.agreementId);
  for (const a of document.querySelectorAll("nav a")) {
    if (session.agreementId) a.href = `${a.getAttribute("href").split("?")[0]}?agreement=${encodeURIComponent(session.agreementId)}`;
  }
  renderPicker(onAgreement);
  if (needsAgreement && !session.agreementId) {
    showStatus("No agreements are loaded on this server yet.", "info");
    return session;
  }
  if (session.agreementId) await onAgreement(session.agreementId);
  return session;
}

export function partyName(agreement, id) {
  if (!id) return "—";
  if (id === "unattributed") return "Unattributed";
  const p = agreement?.parties?.find((x) => x.id === id) || agreement?.excluded?.find((x) => x.id === id);
  return p?.name || humanize(id);
}

export function partyShort(id) {
  if (!id) return "—";
  if (id === "unattributed") return "unattributed";
  return id;
}
