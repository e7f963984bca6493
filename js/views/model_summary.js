// ModelSummary view: totals, the memory chart (a bar per dtype), and the module tree as nested collapsible
// blocks, each with its parameter count and share. Python folds runs of identical layers ("0–79 × 80"),
// and a block's children are drawn only when it is opened, so a 70B tree stays quick. A pretrained design's
// blocks say where their weights come from (loaded, new, resized, unused), with a legend.

import { h, designOf } from "../lib/dom.js";
import { memoryChart } from "../lib/memory_chart.js";
import { legend, marks, totals, unusedBlocks } from "../lib/provenance.js";
import { running } from "../lib/running.js";

const OPEN_DEPTH = 2; // blocks open at first: the model, its parts and their parts

const count = (n) => Number(n).toLocaleString("en-US");

/** 66362880 → "66.4M" */
function short(n) {
  for (const [suffix, size] of [["T", 1e12], ["B", 1e9], ["M", 1e6], ["K", 1e3]]) {
    if (n >= size) return `${(n / size).toFixed(1)}${suffix}`;
  }
  return String(n);
}

export default {
  async render({ model, el, host }) {
    const design = await designOf(model, host);
    const title = h("h3", {}, "Summary");
    const stats = h("table", { class: "tc-stats" });
    const notice = h("div", { class: "tc-notice", role: "status", "aria-label": "summary status" });
    const busy = running(design);
    const memory = h("div");
    const blocks = h("div", { class: "tc-blocks" });
    const weights = h("div", { class: "tc-weights" }); // a pretrained design's legend and unused blocks
    const hint = h("div", { class: "tc-hint" });
    el.replaceChildren(h("section", { class: "tc-view tc-summary", "aria-label": "Summary" }, title, busy.el, notice, stats, memory, hint, weights,
      blocks));
    const open = new Set(); // paths of blocks the person opened (kept across updates)
    const closed = new Set(); // … and of blocks they closed that start open
    let total = 1;
    let found = null; // the summary's provenance (a pretrained design), or null

    function stat(name, value, extra) {
      return h("tr", {}, h("th", { scope: "row" }, name),
        h("td", {}, h("span", { "aria-label": name }, value), extra ? ` ${extra}` : ""));
    }

    function drawStats(s) {
      title.textContent = `Summary · ${s.architecture}`;
      stats.replaceChildren(
        stat("total parameters", count(s.total), `(${short(s.total)})`),
        stat("trainable parameters", count(s.trainable)),
        stat("embedding parameters", count(s.embeddings)),
        ...(found ? [stat("weights", totals(found), "(tensors)")] : []));
      memory.replaceChildren(memoryChart(s.chart));
      stats.querySelector('[aria-label="total parameters"]').classList.add("tc-total");
    }

    function row(node, path) {
      const share = total ? (100 * node.params) / total : 0;
      const name = node.repeat
        ? [`${node.name} `, h("span", { class: "tc-repeat", title: `${node.repeat} identical blocks` }, `×${node.repeat}`), " "]
        : [`${node.name} `];
      return [
        h("span", { class: "tc-name", title: `${node.name}: ${node.class}` }, ...name, h("span", { class: "tc-class" }, node.class)),
        found ? marks(node.weights, found.legend, path.includes(".") ? path.slice(path.indexOf(".") + 1) : path) : null,
        h("span", { class: "tc-count", title: node.repeat ? `${count(node.each)} each` : "" }, count(node.params)),
        h("span", { class: "tc-share" }, `${share.toFixed(share < 10 ? 1 : 0)}%`),
      ];
    }

    function block(node, path, depth) {
      const style = `--tc-share: ${total ? (100 * node.params) / total : 0}%`;
      if (!node.children.length) {
        return h("div", { class: "tc-block tc-leaf", style, "data-path": path }, ...row(node, path));
      }
      const isOpen = open.has(path) || (depth < OPEN_DEPTH && !closed.has(path));
      const details = h("details", { open: isOpen, "data-path": path },
        h("summary", { class: "tc-block", style }, ...row(node, path)));
      const fill = () => {
        if (details.childElementCount > 1) return;
        details.append(...node.children.map((child) => block(child, `${path}.${child.name}`, depth + 1)));
      };
      if (isOpen) fill();
      details.addEventListener("toggle", () => {
        if (details.open) { fill(); open.add(path); closed.delete(path); }
        else { open.delete(path); closed.add(path); }
      });
      return details;
    }

    function drawSummary() {
      const s = model.get("summary");
      if (!s || !s.tree) return;
      total = s.total || 1;
      found = s.provenance || null;
      drawStats(s);
      hint.textContent = found ? "Module tree: parameters, share of the total and where the weights come from (tensors)"
        : "Module tree: parameters and share of the total";
      weights.replaceChildren(...(found ? [legend(found.legend), unusedBlocks(found.blocks.unused)].filter(Boolean) : []));
      blocks.classList.toggle("tc-marked", Boolean(found));
      blocks.replaceChildren(block(s.tree, s.tree.name, 0));
    }

    function drawNotice() {
      // Where the edit's error is (section and field, from Python); until the first summary of a fresh
      // kernel is in (torch and transformers still loading), that it is coming. The running line says
      // an update is under way.
      const first = !model.get("summary")?.tree;
      notice.textContent = design.get("notice") || (first && design.get("pending") ? "Computing the summary…" : "");
    }

    model.on("change:summary", () => { drawSummary(); drawNotice(); });
    design.on("change:notice", drawNotice);
    design.on("change:pending", drawNotice);
    drawSummary();
    drawNotice();
    return () => busy.free();
  },
};
