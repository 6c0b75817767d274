// --- the entity page (#/entities/<kind>/<value>): an account, device, card, IP or e-mail ---------------------
// What Shopwatch counted about it, what it is linked to (a small graph drawn by hand), its transactions and
// alerts, and (admins) adding it to a block or allow list. Every value is text: an entity's value is whatever a
// customer's browser sent.
const ENTITY_NAMES = { customer: "Account", device: "Device", card: "Card", ip: "IP", email: "E-mail" };
const ENTITY_COLORS = { customer: "#2d5bd3", device: "#c8233a", card: "#7b4bc4", ip: "#1d7f74", email: "#b25f00" };
const entityPage = { current: null };

function entityHref(kind, value) { return "#/entities/" + kind + "/" + enc(value); }
function entityLink(kind, value, text) { return el("a", { href: entityHref(kind, value), class: "entity-link" }, text == null ? value : text); }
function transactionLink(id) { return el("a", { href: "#/transactions/" + enc(id) }, id); }
function alertLink(id, text) { return el("a", { href: "#/alerts/" + enc(id) }, text == null ? id : text); }
// a page's own problem, shown on the page where it happened (not in the page-wide banner)
function pageProblem(error) { return el("p", { class: "error", role: "alert" }, problemMessage(error)); }
function panel(title, ...children) {
  const id = "p-" + Math.random().toString(36).slice(2, 9);
  return el("section", { class: "panel", "aria-labelledby": id }, el("h2", { id }, title), ...children);
}
function severityBadge(severity) { return el("span", { class: "badge " + severity }, severity); }
function alertItems(alerts) {
  if (!alerts.length) return el("p", { class: "muted" }, "No alerts.");
  return el("ul", { class: "alert-links" }, ...alerts.map((a) => el("li", {},
    severityBadge(a.severity), " ", alertLink(a.alert_id, a.detector), el("span", { class: "muted" }, " · " + a.status + " · risk " + number(a.risk_score, 1)),
    el("div", { class: "alert-summary" }, a.summary))));
}
function shortened(text, max) { return text.length > max ? text.slice(0, max - 1) + "…" : text; }

async function showEntity(kind, value) {
  const view = $("view-entity");
  view.replaceChildren(el("p", { class: "muted" }, "Loading…"));
  let entity;
  try { entity = await api("entities/" + enc(kind) + "/" + enc(value)); } catch (e) { view.replaceChildren(pageProblem(e)); return; }
  entityPage.current = entity;
  renderEntity(view, entity);
  if (isAdmin()) loadListChoices(entity).catch((e) => say("entity-list-status", problemMessage(e), true));
}

function renderEntity(view, e) {
  const name = ENTITY_NAMES[e.kind];
  const facts = el("dl", { class: "facts" });
  fact(facts, "First seen", when(e.first_seen));
  fact(facts, "Last seen", when(e.last_seen));
  fact(facts, "Transactions", number(e.transactions) + (e.failed ? " (" + number(e.failed) + " failed or denied)" : ""));
  fact(facts, "Approved amount", number(e.approved_amount, 2) + " (all currencies as sent)");
  const windows = el("table", { class: "counts entity-windows" },
    el("thead", {}, el("tr", {}, el("th", {}, "Window"), el("th", {}, "Transactions"), el("th", {}, "Approved amount"))),
    el("tbody", {}, ...e.windows.map((w) => el("tr", {}, el("td", {}, "last " + w.window), el("td", {}, number(w.transactions)),
      el("td", {}, w.approved_amount == null ? "—" : number(w.approved_amount, 2))))));
  const header = panel(el("span", {}, name + " ", el("span", { class: "entity-value" }, e.value)), facts, windows);
  view.replaceChildren(el("p", {}, el("a", { href: "#/" }, "← Overview")), header,
    el("div", { class: "columns" }, panel("Linked", linkedList(e)), panel("Link graph", linkGraph(e))),
    panel("Transactions", entityTransactions(e)),
    panel("Alerts", alertItems(e.alerts)),
    listActions(e));
}

function linkedList(e) {
  if (!e.linked.length) return el("p", { class: "muted" }, "Nothing linked.");
  return el("div", {}, ...e.linked.map((group) => el("div", { class: "linked-group" },
    el("h3", {}, (group.kind === "customer" ? "Accounts" : ENTITY_NAMES[group.kind] + "s") + " ",
      el("span", { class: "muted" }, group.at_least ? "(at least " + group.values.length + ")" : "(" + group.values.length + ")")),
    el("ul", { class: "linked" }, ...group.values.map((v) => el("li", {}, entityLink(group.kind, v)))))));
}

// The graph: the entity in the middle, what it links to on a ring around it, what those link to on an outer
// ring. Plain SVG; every node is a link to its own page (a keyboard reaches it with Tab).
function linkGraph(e) {
  const nodes = e.graph.nodes, edges = e.graph.edges;
  const size = 360, mid = size / 2, pad = 50;
  const neighbours = nodes.map(() => []);
  for (const [a, b] of edges) { neighbours[a].push(b); neighbours[b].push(a); }
  const inner = neighbours[0].slice().sort((a, b) => a - b);
  const place = [[mid, mid]], angleOf = [];
  const innerRadius = inner.length === nodes.length - 1 ? 120 : 80;
  inner.forEach((i, k) => {
    angleOf[i] = -Math.PI / 2 + (2 * Math.PI * k) / Math.max(1, inner.length);
    place[i] = [mid + innerRadius * Math.cos(angleOf[i]), mid + innerRadius * Math.sin(angleOf[i])];
  });
  // the second step sits on an outer ring, each node near the first of the inner nodes it hangs from
  const outer = nodes.map((_, i) => i).filter((i) => i !== 0 && place[i] === undefined);
  const byParent = new Map();
  for (const i of outer) {
    const parent = neighbours[i].find((n) => angleOf[n] !== undefined);
    if (!byParent.has(parent)) byParent.set(parent, []);
    byParent.get(parent).push(i);
  }
  const slice = (2 * Math.PI) / Math.max(1, inner.length);
  for (const [parent, children] of byParent) {
    const centre = parent === undefined ? 0 : angleOf[parent];
    children.forEach((i, k) => {
      const angle = centre + slice * 0.8 * ((k + 0.5) / children.length - 0.5);
      place[i] = [mid + 160 * Math.cos(angle), mid + 160 * Math.sin(angle)];
    });
  }
  const drawing = svg("svg", { viewBox: [-pad, -20, size + 2 * pad, size + 40].join(" "), role: "group", "aria-label": "accounts and what they share" });
  for (const [a, b] of edges) {
    drawing.append(svg("line", { x1: place[a][0], y1: place[a][1], x2: place[b][0], y2: place[b][1], class: "edge" }));
  }
  nodes.forEach((n, i) => {
    const [x, y] = place[i];
    const link = svg("a", { href: entityHref(n.kind, n.value), class: "node node-" + n.kind + (i === 0 ? " center" : ""),
      "aria-label": ENTITY_NAMES[n.kind] + " " + n.value });
    link.append(svg("title", {}, ENTITY_NAMES[n.kind] + " " + n.value),
      svg("circle", { cx: x, cy: y, r: i === 0 ? 11 : 7, fill: ENTITY_COLORS[n.kind] }),
      svg("text", { x, y: y + (i === 0 ? 24 : 18), "text-anchor": "middle" }, shortened(n.value, 16)));
    drawing.append(link);
  });
  const legend = el("p", { class: "legend" }, ...Object.keys(ENTITY_NAMES).map((k) =>
    el("span", {}, el("i", { class: "swatch-" + k }), ENTITY_NAMES[k])));
  const more = e.graph.omitted ? el("p", { class: "muted graph-omitted" }, number(e.graph.omitted) + " more not shown") : "";
  return el("div", { class: "graph" }, drawing, legend, more);
}

function entityTransactions(e) {
  if (!e.recent_transactions.length) return el("p", { class: "muted" }, "No stored transactions.");
  const rows = e.recent_transactions.map((t) => el("tr", {},
    el("td", {}, when(t.timestamp)), el("td", {}, transactionLink(t.transaction_id)),
    el("td", {}, entityLink("customer", t.customer_id)), el("td", { class: "num" }, money(t.amount, t.currency)), el("td", {}, t.status)));
  return el("div", {}, el("p", { class: "muted" }, "Newest first" + (e.kind === "customer" ? "" : ", among its accounts' latest")),
    el("table", { class: "stack-table" }, el("thead", {}, el("tr", {}, ...["When", "Transaction", "Account", "Amount", "Status"].map((h) => el("th", {}, h)))),
      el("tbody", {}, ...rows)));
}

// --- block and allow lists: admins only (the API refuses anyone else; the form is not shown to them) -----------
function listActions(e) {
  if (!isAdmin()) return panel("Block or allow", el("p", { class: "muted" }, "Admins can add this " + ENTITY_NAMES[e.kind].toLowerCase() + " to a block or allow list."));
  const form = el("form", { id: "entity-list-form", class: "inline" },
    el("label", {}, "List", el("select", { id: "entity-list", required: "" })),
    el("label", { class: "grow" }, "Reason", el("input", { id: "entity-list-reason", required: "", maxlength: "500", autocomplete: "off" })),
    el("button", { type: "submit", id: "entity-list-add" }, "Add to list"));
  form.addEventListener("submit", (event) => { event.preventDefault(); addToList(e); });
  const targets = e.list_targets.map((t) => t.list_kind + " " + t.value).join(", ");
  return panel("Block or allow", el("p", { class: "muted" }, "Listed as " + targets + (e.kind === "card" && e.list_targets[0].list_kind === "card_bin" ? " (every card of this BIN)" : "")),
    form, el("p", { id: "entity-list-status", role: "status" }));
}
async function loadListChoices(e) {
  const kinds = new Set(e.list_targets.map((t) => t.list_kind));
  const lists = (await api("lists")).lists.filter((l) => kinds.has(l.kind));
  entityPage.lists = lists;
  const select = $("entity-list");
  if (!select) return;
  select.replaceChildren(...lists.map((l) => el("option", { value: l.name, "data-mode": l.mode }, l.name + " (" + l.mode + ")")));
  const label = () => {
    const chosen = select.selectedOptions[0];
    $("entity-list-add").textContent = chosen ? "Add to " + chosen.dataset.mode + " list" : "Add to list";
  };
  select.addEventListener("change", label);
  label();
  $("entity-list-add").disabled = lists.length === 0;
  if (!lists.length) say("entity-list-status", "No block or allow list takes " + [...kinds].join(" or ") + " values yet: create one on the Lists page.");
}
async function addToList(e) {
  const name = $("entity-list").value, reason = $("entity-list-reason").value.trim();
  const list = (entityPage.lists || []).find((l) => l.name === name);
  const target = e.list_targets.find((t) => list && t.list_kind === list.kind) || e.list_targets[0];
  try {
    const answer = await api("lists/" + enc(name) + "/items", post({ items: [{ value: target.value, reason }] }));
    say("entity-list-status", (answer.added ? "Added to " : "Updated on ") + name + ".");
    $("entity-list-reason").value = "";
  } catch (error) { say("entity-list-status", "Not added: " + problemMessage(error), true); }
}

registerPage("entity", /^#\/entities\/(customer|device|card|ip|email)\/(.+)$/, (match) => showEntity(match[1], decodeURIComponent(match[2])));
