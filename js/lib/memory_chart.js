// The memory chart: one horizontal bar per way of storing the weights, each a stack of named segments
// (today the weights; the training plan adds gradients, optimizer states, activations), a legend, and
// a marker for a device's memory. The figures come from Python (composer.memory_chart.chart).

import { h } from "./dom.js";

/** bytes → "253.2 MiB" */
export function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return i ? `${n.toFixed(1)} ${units[i]}` : `${n} B`;
}

const SEGMENTS = 4; // segment colours in composer.css (tc-seg-0 … tc-seg-3), reused in turn

/** The chart as a figure: {bars: [{label, bytes, segments: [{name, bytes}]}], legend, scale, marker}. */
export function memoryChart(chart, caption = "Memory of the weights") {
  const colour = (name) => `tc-seg-${chart.legend.indexOf(name) % SEGMENTS}`;
  const at = (n) => `${chart.scale ? (100 * n) / chart.scale : 0}%`;
  const marker = chart.marker;
  const rows = chart.bars.map((bar) => {
    const parts = bar.segments.map((s) => `${s.name} ${bytes(s.bytes)}`).join(", ");
    const track = h("div", { class: "tc-bar-track", role: "img", "aria-label": `${bar.label}: ${bytes(bar.bytes)} (${parts})` },
      ...bar.segments.map((s) => h("div", { class: `tc-seg ${colour(s.name)}`, style: `width: ${at(s.bytes)}`,
        title: `${s.name}: ${bytes(s.bytes)}` })),
      marker ? h("div", { class: "tc-marker", style: `left: ${at(marker.bytes)}` }) : null);
    const over = marker && bar.bytes > marker.bytes;
    return h("div", { class: `tc-bar-row${over ? " tc-over" : ""}` },
      h("span", { class: "tc-bar-label" }, bar.label), track,
      h("span", { class: "tc-bar-value" }, bytes(bar.bytes), over ? " (over)" : ""));
  });
  const legend = h("ul", { class: "tc-legend", "aria-label": "legend" },
    ...chart.legend.map((name) => h("li", {}, h("span", { class: `tc-swatch ${colour(name)}` }), name)),
    marker ? h("li", {}, h("span", { class: "tc-swatch tc-marker-swatch" }), `${marker.label} ${bytes(marker.bytes)}`) : null);
  return h("figure", { class: "tc-memory", "aria-label": caption },
    h("figcaption", {}, caption), h("div", { class: "tc-bars" }, ...rows), legend);
}
