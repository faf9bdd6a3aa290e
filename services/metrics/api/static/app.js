// xiaoer metrics dashboard: plain JS, no external assets.
"use strict";
const $ = id => document.getElementById(id);
const state = { rows: [], sortKey: "rounds_answered", sortDir: -1, agent: null, liveTimer: null };
const SHOP_OFFSET = "+08:00";  // days are shop days (Asia/Shanghai)

function params() {
  return {
    from: $("from").value + "T00:00:00" + SHOP_OFFSET,
    to: addDay($("to").value) + "T00:00:00" + SHOP_OFFSET,
  };
}
function addDay(d) { const t = new Date(d + "T00:00:00Z"); t.setUTCDate(t.getUTCDate() + 1); return t.toISOString().slice(0, 10); }
function qs(obj) { return new URLSearchParams(obj).toString(); }
function setStatus(text, error) { const s = $("status"); s.textContent = text; s.className = error ? "error" : ""; }

async function api(path, query) {
  const url = "/api/v1" + path + (query ? "?" + qs(query) : "");
  const r = await fetch(url, { headers: { Authorization: "Bearer " + $("token").value.trim() } });
  if (!r.ok) {
    let msg = r.status + " " + r.statusText;
    try { const b = await r.json(); msg += ": " + (typeof b.detail === "string" ? b.detail : JSON.stringify(b.detail)); } catch (e) { /* not JSON */ }
    throw new Error(msg);
  }
  return r.headers.get("content-type").includes("json") ? r.json() : r.text();
}

function fmt(v, th) {
  if (v === null || v === undefined) return "–";
  if (th.hasAttribute("data-pct")) return (v * 100).toFixed(1) + "%";
  if (th.hasAttribute("data-money")) return (v / 100).toLocaleString("zh-CN", { minimumFractionDigits: 2 });
  if (typeof v === "number" && !Number.isInteger(v)) return v.toFixed(1);
  return String(v);
}

function renderTable() {
  const ths = [...document.querySelectorAll("#leaderboard th")];
  ths.forEach(th => th.classList.toggle("asc", th.dataset.key === state.sortKey && state.sortDir > 0));
  ths.forEach(th => th.classList.toggle("desc", th.dataset.key === state.sortKey && state.sortDir < 0));
  const rows = [...state.rows].sort((a, b) => {
    const x = a[state.sortKey], y = b[state.sortKey];
    if (x === y) return a.agent_id < b.agent_id ? -1 : 1;
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    return (x < y ? -1 : 1) * state.sortDir;
  });
  const body = document.querySelector("#leaderboard tbody");
  body.innerHTML = "";
  for (const row of rows) {
    const tr = document.createElement("tr");
    tr.dataset.agent = row.agent_id;
    if (row.agent_id === state.agent) tr.className = "selected";
    for (const th of ths) {
      const td = document.createElement("td");
      td.textContent = fmt(row[th.dataset.key], th);
      tr.appendChild(td);
    }
    tr.addEventListener("click", () => selectAgent(row.agent_id));
    body.appendChild(tr);
  }
}

function renderTotals(t, reasons) {
  const unrecognised = reasons.unrecognised_texts.slice(0, 3).map(r => r.refund_reason + " ×" + r.decisions).join("、");
  const items = [
    ["Buyer messages", t.buyer_messages], ["Sessions", t.sessions], ["Hand-offs", t.handoffs],
    ["Orders paid", t.orders_paid], ["Refund requests", t.refund_requests],
    ["Refund rate", t.refund_rate === null ? "–" : (t.refund_rate * 100).toFixed(1) + "%"],
    ["Dispute rate", t.dispute_rate === null ? "–" : (t.dispute_rate * 100).toFixed(1) + "%"],
    ["Unrecognised refund reasons", reasons.unrecognised + (unrecognised ? " (" + unrecognised + ")" : "")],
  ];
  $("totals").innerHTML = "";
  for (const [label, value] of items) {
    const d = document.createElement("div");
    d.className = "card";
    d.innerHTML = '<span class="label"></span><span class="value"></span>';
    d.children[0].textContent = label; d.children[1].textContent = value;
    $("totals").appendChild(d);
  }
}

function pct(v) { return v === null || v === undefined ? "–" : (v * 100).toFixed(1) + "%"; }
function yuan(fen) { return "¥" + (fen / 100).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 }); }

function renderSplit(rows) {
  const bot = rows.find(r => r.agent_id === "bot") || { rounds_answered: 0, sessions: 0 };
  const humans = rows.filter(r => r.agent_id !== "bot" && r.agent_id !== "unassigned");
  const human = humans.reduce((n, r) => n + r.rounds_answered, 0);
  const total = bot.rounds_answered + human;
  const share = total ? bot.rounds_answered / total : null;
  $("split-bot").style.width = (share === null ? 0 : share * 100) + "%";
  $("split-human").style.width = (share === null ? 0 : (1 - share) * 100) + "%";
  $("split-bot-label").textContent = bot.rounds_answered + " (" + pct(share) + ")";
  $("split-human-label").textContent = human + " (" + pct(share === null ? null : 1 - share) + ")";
  $("split-detail").textContent = "bot resolved " + pct(bot.bot_resolution_rate) + " of its sessions without an agent · "
    + humans.length + " agents · answered rounds in the window";
}

function renderRecovery(r) {
  const items = [
    ["Reminders sent 催付", r.reminders_sent], ["Orders reminded", r.reminded_orders],
    ["Paid after a reminder", r.recovered_orders], ["Recovery rate", pct(r.recovery_rate)],
    ["Amount recovered", yuan(r.recovered_fen)],
  ];
  $("recovery").innerHTML = "";
  for (const [label, value] of items) {
    const d = document.createElement("div");
    d.className = "card";
    d.innerHTML = '<span class="label"></span><span class="value"></span>';
    d.children[0].textContent = label; d.children[1].textContent = value;
    $("recovery").appendChild(d);
  }
  $("recovery-detail").textContent = "an order counts when paid within " + (r.recovery_window_s / 3600)
    + " h after a reminder; orders counted on the day of their first reminder";
}

const QUALITY_COLUMNS = ["agent_id", "inspected_replies", "flags_total", "flags_ad_law", "flags_off_platform",
  "flags_personal_data", "flags_rude", "flags_over_promise", "flags_review_inducement", "flags_slow_reply",
  "score_avg", "failed_sessions"];

function fillTable(id, rows, columns) {
  const body = document.querySelector("#" + id + " tbody");
  body.innerHTML = "";
  for (const row of rows) {
    const tr = document.createElement("tr");
    for (const key of columns) {
      const td = document.createElement("td");
      const v = row[key];
      td.textContent = v === null || v === undefined ? "–" : String(v);
      tr.appendChild(td);
    }
    body.appendChild(tr);
  }
}

function renderQuality(quality, exposure, flags) {
  const agents = quality.agents.filter(a => a.inspected_replies || a.flags_total);
  fillTable("quality", agents, QUALITY_COLUMNS);
  fillTable("exposure", exposure.days, ["day", "agent_id", "abuse", "threat", "scam_attempt"]);
  const list = $("flags");
  list.innerHTML = "";
  for (const f of flags.slice(0, 10)) {
    const li = document.createElement("li");
    li.className = "sev-" + f.severity;
    const what = f.category === "slow_reply" ? "answered after " + Math.round(f.response_s) + " s" : f.rule_id;
    li.textContent = f.at.slice(5, 16).replace("T", " ") + " · " + f.agent_id + " · " + what + " — " + f.suggestion;
    list.appendChild(li);
  }
}

async function selectAgent(agent) {
  state.agent = agent;
  renderTable();
  $("chart-agent").textContent = agent;
  const shop = encodeURIComponent($("shop").value.trim());
  const s = await api("/shops/" + shop + "/kpis/agents/" + encodeURIComponent(agent) + "/series", { ...params(), bucket: "day" });
  const labels = s.points.map(p => p.start.slice(5, 10));
  lineChart($("chart-response"), labels, [
    { name: "avg", values: s.points.map(p => p.response_time_avg_s) },
    { name: "p90", values: s.points.map(p => p.response_time_p90_s) },
  ]);
  lineChart($("chart-conversion"), labels, [
    { name: "conversion", values: s.points.map(p => p.inquiry_conversion_rate) },
  ], { percent: true });
}

async function refreshLive() {
  const shop = encodeURIComponent($("shop").value.trim());
  try {
    const live = await api("/shops/" + shop + "/live");
    $("waiting").textContent = live.buyers_waiting;
    $("late").textContent = live.rounds_past_3min;
  } catch (e) { $("waiting").textContent = "?"; }
}

async function load(ev) {
  if (ev) ev.preventDefault();
  localStorage.setItem("xiaoer.token", $("token").value.trim());
  localStorage.setItem("xiaoer.shop", $("shop").value.trim());
  const shop = encodeURIComponent($("shop").value.trim());
  setStatus("loading…");
  try {
    const [agents, totals, reasons, recovery, quality, exposure, flags] = await Promise.all([
      api("/shops/" + shop + "/kpis/agents", params()),
      api("/shops/" + shop + "/kpis/shop", params()),
      api("/shops/" + shop + "/refund-reasons", params()),
      api("/shops/" + shop + "/kpis/reminders", params()),
      api("/shops/" + shop + "/quality/agents", params()),
      api("/shops/" + shop + "/quality/exposure", params()),
      api("/shops/" + shop + "/quality/flags", { ...params(), limit: 10 }),
    ]);
    renderQuality(quality, exposure, flags);
    $("quality-csv").href = "/api/v1/shops/" + shop + "/quality/agents.csv?" + qs(params());
    state.rows = agents.agents;
    $("final").textContent = agents.final ? "(final)" : "(not final: orders may still be attributed)";
    $("csv").href = "/api/v1/shops/" + shop + "/kpis/agents.csv?" + qs(params());
    renderTable();
    renderTotals(totals, reasons);
    renderSplit(state.rows);
    renderRecovery(recovery);
    const first = state.rows.find(r => r.agent_id === state.agent) || state.rows.find(r => r.agent_id !== "bot" && r.agent_id !== "unassigned") || state.rows[0];
    if (first) await selectAgent(first.agent_id);
    await refreshLive();
    clearInterval(state.liveTimer);
    state.liveTimer = setInterval(refreshLive, 5000);
    setStatus(state.rows.length + " responders · loaded " + new Date().toLocaleTimeString());
    document.body.dataset.loaded = "true";
  } catch (e) {
    setStatus(e.message, true);
  }
}

function init() {
  const q = new URLSearchParams(location.search);
  const today = new Date().toISOString().slice(0, 10);
  const weekAgo = new Date(Date.now() - 6 * 86400e3).toISOString().slice(0, 10);
  $("token").value = localStorage.getItem("xiaoer.token") || "";
  $("shop").value = q.get("shop") || localStorage.getItem("xiaoer.shop") || "";
  $("from").value = q.get("from") || weekAgo;
  $("to").value = q.get("to") || today;
  document.querySelectorAll("#leaderboard th").forEach(th => th.addEventListener("click", () => {
    if (state.sortKey === th.dataset.key) state.sortDir = -state.sortDir;
    else { state.sortKey = th.dataset.key; state.sortDir = th.hasAttribute("data-num") ? -1 : 1; }
    renderTable();
  }));
  $("controls").addEventListener("submit", load);
  for (const [id, name] of [["csv", "kpis.csv"], ["quality-csv", "quality.csv"]]) {
    $(id).addEventListener("click", async ev => {  // the CSV needs the token too
      ev.preventDefault();
      const text = await api($(id).getAttribute("href").replace("/api/v1", "").split("?")[0], params());
      const a = document.createElement("a");
      a.href = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
      a.download = name; a.click();
    });
  }
  if ($("token").value && $("shop").value) load();
}
init();
