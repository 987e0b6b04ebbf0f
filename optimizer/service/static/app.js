// SmartCart shopper page: search, a list in sessionStorage, optimize. No framework, no build step.
// Everything the shopper enters stays in this tab's sessionStorage; the server only answers queries.
"use strict";

const LIST_KEY = "smartcart.list";
const SEARCH_DELAY_MS = 40; // a short pause in typing, then search; a newer query aborts the older request

// ---- the list (sessionStorage) ----------------------------------------------------------------
function loadList() {
  try {
    const items = JSON.parse(sessionStorage.getItem(LIST_KEY) || "[]");
    return Array.isArray(items) ? items : [];
  } catch (_) {
    return [];
  }
}

function saveList(items) {
  sessionStorage.setItem(LIST_KEY, JSON.stringify(items));
  renderList();
}

function addToList(hit) {
  const items = loadList();
  const found = items.find((item) => item.product_key === hit.product_key);
  if (found) {
    found.quantity = Math.min(1000, found.quantity + 1);
  } else {
    items.push({ product_key: hit.product_key, product_name: hit.product_name, size: hit.size || null, quantity: 1, substitutes: [] });
  }
  saveList(items);
  announce(`${hit.product_name} added to your list.`);
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function announce(message) {
  document.getElementById("search-status").textContent = message;
}

function renderList() {
  const items = loadList();
  const list = document.getElementById("list");
  list.replaceChildren();
  document.getElementById("list-empty").hidden = items.length > 0;
  document.getElementById("list-count").textContent = String(items.length);
  items.forEach((item, index) => {
    const quantityId = `qty-${index}`;
    const quantity = el("input", {
      id: quantityId, type: "number", min: "1", max: "1000", value: String(item.quantity),
      "data-product-key": item.product_key, class: "quantity",
    });
    quantity.addEventListener("change", () => {
      const value = Number.parseInt(quantity.value, 10);
      const current = loadList();
      current[index].quantity = Number.isFinite(value) && value >= 1 ? Math.min(value, 1000) : 1;
      saveList(current);
    });
    const subs = el("div", { class: "subs" });
    if (item.substitutes.length) {
      subs.append(el("span", { text: "Allowed instead: " }));
      item.substitutes.forEach((sub, subIndex) => {
        subs.append(
          el("span", { class: "sub", text: sub.product_name + " " }),
          el("button", {
            type: "button", class: "remove-sub", "aria-label": `Stop allowing ${sub.product_name} instead of ${item.product_name}`, text: "x",
            onclick: () => {
              const current = loadList();
              current[index].substitutes.splice(subIndex, 1);
              saveList(current);
            },
          }),
          " ",
        );
      });
    }
    list.append(
      el("li", { "data-product-key": item.product_key },
        el("span", { class: "item-name", text: item.product_name + (item.size ? ` (${item.size})` : "") }),
        el("label", { for: quantityId, text: "Quantity" }),
        quantity,
        el("button", {
          type: "button", class: "alternatives-button", "aria-label": `Cheaper alternatives to ${item.product_name}`,
          text: "Cheaper alternatives", onclick: () => showAlternatives(item),
        }),
        el("button", {
          type: "button", class: "remove", "aria-label": `Remove ${item.product_name} from the list`, text: "Remove",
          onclick: () => {
            const current = loadList().filter((entry) => entry.product_key !== item.product_key);
            saveList(current);
            announce(`${item.product_name} removed from your list.`);
          },
        }),
        subs,
      ),
    );
  });
}

// ---- search -----------------------------------------------------------------------------------
let searchTimer = null;
let searchController = null;

function describeHit(hit) {
  const parts = [];
  if (hit.size) parts.push(hit.size);
  if (hit.brand) parts.push(hit.brand);
  if (hit.price_min !== null && hit.price_min !== undefined) {
    parts.push(hit.price_min === hit.price_max ? `$${hit.price_min}` : `$${hit.price_min} to $${hit.price_max}`);
  }
  if (hit.retailers && hit.retailers.length) parts.push(`at ${hit.retailers.join(", ")} (${hit.stores_stocking} stores)`);
  if (hit.gtin) parts.push(`GTIN ${hit.gtin}`);
  return parts.join(" · ");
}

async function runSearch(query) {
  if (searchController) searchController.abort();
  searchController = new AbortController();
  const results = document.getElementById("results");
  try {
    const response = await fetch(`/api/products/search?q=${encodeURIComponent(query)}&limit=10`, { signal: searchController.signal });
    const body = await response.json();
    if (!response.ok) {
      results.replaceChildren();
      announce(errorText(body, "search"));
      return;
    }
    results.replaceChildren(
      ...body.results.map((hit) =>
        el("li", { class: "hit", "data-product-key": hit.product_key },
          el("span", { class: "hit-name", text: hit.product_name }),
          el("button", { type: "button", class: "add", "aria-label": `Add ${hit.product_name} to the list`, text: "+", onclick: () => addToList(hit) }),
          el("span", { class: "meta", text: describeHit(hit) }),
        ),
      ),
    );
    announce(body.results.length ? `${body.results.length} products found.` : `No product matches "${query}".`);
  } catch (error) {
    if (error.name !== "AbortError") announce("The search is not available right now; try again in a moment.");
  }
}

function onSearchInput(event) {
  const query = event.target.value.trim();
  clearTimeout(searchTimer);
  if (query.length < 2) {
    document.getElementById("results").replaceChildren();
    announce(query ? "Type at least two letters." : "");
    return;
  }
  searchTimer = setTimeout(() => runSearch(query), SEARCH_DELAY_MS);
}

// ---- alternatives -----------------------------------------------------------------------------
async function showAlternatives(item) {
  const box = document.getElementById("alternatives");
  box.replaceChildren(el("p", { text: `Looking for cheaper alternatives to ${item.product_name}...` }));
  const response = await fetch(`/api/products/${encodeURIComponent(item.product_key)}/alternatives`);
  const body = await response.json();
  if (!response.ok) {
    box.replaceChildren(el("p", { class: "error", text: errorText(body, "alternatives") }));
    return;
  }
  if (!body.alternatives.length) {
    box.replaceChildren(el("p", { text: `Nothing comparable is cheaper per ${body.package_unit || "unit"} than ${item.product_name}.` }));
    return;
  }
  const list = el("ul", { class: "hits", "aria-label": `Cheaper alternatives to ${item.product_name}` });
  for (const alt of body.alternatives) {
    const allowed = item.substitutes.some((sub) => sub.product_key === alt.product_key);
    list.append(
      el("li", { class: "alternative", "data-product-key": alt.product_key },
        el("span", { class: "hit-name", text: `${alt.product_name}${alt.size ? ` (${alt.size})` : ""}` }),
        el("button", {
          type: "button", class: "allow", "aria-label": `Allow ${alt.product_name} instead of ${item.product_name}`,
          text: allowed ? "Allowed" : "Allow as substitute", disabled: allowed ? "disabled" : null,
          onclick: (event) => {
            const current = loadList();
            const target = current.find((entry) => entry.product_key === item.product_key);
            if (target && !target.substitutes.some((sub) => sub.product_key === alt.product_key)) {
              target.substitutes.push({ product_key: alt.product_key, product_name: alt.product_name });
              saveList(current);
            }
            event.target.textContent = "Allowed";
            event.target.disabled = true;
          },
        }),
        el("span", { class: "meta", text: `${alt.reason} (confidence ${Math.round(alt.confidence * 100)}%)` }),
      ),
    );
  }
  box.replaceChildren(el("h3", { text: `Cheaper alternatives to ${item.product_name}` }), list);
}

// ---- optimize ---------------------------------------------------------------------------------
const FIELD_LABELS = {
  postcode: "Postcode", region: "Region", radius_km: "Distance", max_stores: "Most stores to visit",
  budget: "Budget", retailers: "Retailers", stores: "Stores", items: "Your list", quantity: "Quantity",
};

function productName(key) {
  const item = loadList().find((entry) => entry.product_key === key);
  if (item) return item.product_name;
  for (const entry of loadList()) {
    const sub = entry.substitutes.find((s) => s.product_key === key);
    if (sub) return sub.product_name;
  }
  return key;
}

function errorText(body, context) {
  const detail = (body && body.detail) || {};
  if (detail.code === "invalid_request" && Array.isArray(detail.details) && detail.details.length) {
    return detail.details.map((problem) => {
      const loc = problem.loc.filter((part) => part !== "body" && part !== "query");
      if (loc[0] === "items" && Number.isInteger(loc[1])) {
        const item = loadList()[loc[1]];
        const field = loc.length > 2 ? FIELD_LABELS[loc[2]] || loc[2] : "item";
        return `${item ? item.product_name : "An item"}: ${field}: ${problem.message}`;
      }
      return `${FIELD_LABELS[loc[0]] || loc.join(".")}: ${problem.message}`;
    }).join(" ");
  }
  if (detail.code === "unknown_products" && Array.isArray(detail.details)) {
    return `These products are no longer in the catalog: ${detail.details.map(productName).join(", ")}. Remove them from your list.`;
  }
  if (detail.message) return detail.message;
  return `The ${context} did not work; try again in a moment.`;
}

function selectedValues(container) {
  return [...document.querySelectorAll(`#${container} input[type=checkbox]:checked`)].map((box) => box.value);
}

async function loadRetailers() {
  const box = document.getElementById("retailers");
  const status = document.getElementById("retailers-status");
  try {
    const response = await fetch("/api/retailers");
    const body = await response.json();
    if (!response.ok) {
      status.textContent = errorText(body, "retailer list");
      return;
    }
    status.remove();
    const regions = new Set();
    body.retailers.forEach((retailer, index) => {
      retailer.regions.forEach((region) => regions.add(region));
      const id = `retailer-${index}`;
      box.append(el("div", {},
        el("input", { type: "checkbox", id, value: retailer.retailer, class: "retailer" }),
        el("label", { for: id, text: ` ${retailer.retailer} (${retailer.stores} stores)` })));
    });
    const select = document.getElementById("region");
    [...regions].sort().forEach((region) => select.append(el("option", { value: region, text: region })));
  } catch (_) {
    status.textContent = "Retailers could not be loaded; you can still optimize across all of them.";
  }
}

async function loadStores() {
  const params = new URLSearchParams();
  const postcode = document.getElementById("postcode").value.trim();
  const radius = document.getElementById("radius").value.trim();
  if (postcode) params.set("postcode", postcode);
  if (radius && postcode) params.set("radius_km", radius);
  selectedValues("retailers").forEach((retailer) => params.append("retailer", retailer));
  const choices = document.getElementById("store-choices");
  const response = await fetch(`/api/stores?${params}`);
  const body = await response.json();
  if (!response.ok) {
    choices.replaceChildren(el("p", { class: "error", role: "alert", text: errorText(body, "store list") }));
    return;
  }
  const region = document.getElementById("region").value;
  const stores = body.stores.filter((store) => postcode || !region || store.region === region);
  choices.replaceChildren(...stores.map((store, index) => el("div", {},
    el("input", { type: "checkbox", id: `store-${index}`, value: store.store_key, class: "store-choice" }),
    el("label", {
      for: `store-${index}`,
      text: ` ${store.store_name} (${store.retailer}${store.region ? ", " + store.region : ""})${store.distance_km !== null ? `, ${store.distance_km} km` : ""}`,
    }))));
  if (!stores.length) choices.append(el("p", { text: "No store matches; widen the distance or the retailers." }));
}

function basketFromPage() {
  const items = loadList();
  const basket = {
    items: items.map((item) => ({ product_key: item.product_key, quantity: item.quantity, substitutes: item.substitutes.map((sub) => sub.product_key) })),
    max_stores: Number.parseInt(document.getElementById("max-stores").value, 10),
  };
  const postcode = document.getElementById("postcode").value.trim();
  const region = document.getElementById("region").value;
  const radius = document.getElementById("radius").value.trim();
  const budget = document.getElementById("budget").value.trim();
  if (postcode) basket.postcode = postcode;
  if (region && !postcode) basket.region = region;
  if (radius) basket.radius_km = Number(radius);
  if (budget) basket.budget = Number(budget);
  const retailers = selectedValues("retailers");
  if (retailers.length) basket.retailers = retailers;
  const stores = selectedValues("store-choices");
  if (stores.length) basket.stores = stores;
  return basket;
}

function validateForm(basket) {
  if (!basket.items.length) return "Your list is empty: add products on the Search and list view first.";
  if (!Number.isInteger(basket.max_stores) || basket.max_stores < 1) return "Most stores to visit: give a whole number, 1 or more.";
  if (basket.budget !== undefined && !(basket.budget > 0)) return "Budget: give an amount above 0, or leave it empty.";
  if (basket.radius_km !== undefined && !basket.postcode) return "Distance: give your postcode too, to measure from.";
  return null;
}

function money(value) {
  return value === null || value === undefined ? "-" : `$${value}`;
}

function renderSplit(result) {
  const split = document.getElementById("split");
  const error = document.getElementById("optimize-error");
  if (result.status !== "optimal") {
    const item = result.infeasible_item ? ` (${result.infeasible_item.product_name || result.infeasible_item.product_key})` : "";
    error.textContent = `No split is possible: ${result.message || result.status}${item}.`;
    split.replaceChildren();
    return;
  }
  const sections = result.stores.map((store) => el("section", { class: "store", "data-store-key": store.store_key, "aria-label": store.store },
    el("h3", { text: store.store + (store.distance_km !== null ? `, ${store.distance_km} km` : "") }),
    el("table", {},
      el("caption", { class: "status", text: `What to buy at ${store.store}` }),
      el("thead", {}, el("tr", {},
        el("th", { scope: "col", text: "Product" }), el("th", { scope: "col", text: "Quantity" }),
        el("th", { scope: "col", text: "Packs" }), el("th", { scope: "col", class: "money", text: "Cost" }))),
      el("tbody", {}, ...store.items.map((line) => el("tr", { "data-product-key": line.product_key },
        el("td", { text: (line.product_name || line.product_key) + (line.substitute_for ? ` (instead of ${line.substitute_for_name || line.substitute_for})` : "") }),
        el("td", { text: String(line.quantity) }),
        el("td", { text: line.packs.map((pack) => `${pack.count} x ${pack.pack_size > 1 ? pack.pack_size + "-pack" : "1"} @ $${pack.pack_price}`).join(" + ") }),
        el("td", { class: "money line-cost", text: money(line.cost) }))))),
    el("p", {},
      el("span", { text: "Subtotal " }), el("span", { class: "store-subtotal", text: money(store.subtotal) }),
      el("span", { text: ", travel " }), el("span", { class: "store-travel", text: money(store.travel_cost) }),
      el("span", { text: ", store total " }), el("strong", { class: "store-total", text: money(store.total) }))));
  const single = result.best_single_store;
  const summary = el("div", { class: "summary", role: "status", tabindex: "-1" },
    el("p", {}, el("span", { text: "Total " }), el("strong", { id: "total", text: money(result.total) }),
      el("span", { text: ` (items ${money(result.items_total)} + travel ${money(result.travel_total)})` })),
    el("p", { id: "single", text: single ? `Best single store: ${single.store} at ${money(single.total)}` : "No single store stocks your whole list." }),
    el("p", {}, el("span", { text: "You save " }), el("strong", { id: "saving", text: money(result.saving) })));
  error.textContent = "";
  split.replaceChildren(summary, ...sections);
  summary.focus();
}

async function onOptimize(event) {
  event.preventDefault();
  const error = document.getElementById("optimize-error");
  const basket = basketFromPage();
  const problem = validateForm(basket);
  if (problem) {
    error.textContent = problem;
    document.getElementById("split").replaceChildren();
    return;
  }
  error.textContent = "";
  document.getElementById("split").replaceChildren(el("p", { class: "status", text: "Finding the cheapest split..." }));
  try {
    const response = await fetch("/api/optimize", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(basket),
    });
    const body = await response.json();
    if (!response.ok) {
      error.textContent = errorText(body, "optimization");
      document.getElementById("split").replaceChildren();
      return;
    }
    renderSplit(body);
  } catch (_) {
    error.textContent = "The optimizer is not available right now; try again in a moment.";
  }
}

// ---- views ------------------------------------------------------------------------------------
function showView(name) {
  for (const view of ["list", "optimize"]) {
    document.getElementById(`view-${view}`).hidden = view !== name;
    const tab = document.getElementById(`tab-${view}`);
    if (view === name) tab.setAttribute("aria-current", "page");
    else tab.removeAttribute("aria-current");
  }
  document.getElementById(name === "list" ? "search" : "postcode").focus();
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("search").addEventListener("input", onSearchInput);
  document.getElementById("tab-list").addEventListener("click", () => showView("list"));
  document.getElementById("tab-optimize").addEventListener("click", () => showView("optimize"));
  document.getElementById("optimize-form").addEventListener("submit", onOptimize);
  document.getElementById("load-stores").addEventListener("click", loadStores);
  renderList();
  loadRetailers();
});
