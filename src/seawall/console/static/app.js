// Seawall review console: plain JavaScript over the review API. Everything is built with DOM
// calls (never innerHTML with data), so content from posts cannot inject markup.
"use strict";

const S = { me: null, csrf: null, exposure: null, queues: [], queue: null, cases: [], sel: 0,
            kase: null, choice: null, timer: null, checked: new Set() };

// -- small helpers --------------------------------------------------------------------------
function el(tag, attrs, ...kids) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
    else if (k === "class") n.className = v;
    else if (k === "text") n.textContent = v;
    else n.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    n.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return n;
}
const $ = (id) => document.getElementById(id);

async function api(method, path, body) {
  const opts = { method, headers: {}, credentials: "same-origin" };
  if (method !== "GET") {
    opts.headers["X-CSRF-Token"] = S.csrf || "";
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body || {});
  }
  const r = await fetch(path, opts);
  let data = null;
  try { data = await r.json(); } catch (_) { data = null; }
  if (r.status === 401 && path !== "/v1/login") { showLogin("Your session ended: log in again."); throw new Error("401"); }
  if (!r.ok) {
    const reason = (data && data.error && data.error.reason) || `HTTP ${r.status}`;
    const err = new Error(reason); err.status = r.status; err.data = data; throw err;
  }
  return data;
}

function toast(msg, kind) {
  const t = $("toast");
  t.textContent = msg; t.className = kind || "info"; t.hidden = false;
  clearTimeout(toast.t); toast.t = setTimeout(() => { t.hidden = true; }, 4200);
}

function ago(iso) {
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

function slaText(dueIso) {
  let s = Math.round((Date.parse(dueIso) - Date.now()) / 1000);
  const over = s < 0; s = Math.abs(s);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const txt = h ? `${h}h ${String(m).padStart(2, "0")}m` : `${m}m ${String(sec).padStart(2, "0")}s`;
  return over ? `overdue ${txt}` : txt;
}

function sla(dueIso) {
  const span = el("span", { class: "sla", "data-due": dueIso });
  paintSla(span);
  return span;
}
function paintSla(span) {
  const due = span.getAttribute("data-due");
  const left = Date.parse(due) - Date.now();
  span.textContent = slaText(due);
  span.className = "sla " + (left < 0 ? "over" : left < 15 * 60000 ? "soon" : "ok");
}
function tick() { document.querySelectorAll(".sla[data-due]").forEach(paintSla); }

function uniqueBy(items, key) { const seen = new Set(); return items.filter((x) => { const k = key(x); if (seen.has(k)) return false; seen.add(k); return true; }); }
function chip(text, cls) { return el("span", { class: "chip " + (cls || "") }, text); }
function fmtNum(n) { return n === null || n === undefined ? "–" : Number(n).toLocaleString("en"); }

// -- session ---------------------------------------------------------------------------------
async function boot() {
  $("help-btn").addEventListener("click", () => toggleHelp(true));
  $("help-close").addEventListener("click", () => toggleHelp(false));
  $("logout").addEventListener("click", logout);
  document.addEventListener("keydown", onKey);
  window.addEventListener("hashchange", route);
  setInterval(tick, 1000);
  try {
    const s = await fetch("/v1/session", { credentials: "same-origin" });
    if (s.ok) { setSession(await s.json()); return route(); }
  } catch (_) { /* fall through to login */ }
  showLogin();
}

function setSession(s) {
  S.me = s.user; S.csrf = s.csrf_token; S.exposure = s.exposure;
  $("top").hidden = false;
  $("who").replaceChildren(el("span", { class: "name" }, S.me.username), " ",
                           chip(S.me.role.replace("_", " "), "role"));
  paintExposure();
}

function paintExposure() {
  const x = S.exposure; if (!x) return;
  const cls = x.reveals >= x.cap ? "cap" : x.reveals >= 0.8 * x.cap ? "near" : "";
  const box = $("exposure");
  box.className = "exposure " + cls;
  box.replaceChildren(el("span", { class: "label" }, "Reveals today"), " ",
                      el("b", { id: "exposure-count" }, String(x.reveals)), ` / ${x.cap}`);
}

function showLogin(msg) {
  $("top").hidden = true;
  S.me = null; S.csrf = null;
  const err = el("p", { class: "error", id: "login-error", role: "alert" }, msg || "");
  const user = el("input", { id: "username", name: "username", autocomplete: "username", required: true, autofocus: true });
  const pass = el("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const form = el("form", { class: "login", "aria-labelledby": "login-title", onsubmit: async (ev) => {
    ev.preventDefault();
    err.textContent = "";
    try {
      const r = await api("POST", "/v1/login", { username: user.value.trim(), password: pass.value });
      pass.value = "";
      S.csrf = r.csrf_token;
      setSession(await api("GET", "/v1/session"));
      if (!location.hash || location.hash === "#/login") location.hash = "#/"; else route();
    } catch (e) { err.textContent = e.message; pass.select(); }
  } },
    el("h1", { id: "login-title" }, "Seawall ", el("span", {}, "review")),
    el("label", { for: "username" }, "Username"), user,
    el("label", { for: "password" }, "Password"), pass,
    el("button", { type: "submit", class: "primary" }, "Log in"), err,
    el("p", { class: "hint" }, "Content in this console may be disturbing. Pictures are blurred until you reveal them; each reveal is logged and counts towards your daily limit."));
  $("app").replaceChildren(el("div", { class: "login-wrap" }, form));
  user.focus();
}

async function logout() {
  try { await api("POST", "/v1/logout"); } catch (_) { /* already gone */ }
  location.hash = "#/";
  showLogin("Logged out.");
}

// -- routing ---------------------------------------------------------------------------------
async function route() {
  if (!S.me) return showLogin();
  const h = location.hash.replace(/^#\/?/, "");
  const parts = h.split("/").map(decodeURIComponent);
  S.choice = null;
  if (parts[0] === "case" && parts[1]) return showCase(Number(parts[1]));
  if (parts[0] === "queue" && parts[1]) return showQueue(parts[1]);
  return showQueue(null);
}

function crumbs(...items) {
  $("crumbs").replaceChildren(...items.flatMap((it, i) => [i ? el("span", { class: "sep" }, "/") : null,
    it.href ? el("a", { href: it.href }, it.text) : el("span", {}, it.text)]).filter(Boolean));
}

// -- queues ----------------------------------------------------------------------------------
async function showQueue(name) {
  const q = await api("GET", "/v1/queues");
  S.queues = q.queues;
  if (!name) {
    const first = S.queues.find((x) => x.open > 0) || S.queues[0];
    name = first ? first.name : "-";
  }
  if (S.queue !== name) { S.sel = 0; S.checked.clear(); }
  S.queue = name;
  const data = await api("GET", `/v1/queues/${encodeURIComponent(name)}/cases?limit=200`);
  S.cases = data.cases;
  S.sel = Math.min(S.sel, Math.max(0, S.cases.length - 1));
  crumbs({ text: "Queues", href: "#/" }, { text: name });
  document.title = `${name} · Seawall review`;
  const side = el("aside", { class: "queues", "aria-label": "Queues" },
    el("h2", {}, "Queues"),
    el("ul", {}, S.queues.map((x) => el("li", { class: x.name === name ? "current" : "" },
      el("a", { href: `#/queue/${encodeURIComponent(x.name)}`, "aria-current": x.name === name ? "page" : null },
        el("span", { class: "qname" }, x.name, x.kind === "search" ? el("span", { class: "kind" }, " search") : null),
        el("span", { class: "counts" },
          x.overdue ? el("span", { class: "badge over", title: "overdue" }, String(x.overdue)) : null,
          el("span", { class: "badge" }, String(x.open))),
        el("span", { class: "qsla" }, `SLA ${x.sla_minutes >= 60 ? (x.sla_minutes / 60) + "h" : x.sla_minutes + "m"}`))))));
  const table = el("table", { class: "cases", "aria-label": `Cases in ${name}` },
    el("thead", {}, el("tr", {},
      el("th", { class: "cb" }, el("input", { type: "checkbox", "aria-label": "Select all", onchange: (ev) => {
        S.checked = ev.target.checked ? new Set(S.cases.map((c) => c.id)) : new Set(); renderChecks(); } })),
      el("th", { class: "num", title: "severity × reach" }, "Score"), el("th", {}, "Case"), el("th", {}, "Content"),
      el("th", {}, "Signals"), el("th", { class: "num" }, "Reach"), el("th", {}, "SLA"), el("th", {}, "Claim"))),
    el("tbody", {}, S.cases.map((c, i) => caseRow(c, i))));
  const empty = S.cases.length ? null : el("p", { class: "empty" }, "Nothing waiting in this queue.");
  const head = el("div", { class: "qhead" },
    el("h1", {}, name), el("span", { class: "muted" }, `${data.total} open · highest priority first`),
    el("div", { class: "spacer" }), bulkBar());
  $("app").replaceChildren(el("div", { class: "layout" }, side,
    el("section", { class: "main", "aria-label": "Queue" }, head, table, empty)));
  paintSel();
}

function caseRow(c, i) {
  const tr = el("tr", { "data-i": i, class: (c.overdue ? "overdue " : "") + (c.claimed_by ? "claimed" : ""),
                        onclick: (ev) => { if (ev.target.type === "checkbox") return; S.sel = i; openSel(); } },
    el("td", { class: "cb" }, el("input", { type: "checkbox", "aria-label": `Select case ${c.id}`, checked: S.checked.has(c.id),
      onchange: (ev) => { ev.target.checked ? S.checked.add(c.id) : S.checked.delete(c.id); renderChecks(); } })),
    el("td", { class: "num score" }, c.score.toFixed(0)),
    el("td", { class: "id" }, el("a", { href: `#/case/${c.id}` }, `#${c.id}`), el("div", { class: "muted" }, `${c.subject.type} · ${c.event_count} event${c.event_count === 1 ? "" : "s"}`)),
    el("td", { class: "preview" }, c.preview || el("span", { class: "muted" }, "(no text)"),
      c.pending ? chip(`awaiting 2nd: ${c.pending.kind}`, "warn") : null, c.appeal_id ? chip("appeal", "appeal") : null),
    el("td", { class: "labels" }, c.labels.slice(0, 3).map((l) => chip(l))),
    el("td", { class: "num" }, el("span", { title: `followers ${fmtNum(c.followers)}, reposts ${fmtNum(c.reposts)}` }, c.reach ? `×${c.reach.toFixed(1)}` : "–")),
    el("td", {}, sla(c.due_at)),
    el("td", {}, c.claimed_by ? el("span", { class: c.claimed_by === S.me.actor ? "mine" : "other" }, c.claimed_by === S.me.actor ? "you" : c.claimed_by_name) : el("span", { class: "muted" }, "free")));
  return tr;
}

function bulkBar() {
  const n = S.checked.size;
  const box = el("div", { class: "bulk", id: "bulk", hidden: n === 0 },
    el("span", {}, `${n} selected`),
    el("button", { type: "button", onclick: () => bulk("remove") }, "Remove all"),
    el("button", { type: "button", onclick: () => bulk("no_violation") }, "No violation"),
    el("button", { type: "button", onclick: () => bulk("suspend") }, "Suspend all"));
  return box;
}
function renderChecks() {
  const b = $("bulk"); if (b) b.replaceWith(bulkBar());
  document.querySelectorAll("tbody input[type=checkbox]").forEach((cb, i) => { cb.checked = S.checked.has(S.cases[i].id); });
}
async function bulk(kind) {
  const ids = [...S.checked];
  if (!confirm(`Apply "${kind.replace("_", " ")}" to ${ids.length} cases?`)) return;
  const notes = prompt("Notes for these decisions (kept with each case):", "campaign bulk decision") || "";
  const r = await api("POST", "/v1/bulk-decisions", { case_ids: ids, kind, notes });
  const failed = r.results.filter((x) => x.error);
  toast(`${r.decided} decided${failed.length ? `, ${failed.length} refused: ${failed[0].error.reason}` : ""}`, failed.length ? "warn" : "ok");
  S.checked.clear();
  showQueue(S.queue);
}

function paintSel() {
  document.querySelectorAll("tbody tr").forEach((tr, i) => {
    tr.classList.toggle("sel", i === S.sel);
    if (i === S.sel) tr.setAttribute("aria-selected", "true"); else tr.removeAttribute("aria-selected");
  });
  const tr = document.querySelector("tbody tr.sel");
  if (tr) tr.scrollIntoView({ block: "nearest" });
}
function openSel() { const c = S.cases[S.sel]; if (c) location.hash = `#/case/${c.id}`; }

// -- one case --------------------------------------------------------------------------------
async function showCase(id) {
  const k = await api("GET", `/v1/review/cases/${id}`);
  S.kase = k;
  if (k.queue && S.queue !== k.queue) {  // opened directly: load its queue so j/k move through it
    try { S.cases = (await api("GET", `/v1/queues/${encodeURIComponent(k.queue)}/cases?limit=200`)).cases; S.queue = k.queue; }
    catch (_) { S.cases = []; }
  }
  const i = S.cases.findIndex((c) => c.id === id);
  if (i >= 0) S.sel = i;
  const r = k.review;
  crumbs({ text: "Queues", href: "#/" }, { text: k.queue || "-", href: `#/queue/${encodeURIComponent(k.queue || "-")}` }, { text: `#${id}` });
  document.title = `Case ${id} · Seawall review`;
  const mine = r.claimed_by === S.me.actor;
  const head = el("div", { class: "chead" },
    el("h1", {}, `Case #${id}`),
    chip(k.status, "status " + k.status), chip(k.subject.type), chip(`verdict ${k.verdict}`, "verdict"),
    k.open_appeal_id ? chip(`appeal #${k.open_appeal_id}`, "appeal") : null,
    el("span", { class: "muted" }, `opened ${ago(k.opened_at)} · ${k.event_count} event${k.event_count === 1 ? "" : "s"}`),
    el("div", { class: "spacer" }),
    k.status === "open" ? el("span", {}, "SLA ", sla(r.due_at)) : null,
    claimBox(k, mine));
  const left = el("div", { class: "col content" }, k.campaign ? campaignPanel(k) : contentPanel(k), eventsPanel(k), evidencePanel(k));
  const right = el("div", { class: "col side" }, decidePanel(k, mine), accountPanel(k), priorityPanel(r), historyPanel(k));
  $("app").replaceChildren(el("section", { class: "case", "aria-label": `Case ${id}` }, head, el("div", { class: "cols" }, left, right)));
}

function claimBox(k, mine) {
  const r = k.review;
  if (k.status !== "open") return null;
  if (r.pending) return el("span", { class: "claim other" }, "awaiting confirmation");
  if (mine) return el("span", { class: "claim mine" }, "claimed by you ", el("button", { type: "button", class: "ghost", onclick: release }, "Release"));
  if (r.claimed_by) return el("span", { class: "claim other" }, `claimed by ${r.claimed_by_name}`);
  return el("button", { type: "button", class: "primary", id: "claim", onclick: claimCase, "aria-keyshortcuts": "c" }, "Claim (c)");
}

async function claimCase() {
  if (!S.kase) return;
  try { await api("POST", `/v1/cases/${S.kase.id}/claim`); toast("Claimed", "ok"); showCase(S.kase.id); }
  catch (e) { toast(e.message, "warn"); }
}
async function release() {
  try { await api("POST", `/v1/cases/${S.kase.id}/release`); showCase(S.kase.id); } catch (e) { toast(e.message, "warn"); }
}

function firstPost(k) { return k.events.find((e) => e.type === "post" && e.event.id === k.subject.id) || k.events.find((e) => e.type === "post"); }

function contentPanel(k) {
  const p = firstPost(k);
  const box = el("div", { class: "panel post" }, el("h2", {}, k.subject.type === "post" ? "Post" : "Account"));
  if (p) {
    const acct = k.account || {};
    box.append(el("div", { class: "byline" }, el("b", {}, acct.display_name || acct.handle || p.event.account_id), " ",
      el("span", { class: "muted" }, `@${acct.handle || p.event.account_id} · ${new Date(p.occurred_at).toISOString().replace("T", " ").slice(0, 16)} UTC`),
      p.lang ? chip(p.lang) : null));
    box.append(el("p", { class: "text", lang: p.lang || null }, p.event.text || ""));
    if (p.event.repost_of) box.append(el("p", { class: "muted" }, `repost of ${p.event.repost_of}`));
    if ((p.event.links || []).length) box.append(el("ul", { class: "links" }, p.event.links.map((u) => el("li", {}, el("code", {}, u)))));
  }
  const media = k.media || [];
  if (media.length) box.append(el("div", { class: "media" }, media.map(mediaTile)));
  else if (p && (p.event.media || []).length) box.append(el("p", { class: "muted" }, `${p.event.media.length} media attached (not kept for review: only their hashes were sent or stored)`));
  return box;
}

function campaignPanel(k) {
  const c = k.campaign;
  return el("div", { class: "panel" }, el("h2", {}, `Campaign ${k.subject.id}`),
    el("p", { class: "muted" }, `${c.posts.length} posts from ${c.accounts.length} accounts. A decision here acts on every member: `,
      el("b", {}, "remove"), " removes every post, ", el("b", {}, "suspend"), " suspends every account (two-person rule)."),
    el("table", { class: "compact" }, el("tbody", {}, c.posts.slice(0, 100).map((p) => el("tr", {},
      el("td", {}, el("code", {}, p.id)), el("td", {}, `@${p.account_id}`), el("td", { class: "muted" }, p.joined_at.slice(0, 16).replace("T", " ")),
      el("td", {}, chip(p.verdict || "-", "verdict")))))),
    c.posts.length > 100 ? el("p", { class: "muted" }, `and ${c.posts.length - 100} more`) : null);
}

function mediaTile(m) {
  const fig = el("figure", { class: "tile", "data-media": m.id });
  const label = `${m.kind} ${m.field}`;
  if (m.kind === "video") {
    fig.append(el("div", { class: "ph" }, "Video · muted, not autoplayed"));
  } else {
    fig.append(el("img", { src: `/v1/media/${m.id}?view=blurred`, alt: `${label}, blurred and greyscale`, class: "blurred", loading: "lazy" }));
  }
  fig.append(el("figcaption", {}, el("span", { class: "muted" }, label),
    el("button", { type: "button", class: "reveal", onclick: () => reveal(m, fig), "aria-label": `Reveal ${label} (counts towards your daily limit)` }, "Reveal")));
  return fig;
}

async function reveal(m, fig) {
  try {
    const r = await api("POST", `/v1/media/${m.id}/reveal`);
    S.exposure = r.exposure; paintExposure();
    const src = `/v1/media/${m.id}?view=full`;
    const node = m.kind === "video"
      ? el("video", { src, controls: true, muted: true, preload: "none", playsinline: true, "aria-label": `${m.kind} ${m.field}` })
      : el("img", { src, alt: `${m.kind} ${m.field}, revealed`, class: "revealed" });
    if (m.kind === "video") node.muted = true;
    fig.firstChild.replaceWith(node);
    const btn = fig.querySelector("button.reveal");
    btn.textContent = "Hide"; btn.onclick = () => { fig.replaceWith(mediaTile(m)); };
  } catch (e) { toast(e.message, "warn"); if (e.status === 429) { S.exposure = { ...S.exposure, reveals: S.exposure.cap }; paintExposure(); } }
}

function eventsPanel(k) {
  const rows = k.events.map((e) => el("tr", {},
    el("td", { class: "nowrap muted" }, new Date(e.occurred_at).toISOString().slice(0, 16).replace("T", " ")),
    el("td", {}, chip(e.type)),
    el("td", {}, e.type === "report" ? `report: ${e.event.reason}${e.event.text ? " — " + e.event.text : ""}` :
      e.type === "post" ? (e.event.text || "").slice(0, 200) : e.type === "account" ? `@${e.event.handle}` : e.event.action || ""),
    el("td", {}, chip(e.verdict || "-", "verdict")),
    el("td", { class: "muted" }, (e.rules || []).map((r) => r.rule).join(", "))));
  return el("div", { class: "panel" }, el("h2", {}, `Events (${k.events.length})`),
    el("table", { class: "compact" }, el("tbody", {}, rows)));
}

function evidencePanel(k) {
  const ev = k.evidence;
  const box = el("div", { class: "panel evidence" }, el("h2", {}, "Signals and evidence"));
  const section = (title, items, render) => {
    if (!items.length) return;
    box.append(el("h3", {}, title), el("ul", {}, items.map((it) => el("li", {}, render(it)))));
  };
  const score = (it) => el("span", { class: "score" }, it.score.toFixed(2));
  section("Watch terms", ev.watchterms, (it) => [chip(it.label), score(it), " ",
    uniqueBy(it.evidence.matches || [], (m) => m.pattern).map((m) => el("mark", { title: `pattern "${m.pattern}" in ${m.field}` },
      m.excerpt || m.pattern)), el("span", { class: "muted" }, ` ${it.evidence.list || ""}`)]);
  section("Classifier", ev.classifier, (it) => [chip(it.label), score(it), " ",
    (it.evidence.ngrams || it.evidence.top_ngrams || []).slice(0, 8).map((g) => el("code", { class: "ngram" }, Array.isArray(g) ? g[0] : (g.ngram || g.text || String(g))))]);
  section("Protected targets", ev.targets, (it) => [chip(it.label), score(it), " ",
    el("b", {}, it.evidence.name || it.evidence.target || ""), " ", it.evidence.severity ? chip(it.evidence.severity, "warn") : null,
    (it.evidence.matched || []).map((m) => el("mark", { title: `alias in ${m.field}` }, m.excerpt || m.alias)),
    it.evidence.example ? el("span", { class: "muted" }, " (example list)") : null]);
  section("Hash bank matches", ev.banks, (it) => [chip(it.label), score(it), " ", el("b", {}, `bank ${it.evidence.bank || "?"}`),
    it.evidence.source ? el("span", { class: "muted" }, ` (${it.evidence.source})`) : null, " ",
    (it.evidence.matches || []).slice(0, 5).map((m) => el("span", { class: "bank" },
      `entry ${m.entry_id} · ${m.kind}${m.distance ? ` · distance ${m.distance}` : " · exact"}${m.similarity ? ` · similarity ${m.similarity.toFixed(2)}` : ""}`))]);
  section("Links", ev.links, (it) => [chip(it.label), score(it), " ", el("code", {}, it.evidence.domain || it.evidence.url || "")]);
  section("Linked accounts", ev.linked_accounts, (it) => [chip(it.label), score(it), " ",
    it.evidence.previous_account ? [el("span", { class: "muted" }, "likely the suspended account "), el("b", {}, it.evidence.previous_account), " "] : null,
    (it.evidence.candidates || it.evidence.linked_accounts || []).map((a) => chip(typeof a === "string" ? a
      : `${a.account_id || a.id || a.handle}${a.score !== undefined ? " " + Number(a.score).toFixed(2) : ""}`, "acct"))]);
  section("Other signals", ev.other, (it) => [chip(it.signal), chip(it.label), score(it)]);
  if (box.childNodes.length === 1) box.append(el("p", { class: "muted" }, "No signal evidence (a report or a rule on metadata opened this case)."));
  return box;
}

function accountPanel(k) {
  const a = k.account;
  if (!a) return null;
  const age = a.created_at ? Math.round((Date.now() - Date.parse(a.created_at)) / 86400000) : null;
  return el("div", { class: "panel account" }, el("h2", {}, "Account"),
    el("div", { class: "byline" }, el("b", {}, a.display_name || a.handle || a.id), " ", el("span", { class: "muted" }, `@${a.handle || a.id}`),
      chip(a.status, "status " + a.status), a.verified ? chip("verified") : null),
    a.bio ? el("p", { class: "bio" }, a.bio) : null,
    el("dl", { class: "facts" },
      el("dt", {}, "Followers"), el("dd", {}, fmtNum(a.followers)),
      el("dt", {}, "Created"), el("dd", {}, a.created_at ? `${a.created_at.slice(0, 10)} (${age} days)` : "–"),
      el("dt", {}, "Restores"), el("dd", {}, String(a.restore_count || 0)),
      el("dt", {}, "Other cases"), el("dd", {}, a.cases.length ? a.cases.slice(0, 6).map((c) =>
        el("a", { href: `#/case/${c.id}`, class: "chiplink" }, `#${c.id} ${c.status}`)) : "none")));
}

function priorityPanel(r) {
  return el("div", { class: "panel" }, el("h2", {}, "Priority"),
    el("p", { class: "formula" }, el("b", {}, r.score.toFixed(1)), " = severity ", String(r.severity ?? r.rule_priority),
      " × reach ", r.reach ? r.reach.toFixed(2) : "1"),
    el("dl", { class: "facts" },
      el("dt", {}, "Followers"), el("dd", {}, fmtNum(r.followers)),
      el("dt", {}, "Reposts"), el("dd", {}, `${fmtNum(r.reposts)} (${(r.repost_velocity || 0).toFixed(1)}/h)`),
      el("dt", {}, "Account age at post"), el("dd", {}, r.account_age_days === null || r.account_age_days === undefined ? "–" : `${r.account_age_days.toFixed(0)} days`)));
}

function historyPanel(k) {
  const items = [];
  for (const d of k.decisions) items.push({ at: d.created_at, node: el("li", {}, chip(d.kind, "kind"), chip(d.status, d.status),
    el("b", {}, d.actor_name), d.confirmed_by_name ? ` + ${d.confirmed_by_name}` : "", " ", el("span", { class: "muted" }, ago(d.created_at)),
    d.notes ? el("p", { class: "note" }, d.notes) : null) });
  for (const n of k.notes) items.push({ at: n.created_at, node: el("li", {}, chip("note"), el("b", {}, n.actor_name), " ",
    el("span", { class: "muted" }, ago(n.created_at)), el("p", { class: "note" }, n.text)) });
  for (const a of k.appeals) items.push({ at: a.created_at, node: el("li", {}, chip("appeal", "appeal"), chip(a.status, a.status),
    el("span", { class: "muted" }, ago(a.created_at)), el("p", { class: "note" }, a.text),
    a.resolution_notes ? el("p", { class: "note" }, `${a.resolved_by_name}: ${a.resolution_notes}`) : null) });
  items.sort((x, y) => Date.parse(y.at) - Date.parse(x.at));
  const note = el("textarea", { id: "note", rows: 2, placeholder: "Add a note for the team", "aria-label": "Note" });
  return el("div", { class: "panel" }, el("h2", {}, "History and notes"),
    el("ul", { class: "history" }, items.map((x) => x.node)),
    el("form", { class: "noteform", onsubmit: async (ev) => { ev.preventDefault(); if (!note.value.trim()) return;
      try { await api("POST", `/v1/cases/${k.id}/notes`, { text: note.value }); showCase(k.id); } catch (e) { toast(e.message, "warn"); } } },
      note, el("button", { type: "submit" }, "Add note")),
    k.actions.length ? el("div", {}, el("h3", {}, "Actions"), el("ul", { class: "history" }, k.actions.map((a) =>
      el("li", {}, chip(a.kind, "kind"), chip(a.status), el("code", {}, a.idempotency_key))))) : null);
}

const KINDS = [["remove", "Remove", "r"], ["suspend", "Suspend", "s"], ["label", "Label", "l"], ["no_violation", "No violation", "n"], ["escalate", "Escalate", "e"]];

function decidePanel(k, mine) {
  const r = k.review;
  const box = el("div", { class: "panel decide", id: "decide" }, el("h2", {}, "Decision"));
  if (r.pending) {
    const canConfirm = ["admin", "senior_reviewer", "security"].includes(S.me.role) && r.pending.proposed_by !== S.me.actor;
    const notes = el("textarea", { rows: 2, id: "confirm-notes", "aria-label": "Confirmation notes", placeholder: "Notes (optional)" });
    box.append(el("p", { class: "pending" }, el("b", {}, r.pending.kind.replace("_", " ") + (r.pending.escalate_to ? ` → ${r.pending.escalate_to.replace("_", " ")}` : "")),
      ` proposed by ${r.pending.proposed_by_name}. Two-person rule: a senior reviewer or security must confirm.`));
    if (canConfirm) box.append(notes, el("div", { class: "row" },
      el("button", { type: "button", class: "primary", id: "confirm", onclick: () => second("confirm", r.pending.decision_id, notes.value) }, "Confirm"),
      el("button", { type: "button", id: "reject", onclick: () => second("reject", r.pending.decision_id, notes.value) }, "Reject")));
    else box.append(el("p", { class: "muted" }, r.pending.proposed_by === S.me.actor ? "You proposed this: someone else must confirm." : "Your role cannot confirm."));
    return box;
  }
  if (k.open_appeal_id) {
    const appeal = k.appeals.find((a) => a.id === k.open_appeal_id);
    const notes = el("textarea", { rows: 3, id: "appeal-notes", "aria-label": "Appeal notes", placeholder: "Why (kept with the case)" });
    box.append(el("p", { class: "appeal-text" }, el("b", {}, "Appeal: "), appeal ? appeal.text : ""));
    if (!mine) { box.append(el("p", { class: "muted" }, "Claim the case to resolve the appeal.")); return box; }
    box.append(notes, el("div", { class: "row" },
      el("button", { type: "button", id: "uphold", onclick: () => resolveAppeal("upheld", notes.value) }, "Uphold"),
      el("button", { type: "button", class: "primary", id: "overturn", onclick: () => resolveAppeal("overturned", notes.value) }, "Overturn and restore")));
    return box;
  }
  if (k.status !== "open") { box.append(el("p", { class: "muted" }, `This case is ${k.status}.`)); return box; }
  if (!mine) { box.append(el("p", { class: "muted" }, "Claim the case (c) to decide it.")); return box; }
  const buttons = el("div", { class: "kinds", role: "radiogroup", "aria-label": "Decision" }, KINDS.map(([kind, label, key]) =>
    el("button", { type: "button", role: "radio", "aria-checked": S.choice === kind ? "true" : "false", "data-kind": kind,
      class: "kind " + kind + (S.choice === kind ? " on" : ""), onclick: () => choose(kind), "aria-keyshortcuts": key },
      label, el("kbd", {}, key))));
  const extra = el("div", { id: "extra" });
  const notes = el("textarea", { id: "decision-notes", rows: 3, "aria-label": "Decision notes", placeholder: "Notes: what you saw and why (kept with the decision)" });
  const apply = el("button", { type: "button", class: "primary", id: "apply", disabled: !S.choice, onclick: applyDecision }, applyLabel());
  box.append(buttons, extra, notes, el("div", { class: "row" }, apply, el("span", { class: "muted" }, "Ctrl+Enter")));
  setTimeout(renderExtra, 0);
  return box;
}

function applyLabel() {
  if (!S.choice) return "Choose a decision";
  const two = S.choice === "suspend" || (S.choice === "escalate" && ($("escalate-to") || {}).value === "law_enforcement");
  return (two ? "Propose: " : "Apply: ") + S.choice.replace("_", " ");
}

function choose(kind) {
  if (!S.kase || !$("apply")) return;
  S.choice = kind;
  document.querySelectorAll("button.kind").forEach((b) => { const on = b.dataset.kind === kind; b.classList.toggle("on", on); b.setAttribute("aria-checked", on ? "true" : "false"); });
  renderExtra();
  $("apply").disabled = false; $("apply").textContent = applyLabel();
}

function renderExtra() {
  const x = $("extra"); if (!x) return;
  if (S.choice === "label") x.replaceChildren(el("label", { for: "label-name" }, "Label "), el("input", { id: "label-name", value: "graphic-violence" }));
  else if (S.choice === "escalate") {
    const sel = el("select", { id: "escalate-to", onchange: () => { $("apply").textContent = applyLabel(); } },
      el("option", { value: "security" }, "Security queue"), el("option", { value: "law_enforcement" }, "Law enforcement (two-person)"));
    x.replaceChildren(el("label", { for: "escalate-to" }, "Escalate to "), sel);
  } else x.replaceChildren();
}

async function applyDecision() {
  if (!S.choice || !S.kase) return;
  const body = { kind: S.choice, notes: $("decision-notes").value };
  if (S.choice === "label") body.label = $("label-name").value;
  if (S.choice === "escalate") body.escalate_to = $("escalate-to").value;
  try {
    const r = await api("POST", `/v1/cases/${S.kase.id}/decisions`, body);
    toast(r.status === "proposed" ? "Proposed: waiting for a second reviewer" : `Applied${r.action_ids.length ? ` (action ${r.action_ids.join(", ")})` : ""}`, "ok");
    S.choice = null;
    nextAfterDecision();
  } catch (e) { toast(e.message, "warn"); }
}

async function second(what, decisionId, notes) {
  try { await api("POST", `/v1/decisions/${decisionId}/${what}`, { notes }); toast(what === "confirm" ? "Confirmed: actions created" : "Rejected", "ok"); showCase(S.kase.id); }
  catch (e) { toast(e.message, "warn"); }
}

async function resolveAppeal(outcome, notes) {
  try {
    const r = await api("POST", `/v1/appeals/${S.kase.open_appeal_id}/resolve`, { outcome, notes });
    toast(outcome === "overturned" ? `Overturned: restore action ${r.restore_action_ids.join(", ")}` : "Upheld", "ok");
    showCase(S.kase.id);
  } catch (e) { toast(e.message, "warn"); }
}

async function nextAfterDecision() {
  const q = S.kase.queue || S.queue;
  if (q) {
    const data = await api("GET", `/v1/queues/${encodeURIComponent(q)}/cases?limit=200`);
    S.cases = data.cases; S.queue = q;
    const next = S.cases.find((c) => !c.claimed_by && c.id !== S.kase.id && !c.pending);
    if (next) { location.hash = `#/case/${next.id}`; return; }
    location.hash = `#/queue/${encodeURIComponent(q)}`;
  } else showCase(S.kase.id);
}

// -- keyboard --------------------------------------------------------------------------------
function toggleHelp(show) { $("help").hidden = !show; if (show) $("help-close").focus(); }

function onKey(ev) {
  if (!S.me) return;
  const t = ev.target;
  const typing = t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT");
  if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { if ($("apply") && !$("apply").disabled) { ev.preventDefault(); applyDecision(); } return; }
  if (ev.key === "Escape") { toggleHelp(false); if (typing) t.blur(); return; }
  if (typing || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const inCase = location.hash.startsWith("#/case/");
  const k = ev.key;
  if (k === "?") { toggleHelp($("help").hidden); return; }
  if (k === "j" || k === "k") {
    if (!S.cases.length) return;
    S.sel = Math.max(0, Math.min(S.cases.length - 1, S.sel + (k === "j" ? 1 : -1)));
    if (inCase) openSel(); else paintSel();
    return;
  }
  if ((k === "Enter" || k === "o") && !inCase) { openSel(); return; }
  if (k === "u" && inCase) { location.hash = `#/queue/${encodeURIComponent(S.kase.queue || S.queue || "-")}`; return; }
  if (!inCase) { if (k === "c") { const c = S.cases[S.sel]; if (c) api("POST", `/v1/cases/${c.id}/claim`).then(() => { location.hash = `#/case/${c.id}`; }, (e) => toast(e.message, "warn")); } return; }
  if (k === "c") { claimCase(); return; }
  if (k === "v") { const b = document.querySelector("button.reveal"); if (b && b.textContent === "Reveal") b.click(); return; }
  const map = { r: "remove", s: "suspend", n: "no_violation", e: "escalate", l: "label" };
  if (map[k]) {
    if (!$("apply")) { toast("Claim the case first (c)", "warn"); return; }
    ev.preventDefault(); choose(map[k]); $("decision-notes").focus();
  }
}

boot();
