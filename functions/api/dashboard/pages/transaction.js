// --- the transaction page (#/transactions/<id>) --------------------------------------------------------------
// Everything the shop sent, the checkout's decision, the risk score with what it is made of, the alerts it went
// to, its label, and a link to each of its entities. The helpers it shares with the entity page (entityLink,
// panel, alertItems, pageProblem) are in pages/entity.js.
const PART_COLORS = ["#c8233a", "#e0662c", "#d9a21b", "#7b4bc4", "#2d5bd3", "#1d7f74", "#5b6b82", "#9d3f8f"];
const SIGNAL_NAMES = { account_age: "young account", linked_accounts: "accounts sharing its device, card or e-mail",
  model_isolation: "model isolation", other: "other signals (not kept with the transaction: linked accounts, model isolation, rule points)" };

// "3 days", "5 h", "12 min": how old an account was
function accountAge(seconds) {
  if (seconds == null) return null;
  if (seconds < 3600) return number(Math.floor(seconds / 60)) + " min";
  if (seconds < 2 * 86400) return number(seconds / 3600, 1) + " h";
  return number(Math.floor(seconds / 86400)) + " days";
}
// quantity × unit price in cents, so that 3 × 19.99 reads 59.97 and not 59.970000000000006
function lineTotal(item) { return (Math.round(Number(item.unit_price) * 100) * item.quantity) / 100; }

async function showTransaction(id) {
  const view = $("view-transaction");
  view.replaceChildren(el("p", { class: "muted" }, "Loading…"));
  let detail;
  try { detail = await api("transactions/" + enc(id)); } catch (e) { view.replaceChildren(pageProblem(e)); return; }
  renderTransaction(view, detail);
}

function renderTransaction(view, d) {
  const t = d.transaction;
  const facts = el("dl", { class: "facts" });
  fact(facts, "When", when(t.timestamp) + (t.received_at !== t.timestamp ? " (received " + when(t.received_at) + ")" : ""));
  fact(facts, "Amount", money(t.amount, t.currency));
  fact(facts, "Status", t.status);
  fact(facts, "Account", el("span", {}, entityLink("customer", t.customer_id), t.customer_name ? " (" + t.customer_name + ")" : ""));
  fact(facts, "Account age", t.account_created_at ? accountAge(d.account_age_seconds) + " (opened " + when(t.account_created_at) + ")" : "not sent by the shop");
  fact(facts, "E-mail", t.email ? entityLink("email", entityValue(d, "email", t.email), t.email) : null);
  fact(facts, "IP", t.ip ? entityLink("ip", t.ip) : null);
  fact(facts, "Buyer's country", t.country ? t.country + " (where the shop located the buyer)" : null);
  fact(facts, "Device", t.device_id ? entityLink("device", t.device_id) : null);
  fact(facts, "User agent", t.user_agent);
  const card = d.entities.find((e) => e.kind === "card");
  fact(facts, "Card", t.card_bin || t.card_fingerprint ? el("span", {},
    "BIN " + (t.card_bin || "—") + " · fingerprint " + (t.card_fingerprint || "—") + " · ", card ? entityLink("card", card.value, "card page") : "") : null);
  const mismatch = t.billing_country && t.shipping_country && t.billing_country !== t.shipping_country;
  fact(facts, "Billing / shipping", t.billing_country || t.shipping_country
    ? (t.billing_country || "—") + " / " + (t.shipping_country || "—") + (mismatch ? " (differ)" : "") : null);
  fact(facts, "Channel / payment", (t.channel || "—") + " / " + (t.payment_method || "—"));
  fact(facts, "Checkout decision", checkoutText(d.checkout));
  fact(facts, "Label", d.label ? d.label.label + " (" + d.label.source + ", by " + d.label.by + ", " + when(d.label.at) + ")" : "none");
  view.replaceChildren(el("p", {}, el("a", { href: "#/" }, "← Overview")),
    panel(el("span", {}, "Transaction ", el("span", { class: "entity-value" }, t.transaction_id)), facts),
    el("div", { class: "columns" }, panel("Risk score", riskPanel(d.detection)), panel("Alerts", alertItems(d.alerts))),
    panel("Items", itemsTable(t)),
    panel("Entities", el("ul", { class: "linked" }, ...d.entities.map((e) =>
      el("li", {}, ENTITY_NAMES[e.kind] + ": ", entityLink(e.kind, e.value))))),
    panel("Detectors", findingsList(d.detection)));
}
function entityValue(d, kind, fallback) { const found = d.entities.find((e) => e.kind === kind); return found ? found.value : fallback; }
function checkoutText(c) {
  if (!c) return "none recorded";
  return c.decision + " (risk at checkout " + number(c.risk_score, 1) + ")" + (c.reasons.length ? ": " + c.reasons.map((r) => r.message).join("; ") : "");
}

function itemsTable(t) {
  if (!t.items || !t.items.length) return el("p", { class: "muted" }, "No items sent: the amount alone.");
  const rows = t.items.map((i) => el("tr", {}, el("td", { class: "sku" }, i.sku), el("td", {}, i.name || "—"),
    el("td", { class: "num", "data-label": "×" }, number(i.quantity)), el("td", { class: "num", "data-label": "at" }, money(i.unit_price, t.currency)),
    el("td", { class: "num", "data-label": "=" }, money(lineTotal(i), t.currency))));
  return el("table", { class: "stack-table items" },
    el("thead", {}, el("tr", {}, ...["SKU", "Name", "Quantity", "Unit price", "Line total"].map((h) => el("th", {}, h)))),
    el("tbody", {}, ...rows),
    el("tfoot", {}, el("tr", {}, el("td", { colspan: "4" }, "Total"), el("td", { class: "num" }, money(t.amount, t.currency)))));
}

// The score and its parts: one bar 0-100 split by contributor (the parts add up to the score, see
// detectors/breakdown.py), and the same parts as a list with their points.
function riskPanel(det) {
  if (!det.processed) return el("p", { class: "muted" }, "Not judged yet (or its detection record expired after 7 days).");
  const width = 320, height = 22;
  const bar = svg("svg", { viewBox: "0 0 " + width + " " + height, role: "img", "aria-label": "risk " + number(det.risk_score, 1) + " of 100" });
  bar.append(svg("rect", { x: 0, y: 0, width, height, fill: "#eef0f4" }));
  let x = 0;
  const rows = det.breakdown.map((p, i) => {
    const color = PART_COLORS[i % PART_COLORS.length], w = (p.points / 100) * width;
    bar.append(svg("rect", { x, y: 0, width: w, height, fill: color }));
    x += w;
    const name = p.kind === "finding" ? p.name : SIGNAL_NAMES[p.name] || p.name;
    return el("li", {}, el("i", { class: "part-" + (i % PART_COLORS.length) }), el("span", { class: "part-name" }, name),
      el("span", { class: "muted" }, p.kind === "finding" ? " detector" : p.kind === "signal" ? " signal" : ""),
      el("strong", { class: "part-points" }, "+" + number(p.points, 1)));
  });
  return el("div", { class: "risk" },
    el("p", { class: "risk-score" }, el("strong", {}, number(det.risk_score, 1)), el("span", { class: "muted" }, " of 100")),
    bar, rows.length ? el("ol", { class: "breakdown" }, ...rows) : el("p", { class: "muted" }, "Nothing raised it."),
    det.rules.length ? el("p", { class: "muted" }, "Rules matched: " + det.rules.map((r) => r.rule_id + " v" + r.version + " (" + r.mode + ")").join(", ")) : "",
    det.models.length ? el("p", { class: "muted" }, "Models: " + det.models.map((m) => m.role + " " + m.version + (m.outlier ? " (outlier)" : "")).join(", ")) : "");
}
function findingsList(det) {
  if (!det.scores.length) return el("p", { class: "muted" }, "No detector fired.");
  return el("ul", { class: "findings" }, ...det.scores.map((s) => el("li", {}, severityBadge(s.severity), " ", el("strong", {}, s.detector),
    el("span", { class: "muted" }, " strength " + number(s.score, 2)), el("div", {}, s.description),
    el("ul", {}, ...s.reasons.map((r) => el("li", {}, r.message))))));
}

registerPage("transaction", /^#\/transactions\/(.+)$/, (match) => showTransaction(decodeURIComponent(match[1])));
