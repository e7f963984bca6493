// ConfigForm view: one control per config field, generated from the engine's field list.
// Python owns the design; this view only sends edits ({edit: {path: value}} / {reset: [path]}) and
// draws the design's `draft` (what was typed) and its own `view_errors` (what is wrong, by field path).

import { h, designOf } from "../lib/dom.js";
import { Field, helpText } from "../lib/field.js";
import { same } from "../lib/format.js";

const GROUPS = ["sizes", "attention", "dropout", "embeddings", "other", "head"];

function getPath(data, path) {
  return path.split(".").reduce((node, key) => (node && typeof node === "object" ? node[key] : undefined), data);
}

/** One config field (the shared Field) at its Spec path, read under its name or any alias. */
class FieldRow extends Field {
  constructor(field, path, label, uid, send) {
    super(field, { id: `${uid}-${path.replace(/\W/g, "_")}`, label, path,
      commit: (value) => send({ edit: { [path]: value } }), reset: () => send({ reset: [path] }) });
    this.keys = [path, ...(field.aliases || []).map((a) => path.replace(/[^.]+$/, a))];
    this.search = `${label} ${(field.aliases || []).join(" ")} ${field.help || ""}`.toLowerCase();
  }

  draw(draft, errors) {
    const set = this.keys.map((k) => getPath(draft, k)).find((v) => v !== undefined);
    const value = set === undefined ? this.field.default : set;
    this.update(value, { changed: set !== undefined && !same(set, this.field.default),
      error: this.keys.map((k) => errors[k]).find(Boolean) });
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
      for (const row of rows) row.draw(draft, errors);
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
