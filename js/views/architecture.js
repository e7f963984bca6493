// ArchitectureView: the design as a column of blocks in data-flow order (Python computes them:
// composer/architecture.py). A repeated block is drawn once with its ×N badge and can be opened into
// its parts; clicking a block (or a part) lists the config fields that shape it, each a link to its
// field in the config form when one is on the page. A pretrained design's blocks say where their weights
// come from (loaded, new, resized, unused), with a legend.

import { h, designOf } from "../lib/dom.js";
import { legend, marks, unusedBlocks } from "../lib/provenance.js";

/** 66362880 → "66.4M" */
function short(n) {
  for (const [suffix, size] of [["T", 1e12], ["B", 1e9], ["M", 1e6], ["K", 1e3]]) {
    if (n >= size) return `${(n / size).toFixed(1)}${suffix}`;
  }
  return String(n);
}

const count = (n) => Number(n).toLocaleString("en-US");
const percent = (share) => `${(100 * share).toFixed(share < 0.1 ? 1 : 0)}%`;

/** The config form's row of a field ("config.hidden_size"), in the same composer if there is one. */
function fieldRow(el, path) {
  const scope = el.closest(".tc-composer") || document;
  return scope.querySelector(`.tc-field[data-path="${CSS.escape(path)}"]`);
}

export default {
  async render({ model, el, host }) {
    const design = await designOf(model, host);
    const title = h("h3", {}, "Architecture");
    const hint = h("div", { class: "tc-hint" });
    const weights = h("div", { class: "tc-weights" }); // a pretrained design's legend and unused blocks
    const flow = h("ol", { class: "tc-arch-flow", "aria-label": "Architecture blocks" });
    const fields = h("section", { class: "tc-arch-fields", "aria-label": "Config fields of the selected block", "aria-live": "polite" });
    el.replaceChildren(h("section", { class: "tc-view tc-arch", "aria-label": "Architecture" }, title, hint, weights, flow, fields));
    const opened = new Set(); // blocks whose parts the person opened (by name, kept across updates)
    const closed = new Set(); // … and repeated blocks they closed (those start open)
    let selected = null; // name of the block whose fields are listed
    let found = null; // the drawing's provenance (a pretrained design), or null

    function showFields(block) {
      selected = block ? block.name : null;
      flow.querySelectorAll("[aria-pressed]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.name === selected)));
      if (!block) {
        fields.replaceChildren(h("div", { class: "tc-hint" }, "Click a block to see the config fields that shape it."));
        return;
      }
      const repeat = block.repeat > 1 ? ` ×${block.repeat}` : "";
      const each = block.repeat > 1 ? ` (${count(block.each)} each)` : "";
      const items = block.fields.map((path) => {
        const row = fieldRow(el, path);
        const name = h("code", {}, path);
        if (!row) return h("li", {}, name);
        const go = h("button", { type: "button", class: "tc-arch-go", title: `Go to ${path} in the config form` }, name);
        go.addEventListener("click", () => {
          for (let d = row.closest("details"); d; d = d.parentElement.closest("details")) d.open = true;
          row.scrollIntoView({ block: "center" });
          (row.querySelector("input, select, textarea") || row).focus();
        });
        return h("li", {}, go);
      });
      fields.replaceChildren(
        h("h4", {}, `${block.label}${repeat} · ${block.class}`),
        h("div", { class: "tc-hint" }, `${count(block.params)} parameters${each}, ${percent(block.share)} of the total · output ${block.shape}`
          + (block.tied ? ` · ${count(block.tied.params)} more tied to ${block.tied.with}` : "")),
        items.length
          ? h("ul", { class: "tc-arch-field-list", "aria-label": `Config fields of ${block.label}` }, ...items)
          : h("div", { class: "tc-hint" }, "No config field shapes this block directly."));
    }

    function box(block, isPart) {
      const select = h("button", {
        type: "button", class: "tc-arch-select", "aria-pressed": String(block.name === selected),
        "data-name": block.name, title: `${block.name}: ${block.class}`,
      }, h("span", { class: "tc-arch-label" }, block.label), " ", h("span", { class: "tc-arch-class" }, block.class));
      select.addEventListener("click", () => showFields(block));
      const badge = block.repeat > 1 && !isPart
        ? h("span", { class: "tc-repeat tc-arch-badge", title: `${block.repeat} identical blocks` }, `×${block.repeat}`)
        : null;
      const params = h("span", { class: "tc-arch-params", title: `${count(block.params)} parameters` },
        `${short(block.params)} · ${percent(block.share)}`);
      const shape = h("span", { class: "tc-arch-shape", title: "output shape for the sample input" }, `→ ${block.shape}`);
      const weights = found ? marks(block.weights, found.legend, block.label) : null;
      return h("div", { class: "tc-arch-box", style: `--tc-share: ${100 * block.share}%` }, select, badge, params, shape,
        weights);
    }

    function item(block) {
      const li = h("li", { class: `tc-arch-item tc-arch-${block.kind}` }, box(block, false));
      if (!block.parts.length) return li;
      const isOpen = opened.has(block.name) || (block.kind === "repeated" && !closed.has(block.name));
      const toggle = h("button", {
        type: "button", class: "tc-arch-toggle", "aria-expanded": String(isOpen),
        "aria-label": `parts of ${block.label}`,
      }, isOpen ? "▾ parts" : "▸ parts");
      const parts = h("ol", { class: "tc-arch-parts", hidden: !isOpen, "aria-label": `Parts of ${block.label}` },
        ...block.parts.map((part) => h("li", {}, box(part, true))));
      toggle.addEventListener("click", () => {
        const open = parts.hidden;
        parts.hidden = !open;
        toggle.setAttribute("aria-expanded", String(open));
        toggle.textContent = open ? "▾ parts" : "▸ parts";
        (open ? opened : closed).add(block.name);
        (open ? closed : opened).delete(block.name);
      });
      li.firstChild.append(toggle);
      li.append(parts);
      return li;
    }

    function draw() {
      const d = model.get("drawing");
      if (!d || !d.blocks) return;
      title.textContent = `Architecture · ${d.architecture}`;
      hint.textContent = `${count(d.total)} parameters · sample input ${d.input} · click a block for the config fields that shape it`;
      found = d.provenance || null;
      weights.replaceChildren(...(found ? [legend(found.legend), unusedBlocks(found.unused)].filter(Boolean) : []));
      flow.replaceChildren(...d.blocks.map(item));
      const all = d.blocks.flatMap((b) => [b, ...b.parts]);
      showFields(all.find((b) => b.name === selected) || null);
    }

    // The summary above says where an edit's error is and that an update is running; the drawing only
    // dims until it is redrawn.
    const dim = () => flow.classList.toggle("tc-stale", Boolean(design.get("pending") || design.get("notice")));

    model.on("change:drawing", draw);
    design.on("change:notice", dim);
    design.on("change:pending", dim);
    draw();
    dim();
  },
};
