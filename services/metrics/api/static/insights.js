// Hot questions per item and complaint themes, this week against the last (insights API).
"use strict";
const TOPIC_NAMES = {
  product_spec: "商品细节", size_advice: "尺码", stock: "库存", shipping_time: "发货时间",
  price_promotion: "优惠", free_shipping: "包邮", courier: "快递", invoice: "发票",
  recommendation: "推荐", usage_help: "使用", other: "其他",
};
const THEME_NAMES = { quality: "质量 quality", size: "尺码 size", colour: "颜色 colour", logistics: "物流 logistics", other: "其他 other" };

function topicName(t) {
  const [intent, detail] = t.split(":");
  return (TOPIC_NAMES[intent] || intent) + (detail ? "·" + detail : "");
}
function delta(c) {
  const sign = c.change > 0 ? "+" : "";
  const rate = c.change_rate === null ? "new" : sign + (c.change_rate * 100).toFixed(0) + "%";
  return { text: sign + c.change + " (" + rate + ")", cls: c.change > 0 ? "up" : c.change < 0 ? "down" : "" };
}
function cell(tr, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

function renderInsights(w) {
  $("insights-week").textContent = w.week_start.slice(0, 10);
  const themes = $("complaint-themes");
  themes.innerHTML = "";
  for (const t of w.complaint_themes) {
    const d = document.createElement("div");
    d.className = "card theme";
    d.dataset.theme = t.theme;
    d.innerHTML = '<span class="label"></span><span class="value"></span><span class="sub"></span>';
    const ch = delta(t);
    d.children[0].textContent = THEME_NAMES[t.theme] || t.theme;
    d.children[1].textContent = t.count;
    d.children[2].textContent = ch.text + " · " + t.messages + " chats, " + t.refunds + " refunds";
    d.children[2].classList.add(ch.cls || "same");
    themes.appendChild(d);
  }
  const body = $("hot-questions").querySelector("tbody");
  body.innerHTML = "";
  for (const item of w.items) {
    const tr = document.createElement("tr");
    tr.dataset.item = item.item_id || "";
    cell(tr, item.item_id || "(no item page)");
    cell(tr, item.questions.count);
    const ch = delta(item.questions);
    cell(tr, ch.text, ch.cls);
    cell(tr, pct(item.handed_share) + (item.previous_handed_share === null ? "" : " (was " + pct(item.previous_handed_share) + ")"));
    cell(tr, item.topics.map(t => topicName(t.topic) + " " + t.count + " (" + delta(t).text + ")").join(" · "), "wide");
    cell(tr, item.complaints.map(c => (THEME_NAMES[c.theme] || c.theme).split(" ")[0] + " " + c.count).join(" · ") || "–", "wide");
    body.appendChild(tr);
  }
  $("insights-detail").textContent = w.items.length + " items · weeks start Monday 00:00 shop time · "
    + "handed to agents: questions presale sent to a human";
}

async function loadInsights(ev) {
  if (ev) ev.preventDefault();
  const shop = encodeURIComponent($("shop").value.trim());
  try {
    renderInsights(await api("/shops/" + shop + "/insights/weekly", { week: $("to").value }));
    document.body.dataset.insights = "true";
  } catch (e) {
    $("insights-detail").textContent = "could not load: " + e.message;
  }
}

$("controls").addEventListener("submit", loadInsights);
if ($("token").value && $("shop").value) loadInsights();
