// A tiny SVG line chart: lineChart(svg, labels, [{name, values}], {percent})
"use strict";
function lineChart(svg, labels, series, opts) {
  opts = opts || {};
  const W = 640, H = 220, L = 44, R = 10, T = 16, B = 28;
  const ns = "http://www.w3.org/2000/svg";
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const el = (name, attrs, text) => {
    const e = document.createElementNS(ns, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    svg.appendChild(e);
    return e;
  };
  const all = series.flatMap(s => s.values).filter(v => v !== null && v !== undefined);
  if (!labels.length || !all.length) { el("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "no data"); return; }
  const max = opts.percent ? Math.max(1e-9, ...all) : Math.max(1e-9, ...all) * 1.1;
  const x = i => L + (labels.length === 1 ? (W - L - R) / 2 : i * (W - L - R) / (labels.length - 1));
  const y = v => T + (H - T - B) * (1 - v / max);
  for (let k = 0; k <= 4; k++) {
    const v = max * k / 4, yy = y(v);
    el("line", { x1: L, x2: W - R, y1: yy, y2: yy, class: "axis" });
    el("text", { x: L - 4, y: yy + 3, "text-anchor": "end" }, opts.percent ? (v * 100).toFixed(0) + "%" : v.toFixed(v < 10 ? 1 : 0));
  }
  const step = Math.max(1, Math.ceil(labels.length / 8));
  labels.forEach((lab, i) => { if (i % step === 0) el("text", { x: x(i), y: H - 8, "text-anchor": "middle" }, lab); });
  series.forEach((s, si) => {
    let d = "", pen = false;
    s.values.forEach((v, i) => {
      if (v === null || v === undefined) { pen = false; return; }
      d += (pen ? "L" : "M") + x(i).toFixed(1) + "," + y(v).toFixed(1); pen = true;
      el("circle", { cx: x(i), cy: y(v), r: 2.5, class: "d" + si });
    });
    if (d) el("path", { d: d, class: "s" + si });
    el("text", { x: L + 8 + si * 90, y: 10, class: "legend" }, "— " + s.name);
  });
}
