// The REST API (docs/api.md), with the signed-in user's token.
// The token lives in sessionStorage: it is gone when the tab closes.

const TOKEN_KEY = "truce.token";

export class ApiError extends Error {
  constructor(status, detail, body) {
    super(typeof detail === "string" ? detail : JSON.stringify(detail));
    this.status = status;
    this.detail = detail;
    this.body = body;
  }
}

export function getToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || "";
  } catch {
    return "";
  }
}

export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export async function api(path, { method = "GET", body, headers = {}, query } = {}) {
  const url = new URL(path, window.location.origin);
  if (query) {
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
    }
  }
  const h = { Accept: "application/json", ...headers };
  const token = getToken();
  if (token) h.Authorization = `Bearer ${token}`;
  let payload = body;
  if (body !== undefined && typeof body !== "string") {
    h["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, { method, headers: h, body: payload });
  } catch (err) {
    throw new ApiError(0, `cannot reach the server (${err.message})`);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) {
    const detail = data && typeof data === "object" && "detail" in data ? data.detail : data;
    throw new ApiError(response.status, detail || response.statusText, data);
  }
  return data;
}

export const enc = encodeURIComponent;

export const endpoints = {
  me: () => api("/api/me"),
  agreements: () => api("/api/agreements"),
  agreement: (id) => api(`/api/agreements/${enc(id)}`),
  geojson: (id) => api(`/api/agreements/${enc(id)}/geojson`),
  evaluation: (id, asOf) => api(`/api/agreements/${enc(id)}/evaluation`, { query: { as_of: asOf } }),
  incident: (id, key) => api(`/api/agreements/${enc(id)}/incidents/${enc(key)}`),
  dashboard: (id) => api(`/api/agreements/${enc(id)}/dashboard`),
  sites: (id) => api(`/api/agreements/${enc(id)}/sites`),
  commitments: (id) => api(`/api/agreements/${enc(id)}/commitments`),
  violation: (key) => api(`/api/violations/${enc(key)}`),
  review: (key, action, comment) =>
    api(`/api/violations/${enc(key)}/review`, { method: "POST", body: { action, comment } }),
  validateReports: (rows) => api("/api/reports/validate", { method: "POST", body: rows }),
  submitReports: (rows) => api("/api/reports", { method: "POST", body: rows }),
  gazetteer: (query) => api("/api/gazetteer", { query }),
};
