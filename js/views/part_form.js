// PartForm view: the class of an image processor / feature extractor and every option of it.
// Python owns the design; this view sends edits ({edit: {path: value}} / {reset: [path]}) and draws
// the design's `draft` (what was typed) and its own `view_errors` (what is wrong, by Spec path).

import { h, designOf, enterCommits } from "../lib/dom.js";
import { Field } from "../lib/field.js";
import { same } from "../lib/format.js";

const TYPES = ["bool", "int", "float", "str", "dict", "list"];

/** An option as the shared Field reads it: its control follows its kinds (a bool, a number, JSON, …). */
function asField(option) {
  const { kinds } = option;
  const type = option.choices ? "choice" : kinds.length === 1 && TYPES.includes(kinds[0]) ? kinds[0]
    : kinds.includes("dict") ? "dict" : kinds.includes("list") ? "list" : "any";
  return { ...option, type };
}

export default {
  async render({ model, el, host }) {
    const design = await designOf(model, host);
    const uid = `tc${Math.random().toString(36).slice(2, 8)}`;
    const key = model.get("key");
    const classInput = h("input", { id: `${uid}-class`, type: "text", list: `${uid}-classes`, spellcheck: false,
      title: "The transformers class, by name" });
    const classes = h("datalist", { id: `${uid}-classes` });
    const general = h("div");
    const body = h("div", { class: "tc-part-fields" });
    el.replaceChildren(h("div", { class: "tc-view tc-part-form" },
      h("h3", {}, model.get("title")),
      h("div", { class: "tc-field", "data-path": `${key}.class` },
        h("label", { for: classInput.id }, "class"), classInput, classes),
      general, body));
    let rows = [];

    const send = (msg) => model.send(msg);
    enterCommits(classInput);
    classInput.addEventListener("change", () => {
      const name = classInput.value.trim();
      if (name && name !== model.get("part_class")) send({ edit: { [key]: { class: name } } });
    });

    function build() {
      classes.replaceChildren(...model.get("classes").map((c) => h("option", { value: c })));
      rows = model.get("fields").map((field) => {
        const path = `${key}.options.${field.name}`;
        const row = new Field(asField(field), { id: `${uid}-${field.name}`, path, blank: "(default)",
          commit: (value) => send({ edit: { [`${key}.class`]: model.get("part_class"), [path]: value } }),
          reset: () => send({ reset: [path] }) });
        return { field, path, row };
      });
      body.replaceChildren(...rows.map((r) => r.row.el));
      update();
    }

    function update() {
      const draft = design.get("draft");
      const errors = model.get("view_errors"); // only those this form lists (Python routes them)
      const section = draft[key] || {};
      const options = section.class === undefined || section.class === model.get("part_class") ? section.options || {} : {};
      if (document.activeElement !== classInput) classInput.value = model.get("part_class");
      for (const r of rows) {
        const set = Object.prototype.hasOwnProperty.call(options, r.field.name);
        const value = set ? options[r.field.name] : r.field.default;
        r.row.update(value, { set, changed: set && !same(value, r.field.default), error: errors[r.path] });
      }
      const shown = new Set(rows.map((r) => r.path));
      const rest = Object.entries(errors).filter(([path]) => !shown.has(path));
      general.replaceChildren(...rest.map(([path, message]) =>
        h("div", { class: "tc-error", role: "alert" }, path ? `${path}: ${message}` : message)));
    }

    model.on("change:fields", build);
    design.on("change:draft", update);
    model.on("change:view_errors", update);
    model.on("change:part_class", update);
    build();
  },
};
