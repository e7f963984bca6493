// PartForm view: the class of an image processor / feature extractor and every option of it.
// Python owns the design; this view sends edits ({edit: {path: value}} / {reset: [path]}) and draws
// the design's `draft` (what was typed) and its own `view_errors` (what is wrong, by Spec path).

import { h, designOf, enterCommits } from "../lib/dom.js";

const DEBOUNCE_MS = 400;

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const format = (v) => (v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));

/** Text typed into an option → its JSON value; "0.2, 0.5, 0.5" is a list. Anything unparseable goes as
 * typed, so the engine names the problem at the option. */
function parse(field, text) {
  const t = text.trim();
  try {
    return JSON.parse(t);
  } catch {}
  if (field.kinds.includes("list")) {
    try {
      return JSON.parse(`[${t}]`);
    } catch {}
  }
  return t;
}

function control(field, id, commit) {
  const title = `${field.help || field.name}\nDefault: ${format(field.default) || "none"}.`;
  if (field.kinds.length === 1 && field.kinds[0] === "bool" && field.default !== null) {
    const box = h("input", { id, title, type: "checkbox" });
    box.addEventListener("change", () => commit(box.checked));
    return { el: box, show: (v) => { box.checked = Boolean(v); } };
  }
  if (field.choices || (field.kinds.length === 1 && field.kinds[0] === "bool")) {
    const choices = field.choices || [true, false];
    const label = (c) => (c && typeof c === "object" ? c.name : format(c));
    const value = (c) => (c && typeof c === "object" ? c.value : c);
    const select = h("select", { id, title },
      h("option", { value: "" }, "(default)"),
      ...choices.map((c, i) => h("option", { value: String(i) }, label(c))));
    select.addEventListener("change", () =>
      commit(select.value === "" ? undefined : value(choices[Number(select.value)])));
    return {
      el: select,
      show: (v, set) => {
        const i = choices.findIndex((c) => same(value(c), v));
        select.value = set && i >= 0 ? String(i) : "";
      },
    };
  }
  const input = h("input", { id, title, type: "text", spellcheck: false });
  let timer = null;
  const send = () => {
    clearTimeout(timer);
    commit(input.value.trim() === "" ? undefined : parse(field, input.value));
  };
  input.addEventListener("change", send);
  input.addEventListener("keydown", (e) => { if (e.key === "Enter") send(); });
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(send, DEBOUNCE_MS);
  });
  return { el: input, show: (v) => { if (document.activeElement !== input) input.value = format(v); } };
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
        const id = `${uid}-${field.name}`;
        const commit = (value) => {
          if (value === undefined) send({ reset: [path] });
          else send({ edit: { [`${key}.class`]: model.get("part_class"), [path]: value } });
        };
        const c = control(field, id, commit);
        const reset = h("button", { type: "button", class: "tc-reset", "aria-label": `reset ${field.name}`,
          title: `Back to the default (${format(field.default) || "none"})` }, "↺");
        reset.addEventListener("click", () => send({ reset: [path] }));
        const row = h("div", { class: "tc-field", "data-path": path },
          h("label", { for: id, title: field.help || field.name }, field.name), c.el, reset);
        return { field, path, row, control: c };
      });
      body.replaceChildren(...rows.map((r) => r.row));
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
        r.control.show(value, set);
        r.row.classList.toggle("tc-changed", set && !same(value, r.field.default));
        const message = errors[r.path];
        r.control.el.setAttribute("aria-invalid", message ? "true" : "false");
        r.row.querySelector(":scope > .tc-error")?.remove();
        if (message) r.row.append(h("div", { class: "tc-error", role: "alert" }, message));
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
