// The memory chart: horizontal bars, each a stack of named segments (the summary's: the weights in each
// dtype; the training plan's: weights, gradients, optimizer states, gathered blocks, activations per
// device), a legend, and a marker for a device's memory with the headroom below it that a bar must leave
// free. The figures come from Python (composer.memory_chart.chart).

import { h } from "./dom.js";

/** bytes → "253.2 MiB" */
export function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return i ? `${n.toFixed(1)} ${units[i]}` : `${n} B`;
}

const SEGMENTS = 5; // segment colours in composer.css (tc-seg-0 … tc-seg-4), reused in turn

/** The chart as a figure: {bars: [{label, bytes, segments: [{name, bytes}]}], legend, scale, marker}. */
export function memoryChart(chart, caption = "Memory of the weights") {
  const colour = (name) => `tc-seg-${chart.legend.indexOf(name) % SEGMENTS}`;
  const at = (n) => `${chart.scale ? (100 * n) / chart.scale : 0}%`;
  const marker = chart.marker;
  const limit = marker ? marker.bytes - (marker.headroom || 0) : 0; // what a bar may fill
  const headroom = marker?.headroom ? () => h("div", { class: "tc-headroom",
    style: `left: ${at(limit)}; width: ${at(marker.headroom)}`, title: `headroom ${bytes(marker.headroom)}` }) : () => null;
  const rows = chart.bars.map((bar) => {
    const parts = bar.segments.map((s) => `${s.name} ${bytes(s.bytes)}`).join(", ");
    const track = h("div", { class: "tc-bar-track", role: "img", "aria-label": `${bar.label}: ${bytes(bar.bytes)} (${parts})` },
      ...bar.segments.map((s) => h("div", { class: `tc-seg ${colour(s.name)}`, style: `width: ${at(s.bytes)}`,
        title: `${s.name}: ${bytes(s.bytes)}` })),
      headroom(), marker ? h("div", { class: "tc-marker", style: `left: ${at(marker.bytes)}` }) : null);
    const over = marker && bar.bytes > limit;
    return h("div", { class: `tc-bar-row${over ? " tc-over" : ""}` },
      h("span", { class: "tc-bar-label" }, bar.label), track,
      h("span", { class: "tc-bar-value" }, bytes(bar.bytes), over ? " (over)" : ""));
  });
  const legend = h("ul", { class: "tc-legend", "aria-label": "legend" },
    ...chart.legend.map((name) => h("li", {}, h("span", { class: `tc-swatch ${colour(name)}` }), name)),
    marker ? h("li", {}, h("span", { class: "tc-swatch tc-marker-swatch" }), `${marker.label} ${bytes(marker.bytes)}`) : null,
    marker?.headroom ? h("li", {}, h("span", { class: "tc-swatch tc-headroom" }), `headroom ${bytes(marker.headroom)}`) : null);
  return h("figure", { class: "tc-memory", "aria-label": caption },
    h("figcaption", {}, caption), h("div", { class: "tc-bars" }, ...rows), legend);
}
