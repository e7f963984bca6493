// HeadPicker view: the architectures of the model type (base model first) with their tasks, and the
// fields the chosen head reads, as the engine's catalog lists them (head_fields).

import { h, designOf } from "../lib/dom.js";
import { Field } from "../lib/field.js";

/** id2label as the form shows it: one label per line, in id order. */
function labelsText(id2label) {
  if (!id2label) return "";
  return Object.keys(id2label).sort((a, b) => Number(a) - Number(b)).map((k) => id2label[k]).join("\n");
}

export default {
  async render({ model, el, host }) {
    const design = await designOf(model, host);
    const uid = `tc${Math.random().toString(36).slice(2, 8)}`;
    const send = (msg) => model.send(msg);
    const select = h("select", { id: `${uid}-arch` });
    const task = h("span", { class: "tc-hint" });
    const archError = h("div");
    const fieldsBox = h("div");
    const general = h("div");
    el.replaceChildren(h("div", { class: "tc-view tc-picker tc-heads" },
      h("h3", {}, "Head"),
      h("div", { class: "tc-row" }, h("label", { for: select.id }, "architecture"), select, task),
      archError, fieldsBox, general));
    let rows = {}; // field name → its Field

    const base = () => model.get("heads").find((head) => head.task === "base");

    function buildHeads() {
      // Option text is the bare class name (what config.json lists); the task shows beside it.
      select.replaceChildren(...model.get("heads").map((head) =>
        h("option", { value: head.name, title: head.task }, head.name)));
    }

    function buildFields() {
      rows = Object.fromEntries(model.get("head_fields").map((field) => [field.name, makeRow(field)]));
      fieldsBox.replaceChildren(...Object.values(rows).map((row) => row.el));
    }

    function makeRow(field) {
      const path = `config.${field.name}`;
      const common = { id: `${uid}-${field.name}`, path, reset: () => send({ reset: [path] }) };
      if (field.name === "id2label") {
        // Labels, one per line: sets id2label, and num_labels to match.
        const row = new Field({ ...field, help: `${field.help}\nOne label per line; num_labels follows.` }, {
          ...common, rows: 3, format: labelsText,
          parse: (text) => {
            const labels = text.split("\n").map((l) => l.trim()).filter(Boolean);
            return labels.length ? Object.fromEntries(labels.map((label, i) => [String(i), label])) : undefined;
          },
          commit: (id2label) => send({ edit: { [path]: id2label, "config.num_labels": Object.keys(id2label).length } }),
        });
        row.control.placeholder = "one label per line";
        return row;
      }
      if (field.name === "num_labels") {
        return new Field(field, { ...common, commit: (value) => {
          const config = design.get("draft").config;
          if (value === config?.num_labels) return;
          // Labels of another count no longer fit: they go, and transformers names them LABEL_0, …
          const stale = config?.id2label && Object.keys(config.id2label).length !== value;
          send({ edit: { [path]: value }, ...(stale ? { reset: ["config.id2label"] } : {}) });
        } });
      }
      return new Field(field, { ...common, blank: "(automatic)", commit: (value) => send({ edit: { [path]: value } }) });
    }

    function alert(message) {
      return h("div", { class: "tc-error", role: "alert" }, message);
    }

    function update() {
      const draft = design.get("draft");
      const errors = model.get("view_errors"); // only those this picker lists (Python routes them)
      const heads = model.get("heads");
      const chosen = draft.architecture ?? base()?.name;
      select.value = chosen ?? "";
      const head = heads.find((option) => option.name === chosen);
      const chosenTask = head?.task === "base" ? "base model" : head?.task ?? "";
      task.textContent = head && !head.mapped ? `${chosenTask} (no Auto class)` : chosenTask;
      select.setAttribute("aria-invalid", errors.architecture ? "true" : "false");
      archError.replaceChildren(...(errors.architecture ? [alert(errors.architecture)] : []));
      for (const [name, row] of Object.entries(rows)) {
        const set = draft.config?.[name];
        row.update(set ?? row.field.default, { changed: set !== undefined, error: errors[`config.${name}`] });
      }
      const shown = new Set(["architecture", ...Object.keys(rows).map((n) => `config.${n}`)]);
      general.replaceChildren(...Object.entries(errors)
        .filter(([key]) => !shown.has(key))
        .map(([key, message]) => alert(key ? `${key}: ${message}` : message)));
    }

    select.addEventListener("change", () => {
      const b = base();
      send({ action: "choose", architecture: b && select.value === b.name ? null : select.value });
    });
    model.on("change:heads", () => { buildHeads(); update(); });
    model.on("change:head_fields", () => { buildFields(); update(); });
    design.on("change:draft", update);
    model.on("change:view_errors", update);
    buildHeads();
    buildFields();
    update();
  },
};
