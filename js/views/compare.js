// Compare view: the design beside another one (the last saved design, or a spec file / folder typed
// in): the fields that differ, the parameter and memory deltas, the training plans' when asked, and the
// two module trees aligned by path with added / removed / changed blocks marked. Under it a parameter
// budget: a field, a target, and the closest values from below and above, each with a button that puts
// it into the design. Python computes everything (composer.compare, composer.budget); this view draws.

import { h } from "../lib/dom.js";
import { bytes } from "../lib/memory_chart.js";

const count = (n) => Number(n).toLocaleString("en-US");
const signed = (n, unit = count) => (n > 0 ? `+${unit(n)}` : n < 0 ? `−${unit(-n)}` : "±0");
const shown = (v) => (v === null || v === undefined ? "null" : typeof v === "string" ? v : JSON.stringify(v));
const COUNT_NAMES = { total: "total parameters", trainable: "trainable parameters", embeddings: "embedding parameters" };
const MARK_WORDS = { same: "", changed: "changed", added: "only in B", removed: "only in A" };

function table(label, head, rows) {
  return h("table", { class: "tc-stats tc-compare-table", "aria-label": label },
    h("thead", {}, h("tr", {}, ...head.map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, ...rows.map((cells) => h("tr", {}, ...cells.map((c, i) =>
      (i === 0 ? h("th", { scope: "row" }, c) : h("td", {}, c)))))));
}

function fieldRows(c) {
  return c.fields.map((r) => [r.field,
    r.absent.includes("A") ? "(none)" : shown(r.a),
    r.absent.includes("B") ? "(none)" : shown(r.b),
    r.given.length === 2 ? "" : r.given.length ? `set in ${r.given[0]}` : "derived"]);
}

function deltaRows(c) {
  const rows = Object.entries(c.parameters).map(([name, p]) =>
    [COUNT_NAMES[name] || name, count(p.a), count(p.b), signed(p.delta)]);
  for (const [dtype, m] of Object.entries(c.memory)) rows.push([`memory ${dtype}`, bytes(m.a), bytes(m.b), signed(m.delta, bytes)]);
  return rows;
}

function planRows(p) {
  const days = (s) => (s === null ? "—" : Math.abs(s) >= 86400 ? `${(s / 86400).toFixed(1)} days` : `${(s / 3600).toFixed(2)} hours`);
  const devices = (n) => (n === null ? "none fits" : String(n));
  return [
    ["peak per device", bytes(p.peak.a), bytes(p.peak.b), signed(p.peak.delta, bytes)],
    ["devices", devices(p.devices.a), devices(p.devices.b), p.devices.delta === null ? "" : signed(p.devices.delta)],
    ["time", days(p.seconds.a), days(p.seconds.b), p.seconds.delta === null ? "" : `${p.seconds.delta > 0 ? "+" : ""}${days(p.seconds.delta)}`],
  ];
}

function side(s) {
  return s ? [h("span", { class: "tc-class" }, `${s.class} `), count(s.params)] : ["—"];
}

/** The aligned tree as nested blocks (children drawn when a block is first opened). */
function treeBlock(node, path, depth, open, dtype) {
  const mark = MARK_WORDS[node.mark];
  const name = node.repeat ? `${node.name} ×${node.repeat}` : node.name;
  const row = [
    h("span", { class: "tc-name", title: name }, name,
      mark ? h("span", { class: `tc-mark tc-mark-${node.mark}` }, ` ${mark}`) : null),
    h("span", { class: "tc-count" }, ...side(node.a)),
    h("span", { class: "tc-count" }, ...side(node.b)),
    h("span", { class: "tc-count", title: `${signed(node.memory_delta, bytes)} of weights at ${dtype}` }, signed(node.delta)),
  ];
  const attrs = { class: `tc-block tc-cmp-row tc-cmp-${node.mark}`, "aria-label": `${name}: ${mark || "same"}` };
  if (!node.children.length) return h("div", { ...attrs, class: `${attrs.class} tc-leaf`, "data-path": path }, ...row);
  // At first the root and every changed block are open: the differences are in view, the rest folded.
  const isOpen = open.has(path) ? open.get(path) : depth === 0 || node.mark === "changed";
  const details = h("details", { open: isOpen, "data-path": path }, h("summary", attrs, ...row));
  const fill = () => {
    if (details.childElementCount > 1) return;
    details.append(...node.children.map((child) => treeBlock(child, `${path}.${child.name}`, depth + 1, open, dtype)));
  };
  if (isOpen) fill();
  details.addEventListener("toggle", () => { open.set(path, details.open); if (details.open) fill(); });
  return details;
}

/** Enter in a text input asks as the button next to it does (the notebook keeps the key otherwise). */
function onEnter(input, ask) {
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    ask();
  });
}

function radio(uid, value, text) {
  const input = h("input", { type: "radio", name: `${uid}-against`, id: `${uid}-${value}`, value });
  return { input, el: h("span", {}, input, h("label", { for: input.id }, text)) };
}

export default {
  render({ model, el }) {
    const uid = `tc${Math.random().toString(36).slice(2, 8)}`;
    const toggle = h("button", { type: "button", class: "tc-panel-toggle" }, "Compare and budget");
    const body = h("div", {});

    // ----- compare with … -----
    const saved = radio(uid, "saved", "the last saved design");
    const typed = radio(uid, "path", "a spec file or folder");
    const path = h("input", { type: "text", id: `${uid}-path`, spellcheck: false, placeholder: "design.json or a saved folder" });
    const plan = h("input", { type: "checkbox", id: `${uid}-plan` });
    const compare = h("button", { type: "button" }, "Compare");
    const compareStatus = h("div", { class: "tc-status", role: "status", "aria-label": "compare status" });
    const result = h("div", { class: "tc-compare-result" });
    const open = new Map(); // tree paths the person opened or closed, kept across updates

    // ----- budget -----
    const field = h("select", { id: `${uid}-field` });
    const target = h("input", { type: "text", id: `${uid}-target`, spellcheck: false, placeholder: "10M, 7B, 1.5e9" });
    const measure = h("select", { id: `${uid}-measure` });
    const dtype = h("select", { id: `${uid}-dtype` });
    const find = h("button", { type: "button" }, "Find");
    const budgetStatus = h("div", { class: "tc-status", role: "status", "aria-label": "budget status" });
    const answer = h("div", { class: "tc-budget-result" });

    body.append(
      h("section", { "aria-label": "Compare with…" },
        h("h3", {}, "Compare with…"),
        h("div", { class: "tc-row", role: "radiogroup", "aria-label": "compare against" }, saved.el, typed.el),
        h("div", { class: "tc-row" }, h("label", { for: path.id }, "spec file or folder"), path),
        h("div", { class: "tc-row" }, plan, h("label", { for: plan.id }, "with the training plans"), compare),
        compareStatus, result),
      h("section", { "aria-label": "Parameter budget" },
        h("h3", {}, "Parameter budget"),
        h("div", { class: "tc-row" },
          h("label", { for: field.id }, "field"), field,
          h("label", { for: target.id }, "target"), target,
          h("label", { for: measure.id }, "measure"), measure,
          h("label", { for: dtype.id }, "dtype"), dtype, find),
        budgetStatus, answer));
    el.replaceChildren(h("div", { class: "tc-view tc-compare" }, toggle, body));

    toggle.addEventListener("click", () => { model.set("expanded", !model.get("expanded")); model.save_changes(); });
    path.addEventListener("input", () => { typed.input.checked = true; });
    const askCompare = () => {
      model.send({ action: "compare", against: saved.input.checked ? "saved" : "path", path: path.value.trim(),
        plan: plan.checked });
    };
    compare.addEventListener("click", askCompare);
    onEnter(path, askCompare);
    const askBudget = () => {
      model.send({ action: "budget", field: field.value, target: target.value.trim(), measure: measure.value,
        dtype: dtype.value });
    };
    find.addEventListener("click", askBudget);
    onEnter(target, askBudget);
    measure.addEventListener("change", () => { dtype.disabled = measure.value !== "memory"; });

    function drawToggle() {
      const expanded = model.get("expanded");
      toggle.setAttribute("aria-expanded", expanded ? "true" : "false");
      toggle.textContent = `${expanded ? "▾" : "▸"} Compare and budget`;
      body.hidden = !expanded;
    }

    function drawAgainst() {
      const last = model.get("saved");
      saved.input.disabled = !last;
      saved.el.querySelector("label").textContent = last ? `the last saved design (${last})` : "the last saved design (none yet)";
      (model.get("against") === "saved" && last ? saved : typed).input.checked = true;
      if (document.activeElement !== path) path.value = model.get("path");
      plan.checked = model.get("with_plan");
    }

    function drawComparison() {
      const c = model.get("comparison");
      if (!c || !c.tree) { result.replaceChildren(); return; }
      const [a, b] = c.names;
      const parts = [h("p", { class: "tc-hint" }, `A: ${a} (${c.a.architecture}) · B: ${b} (${c.b.architecture})`)];
      if (c.same) parts.push(h("p", {}, "The designs are the same: no field, count or module differs."));
      if (c.fields.length) parts.push(table("Fields that differ", ["field", "A", "B", ""], fieldRows(c)));
      parts.push(table("Deltas", ["", "A", "B", "B − A"], deltaRows(c)));
      if (c.plan) parts.push(table(`Training plans on ${c.plan.device}`, ["", "A", "B", "B − A"], planRows(c.plan)));
      parts.push(h("div", { class: "tc-blocks tc-compare-tree", role: "group", "aria-label": "Module trees" },
        h("div", { class: "tc-block tc-cmp-head", "aria-hidden": "true" },
          h("span", {}, "module"), h("span", {}, "A"), h("span", {}, "B"), h("span", {}, "B − A")),
        treeBlock(c.tree, c.tree.name, 0, open, c.dtype)));
      result.replaceChildren(...parts);
    }

    function drawFields() {
      const fields = model.get("budget_fields");
      const chosen = field.value;
      field.replaceChildren(...fields.map((f) => h("option", { value: f.name }, `${f.name} (${count(f.value)})`)));
      if (fields.some((f) => f.name === chosen)) field.value = chosen;
      if (!measure.options.length) {
        measure.replaceChildren(...model.get("measures").map((m) => h("option", { value: m }, m)));
        dtype.replaceChildren(...model.get("dtypes").map((d) => h("option", { value: d }, d)));
        dtype.value = "bf16";
        dtype.disabled = true;
      }
    }

    function drawBudget() {
      const r = model.get("budget_result");
      if (!r || !r.field) { answer.replaceChildren(); return; }
      const name = r.field.replace(/^config\./, "");
      const amount = (n) => (r.measure === "memory" ? bytes(n) : count(n));
      const line = (label, got) => {
        if (!got) return h("li", {}, `${label}: none within the field's bounds`);
        const followed = got.followed.map((f) => `${f.field} ${shown(f.from)} → ${shown(f.to)}`).join("; ");
        const use = h("button", { type: "button" }, `Use this value: ${count(got.value)}`);
        use.addEventListener("click", () => model.send({ action: "use", field: name, value: got.value }));
        return h("li", {}, `${label}: ${name} ${count(got.value)} gives ${amount(got.count)} `, use,
          followed ? h("span", { class: "tc-hint" }, ` (followed: ${followed})`) : null);
      };
      const same = r.below && r.above && r.below.value === r.above.value;
      answer.replaceChildren(
        h("ul", { "aria-label": "budget answer" },
          ...(same ? [line("exactly", r.below)] : [line("below", r.below), line("above", r.above)])),
        h("div", { class: "tc-hint" }, `target ${amount(r.target)}; now ${count(r.current.value)} gives ${amount(r.current.count)}; `
          + `${r.counts} designs counted, ${r.checked} values checked`));
    }

    function drawStatus() {
      for (const [node, name] of [[compareStatus, "compare_status"], [budgetStatus, "budget_status"]]) {
        const text = model.get(name);
        node.textContent = text;
        node.classList.toggle("tc-failed", text.startsWith("Failed"));
      }
      compare.disabled = find.disabled = model.get("busy");
    }

    model.on("change:expanded", drawToggle);
    for (const name of ["saved", "against", "path", "with_plan"]) model.on(`change:${name}`, drawAgainst);
    model.on("change:comparison", drawComparison);
    model.on("change:budget_fields", drawFields);
    model.on("change:budget_result", drawBudget);
    for (const name of ["compare_status", "budget_status", "busy"]) model.on(`change:${name}`, drawStatus);
    drawToggle();
    drawAgainst();
    drawComparison();
    drawFields();
    drawBudget();
    drawStatus();
  },
};
