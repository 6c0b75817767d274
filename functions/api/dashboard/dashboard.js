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
// A series' time labels: the time alone within a day, the date with it when the series spans more (a customer's
// purchases over weeks read "Nov 3, 14:05", not three "14:05"s).
function timeLabels(isos) {
  const times = isos.map((iso) => new Date(iso).getTime());
  const span = times.length ? Math.max(...times) - Math.min(...times) : 0;
  if (span < 20 * 3600 * 1000) return isos.map(shortTime);
  return isos.map((iso) => new Date(iso).toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }));
}
// Numbers people read: thousands separators, money with its currency code, at most `digits` decimals.
function number(value, digits = 0) {
  const n = Number(value);
  return Number.isFinite(n) ? n.toLocaleString(undefined, { maximumFractionDigits: digits }) : "—";
}
function money(value, currency, digits = 2) {
  const n = Number(value);
  if (!Number.isFinite(n)) return "—";
  if (!currency) return number(n, digits);
  try {
    return n.toLocaleString(undefined, { style: "currency", currency, currencyDisplay: "code", minimumFractionDigits: digits, maximumFractionDigits: digits });
  } catch (e) {  // a code the browser does not know: the number and the code as sent
    return number(n, digits) + " " + currency;
  }
}
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
  applyRole();
  askSignIn(message);
}

// --- the API ---------------------------------------------------------------------------------------------
// An API refusal: its message, HTTP status and the error object ({code, message, details}) when there is one.
class ApiError extends Error {
  constructor(message, status, error) { super(message); this.status = status; this.error = error || null; }
}
async function api(path, options = {}) {
  if (!signedIn()) { signOut("Your session ended; sign in again."); throw new ApiError("signed out"); }
  const response = await fetch(BASE + path, {
    ...options,
    headers: { "authorization": "Bearer " + token(), "content-type": "application/json" },
  });
  const body = await response.json().catch(() => ({}));
  if (response.status === 401) { signOut("Your session ended; sign in again."); throw new ApiError("signed out", 401); }
  if (!response.ok) {
    throw new ApiError((body.error && body.error.message) || body.message || response.statusText, response.status, body.error);
  }
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

// --- the alert queue -------------------------------------------------------------------------------------------
// The analyst's queue: medium and above, highest risk first then the longest waiting (GET /alerts?order=risk),
// one line per alert, worked from the keyboard. The periodic refresh never moves rows under the analyst: alerts
// not on screen are announced in a bar ("3 new alerts — show") and shown when it is clicked. It renders at once
// only when that moves nothing anyone is looking at: the list is empty, or it is scrolled to its top with no
// current row, no alert open and nothing selected.
const queue = { alerts: [], cursor: null, checked: new Set(), filtersOf: null };
const DEFAULT_FILTER = { name: "Medium+ open", status: "open", min_severity: "medium", order: "risk" };
const MAX_SAVED_FILTERS = 20;
const MAX_BULK = 100;

function feedQuery(token) {
  const q = new URLSearchParams({ limit: "50", order: $("filter-order").value });
  if ($("filter-status").value) q.set("status", $("filter-status").value);
  if ($("filter-severity").value) q.set("min_severity", $("filter-severity").value);
  if (token) q.set("next_token", token);
  return "alerts?" + q;
}
function age(iso) {
  const minutes = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 60000));
  if (minutes < 1) return "now";
  if (minutes < 60) return minutes + " min";
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? hours + " h" : Math.floor(hours / 24) + " d";
}
function alertWho(a) { return a.customer_name || a.customer_id || a.subject; }
function alertWhat(a) { return a.detector.replace(/_/g, " ") + " · " + a.summary; }
function alertRow(a) {
  const box = el("input", { type: "checkbox", "aria-label": "select the alert about " + alertWho(a) });
  box.checked = queue.checked.has(a.alert_id);
  box.addEventListener("click", (event) => event.stopPropagation());
  box.addEventListener("change", () => check(a.alert_id, box.checked));
  const row = el("tr", { "data-alert-id": a.alert_id, tabindex: "-1", "aria-selected": "false" },
    el("td", { class: "pick" }, box),
    el("td", { class: "severity" }, el("span", { class: "badge " + a.severity }, a.severity)),
    el("td", { class: "risk" }, number(a.risk_score, 1)),
    el("td", { class: "who", title: alertWho(a) }, alertWho(a)),
    el("td", { class: "what", title: alertWhat(a) }, alertWhat(a)),
    el("td", { class: "amount" }, a.amount == null ? "" : money(a.amount, a.currency)),
    el("td", { class: "age" }, el("time", { datetime: a.created_at, title: when(a.created_at) }, age(a.created_at))),
    el("td", { class: "status", title: a.status }, a.status));
  if (a.alert_id === state.selected) row.classList.add("selected");
  row.addEventListener("click", () => { moveCursor(a.alert_id, false); openAlert(a.alert_id); });
  return row;
}
function queueRows() { return [...$("alerts").tBodies[0].rows]; }
function markCursor(focus) {
  const rows = queueRows();
  for (const row of rows) {
    const current = row.dataset.alertId === queue.cursor;
    row.classList.toggle("current", current);
    row.setAttribute("aria-selected", String(current));
    row.tabIndex = current ? 0 : -1;
    if (current && focus) { row.focus(); row.scrollIntoView({ block: "nearest" }); }
  }
  if (!queue.cursor && rows.length) rows[0].tabIndex = 0;  // Tab still reaches the list
}
function moveCursor(id, focus) { queue.cursor = id; markCursor(focus); }
function step(by) {
  const rows = queueRows();
  if (!rows.length) return;
  const at = rows.findIndex((r) => r.dataset.alertId === queue.cursor);
  const next = at < 0 ? (by > 0 ? 0 : rows.length - 1) : Math.min(rows.length - 1, Math.max(0, at + by));
  moveCursor(rows[next].dataset.alertId, true);
}
// `keepAt`: the row index the cursor was on, for when its alert left the list (triaged out of the filter): the
// cursor stays where it was, on the next alert in line.
function renderQueue(alerts, nextToken, keepAt) {
  queue.alerts = alerts;
  const ids = new Set(alerts.map((a) => a.alert_id));
  for (const id of [...queue.checked]) if (!ids.has(id)) queue.checked.delete(id);
  if (queue.cursor && !ids.has(queue.cursor)) {
    queue.cursor = keepAt != null && alerts.length ? alerts[Math.min(keepAt, alerts.length - 1)].alert_id : null;
  }
  $("alerts").tBodies[0].replaceChildren(...alerts.map(alertRow));
  $("new-alerts").hidden = true;
  state.feedToken = nextToken;
  $("more-alerts").hidden = !nextToken;
  showChecked();
}
function quietToRender() {
  return queue.alerts.length === 0 ||
    ($("queue-scroll").scrollTop === 0 && !queue.cursor && !state.selected && queue.checked.size === 0);
}
async function loadFeed({ background = false, keepAt = null, focus = false } = {}) {
  if (queue.filtersOf !== (sessionStorage.getItem("shopwatch.user") || "")) listFilters();
  const page = await api(feedQuery());
  if (background && !quietToRender()) {
    const shown = new Set(queue.alerts.map((a) => a.alert_id));
    const fresh = page.alerts.filter((a) => !shown.has(a.alert_id)).length;
    $("new-alerts").textContent = fresh + (fresh === 1 ? " new alert" : " new alerts") + " — show";
    $("new-alerts").hidden = fresh === 0;
    for (const time of $("alerts").querySelectorAll("td.age time")) time.textContent = age(time.getAttribute("datetime"));
    return;
  }
  renderQueue(page.alerts, page.next_token, keepAt);
  markCursor(focus);
}
$("new-alerts").addEventListener("click", () => loadFeed({ focus: !!queue.cursor }).catch(showError));
$("more-alerts").addEventListener("click", async () => {
  try {
    const page = await api(feedQuery(state.feedToken));
    const shown = new Set(queue.alerts.map((a) => a.alert_id));
    const added = page.alerts.filter((a) => !shown.has(a.alert_id));
    queue.alerts = queue.alerts.concat(added);
    $("alerts").tBodies[0].append(...added.map(alertRow));
    markCursor(false);
    state.feedToken = page.next_token;
    $("more-alerts").hidden = !page.next_token;
  } catch (e) { showError(e); }
});
for (const id of ["filter-status", "filter-severity", "filter-order"]) {
  $(id).addEventListener("change", () => { listFilters(); loadFeed().catch(showError); });
}

// selection and the bulk action (POST /alerts/bulk: each alert on its own, with the reason in its history)
function check(id, on) {
  if (on) queue.checked.add(id); else queue.checked.delete(id);
  const box = $("alerts").querySelector(`tr[data-alert-id="${CSS.escape(id)}"] input[type=checkbox]`);
  if (box) box.checked = on;
  showChecked();
}
function showChecked() {
  const n = queue.checked.size;
  $("bulk-bar").hidden = n === 0;
  $("bulk-count").textContent = n + (n === 1 ? " alert selected" : " alerts selected");
  for (const row of queueRows()) row.classList.toggle("checked", queue.checked.has(row.dataset.alertId));
}
$("bulk-clear").addEventListener("click", () => { queue.checked.clear(); renderQueue(queue.alerts, state.feedToken); markCursor(false); });
$("bulk-bar").addEventListener("submit", async (event) => {
  event.preventDefault();
  const ids = [...queue.checked], reason = $("bulk-reason").value.trim();
  if (!reason) { say("bulk-status", "Give a reason: it is kept in each alert's history.", true); return; }
  if (ids.length > MAX_BULK) { say("bulk-status", "At most " + MAX_BULK + " alerts at once.", true); return; }
  try {
    const answer = await api("alerts/bulk", post({ alert_ids: ids, action: $("bulk-action").value, reason }));
    const refused = answer.results.filter((r) => r.outcome === "refused");
    say("bulk-status", answer.changed + " changed, " + answer.unchanged + " already so" +
      (refused.length ? "; " + refused.length + " refused: " + refused.map((r) => r.error.message).join("; ") : "") + ".", refused.length > 0);
    queue.checked.clear();
    $("bulk-reason").value = "";
    await loadFeed();
    if (state.selected && ids.includes(state.selected)) await openAlert(state.selected);
  } catch (e) { say("bulk-status", problemMessage(e), true); }
});

// the keyboard: j/k (or the arrows in the list) move, Enter/o open, a assign to me, f fraud, l legitimate,
// x select, ? the list of keys; never while a text field has the focus, nor with a modifier key
async function actOnCurrent(path, method, body, done) {
  const id = queue.cursor;
  if (!id) { say("bulk-status", "No current alert: move to one with j or k."); return; }
  const at = queueRows().findIndex((r) => r.dataset.alertId === id);
  try {
    clearError();
    const alert = await api("alerts/" + encodeURIComponent(id) + path, { method, body: JSON.stringify(body) });
    if (state.selected === id) renderAlert(alert);
    say("bulk-status", done + ": " + alertWho(alert) + " (" + alert.status + ").");
    await loadFeed({ keepAt: at, focus: true });
  } catch (e) { showError(e); }
}
function typing(target) {
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable || target.closest("textarea, select, dialog")) return true;
  return target.tagName === "INPUT" && !["checkbox", "radio", "button", "submit"].includes(target.type);
}
const QUEUE_KEYS = {
  j: () => step(1),
  k: () => step(-1),
  o: () => { if (queue.cursor) openAlert(queue.cursor); },
  a: () => actOnCurrent("", "PATCH", { assignee: sessionStorage.getItem("shopwatch.user") }, "Assigned to you"),
  f: () => actOnCurrent("/feedback", "POST", { label: "fraud" }, "Marked fraud"),
  l: () => actOnCurrent("/feedback", "POST", { label: "legitimate" }, "Marked legitimate"),
  x: () => { if (queue.cursor) check(queue.cursor, !queue.checked.has(queue.cursor)); },
  "?": () => $("shortcuts").showModal(),
};
document.addEventListener("keydown", (event) => {
  if (currentView() !== "overview" || !signedIn() || event.ctrlKey || event.metaKey || event.altKey) return;
  if (typing(event.target) || document.querySelector("dialog[open]")) return;
  const inList = event.target instanceof Element && event.target.closest("#alerts") !== null;
  let key = event.key;
  if (key === "ArrowDown" || key === "ArrowUp") {
    if (!inList) return;  // elsewhere the arrows scroll the page, as ever
    key = key === "ArrowDown" ? "j" : "k";
  }
  if (key === "Enter") {
    if (!(inList && event.target.tagName === "TR")) return;  // Enter on a button or link keeps its meaning
    key = "o";
  }
  if (!Object.hasOwn(QUEUE_KEYS, key)) return;
  event.preventDefault();
  QUEUE_KEYS[key]();
});
$("shortcuts-open").addEventListener("click", () => $("shortcuts").showModal());
$("shortcuts-close").addEventListener("click", () => $("shortcuts").close());

// saved filters: per user name in localStorage (this browser only), at most 20, and the built-in "Medium+ open"
function filtersKey() { return "shopwatch.filters." + (sessionStorage.getItem("shopwatch.user") || ""); }
function savedFilters() {
  try {
    const stored = JSON.parse(localStorage.getItem(filtersKey()) || "[]");
    return Array.isArray(stored) ? stored.filter((f) => f && typeof f.name === "string" && f.name.length <= 40) : [];
  } catch (e) { return []; }  // a value this page did not write: as if none
}
function currentFilter(name) {
  return { name, status: $("filter-status").value, min_severity: $("filter-severity").value, order: $("filter-order").value };
}
function sameFilter(a, b) { return a.status === b.status && a.min_severity === b.min_severity && a.order === b.order; }
function listFilters() {
  queue.filtersOf = sessionStorage.getItem("shopwatch.user") || "";
  const all = [DEFAULT_FILTER, ...savedFilters()];
  const now = currentFilter("");
  const matching = all.find((f) => sameFilter(f, now));
  $("saved-filters").replaceChildren(el("option", { value: "" }, "—"), ...all.map((f) => el("option", { value: f.name }, f.name)));
  $("saved-filters").value = matching ? matching.name : "";
  $("remove-filter").disabled = !matching || matching === DEFAULT_FILTER;
}
function setSelect(id, value) {
  if ([...$(id).options].some((o) => o.value === value)) $(id).value = value;
}
$("saved-filters").addEventListener("change", () => {
  const chosen = [DEFAULT_FILTER, ...savedFilters()].find((f) => f.name === $("saved-filters").value);
  if (!chosen) return;
  setSelect("filter-status", chosen.status);
  setSelect("filter-severity", chosen.min_severity);
  setSelect("filter-order", chosen.order);
  listFilters();
  loadFeed().catch(showError);
});
$("save-filter-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const name = $("save-filter-name").value.trim();
  const saved = savedFilters();
  if (!name || name.length > 40) { say("filter-status-text", "A filter's name has 1 to 40 characters.", true); return; }
  if (name === DEFAULT_FILTER.name) { say("filter-status-text", "That is the built-in filter's name.", true); return; }
  const others = saved.filter((f) => f.name !== name);
  if (others.length >= MAX_SAVED_FILTERS) {
    say("filter-status-text", "At most " + MAX_SAVED_FILTERS + " saved filters: remove one first.", true);
    return;
  }
  localStorage.setItem(filtersKey(), JSON.stringify([...others, currentFilter(name)]));
  $("save-filter-name").value = "";
  listFilters();
  $("saved-filters").value = name;
  $("remove-filter").disabled = false;
  say("filter-status-text", "Saved “" + name + "”.");
});
$("remove-filter").addEventListener("click", () => {
  const name = $("saved-filters").value;
  if (!name || name === DEFAULT_FILTER.name) return;
  localStorage.setItem(filtersKey(), JSON.stringify(savedFilters().filter((f) => f.name !== name)));
  listFilters();
  say("filter-status-text", "Removed “" + name + "”.");
});

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
    const page = el("a", { href: "#/entities/customer/" + encodeURIComponent(a.customer_id), class: "account-page" }, "account page");
    fact(facts, "Customer", el("span", {}, link, " · ", page));
  } else fact(facts, "Subject", a.subject);
  fact(facts, "Occurrences", a.occurrences);
  fact(facts, "Window", when(a.window.start) + " – " + when(a.window.end));
  const transactions = el("span", { class: "transaction-links" });
  a.transaction_ids.forEach((id, i) => transactions.append(i ? ", " : "", el("a", { href: "#/transactions/" + encodeURIComponent(id) }, id)));
  fact(facts, "Transactions", a.transaction_ids.length ? transactions : null);
  fact(facts, "Feedback", a.feedback ? a.feedback.label + " by " + a.feedback.by : null);
  fact(facts, "Alert id", a.alert_id);
  $("detail-reasons").replaceChildren(...a.reasons.map((r) =>
    el("li", {}, r.message, r.expected != null ? el("span", { class: "muted" }, " (value " + r.value + ", expected " + r.expected + ")") : "")));
  $("detail-notes").replaceChildren(...a.notes.map((n) => el("li", {}, el("span", { class: "muted" }, when(n.at) + " " + n.by + ": "), n.text)));
  $("detail-history").replaceChildren(...a.history.map((h) =>
    el("li", {}, when(h.at) + " · " + h.by + " · " + h.action + (h.to ? " → " + h.to : "") + (h.label ? " (" + h.label + ")" : "") + (h.reason ? ": " + h.reason : ""))));
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
    await loadFeed({ keepAt: queueRows().findIndex((r) => r.dataset.alertId === id) });
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
  // bars: [{label, parts: [{value, color, title}], marked}]; stacked bars in an SVG that scales with the page.
  // options: {title, format (the axis's top value, e.g. money), unit (said after the title)}
  const width = 640, height = 200, bottom = 22, top = 8, charWidth = 6.2;
  const max = Math.max(1, ...bars.map((b) => b.parts.reduce((s, p) => s + p.value, 0)));
  const topLabel = (options.format || number)(max);
  const left = Math.max(40, Math.ceil(topLabel.length * charWidth) + 8);  // the axis label fits its margin
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": options.title + (options.unit ? " (" + options.unit + ")" : "") });
  const step = (width - left) / Math.max(1, bars.length), inner = height - bottom - top;
  // at most eight labels, and never so many that they overlap (a date and a time is ~15 characters)
  const longest = Math.max(0, ...bars.map((b) => String(b.label).length)) * charWidth + 10;
  const every = Math.max(Math.ceil(bars.length / 8), Math.ceil(longest / step));
  let lastLabelEnd = -Infinity;
  chart.append(svg("text", { x: 2, y: top + 10, "font-size": 11, fill: "#687385", class: "axis-max" }, topLabel));
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
    if (i % every === 0) {
      // under its bar's middle, kept inside the chart: a label at either edge is anchored to it, not cut off
      const middle = left + i * step + step / 2, half = (String(bar.label).length * charWidth) / 2;
      const anchor = middle + half > width ? "end" : middle - half < 0 ? "start" : "middle";
      const x = anchor === "end" ? width - 1 : anchor === "start" ? 1 : middle;
      const from = anchor === "end" ? x - 2 * half : anchor === "start" ? x : x - half;
      if (from >= lastLabelEnd + 4) {  // a label pushed in from the edge may reach the one before: then it is left out
        chart.append(svg("text", { x, y: height - 6, "font-size": 11, fill: "#687385", "text-anchor": anchor, class: "axis-label" }, bar.label));
        lastLabelEnd = from + 2 * half;
      }
    }
  });
  container.replaceChildren(chart);
}
async function loadMinutes() {
  const { minutes } = await api("stats/minutes");
  const statuses = Object.keys(STATUS_COLORS);
  const labels = timeLabels(minutes.map((m) => m.start));
  barChart($("minute-chart"), minutes.map((m, i) => ({
    label: labels[i],
    parts: statuses.map((s) => ({ value: m.statuses[s] || 0, color: STATUS_COLORS[s], title: number(m.statuses[s] || 0) + " " + s })),
  })), { title: "payments per minute by status", unit: "payments" });
  $("minute-legend").replaceChildren(...statuses.map((s) => {
    const swatch = el("i");
    swatch.style.background = STATUS_COLORS[s];
    return el("span", {}, swatch, s);
  }));
}
async function loadDaily() {
  const report = await api("stats/daily?days=30");
  const revenue = (d) => Number(d.approved_revenue[report.currency] || 0);
  const day = (iso) => new Date(iso + "T00:00:00Z").toLocaleDateString([], { month: "short", day: "numeric", timeZone: "UTC" });
  barChart($("daily-chart"), report.days.map((d) => ({
    label: day(d.date), marked: d.low_performance === true,
    parts: [{ value: revenue(d), color: "#2d5bd3", title: money(revenue(d), report.currency) + ", " + number(d.transactions) + " transactions" + (d.low_performance ? " (low)" : "") }],
  })), { title: "approved revenue per day", unit: report.currency, format: (v) => money(v, report.currency, 0) });
  const low = report.days.filter((d) => d.low_performance === true).map((d) => d.date);
  $("daily-note").textContent = low.length ? "Low days: " + low.map(day).join(", ") : "No low days in the last 30 days.";
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
  let detail, view;
  try {
    [detail, view] = await Promise.all([api(customer), api(customer + "/anomalies?metric=" + encodeURIComponent(metric))]);
  } catch (error) {  // an unknown customer: the last one's figures do not stay under the new name
    for (const id of ["customer-profile", "customer-chart"]) $(id).replaceChildren();
    $("customer-rows").tBodies[0].replaceChildren();
    throw error;
  }
  const p = detail.profile, facts = $("customer-profile");
  facts.replaceChildren();
  fact(facts, "Name", p.customer_name);
  const currencies = [...new Set(view.drill_down.map((r) => r.currency))];
  const currency = currencies.length === 1 ? currencies[0] : null;  // one currency: amounts say it
  fact(facts, "Transactions", number(p.transactions) + " (" + number(p.failed) + " failed)");
  fact(facts, "Mean amount", money(p.mean_amount, currency));
  fact(facts, "Countries", p.countries.join(", "));
  fact(facts, "Alerts", detail.recent_alerts.length);
  const metricText = (v) => (metric === "amount" ? money(v, currency) : number(v, 2));
  fact(facts, metric + " baseline", metricText(view.baseline.mean) + " ± " + metricText(view.baseline.std) + " over " +
    number(view.baseline.transactions) + " transactions (each point's z is against the others)");
  const labels = timeLabels(view.drill_down.map((r) => r.timestamp));
  barChart($("customer-chart"), view.drill_down.map((r, i) => ({
    label: labels[i], marked: r.anomalous,
    parts: [{ value: Number(r.metric_value), color: "#2d5bd3", title: metric + " " + metricText(r.metric_value) + " (" + r.transaction_id + ")" }],
  })), { title: metric + " per transaction", unit: metric === "amount" ? currency || "" : "", format: metricText });
  $("customer-rows").tBodies[0].replaceChildren(...view.drill_down.slice().reverse().map((r) => {
    const row = el("tr", {}, el("td", {}, when(r.timestamp)), el("td", {}, r.transaction_id), el("td", {}, r.status),
      el("td", {}, money(r.amount, r.currency)), el("td", {}, r.country), el("td", {}, metric === "amount" ? money(r.metric_value, r.currency) : number(r.metric_value, 2)), el("td", {}, number(r.z_score, 2)));
    if (r.anomalous) row.classList.add("selected");
    return row;
  }));
}
$("customer-form").addEventListener("submit", (e) => { e.preventDefault(); loadCustomer($("customer-input").value.trim()).catch(showError); });

// --- who is signed in, and which page is shown ---------------------------------------------------------------
// The groups come from the ID token's own `cognito:groups` claim (read, not verified: API Gateway verifies the
// token on every call and the API refuses an analyst's write with 403 whatever the page shows). The page only
// uses them to hide controls an analyst could not use.
function claims() {
  const t = token();
  if (!t) return {};
  try {
    const part = t.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(part + "=".repeat((4 - part.length % 4) % 4)), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch { return {}; }
}
function groups() {
  const claim = claims()["cognito:groups"];
  return Array.isArray(claim) ? claim.map(String) : String(claim || "").split(",").map((g) => g.trim()).filter(Boolean);
}
function isAdmin() { return groups().includes("admins"); }
function applyRole() {
  const admin = signedIn() && isAdmin();
  document.body.classList.toggle("admin", admin);
  for (const node of document.querySelectorAll(".admin-only")) node.hidden = !admin;
  for (const id of ["rule-id", "rule-name", "rule-description", "rule-mode", "rule-severity", "rule-decision", "rule-score"]) $(id).disabled = !admin;
  $("editor-readonly").hidden = admin || !signedIn();
  if (!rules.current) $("editor-title").textContent = admin ? "New rule" : "Draft expression";
  const user = sessionStorage.getItem("shopwatch.user") || "";
  $("who").textContent = signedIn() ? user : "";
  $("role").textContent = signedIn() ? groups().join(", ") || "no group" : "";
}

// Pages beyond these three live in pages/*.js; each calls registerPage(name, pattern, show) with the hash route
// it answers (e.g. /^#\/cases\/([^/]+)$/), and show(match) is called with the route's match when it is shown.
// Its markup is a <div id="view-NAME" class="view" hidden> in index.html. Links are plain hashes:
// #/transactions/<id>, #/entities/<kind>/<value>, #/cases/<id>, #/alerts/<id> (the overview, alert opened).
const PAGES = [];
function registerPage(name, pattern, show) { PAGES.push({ name, pattern, show }); }
function currentPage() {
  const builtin = /^#\/(rules|lists)$/.exec(location.hash);
  if (builtin) return { name: builtin[1], match: builtin };
  for (const page of PAGES) {
    const match = page.pattern.exec(location.hash);
    if (match) return { name: page.name, match, page };
  }
  return { name: "overview", match: null };
}
function currentView() { return currentPage().name; }
function showView() {
  const { name: view, match, page } = currentPage();
  for (const node of document.querySelectorAll("main > .view")) node.hidden = node.id !== "view-" + view;
  $("refreshed").hidden = view !== "overview";
  for (const link of document.querySelectorAll("#views a")) {
    if (link.dataset.view === view) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  if (!signedIn()) return;
  if (page) Promise.resolve().then(() => page.show(match)).catch(showError);
  else if (view === "rules") loadRules().catch(showError);
  else if (view === "lists") loadLists().catch(showError);
  else refreshFeed({ queueFirst: true }).then(refreshCharts);
}

// --- small helpers for the rules and lists pages ---------------------------------------------------------------
const enc = encodeURIComponent;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const MODE_COLORS = { active: "#2d5bd3", shadow: "#9aa6bb" };
function percent(x) { return x == null ? "—" : (x * 100).toFixed(0) + "%"; }
function post(body) { return { method: "POST", body: JSON.stringify(body) }; }
function isoDay(date) { return date.toISOString().slice(0, 10); }
function addDays(day, n) { const d = new Date(day + "T00:00:00Z"); d.setUTCDate(d.getUTCDate() + n); return isoDay(d); }
function say(id, text, isError) { $(id).textContent = text || ""; $(id).classList.toggle("error-text", !!isError); }
function openable(row, open) {
  // a table row that opens something: by a click, or from the keyboard (Tab to it, then Enter or Space)
  row.tabIndex = 0;
  row.addEventListener("click", open);
  row.addEventListener("keydown", (event) => { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); open(); } });
}
function problemMessage(error) {
  // an API refusal's own words, with the field-level details when it gave them
  const details = error.error && error.error.details;
  const fields = Array.isArray(details) ? details.map((d) => (d.field ? d.field + ": " : "") + (d.message || "")) : [];
  return [error.message, ...fields].join("; ");
}

// --- the rules page: the list ---------------------------------------------------------------------------------
const rules = { list: [], stats: new Map(), current: null, validating: 0, timer: null, backtests: 0 };

function outcome(rule) {
  const parts = [];
  if (rule.decision) parts.push(rule.decision);
  if (rule.severity) parts.push(rule.severity + " alert");
  if (rule.score != null) parts.push("+" + rule.score + " risk");
  return parts.join(", ") || "—";
}
function modeBadge(mode) { return el("span", { class: "badge mode-" + mode }, mode); }
async function loadRules() {
  const days = $("rules-days").value;
  const [listed, analytics] = await Promise.all([api("rules"), api("analytics/rules?days=" + enc(days))]);
  rules.list = listed.rules;
  rules.stats = new Map(analytics.rules.map((r) => [r.rule_id, r]));
  $("rules-table").tBodies[0].replaceChildren(...rules.list.map((rule) => {
    const stats = rules.stats.get(rule.rule_id) || {};
    const row = el("tr", { "data-rule-id": rule.rule_id },
      el("td", {}, el("strong", {}, rule.name), el("br"), el("span", { class: "muted" }, rule.rule_id)),
      el("td", { class: "mode" }, modeBadge(rule.mode)),
      el("td", {}, outcome(rule)),
      el("td", { class: "matches" }, stats.matches ?? 0),
      el("td", { class: "shadow-matches" }, stats.shadow_matches ?? 0),
      el("td", {}, percent(stats.precision)),
      el("td", {}, rule.version),
      el("td", {}, when(rule.updated_at || rule.created_at)));
    if (rules.current && rules.current.rule_id === rule.rule_id) row.classList.add("selected");
    openable(row, () => openRule(rule.rule_id).catch(showError));
    return row;
  }));
  $("rules-empty").hidden = rules.list.length > 0;
  if (rules.current) renderRuleStats(rules.current.rule_id);
  if (!$("backtest-since").value) {
    const today = isoDay(new Date());
    $("backtest-since").value = addDays(today, -29);
    $("backtest-until").value = today;
  }
}
$("rules-days").addEventListener("change", () => loadRules().catch(showError));

// --- the rules page: the editor ---------------------------------------------------------------------------------
function fillEditor(rule) {
  rules.current = rule;
  $("editor-title").textContent = rule ? "Rule " + rule.name : isAdmin() ? "New rule" : "Draft expression";
  const facts = $("rule-facts");
  facts.replaceChildren();
  facts.hidden = !rule;
  if (rule) {
    fact(facts, "Rule id", rule.rule_id);
    fact(facts, "Mode", modeBadge(rule.mode));
    fact(facts, "Version", rule.version + " by " + rule.author + ", " + when(rule.updated_at || rule.created_at));
  }
  $("rule-id").value = "";
  $("rule-id-label").hidden = !!rule;  // a new rule's id: given, or made from the name by the API
  $("rule-name").value = rule ? rule.name : "";
  $("rule-description").value = rule ? rule.description || "" : "";
  $("rule-expression").value = rule ? rule.expression : "";
  $("rule-mode").value = rule ? rule.mode : "shadow";
  $("rule-mode-label").hidden = !!rule;  // a saved rule changes mode through the buttons, as its own version
  $("rule-severity").value = rule && rule.severity ? rule.severity : "";
  $("rule-decision").value = rule && rule.decision ? rule.decision : "";
  $("rule-score").value = rule && rule.score != null ? rule.score : "";
  for (const button of document.querySelectorAll(".mode-button")) {
    button.hidden = !rule;
    button.disabled = !rule || rule.mode === button.dataset.mode;
  }
  say("rule-message", "");
  for (const row of $("rules-table").tBodies[0].rows) row.classList.toggle("selected", !!rule && row.dataset.ruleId === rule.rule_id);
  $("rule-more").hidden = !rule;
  validateNow();
}
async function openRule(id) {
  clearError();
  const rule = await api("rules/" + enc(id));
  fillEditor(rule);
  renderVersions(rule);
  renderRuleStats(rule.rule_id);
}
$("new-rule").addEventListener("click", () => { fillEditor(null); $("rule-name").focus(); });

function editorBody() {
  const body = {
    name: $("rule-name").value.trim(),
    description: $("rule-description").value.trim(),
    expression: $("rule-expression").value,
    mode: rules.current ? rules.current.mode : $("rule-mode").value,
  };
  if ($("rule-severity").value) body.severity = $("rule-severity").value;
  if ($("rule-decision").value) body.decision = $("rule-decision").value;
  if ($("rule-score").value !== "") body.score = Number($("rule-score").value);
  return body;
}
$("rule-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = editorBody();
  if (!body.severity && !body.decision && body.score == null) {
    say("rule-message", "Choose an outcome: a severity, a decision or a score (or several).", true);
    return;
  }
  const current = rules.current;
  if (current) body.expected_version = current.version;  // someone else's change meanwhile is a 409, not lost
  else if ($("rule-id").value.trim()) body.rule_id = $("rule-id").value.trim();
  try {
    say("rule-message", "Saving…");
    const saved = current
      ? await api("rules/" + enc(current.rule_id), { method: "PUT", body: JSON.stringify(body) })
      : await api("rules", post(body));
    await loadRules();
    await openRule(saved.rule_id);
    say("rule-message", "Saved version " + saved.version + " (" + saved.mode + ").");
  } catch (error) {
    const problems = error.error && error.error.details && error.error.details.problems;
    if (problems) showProblems(body.expression, problems);
    say("rule-message", "Not saved: " + problemMessage(error), true);
  }
});
for (const button of document.querySelectorAll(".mode-button")) {
  button.addEventListener("click", async () => {
    const current = rules.current;
    if (!current) return;
    try {
      const changed = await api("rules/" + enc(current.rule_id) + "/mode",
        post({ mode: button.dataset.mode, expected_version: current.version }));
      await loadRules();
      await openRule(changed.rule_id || current.rule_id);
      say("rule-message", "Now " + button.dataset.mode + " (version " + rules.current.version + ").");
    } catch (error) { say("rule-message", "Mode not changed: " + problemMessage(error), true); }
  });
}

// --- the rules page: validation as you type ---------------------------------------------------------------------
// Each keystroke restarts a short timer; only the answer to the newest request is shown (an older one may
// arrive later), and every problem is marked at its line and column (both counted from 1) under the editor.
const VALIDATE_AFTER_MS = 350;
function scheduleValidation() {
  clearTimeout(rules.timer);
  say("validation-status", "checking…");
  rules.timer = setTimeout(validateNow, VALIDATE_AFTER_MS);
}
async function validateNow() {
  clearTimeout(rules.timer);
  const expression = $("rule-expression").value;
  const asked = ++rules.validating;
  if (!expression.trim() || !signedIn()) { showProblems(expression, []); say("validation-status", ""); return; }
  try {
    const answer = await api("rules/validate", post({ expression }));
    if (asked !== rules.validating) return;
    showProblems(expression, answer.problems);
  } catch (error) {
    if (asked !== rules.validating) return;
    const problems = error.error && error.error.details && error.error.details.problems;
    if (problems) showProblems(expression, problems);
    else say("validation-status", "could not check the expression: " + problemMessage(error), true);
  }
}
$("rule-expression").addEventListener("input", scheduleValidation);

function offsetOf(text, line, column) {
  // the textarea offset of (line, column), both from 1, clamped to the text
  const lines = text.split("\n");
  const l = Math.min(Math.max(1, line || 1), lines.length);
  let offset = 0;
  for (let i = 0; i < l - 1; i++) offset += lines[i].length + 1;
  return offset + Math.min(Math.max(0, (column || 1) - 1), lines[l - 1].length);
}
function showProblems(expression, problems) {
  const area = $("rule-expression");
  area.classList.toggle("invalid", problems.length > 0);
  area.setAttribute("aria-invalid", problems.length > 0 ? "true" : "false");
  say("validation-status", problems.length === 0 ? (expression.trim() ? "✓ valid" : "")
    : problems.length + (problems.length === 1 ? " problem" : " problems"), problems.length > 0);
  $("validation-status").classList.toggle("ok-text", problems.length === 0 && !!expression.trim());
  $("expression-problems").replaceChildren(...problems.map((p) => {
    const where = p.line != null ? "line " + p.line + (p.column != null ? ", column " + p.column : "") + ": " : "";
    const item = el("li", { "data-line": p.line ?? "", "data-column": p.column ?? "" }, el("span", { class: "where" }, where), p.message);
    if (p.line != null) {
      item.classList.add("located");
      item.title = "show it in the expression";
      item.addEventListener("click", () => {
        const at = offsetOf(area.value, p.line, p.column);
        area.focus();
        area.setSelectionRange(at, Math.min(at + 1, area.value.length));
      });
    }
    return item;
  }));
  // the expression as written, line by line, with the character at each problem marked and a caret under it
  const located = problems.filter((p) => p.line != null);
  const marked = $("expression-marked");
  marked.hidden = located.length === 0;
  if (located.length === 0) { marked.replaceChildren(); return; }
  const lines = expression.split("\n");
  const width = String(lines.length).length;
  const nodes = [];
  lines.forEach((text, i) => {
    const here = located.filter((p) => p.line === i + 1);
    const gutter = String(i + 1).padStart(width) + " │ ";
    const columns = new Set(here.map((p) => Math.min(Math.max(1, p.column || 1), text.length + 1)));
    nodes.push(el("span", { class: "gutter" }, gutter));
    for (let c = 1; c <= text.length + (columns.has(text.length + 1) ? 1 : 0); c++) {
      const ch = c <= text.length ? text[c - 1] : " ";
      nodes.push(columns.has(c) ? el("mark", { "data-column": c }, ch) : document.createTextNode(ch));
    }
    nodes.push(document.createTextNode("\n"));
    for (const p of here) {
      const column = Math.min(Math.max(1, p.column || 1), text.length + 1);
      nodes.push(el("span", { class: "caret" }, " ".repeat(width) + " │ " + " ".repeat(column - 1) + "^ " + p.message), document.createTextNode("\n"));
    }
  });
  marked.replaceChildren(...nodes);
}

// --- the rules page: the variables' reference (GET /rules/reference, read once) ---------------------------------------
function insertIntoExpression(text) {
  const area = $("rule-expression");
  const start = area.selectionStart ?? area.value.length, end = area.selectionEnd ?? start;
  area.setRangeText(text, start, end, "end");
  area.focus();
  scheduleValidation();
}
function referenceName(text) {
  const button = el("button", { type: "button", class: "ref-name" }, text);
  button.addEventListener("click", () => insertIntoExpression(text));
  return button;
}
async function loadReference() {
  if ($("reference").dataset.loaded) return;
  say("reference-status", "loading…");
  try {
    const entries = (await api("rules/reference")).variables;
    $("reference-body").replaceChildren(...entries.map((v) => {
      const block = el("div", { class: "ref-entry" },
        el("p", {}, referenceName(v.signature ? v.name + "(" : v.name), " ", el("span", { class: "muted" }, v.signature || ""), " ", v.description));
      if (v.fields && v.fields.length) {
        block.append(el("ul", {}, ...v.fields.map((f) => el("li", {},
          referenceName(v.name + "." + f.name), " ", el("span", { class: "muted" }, f.type + (f.optional ? ", optional" : "")), " ", f.description))));
      }
      return block;
    }));
    $("reference").dataset.loaded = "1";
    say("reference-status", "");
  } catch (error) { say("reference-status", "The reference could not be read: " + problemMessage(error), true); }
}
$("reference").addEventListener("toggle", () => { if ($("reference").open) loadReference().catch(showError); });

// --- the rules page: backtest -------------------------------------------------------------------------------------
const POLL_EVERY_MS = 1000;
function progressText(progress) {
  if (progress == null) return "";
  if (typeof progress === "number") return progress <= 1 ? Math.round(progress * 100) + "%" : String(progress);
  if (typeof progress === "object") return Object.entries(progress).map(([k, v]) => k + " " + v).join(", ");
  return String(progress);
}
$("backtest-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const expression = $("rule-expression").value;
  const since = $("backtest-since").value, until = $("backtest-until").value;
  if (!expression.trim()) { say("backtest-status", "Write an expression first.", true); return; }
  if (until < since) { say("backtest-status", "The period ends before it starts.", true); return; }
  const asked = ++rules.backtests;
  $("backtest-run").disabled = true;
  say("backtest-status", "Running…");
  try {
    let answer = await api("rules/backtest", post({ expression, since: since + "T00:00:00Z", until: until + "T23:59:59.999Z" }));
    if (answer.job_id != null && answer.evaluated == null) {  // 202: a job, polled until it is done or failed
      const jobId = answer.job_id;
      let progress = null;
      for (;;) {
        if (asked !== rules.backtests) return;
        say("backtest-status", "Running as job " + jobId + (progress != null ? ": " + progressText(progress) : "") + "…");
        await sleep(POLL_EVERY_MS);
        const job = await api("rules/backtest/" + enc(jobId));
        if (job.status === "done") { answer = job.result; break; }
        if (job.status === "failed") {
          throw new Error("the job failed: " + ((job.error && (job.error.message || job.error)) || "no reason given"));
        }
        progress = job.progress;
      }
    }
    if (asked !== rules.backtests) return;
    renderBacktest(answer, since, until);
    say("backtest-status", "Backtest of " + since + " to " + until + ".");
  } catch (error) {
    if (asked === rules.backtests) {
      const problems = error.error && error.error.details && error.error.details.problems;
      if (problems) showProblems(expression, problems);
      say("backtest-status", "Backtest failed: " + problemMessage(error), true);
    }
  } finally {
    if (asked === rules.backtests) $("backtest-run").disabled = false;
  }
});
function everyDay(since, until) {
  const days = [];
  for (let d = since; d <= until && days.length < 400; d = addDays(d, 1)) days.push(d);
  return days;
}
function renderBacktest(r, since, until) {
  $("backtest-result").hidden = false;
  const perDay = new Map(r.matches_per_day.map((d) => [d.day, d.matches]));
  const days = everyDay(since, until);
  for (const day of perDay.keys()) if (!days.includes(day)) days.push(day);
  days.sort();
  barChart($("backtest-chart"), days.map((day) => ({
    label: day.slice(5),
    parts: [{ value: perDay.get(day) || 0, color: "#2d5bd3", title: (perDay.get(day) || 0) + " matches" }],
  })), { title: "backtest matches per day" });
  const share = (n) => (r.matches ? " (" + percent(n / r.matches) + " of matches)" : "");
  const measures = [
    ["evaluated", "Transactions evaluated", r.evaluated],
    ["matches", "Matches", r.matches + (r.evaluated ? " (" + (100 * r.matches / r.evaluated).toFixed(2) + "% of evaluated)" : "")],
    ["fraud", "Matched, labelled fraud", r.fraud],
    ["legitimate", "Matched, labelled legitimate", r.legitimate],
    ["unlabelled", "Matched, unlabelled", r.unlabelled],
    ["precision", "Precision (fraud / labelled matches)", percent(r.precision)],
    ["recall", "Recall (of the period's fraud)", percent(r.recall) + (r.fraud_in_period != null ? " (" + r.fraud + " of " + r.fraud_in_period + ")" : "")],
    ["overlap", "Matches already alerted", r.overlap_with_alerts + share(r.overlap_with_alerts)],
    // a failure (a missing key, an index past a basket's end) counts as no match, as in production: say how often
    ["errors", "Transactions the rule failed on", String(r.errors || 0) + (r.first_error ? " (first: " + r.first_error + ")" : "")],
  ];
  $("backtest-table").tBodies[0].replaceChildren(...measures.map(([key, label, value]) =>
    el("tr", { "data-measure": key }, el("th", { scope: "row" }, label), el("td", {}, value))));
  $("backtest-examples").tBodies[0].replaceChildren(...r.examples.map((x) => el("tr", {},
    el("td", {}, when(x.timestamp)), el("td", {}, x.transaction_id), el("td", { class: "customer" }, x.customer_id),
    el("td", {}, x.amount + " " + x.currency), el("td", {}, x.labelled || "—"), el("td", {}, x.alerted ? "yes" : "no"))));
}

// --- the rules page: matches per day, active and shadow ---------------------------------------------------------------
function renderRuleStats(id) {
  const stats = rules.stats.get(id);
  const days = Number($("rules-days").value);
  const today = isoDay(new Date());
  const byDay = new Map();
  for (const d of (stats && stats.matches_per_day) || []) {
    const counts = byDay.get(d.day) || { active: 0, shadow: 0 };
    counts[d.mode] = (counts[d.mode] || 0) + d.matches;
    byDay.set(d.day, counts);
  }
  const modes = Object.keys(MODE_COLORS);
  barChart($("rule-stats-chart"), everyDay(addDays(today, 1 - days), today).map((day) => {
    const counts = byDay.get(day) || {};
    return { label: day.slice(5), parts: modes.map((m) => ({ value: counts[m] || 0, color: MODE_COLORS[m], title: (counts[m] || 0) + " " + m })) };
  }), { title: "rule matches per day, active and shadow" });
  $("rule-stats-legend").replaceChildren(...modes.map((m) => {
    const swatch = el("i");
    swatch.style.background = MODE_COLORS[m];
    return el("span", {}, swatch, m);
  }));
  $("rule-stats-note").textContent = stats
    ? stats.matches + " active and " + stats.shadow_matches + " shadow matches in " + days + " days; labelled " +
      stats.labelled_fraud + " fraud, " + stats.labelled_legitimate + " legitimate; precision " + percent(stats.precision) + "."
    : "No matches in " + days + " days.";
}

// --- the rules page: versions, diffs and rollback ----------------------------------------------------------------------
function lineDiff(before, after) {
  // the lines of `before` and `after` as kept / removed / added, by their longest common subsequence
  const a = before.split("\n"), b = after.split("\n");
  const n = a.length, m = b.length;
  const common = Array.from({ length: n + 1 }, () => new Array(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) {
    common[i][j] = a[i] === b[j] ? common[i + 1][j + 1] + 1 : Math.max(common[i + 1][j], common[i][j + 1]);
  }
  const out = [];
  let i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) { out.push(["same", a[i]]); i++; j++; }
    else if (i < n && (j === m || common[i + 1][j] >= common[i][j + 1])) out.push(["removed", a[i++]]);
    else out.push(["added", b[j++]]);
  }
  return out;
}
function shown(value) { return value == null || value === "" ? "(none)" : typeof value === "object" ? JSON.stringify(value) : String(value); }
function diffView(diff) {
  const table = el("table", { class: "diff" }, el("thead", {}, el("tr", {}, el("th", {}, "Field"), el("th", {}, "Change"))));
  const body = el("tbody");
  for (const change of diff) {
    const before = shown(change.before), after = shown(change.after);
    const pre = el("pre", { class: "diff-text" });
    if (before.includes("\n") || after.includes("\n") || change.field === "expression") {
      for (const [kind, text] of lineDiff(before, after)) {
        pre.append(el("span", { class: kind }, (kind === "added" ? "+ " : kind === "removed" ? "- " : "  ") + text), "\n");
      }
    } else pre.append(el("span", { class: "removed" }, before), " → ", el("span", { class: "added" }, after));
    body.append(el("tr", { "data-field": change.field }, el("td", {}, change.field), el("td", {}, pre)));
  }
  table.append(body);
  return table;
}
function renderVersions(rule) {
  const versions = (rule.versions || []).slice().sort((x, y) => y.version - x.version);
  const rows = [];
  for (const v of versions) {
    const diff = v.diff || [];
    const changed = diff.map((d) => d.field).join(", ");
    const fields = v.version === 1 ? "created" + (changed ? ": " + changed : "") : changed || "no change";
    const toggle = el("button", { type: "button", class: "diff-toggle" }, "Diff");
    toggle.disabled = diff.length === 0;
    const actions = el("td", { class: "actions" }, toggle);
    if (v.version !== rule.version && isAdmin()) {
      const back = el("button", { type: "button", class: "rollback admin-only" }, "Roll back");
      back.addEventListener("click", () => rollback(rule.rule_id, v.version));
      actions.append(" ", back);
    }
    const row = el("tr", { "data-version": v.version },
      el("td", {}, "v" + v.version + (v.version === rule.version ? " (current)" : "")),
      el("td", {}, modeBadge(v.mode)), el("td", {}, v.author), el("td", {}, when(v.created_at)),
      el("td", { class: "fields" }, fields), actions);
    const detail = el("tr", { class: "diff-row", "data-version": v.version }, el("td", { colspan: 6 }, diffView(diff)));
    detail.hidden = true;
    toggle.addEventListener("click", () => { detail.hidden = !detail.hidden; toggle.textContent = detail.hidden ? "Diff" : "Hide"; });
    rows.push(row, detail);
  }
  $("rule-versions").tBodies[0].replaceChildren(...rows);
}
async function rollback(id, version) {
  try {
    const expected = rules.current && rules.current.rule_id === id ? rules.current.version : undefined;
    const restored = await api("rules/" + enc(id) + "/rollback", post({ version, expected_version: expected }));
    await loadRules();
    await openRule(restored.rule_id || id);
    say("rule-message", "Rolled back: version " + rules.current.version + " copies version " + version + ".");
  } catch (error) { say("rule-message", "Not rolled back: " + problemMessage(error), true); }
}

// --- the lists page ----------------------------------------------------------------------------------------------------
const lists = { all: [], current: null };
// Items per POST /lists/{name}/items: the API writes up to 99 entries with the list's head in one guarded transaction,
// so each batch is stored whole or not at all, and a refusal midway leaves the batches before it, as the status says.
const IMPORT_BATCH = 99;

async function loadLists() {
  const answer = await api("lists");
  lists.all = answer.lists;
  $("lists-table").tBodies[0].replaceChildren(...lists.all.map((l) => {
    const row = el("tr", { "data-list": l.name },
      el("td", {}, el("strong", {}, l.name)), el("td", {}, l.kind),
      el("td", {}, el("span", { class: "badge list-" + l.mode }, l.mode)), el("td", { class: "count" }, l.items_count),
      el("td", {}, l.description || ""), el("td", {}, when(l.updated_at) + (l.updated_by ? " · " + l.updated_by : "")));
    if (lists.current && lists.current.name === l.name) row.classList.add("selected");
    openable(row, () => openList(l.name).catch(showError));
    return row;
  }));
  $("lists-empty").hidden = lists.all.length > 0;
}
async function openList(name) {
  clearError();
  const list = await api("lists/" + enc(name));
  lists.current = list;
  for (const row of $("lists-table").tBodies[0].rows) row.classList.toggle("selected", row.dataset.list === name);
  $("list-empty").hidden = true;
  $("list-body").hidden = false;
  $("list-body").dataset.list = list.name;
  $("list-title").textContent = "List " + list.name;
  const facts = $("list-facts");
  facts.replaceChildren();
  fact(facts, "Kind", list.kind);
  fact(facts, "Mode", el("span", { class: "badge list-" + list.mode }, list.mode));
  fact(facts, "Description", list.description);
  fact(facts, "Items", list.items.length);
  fact(facts, "Updated", when(list.updated_at) + (list.updated_by ? " by " + list.updated_by : ""));
  const admin = isAdmin();
  $("list-items").tBodies[0].replaceChildren(...list.items.map((item) => {
    const cells = [el("td", { class: "value" }, item.value), el("td", { class: "reason" }, item.reason),
      el("td", {}, item.added_by, el("br"), el("span", { class: "muted" }, when(item.added_at))),
      el("td", {}, item.expires_at ? when(item.expires_at) : "never")];
    const remove = el("td");
    if (admin) {
      const button = el("button", { type: "button", class: "remove" }, "Remove");
      button.addEventListener("click", () => removeItem(list.name, item.value));
      remove.append(button);
    }
    return el("tr", { "data-value": item.value }, ...cells, remove);
  }));
}
async function afterListChange(name) { await Promise.all([loadLists(), openList(name)]); }
async function removeItem(name, value) {
  try { clearError(); await api("lists/" + enc(name) + "/items/" + enc(value), { method: "DELETE" }); await afterListChange(name); }
  catch (error) { showError(error); }
}
function utcMoment(text) {
  // an expiry as RFC 3339 UTC; a date alone or a time without a zone is read as UTC (never the browser's zone)
  let t = text.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) t += "T00:00:00Z";
  else if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(t)) t = t.replace(" ", "T") + "Z";
  const at = Date.parse(t);
  return Number.isNaN(at) ? null : new Date(at).toISOString().replace(".000Z", "Z");
}
$("item-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = lists.current && lists.current.name;
  if (!name) return;
  const item = { value: $("item-value").value.trim(), reason: $("item-reason").value.trim() };
  if ($("item-expires").value) item.expires_at = utcMoment($("item-expires").value);
  try {
    clearError();
    await api("lists/" + enc(name) + "/items", post({ items: [item] }));
    $("item-value").value = "";
    $("item-reason").value = "";
    $("item-expires").value = "";
    await afterListChange(name);
  } catch (error) { showError(new Error("Not added: " + problemMessage(error))); }
});
$("list-create-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = $("list-name").value.trim();
  if (lists.all.some((l) => l.name === name)) { showError(new Error("A list named " + name + " exists already.")); return; }
  const body = { kind: $("list-kind").value, mode: $("list-mode").value, description: $("list-description").value.trim() };
  try {
    clearError();
    await api("lists/" + enc(name), { method: "PUT", body: JSON.stringify(body) });
    $("list-name").value = "";
    $("list-description").value = "";
    await afterListChange(name);
  } catch (error) { showError(new Error("Not created: " + problemMessage(error))); }
});

// CSV as RFC 4180 writes it: fields separated by commas, optionally in double quotes (a quote doubled inside).
function csvRows(text) {
  const rows = [];
  let row = [], field = "", quoted = false, i = 0;
  text = text.replace(/^\uFEFF/, "");
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (ch === '"') { quoted = false; i++; continue; }
      field += ch; i++; continue;
    }
    if (ch === '"' && field === "") { quoted = true; i++; continue; }
    if (ch === ",") { row.push(field); field = ""; i++; continue; }
    if (ch === "\r" || ch === "\n") {
      row.push(field); rows.push(row); row = []; field = "";
      i += ch === "\r" && text[i + 1] === "\n" ? 2 : 1;
      continue;
    }
    field += ch; i++;
  }
  if (field !== "" || row.length) { row.push(field); rows.push(row); }
  return { rows, unterminated: quoted };
}
function importItems(text) {
  // the items of a CSV text, or the problems that stop the import (line numbers count from 1, as an editor does)
  const { rows, unterminated } = csvRows(text);
  const items = [], problems = [];
  if (unterminated) problems.push("a quoted field is never closed");
  rows.forEach((cells, index) => {
    const line = index + 1;
    if (cells.every((c) => c.trim() === "")) return;
    if (index === 0 && cells[0].trim().toLowerCase() === "value") return;  // a header
    if (cells.length > 3) { problems.push("line " + line + ": " + cells.length + " fields; expected value,reason[,expires_at]"); return; }
    const [value, reason = "", expires = ""] = cells.map((c) => c.trim());
    if (!value) { problems.push("line " + line + ": no value"); return; }
    if (!reason) { problems.push("line " + line + ": no reason for " + value); return; }
    const item = { value, reason };
    if (expires) {
      item.expires_at = utcMoment(expires);
      if (!item.expires_at) { problems.push("line " + line + ": " + expires + " is not a date or time"); return; }
    }
    items.push(item);
  });
  return { items, problems };
}
$("import-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = lists.current && lists.current.name;
  if (!name) return;
  const file = $("import-file").files[0];
  const text = file ? await file.text() : $("import-text").value;
  const { items, problems } = importItems(text);
  $("import-problems").replaceChildren(...problems.map((p) => el("li", {}, p)));
  if (problems.length) { say("import-status", "Nothing imported: fix these lines first.", true); return; }
  if (!items.length) { say("import-status", "No items to import.", true); return; }
  let sent = 0, added = 0, updated = 0;
  try {
    for (let start = 0; start < items.length; start += IMPORT_BATCH) {
      const batch = items.slice(start, start + IMPORT_BATCH);
      say("import-status", "Importing " + (start + 1) + "–" + (start + batch.length) + " of " + items.length + "…");
      const answer = await api("lists/" + enc(name) + "/items", post({ items: batch }));
      sent += batch.length;
      added += answer.added || 0;
      updated += answer.updated || 0;
    }
    say("import-status", "Imported " + sent + (sent === 1 ? " item" : " items") + ": " + added + " new, " + updated + " updated.");
    $("import-text").value = "";
    $("import-file").value = "";
  } catch (error) {
    say("import-status", "Imported " + sent + " of " + items.length + " items, then the API refused the batch starting at item " +
      (sent + 1) + ": " + problemMessage(error), true);
  }
  await afterListChange(name).catch(showError);
});

// --- refresh loop ----------------------------------------------------------------------------------------------
async function refreshFeed({ queueFirst = false } = {}) {
  // Opening the overview, the queue is asked for alone, then the figures: the analyst's work shows first, and on
  // a server that shares one CPU among requests (the local stack) it is not slowed by the charts' counting.
  if (!signedIn()) { if (sessionStorage.getItem("shopwatch.token")) signOut("Your session ended; sign in again."); return; }
  if (currentView() !== "overview") return;
  try {
    if (queueFirst) { await loadFeed({ background: true }); await loadKpis(); }
    else await Promise.all([loadFeed({ background: true }), loadKpis()]);
    $("refreshed").textContent = "updated " + new Date().toLocaleTimeString();
  } catch (e) { showError(e); }
}
async function refreshCharts() {
  if (!signedIn() || currentView() !== "overview") return;
  try { await Promise.all([loadMinutes(), loadDaily(), loadSeverities(), loadDetectors()]); } catch (e) { showError(e); }
}
function refreshAll() { clearError(); applyRole(); showView(); openLinkedAlert(); }
function openLinkedAlert() {
  // e-mails link to <dashboard>/#/alerts/<id>
  const linked = /^#\/alerts\/([A-Za-z0-9_]+)$/.exec(location.hash);
  if (linked && signedIn()) openAlert(linked[1]);
}
window.addEventListener("hashchange", () => { clearError(); showView(); openLinkedAlert(); });

