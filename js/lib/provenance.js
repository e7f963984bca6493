// Where a pretrained design's weights come from, as the summary and the architecture drawing show it:
// composer/provenance.py counts each block's tensors by mark (loaded, new, resized, unused) and words the
// legend; these only draw them.

import { h } from "./dom.js";

const count = (n) => Number(n).toLocaleString("en-US");

/** A block's tensors by mark ({loaded: 16, new: 2}) as chips in the legend's order, labelled for the block. */
export function marks(weights, legend, label) {
  const chips = legend.filter(({ mark }) => weights?.[mark]).map(({ mark, means }) =>
    h("span", { class: `tc-mark tc-mark-${mark}`, title: `${count(weights[mark])} tensors ${means}` },
      `${count(weights[mark])} ${mark}`));
  return h("span", { class: "tc-marks", role: "group", "aria-label": `weights of ${label}` }, ...chips);
}

/** What the marks mean, one item each. */
export function legend(entries) {
  return h("ul", { class: "tc-legend", "aria-label": "Weight provenance legend" },
    ...entries.map(({ mark, means }) => h("li", {}, h("span", { class: `tc-mark tc-mark-${mark}` }, mark), ` ${means}`)));
}

/** Totals per mark ("55 loaded, 2 new, 48 unused" tensors). */
export function totals(found) {
  return found.legend.filter(({ mark }) => found.totals[mark].tensors)
    .map(({ mark }) => `${count(found.totals[mark].tensors)} ${mark}`).join(", ");
}

/** The checkpoint's blocks the design has no place for ("encoder.layer.3–5 (48)"), or null. */
export function unusedBlocks(blocks) {
  if (!blocks.length) return null;
  return h("div", { class: "tc-hint tc-unused", role: "note", "aria-label": "unused checkpoint weights" },
    "Unused, in the checkpoint only: ", blocks.map((b) => `${b.block} (${count(b.tensors)})`).join(", "));
}
