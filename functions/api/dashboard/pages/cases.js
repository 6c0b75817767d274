// --- cases: alerts that belong together (one customer's, or a ring's on a shared device, card, e-mail or IP) ---
// The list is the work queue (open and investigating by default); one case shows its accounts, shared entities,
// alerts, history and notes, and its actions. Settling a case settles its alerts (the API reports any skipped).
const cases = { built: false, token: null, current: null };
const CASE_STATUS_LABELS = { confirmed_fraud: "fraud", false_positive: "legitimate" };

function duration(seconds) {
  // "42 s", "7 min", "3 h 5 min", "2 d 4 h": what an analyst reads at a glance
  if (seconds == null) return "—";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return s + " s";
  if (s < 3600) return Math.round(s / 60) + " min";
  if (s < 86400) return Math.floor(s / 3600) + " h " + Math.round((s % 3600) / 60) + " min";
  return Math.floor(s / 86400) + " d " + Math.round((s % 86400) / 3600) + " h";
}
function caseAge(iso) { return duration((Date.now() - new Date(iso).getTime()) / 1000); }
function anchorText(anchor) { return (anchor.kind === "customer" ? "account" : anchor.kind) + " " + anchor.value; }

function buildCasesView() {
  if (cases.built) return;
  cases.built = true;
  const statusOptions = ["active", "all", "open", "investigating", "confirmed_fraud", "false_positive", "resolved"];
  $("view-cases").append(
    el("section", { class: "panel", "aria-labelledby": "cases-title" },
      el("h2", { id: "cases-title" }, "Cases ", el("span", { class: "muted" }, "(alerts that belong together)")),
      el("p", { id: "cases-figures", class: "muted" }),
      el("div", { class: "filters" },
        el("label", {}, "Status ", el("select", { id: "cases-status" },
          ...statusOptions.map((s) => el("option", { value: s }, s === "active" ? "open or investigating" : s)))),
        el("label", {}, "At least ", el("select", { id: "cases-severity" },
          el("option", { value: "" }, "low"), el("option", {}, "medium"), el("option", {}, "high"), el("option", {}, "critical")))),
      el("div", { class: "scroll", tabindex: "0" },
        el("table", { id: "cases-table" },
          el("thead", {}, el("tr", {}, ...["Severity", "Risk", "Anchor", "Accounts", "Alerts", "Age", "Status", "Assignee"].map((h) => el("th", {}, h)))),
          el("tbody"))),
      el("p", { id: "cases-empty", class: "muted", hidden: "" }, "No case matches."),
      el("button", { id: "more-cases", type: "button", hidden: "" }, "More")),
    el("section", { class: "panel", id: "case-detail", "aria-labelledby": "case-title", hidden: "" },
      el("h2", { id: "case-title" }, "Case"),
      el("dl", { id: "case-facts", class: "facts" }),
      el("div", { class: "case-actions" },
        el("form", { id: "case-status-form", class: "inline" },
          el("label", {}, "Status ", el("select", { id: "case-status-select" })),
          el("button", { type: "submit" }, "Set status")),
        el("div", { class: "inline" },
          el("button", { id: "case-assign-me", type: "button" }, "Assign to me"),
          el("button", { id: "case-fraud", type: "button", class: "danger" }, "Fraud"),
          el("button", { id: "case-legitimate", type: "button" }, "Legitimate")),
        el("p", { id: "case-said", role: "status" })),
      el("form", { id: "case-note-form" },
        el("label", {}, "Note ", el("textarea", { id: "case-note-text", rows: "2", maxlength: "1000", required: "" })),
        el("button", { type: "submit" }, "Add note")),
      el("div", { class: "columns" },
        el("div", {}, el("h3", {}, "Accounts"), el("ul", { id: "case-accounts" })),
        el("div", {}, el("h3", {}, "Shared entities"), el("ul", { id: "case-entities" }))),
      el("h3", {}, "Alerts"),
      el("div", { class: "scroll", tabindex: "0" },
        el("table", { id: "case-alerts" },
          el("thead", {}, el("tr", {}, ...["Created", "Severity", "Detector", "Account", "Summary", "Status", "Transactions"].map((h) => el("th", {}, h)))),
          el("tbody"))),
      el("h3", {}, "Notes"), el("ul", { id: "case-notes" }),
      el("h3", {}, "History"), el("ul", { id: "case-history" })));
  $("cases-status").addEventListener("change", () => loadCases().catch(showError));
  $("cases-severity").addEventListener("change", () => loadCases().catch(showError));
  $("more-cases").addEventListener("click", () => loadCases(cases.token).catch(showError));
  $("case-status-form").addEventListener("submit", (e) => { e.preventDefault(); changeCase({ status: $("case-status-select").value }); });
  $("case-assign-me").addEventListener("click", () => changeCase({ assignee: sessionStorage.getItem("shopwatch.user") || null }));
  $("case-fraud").addEventListener("click", () => changeCase({ status: "confirmed_fraud" }));
  $("case-legitimate").addEventListener("click", () => changeCase({ status: "false_positive" }));
  $("case-note-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!cases.current) return;
    try {
      renderCase(await api("cases/" + enc(cases.current) + "/notes", post({ text: $("case-note-text").value })));
      $("case-note-text").value = "";
      say("case-said", "Note added.");
    } catch (error) { say("case-said", problemMessage(error), true); }
  });
}

async function loadCaseFigures() {
  // the last 7 days' pace: what GET /dashboard/metrics reports for cases
  const figures = (await api("dashboard/metrics?hours=168")).cases;
  if (!figures) { $("cases-figures").textContent = ""; return; }
  const pace = (d) => d.count ? "median " + duration(d.median_seconds) + ", p90 " + duration(d.p90_seconds) : "none yet";
  $("cases-figures").textContent = "Last 7 days: " + number(figures.opened) + " opened, " + number(figures.closed) +
    " closed · time to first action " + pace(figures.time_to_first_action) + " · time to close " + pace(figures.time_to_close);
}

function caseRow(c) {
  const row = el("tr", { "data-case-id": c.case_id },
    el("td", {}, el("span", { class: "badge " + c.severity }, c.severity)),
    el("td", { class: "number" }, number(c.risk_score)),
    el("td", {}, anchorText(c.anchor)),
    el("td", { class: "number" }, number(c.accounts.length)),
    el("td", { class: "number" }, number(c.alert_count)),
    el("td", {}, caseAge(c.created_at)),
    el("td", { class: "status" }, c.status),
    el("td", {}, c.assignee || "—"));
  if (c.case_id === cases.current) row.classList.add("selected");
  openable(row, () => { location.hash = "#/cases/" + enc(c.case_id); });
  return row;
}

async function loadCases(token) {
  const query = new URLSearchParams({ status: $("cases-status").value, limit: "50" });
  if ($("cases-severity").value) query.set("min_severity", $("cases-severity").value);
  if (token) query.set("next_token", token);
  const page = await api("cases?" + query);
  const body = $("cases-table").tBodies[0];
  if (token) body.append(...page.cases.map(caseRow)); else body.replaceChildren(...page.cases.map(caseRow));
  cases.token = page.next_token;
  $("more-cases").hidden = !page.next_token;
  $("cases-empty").hidden = body.rows.length > 0;
}

function caseAlertRow(a) {
  const transactions = el("td", {});
  a.transaction_ids.slice(0, 5).forEach((id, i) => {
    if (i) transactions.append(", ");
    transactions.append(el("a", { href: "#/transactions/" + enc(id) }, id));
  });
  if (a.transaction_ids.length > 5) transactions.append(" and " + (a.transaction_ids.length - 5) + " more");
  return el("tr", { "data-alert-id": a.alert_id },
    el("td", {}, when(a.created_at)),
    el("td", {}, el("span", { class: "badge " + a.severity }, a.severity)),
    el("td", {}, el("a", { href: "#/alerts/" + enc(a.alert_id) }, a.detector)),
    el("td", {}, a.customer_id ? el("a", { href: entityHref("customer", a.customer_id) }, a.customer_id) : "—"),
    el("td", {}, a.summary),
    el("td", { class: "status" }, a.status),
    transactions);
}

function renderCase(c) {
  cases.current = c.case_id;
  for (const row of $("cases-table").tBodies[0].rows) row.classList.toggle("selected", row.dataset.caseId === c.case_id);
  $("case-detail").hidden = false;
  $("case-detail").dataset.caseId = c.case_id;
  $("case-detail").dataset.status = c.status;
  $("case-title").textContent = "Case: " + anchorText(c.anchor);
  const facts = $("case-facts");
  facts.replaceChildren();
  fact(facts, "Status", c.status);
  fact(facts, "Severity", c.severity + " (risk " + number(c.risk_score) + ")");
  fact(facts, "Assignee", c.assignee);
  fact(facts, "Alerts", number(c.alerts.length) + " on " + number(c.accounts.length) + " account(s)");
  fact(facts, "Opened", when(c.created_at) + " (" + caseAge(c.created_at) + " ago)");
  fact(facts, "Time to first action", duration(c.time_to_first_action_seconds));
  fact(facts, "Time to close", duration(c.time_to_close_seconds));
  fact(facts, "Case id", c.case_id);
  $("case-accounts").replaceChildren(...c.accounts.map((id) => el("li", {}, el("a", { href: entityHref("customer", id) }, id))));
  const shared = c.entities.length ? c.entities : (c.anchor.kind === "customer" ? [] : [c.anchor]);
  $("case-entities").replaceChildren(...(shared.length ? shared.map((e) => el("li", {}, el("a", { href: entityHref(e.kind, e.value) }, e.kind + " " + e.value)))
    : [el("li", { class: "muted" }, "none: one account")]));
  $("case-alerts").tBodies[0].replaceChildren(...c.alerts.map(caseAlertRow));
  $("case-notes").replaceChildren(...c.notes.map((n) => el("li", {}, el("span", { class: "muted" }, when(n.at) + " " + n.by + ": "), n.text)));
  $("case-history").replaceChildren(...c.history.map((h) => el("li", {}, when(h.at) + " · " + h.by + " · " + h.what)));
  const next = NEXT_STATUSES[c.status] || [];
  $("case-status-select").replaceChildren(...next.map((s) => el("option", { value: s }, s)));
  $("case-status-form").querySelector("button").disabled = next.length === 0;
  $("case-fraud").disabled = !next.includes("confirmed_fraud");
  $("case-legitimate").disabled = !next.includes("false_positive");
}

async function changeCase(body) {
  if (!cases.current) return;
  try {
    const changed = await api("cases/" + enc(cases.current), { method: "PATCH", body: JSON.stringify(body) });
    renderCase(changed);
    const s = changed.settlement;
    const settled = s.settled.length ? s.settled.length + " alert(s) settled" + (CASE_STATUS_LABELS[changed.status] ? " as " + CASE_STATUS_LABELS[changed.status] : "") : "";
    const skipped = s.skipped.length ? s.skipped.length + " skipped (" + s.skipped.map((k) => k.status).join(", ") + ")" : "";
    say("case-said", ["Case " + changed.status, settled, skipped].filter(Boolean).join("; ") + ".", s.skipped.length > 0);
    await Promise.all([loadCases(), loadCaseFigures()]);
  } catch (error) { say("case-said", problemMessage(error), true); }
}

async function showCases(id) {
  buildCasesView();
  clearError();
  say("case-said", "");
  if (!id) {
    cases.current = null;
    $("case-detail").hidden = true;
    await Promise.all([loadCases(), loadCaseFigures()]);
    return;
  }
  // Opening a case: the case first. The list and the week's figures (they count a week of alerts) are loaded
  // after it, and only when the page has no list yet (a link straight to a case); a click from the list keeps it.
  const listed = $("cases-table").tBodies[0].rows.length > 0;
  renderCase(await api("cases/" + enc(decodeURIComponent(id))));
  if (!listed) await Promise.all([loadCases(), loadCaseFigures()]);
}

registerPage("cases", /^#\/cases(?:\/([^/]+))?$/, (match) => showCases(match[1]));
