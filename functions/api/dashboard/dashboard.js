"use strict";
// Shopwatch dashboard: plain JavaScript, no dependencies. Every value from the API is put in the page as
// text (textContent, SVG text nodes), never as HTML, so a hostile alert or customer name shows as written.

const BASE = location.pathname.endsWith("/") ? location.pathname : location.pathname + "/";
const FEED_EVERY_MS = 5000;
const CHARTS_EVERY_MS = 30000;
const STATUS_COLORS = { approved: "#2f8f5b", failed: "#e0662c", denied: "#c8233a", reversed: "#7b4bc4", pending: "#8a94a6" };
const SEVERITY_COLORS = { low: "#8a94a6", medium: "#d9a21b", high: "#e0662c", critical: "#c8233a" };
const NEXT_STATUSES = {
  open: ["investigating", "confirmed_fraud", "false_positive", "resolved"],
  investigating: ["confirmed_fraud", "false_positive", "resolved"],
  confirmed_fraud: ["resolved"], false_positive: ["resolved"], resolved: ["investigating"],
};
const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
const state = { selected: null, feedToken: null };

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") node.className = v; else if (k === "on") Object.assign(node, v); else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c == null ? "" : String(c)));
  return node;
}
function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text != null) node.textContent = String(text);
  return node;
}
function when(iso) { return iso ? new Date(iso).toLocaleString() : "—"; }
function shortTime(iso) { return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }); }
// The session: the ID token POST /auth/login gave, and when it stops working (this tab only).
function token() {
  const expires = Date.parse(sessionStorage.getItem("shopwatch.expires_at") || "");
  if (!(expires > Date.now())) return null;
  return sessionStorage.getItem("shopwatch.token");
}
function signedIn() { return token() !== null; }
function signOut(message) {
  sessionStorage.removeItem("shopwatch.token");
  sessionStorage.removeItem("shopwatch.expires_at");
  sessionStorage.removeItem("shopwatch.user");
  $("who").textContent = "";
  askSignIn(message);
}

// --- the API ---------------------------------------------------------------------------------------------
class ApiError extends Error {}
async function api(path, options = {}) {
  if (!signedIn()) { signOut("Your session ended; sign in again."); throw new ApiError("signed out"); }
  const response = await fetch(BASE + path, {
    ...options,
    headers: { "authorization": "Bearer " + token(), "content-type": "application/json" },
  });
  const body = await response.json().catch(() => ({}));
  if (response.status === 401) { signOut("Your session ended; sign in again."); throw new ApiError("signed out"); }
  if (!response.ok) throw new ApiError((body.error && body.error.message) || body.message || response.statusText);
  return body;
}
function showError(error) {
  if (error instanceof ApiError && error.message === "signed out") return;
  $("error").textContent = String(error.message || error);
  $("error").hidden = false;
}
function clearError() { $("error").hidden = true; }

// --- signing in ------------------------------------------------------------------------------------------
function askSignIn(message) {
  $("sign-in-message").textContent = message || "";
  $("sign-in-message").hidden = !message;
  if (!$("sign-in-dialog").open) $("sign-in-dialog").showModal();
}
$("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const username = $("username-input").value.trim();
  const response = await fetch(BASE + "auth/login", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password: $("password-input").value }),
  });
  const body = await response.json().catch(() => ({}));
  $("password-input").value = "";
  if (!response.ok) { askSignIn((body.error && body.error.message) || body.message || response.statusText); return; }
  sessionStorage.setItem("shopwatch.token", body.token);
  sessionStorage.setItem("shopwatch.expires_at", body.expires_at);
  sessionStorage.setItem("shopwatch.user", username);
  $("who").textContent = username;
  $("sign-in-dialog").close();
  refreshAll();
});
$("sign-out").addEventListener("click", () => signOut());

// --- KPI tiles -------------------------------------------------------------------------------------------
async function loadKpis() {
  const m = await api("dashboard/metrics?hours=24");
  const rate = m.alert_rate == null ? "—" : (m.alert_rate * 100).toFixed(2) + "%";
  const triage = m.mean_time_to_triage_seconds == null ? "—" : Math.round(m.mean_time_to_triage_seconds / 60) + " min";
  const tiles = [
    ["transactions", m.transactions, "transactions (24 h)"],
    ["alerts", m.alerts, "alerts (24 h)"],
    ["open", m.open_alerts, "open alerts"],
    ["critical", m.alerts_by_severity.critical + m.alerts_by_severity.high, "high + critical (24 h)"],
    ["rate", rate, "alert rate"],
    ["triage", triage, "mean time to triage"],
  ];
  $("kpis").replaceChildren(...tiles.map(([id, value, label]) =>
    el("div", { class: "tile", id: "kpi-" + id }, el("span", { class: "value" }, value), el("span", { class: "label" }, label))));
}

// --- the live alert feed -----------------------------------------------------------------------------------
function feedQuery(token) {
  const q = new URLSearchParams({ limit: "50" });
  if ($("filter-status").value) q.set("status", $("filter-status").value);
  if ($("filter-severity").value) q.set("min_severity", $("filter-severity").value);
  if (token) q.set("next_token", token);
  return "alerts?" + q;
}
function alertRow(a) {
  const row = el("tr", { "data-alert-id": a.alert_id },
    el("td", {}, when(a.created_at)),
    el("td", {}, el("span", { class: "badge " + a.severity }, a.severity)),
    el("td", {}, a.detector),
    el("td", {}, a.summary),
    el("td", { class: "status" }, a.status),
    el("td", {}, a.occurrences));
  if (a.alert_id === state.selected) row.classList.add("selected");
  row.addEventListener("click", () => openAlert(a.alert_id));
  return row;
}
async function loadFeed() {
  const page = await api(feedQuery());
  $("alerts").tBodies[0].replaceChildren(...page.alerts.map(alertRow));
  state.feedToken = page.next_token;
  $("more-alerts").hidden = !page.next_token;
}
$("more-alerts").addEventListener("click", async () => {
  try {
    const page = await api(feedQuery(state.feedToken));
    $("alerts").tBodies[0].append(...page.alerts.map(alertRow));
    state.feedToken = page.next_token;
    $("more-alerts").hidden = !page.next_token;
  } catch (e) { showError(e); }
});
for (const id of ["filter-status", "filter-severity"]) $(id).addEventListener("change", () => loadFeed().catch(showError));

// --- alert detail and triage ---------------------------------------------------------------------------------
function fact(list, name, value) { list.append(el("dt", {}, name), el("dd", {}, value == null || value === "" ? "—" : value)); }
function renderAlert(a) {
  state.selected = a.alert_id;
  for (const row of $("alerts").tBodies[0].rows) row.classList.toggle("selected", row.dataset.alertId === a.alert_id);
  $("detail-empty").hidden = true;
  $("detail-body").hidden = false;
  $("detail-body").dataset.alertId = a.alert_id;
  $("detail-summary").textContent = a.summary;
  $("detail-narrative").textContent = a.narrative || "";
  const facts = $("detail-facts");
  facts.replaceChildren();
  fact(facts, "Status", a.status);
  fact(facts, "Severity", a.severity + " (risk " + Math.round(a.risk_score) + ")");
  fact(facts, "Detector", a.detector);
  if (a.customer_id) {
    const link = el("a", { href: "#customer-title" }, a.customer_id + (a.customer_name ? " (" + a.customer_name + ")" : ""));
    link.addEventListener("click", () => { $("customer-input").value = a.customer_id; loadCustomer(a.customer_id).catch(showError); });
    fact(facts, "Customer", link);
  } else fact(facts, "Subject", a.subject);
  fact(facts, "Occurrences", a.occurrences);
  fact(facts, "Window", when(a.window.start) + " – " + when(a.window.end));
  fact(facts, "Transactions", a.transaction_ids.join(", "));
  fact(facts, "Feedback", a.feedback ? a.feedback.label + " by " + a.feedback.by : null);
  fact(facts, "Alert id", a.alert_id);
  $("detail-reasons").replaceChildren(...a.reasons.map((r) =>
    el("li", {}, r.message, r.expected != null ? el("span", { class: "muted" }, " (value " + r.value + ", expected " + r.expected + ")") : "")));
  $("detail-notes").replaceChildren(...a.notes.map((n) => el("li", {}, el("span", { class: "muted" }, when(n.at) + " " + n.by + ": "), n.text)));
  $("detail-history").replaceChildren(...a.history.map((h) =>
    el("li", {}, when(h.at) + " · " + h.by + " · " + h.action + (h.to ? " → " + h.to : "") + (h.label ? " (" + h.label + ")" : ""))));
  const next = NEXT_STATUSES[a.status] || [];
  $("status-select").replaceChildren(...next.map((s) => el("option", { value: s }, s)));
  $("status-form").querySelector("button").disabled = next.length === 0;
}
async function openAlert(id) {
  try {
    clearError();
    renderAlert(await api("alerts/" + encodeURIComponent(id)));
    if (window.matchMedia("(max-width: 1100px)").matches) $("detail").scrollIntoView({ behavior: "smooth" });
  } catch (e) { showError(e); }
}
async function triage(path, method, body) {
  const id = state.selected;
  if (!id) return;
  try {
    clearError();
    renderAlert(await api("alerts/" + encodeURIComponent(id) + path, { method, body: JSON.stringify(body) }));
    await loadFeed();
  } catch (e) { showError(e); }
}
$("status-form").addEventListener("submit", (e) => { e.preventDefault(); triage("", "PATCH", { status: $("status-select").value }); });
$("feedback-fraud").addEventListener("click", () => triage("/feedback", "POST", { label: "fraud" }));
$("feedback-legitimate").addEventListener("click", () => triage("/feedback", "POST", { label: "legitimate" }));
$("note-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  await triage("/notes", "POST", { text: $("note-text").value });
  $("note-text").value = "";
});

// --- charts ------------------------------------------------------------------------------------------------
function barChart(container, bars, options) {
  // bars: [{label, parts: [{value, color, title}], marked}]; stacked bars in an SVG that scales with the page
  const width = 640, height = 200, left = 40, bottom = 22, top = 8;
  const max = Math.max(1, ...bars.map((b) => b.parts.reduce((s, p) => s + p.value, 0)));
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": options.title });
  const step = (width - left) / Math.max(1, bars.length), inner = height - bottom - top;
  chart.append(svg("text", { x: 2, y: top + 10, "font-size": 11, fill: "#687385" }, options.format ? options.format(max) : max));
  chart.append(svg("line", { x1: left, x2: width, y1: height - bottom, y2: height - bottom, stroke: "#dde1e7" }));
  bars.forEach((bar, i) => {
    let y = height - bottom;
    for (const part of bar.parts) {
      const h = (part.value / max) * inner;
      if (h <= 0) continue;
      y -= h;
      const barWidth = Math.max(1, Math.min(step - 2, 28));
      const rect = svg("rect", { x: left + i * step + (step - barWidth) / 2, y, width: barWidth, height: h, fill: bar.marked ? "#c8233a" : part.color });
      rect.append(svg("title", {}, bar.label + ": " + part.title));
      chart.append(rect);
    }
    if (i % Math.ceil(bars.length / 8) === 0) {
      chart.append(svg("text", { x: left + i * step, y: height - 6, "font-size": 11, fill: "#687385" }, bar.label));
    }
  });
  container.replaceChildren(chart);
}
async function loadMinutes() {
  const { minutes } = await api("stats/minutes");
  const statuses = Object.keys(STATUS_COLORS);
  barChart($("minute-chart"), minutes.map((m) => ({
    label: shortTime(m.start),
    parts: statuses.map((s) => ({ value: m.statuses[s] || 0, color: STATUS_COLORS[s], title: m.statuses[s] + " " + s })),
  })), { title: "payments per minute by status" });
  $("minute-legend").replaceChildren(...statuses.map((s) => {
    const swatch = el("i");
    swatch.style.background = STATUS_COLORS[s];
    return el("span", {}, swatch, s);
  }));
}
async function loadDaily() {
  const report = await api("stats/daily?days=30");
  const revenue = (d) => Number(d.approved_revenue[report.currency] || 0);
  barChart($("daily-chart"), report.days.map((d) => ({
    label: d.date.slice(5), marked: d.low_performance === true,
    parts: [{ value: revenue(d), color: "#2d5bd3", title: report.currency + " " + revenue(d).toFixed(2) + ", " + d.transactions + " transactions" + (d.low_performance ? " (low)" : "") }],
  })), { title: "approved revenue per day", format: (v) => Math.round(v) });
  const low = report.days.filter((d) => d.low_performance === true).map((d) => d.date);
  $("daily-note").textContent = low.length ? "Low days: " + low.join(", ") : "No low days in the last 30 days.";
}
async function loadSeverities() {
  const dist = await api("dashboard/severity-distribution?hours=24");
  const max = Math.max(1, ...Object.values(dist.severities));
  $("severity-chart").replaceChildren(...Object.entries(dist.severities).map(([s, n]) => {
    const bar = el("div", { class: "bar" });
    bar.style.width = (100 * n / max) + "%";
    bar.style.background = SEVERITY_COLORS[s];
    return el("div", { class: "bar-row", "data-severity": s }, el("span", {}, s), el("div", {}, bar), el("span", {}, n));
  }));
}
async function loadDetectors() {
  const { detectors } = await api("analytics/detectors?days=30");
  $("detectors").tBodies[0].replaceChildren(...detectors.map((d) => el("tr", { "data-detector": d.detector },
    el("td", {}, d.detector), el("td", {}, d.alerts), el("td", {}, d.confirmed), el("td", {}, d.dismissed),
    el("td", {}, d.pending), el("td", {}, d.precision == null ? "—" : (d.precision * 100).toFixed(0) + "%"))));
}

// --- customer drill-down -------------------------------------------------------------------------------------
// `id` exactly as stored (a link passes it untouched: ids may hold spaces, "/", "#" or any letter), sent as one
// percent-encoded path segment, which API Gateway decodes back into the path parameter.
async function loadCustomer(id) {
  if (!id) return;
  const customer = "customers/" + encodeURIComponent(id);
  const metric = $("metric-select").value;
  const [detail, view] = await Promise.all([
    api(customer),
    api(customer + "/anomalies?metric=" + encodeURIComponent(metric)),
  ]);
  const p = detail.profile, facts = $("customer-profile");
  facts.replaceChildren();
  fact(facts, "Name", p.customer_name);
  fact(facts, "Transactions", p.transactions + " (" + p.failed + " failed)");
  fact(facts, "Mean amount", p.mean_amount);
  fact(facts, "Countries", p.countries.join(", "));
  fact(facts, "Alerts", detail.recent_alerts.length);
  fact(facts, metric + " baseline", view.baseline.mean + " ± " + view.baseline.std);
  barChart($("customer-chart"), view.drill_down.map((r) => ({
    label: shortTime(r.timestamp), marked: r.anomalous,
    parts: [{ value: Number(r.metric_value), color: "#2d5bd3", title: metric + " " + r.metric_value + " (" + r.transaction_id + ")" }],
  })), { title: metric + " per transaction" });
  $("customer-rows").tBodies[0].replaceChildren(...view.drill_down.slice().reverse().map((r) => {
    const row = el("tr", {}, el("td", {}, when(r.timestamp)), el("td", {}, r.transaction_id), el("td", {}, r.status),
      el("td", {}, r.amount + " " + r.currency), el("td", {}, r.country), el("td", {}, r.metric_value), el("td", {}, r.z_score));
    if (r.anomalous) row.classList.add("selected");
    return row;
  }));
}
$("customer-form").addEventListener("submit", (e) => { e.preventDefault(); loadCustomer($("customer-input").value.trim()).catch(showError); });

// --- refresh loop ----------------------------------------------------------------------------------------------
async function refreshFeed() {
  if (!signedIn()) { if (sessionStorage.getItem("shopwatch.token")) signOut("Your session ended; sign in again."); return; }
  try {
    await Promise.all([loadFeed(), loadKpis()]);
    $("refreshed").textContent = "updated " + new Date().toLocaleTimeString();
  } catch (e) { showError(e); }
}
async function refreshCharts() {
  if (!signedIn()) return;
  try { await Promise.all([loadMinutes(), loadDaily(), loadSeverities(), loadDetectors()]); } catch (e) { showError(e); }
}
function refreshAll() { clearError(); refreshFeed(); refreshCharts(); openLinkedAlert(); }
function openLinkedAlert() {
  // e-mails link to <dashboard>/#/alerts/<id>
  const linked = /^#\/alerts\/([A-Za-z0-9_]+)$/.exec(location.hash);
  if (linked && signedIn()) openAlert(linked[1]);
}
window.addEventListener("hashchange", openLinkedAlert);

if (!signedIn()) askSignIn(); else { $("who").textContent = sessionStorage.getItem("shopwatch.user") || ""; refreshAll(); }
setInterval(refreshFeed, FEED_EVERY_MS);
setInterval(refreshCharts, CHARTS_EVERY_MS);
