// ConfigForm view: one control per config field, generated from the engine's field list.
// Python owns the design; this view only sends edits ({edit: {path: value}} / {reset: [path]}) and
// draws the design's `draft` (what was typed) and its own `view_errors` (what is wrong, by field path).

import { h, designOf } from "../lib/dom.js";

const GROUPS = ["sizes", "attention", "dropout", "embeddings", "other", "head"];
const DEBOUNCE_MS = 400;
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

function getPath(data, path) {
  return path.split(".").reduce((node, key) => (node && typeof node === "object" ? node[key] : undefined), data);
}

/** Text typed into a field → the JSON value to send. Anything unparseable goes as typed, so the
 * engine names the problem ("expected int, got 'twelve'"). */
export function parseValue(field, text) {
  const t = text.trim();
  if (t === "") return field.nullable ? null : text;
  if (field.type === "int" || field.type === "float") return NUMBER.test(t) ? Number(t) : t;
  if (field.type === "str") return text;
  try {
    return JSON.parse(t);
  } catch {
    if (field.type === "list") {
      try {
        return JSON.parse(`[${t}]`); // "1, 2, 3" is a list too
      } catch {}
    }
    if (field.kinds?.includes("str")) return t;
  }
  return t;
}

function formatValue(value) {
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function helpText(field) {
  const parts = [field.help || `${field.name} (${field.type})`];
  if (field.minimum != null || field.maximum != null) {
    parts.push(`Allowed: ${[field.minimum != null ? `≥ ${field.minimum}` : "", field.maximum != null ? `≤ ${field.maximum}` : ""]
      .filter(Boolean).join(" and ")}.`);
  }
  if (field.aliases?.length) parts.push(`Also called: ${field.aliases.join(", ")}.`);
  parts.push(`Default: ${formatValue(field.default) || "none"}.`);
  return parts.join("\n");
}

/** One field: label, control, reset button and (when wrong) an alert under it. */
class FieldRow {
  constructor(field, path, label, uid, send) {
    this.field = field;
    this.path = path; // "config.dim", "config.text_config.hidden_size", "backbone.config.depths"
    this.keys = [path, ...(field.aliases || []).map((a) => path.replace(/[^.]+$/, a))];
    this.send = send;
    const id = `${uid}-${path.replace(/\W/g, "_")}`;
    this.errorId = `${id}-error`;
    this.control = this.makeControl(id);
    // The label's text is the field's full name (e.g. "text_config.hidden_size"); a nested prefix
    // is dimmed and may wrap after its dot.
    const dot = label.lastIndexOf(".") + 1;
    this.labelEl = h("label", { for: id, title: helpText(field) },
      ...(dot ? [h("span", { class: "tc-prefix" }, label.slice(0, dot)), h("wbr")] : []), label.slice(dot));
    this.reset = h("button", {
      type: "button", class: "tc-reset", "aria-label": `reset ${label}`,
      title: `Back to the default (${formatValue(field.default) || "none"})`,
    }, "↺");
    this.reset.addEventListener("click", () => send({ reset: [this.path] }));
    this.el = h("div", { class: "tc-field", "data-path": path }, this.labelEl, this.control, this.reset);
    this.search = `${label} ${(field.aliases || []).join(" ")} ${field.help || ""}`.toLowerCase();
  }

  makeControl(id) {
    const f = this.field;
    const common = { id, title: helpText(f) };
    if (f.type === "bool" && !(f.nullable && f.default === null)) {
      const box = h("input", { ...common, type: "checkbox" });
      box.addEventListener("change", () => this.commit(box.checked));
      this.show = (v) => { box.checked = Boolean(v); };
      return box;
    }
    if (f.type === "choice" || f.type === "bool") {
      const choices = f.type === "bool" ? [true, false] : f.choices;
      const select = h("select", common,
        ...(f.nullable ? [h("option", { value: "" }, "(none)")] : []),
        ...choices.map((c, i) => h("option", { value: String(i) }, formatValue(c))));
      select.addEventListener("change", () => this.commit(select.value === "" ? null : choices[Number(select.value)]));
      this.show = (v) => {
        const i = choices.findIndex((c) => same(c, v));
        select.value = i >= 0 ? String(i) : "";
      };
      return select;
    }
    const multiline = f.type === "dict" || (f.type === "config" && !f.fields);
    const numeric = f.type === "int" || f.type === "float";
    // A number with a value domain (the engine's minimum / maximum, inclusive) is a number input
    // bounded by it; without one (or in an older engine) a text input, so any text reaches the engine.
    const bounded = numeric && (f.minimum != null || f.maximum != null);
    const input = multiline
      ? h("textarea", { ...common, rows: 2, spellcheck: false })
      : bounded
        ? h("input", { ...common, type: "number", min: f.minimum ?? undefined, max: f.maximum ?? undefined,
            step: f.type === "int" ? "1" : "any" })
        : h("input", { ...common, type: "text", spellcheck: false, inputMode: numeric ? "decimal" : undefined });
    let timer = null;
    const commitText = () => {
      clearTimeout(timer);
      if (input.validity?.badInput) return; // half-typed ("-", "1e"): nothing to send yet
      this.commit(parseValue(f, input.value));
    };
    // A value commits on Enter or blur, and also after a short pause in typing. Enter is caught on
    // keydown: inside JupyterLab's output area it fires no "change" (the notebook keeps the key).
    input.addEventListener("change", commitText);
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !multiline) commitText();
    });
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(commitText, DEBOUNCE_MS);
    });
    this.show = (v) => {
      if (document.activeElement !== input) input.value = formatValue(v);
    };
    return input;
  }

  commit(value) {
    if (this.sent !== undefined && same(this.sent, value)) return;
    this.sent = value;
    this.send({ edit: { [this.path]: value } });
  }

  update(draft, errors) {
    const set = this.keys.map((k) => getPath(draft, k)).find((v) => v !== undefined);
    const value = set === undefined ? this.field.default : set;
    this.show(value);
    if (!same(value, this.sent)) this.sent = undefined;
    this.el.classList.toggle("tc-changed", set !== undefined && !same(set, this.field.default));
    const message = this.keys.map((k) => errors[k]).find(Boolean);
    this.control.setAttribute("aria-invalid", message ? "true" : "false");
    this.el.querySelector(":scope > .tc-error")?.remove();
    if (message) {
      this.el.append(h("div", { class: "tc-error", role: "alert", id: this.errorId }, message));
      this.control.setAttribute("aria-describedby", this.errorId);
    } else {
      this.control.removeAttribute("aria-describedby");
    }
  }
}

export default {
  async render({ model, el, host }) {
    const design = await designOf(model, host);
    const uid = `tc${Math.random().toString(36).slice(2, 8)}`;
    const send = (msg) => model.send(msg);
    const filter = h("input", { type: "search", class: "tc-filter", "aria-label": "filter fields",
      placeholder: "Filter fields by name or help…" });
    const general = h("div");
    const body = h("div");
    const root = h("div", { class: "tc-view tc-form" },
      h("h3", {}, "Config"), filter, general, body);
    el.replaceChildren(root);
    let rows = [];
    let subs = [];

    function build() {
      const hidden = new Set(model.get("hide_groups"));
      const fields = model.get("fields").filter((f) => !hidden.has(f.group));
      const modelType = design.get("draft").model_type;
      rows = [];
      subs = [];
      const sections = GROUPS.filter((g) => !hidden.has(g)).map((group) => {
        const inGroup = fields.filter((f) => f.group === group);
        if (!inGroup.length) return null;
        return section(group, inGroup.map((f) => fieldEl(f, "config")));
      });
      const backbone = model.get("backbone_fields");
      if (backbone.length) {
        const name = design.get("draft").backbone?.model_type;
        sections.push(section(`backbone (${name})`, backbone.map((f) => fieldEl(f, "backbone.config"))));
      }
      body.replaceChildren(...sections.filter(Boolean));
      root.querySelector("h3").textContent = `Config · ${modelType}`;
      applyFilter();
      update();
    }

    function section(title, children) {
      return h("details", { open: true, "data-group": title },
        h("summary", {}, title, " ", h("span", { class: "tc-hint" }, `(${children.length})`)), ...children);
    }

    function fieldEl(field, prefix, parent = null) {
      const path = `${prefix}.${field.name}`;
      const label = path.replace(/^config\./, "");
      if (field.type === "config" && field.fields) {
        // A typed sub-config (CLIP's text_config, …): its own fields, nested; the filter matches
        // the sub-config's name or any of its fields.
        const sub = { el: null, rows: [], search: `${label} ${field.help || ""}`.toLowerCase() };
        const children = field.fields.filter((f) => f.type !== "config").map((f) => fieldEl(f, path, sub));
        sub.el = h("fieldset", { class: "tc-sub", "data-path": path },
          h("legend", { title: helpText(field) }, label), ...children);
        subs.push(sub);
        return sub.el;
      }
      const row = new FieldRow(field, path, label, uid, send);
      rows.push(row);
      parent?.rows.push(row);
      row.parent = parent;
      return row.el;
    }

    function applyFilter() {
      const q = filter.value.trim().toLowerCase();
      const match = (item) => !q || item.search.includes(q);
      for (const row of rows) row.el.hidden = !(match(row) || (row.parent && match(row.parent)));
      for (const sub of subs) sub.el.hidden = sub.rows.every((r) => r.el.hidden);
      for (const details of body.querySelectorAll(":scope > details")) {
        details.hidden = false;
        details.hidden = ![...details.querySelectorAll(".tc-field")].some((r) => !r.closest("[hidden]"));
      }
    }

    function update() {
      const draft = design.get("draft");
      const errors = model.get("view_errors"); // only those this form lists (Python routes them)
      for (const row of rows) row.update(draft, errors);
      // An error at a row the filter hides is listed on top too, so that it is never out of sight.
      const shown = new Set(rows.flatMap((r) => (!r.el.closest("[hidden]") && r.keys.some((k) => errors[k]) ? r.keys : [])));
      const rest = Object.entries(errors).filter(([key]) => !shown.has(key));
      general.replaceChildren(...rest.map(([key, message]) =>
        h("div", { class: "tc-error", role: "alert" }, key ? `${key}: ${message}` : message)));
    }

    filter.addEventListener("input", () => { applyFilter(); update(); });
    model.on("change:fields", build);
    model.on("change:backbone_fields", build);
    model.on("change:hide_groups", build);
    design.on("change:draft", update);
    model.on("change:view_errors", update);
    build();
  },
};
