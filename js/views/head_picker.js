// HeadPicker view: the architectures of the model type (base model first) with their tasks, and the
// fields the chosen head reads, as the engine's catalog lists them (head_fields).

import { h, designOf } from "../lib/dom.js";

const DEBOUNCE_MS = 400;

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
    let controls = {}; // field name → {input, show(value)}

    const base = () => model.get("heads").find((head) => head.task === "base");

    function buildHeads() {
      // Option text is the bare class name (what config.json lists); the task shows beside it.
      select.replaceChildren(...model.get("heads").map((head) =>
        h("option", { value: head.name, title: head.task }, head.name)));
    }

    function buildFields() {
      controls = {};
      fieldsBox.replaceChildren(...model.get("head_fields").map((field) => {
        const id = `${uid}-${field.name}`;
        const control = makeControl(field, id);
        controls[field.name] = control;
        return h("div", { class: "tc-field", "data-path": `config.${field.name}` },
          h("label", { for: id, title: field.help }, field.name), control.input, h("span"));
      }));
    }

    function makeControl(field, id) {
      if (field.type === "choice") {
        const input = h("select", { id, title: field.help },
          h("option", { value: "" }, "(automatic)"), ...field.choices.map((c) => h("option", { value: c }, c)));
        input.addEventListener("change", () =>
          send(input.value ? { edit: { [`config.${field.name}`]: input.value } } : { reset: [`config.${field.name}`] }));
        return { input, show: (v) => { input.value = v ?? ""; } };
      }
      if (field.name === "id2label") {
        // Labels, one per line: sets id2label, and num_labels to match.
        const input = h("textarea", { id, rows: 3, spellcheck: false, placeholder: "one label per line",
          title: `${field.help}\nOne label per line; num_labels follows.` });
        input.addEventListener("change", () => {
          const labels = input.value.split("\n").map((l) => l.trim()).filter(Boolean);
          if (!labels.length) return send({ reset: ["config.id2label"] });
          const id2label = Object.fromEntries(labels.map((label, i) => [String(i), label]));
          send({ edit: { "config.id2label": id2label, "config.num_labels": labels.length } });
        });
        return { input, show: (v) => { if (document.activeElement !== input) input.value = labelsText(v); } };
      }
      const input = h("input", { id, type: "text", inputMode: "numeric", title: field.help, spellcheck: false });
      let timer = null;
      const commit = () => {
        clearTimeout(timer);
        const text = input.value.trim();
        const value = /^[-+]?\d+(\.\d*)?$/.test(text) ? Number(text) : text;
        if (value === design.get("draft").config?.num_labels) return;
        const id2label = design.get("draft").config?.id2label;
        // Labels of another count no longer fit: they go, and transformers names them LABEL_0, …
        const stale = id2label && Object.keys(id2label).length !== value;
        send({ edit: { "config.num_labels": value }, ...(stale ? { reset: ["config.id2label"] } : {}) });
      };
      input.addEventListener("change", commit);
      input.addEventListener("input", () => {
        clearTimeout(timer);
        timer = setTimeout(commit, DEBOUNCE_MS);
      });
      return { input, show: (v) => { if (document.activeElement !== input) input.value = v ?? ""; } };
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
      const defaults = Object.fromEntries(model.get("head_fields").map((f) => [f.name, f.default]));
      for (const [name, control] of Object.entries(controls)) {
        const row = control.input.parentElement;
        const value = draft.config?.[name] ?? defaults[name];
        control.show(value);
        row.classList.toggle("tc-changed", draft.config?.[name] !== undefined);
        const message = errors[`config.${name}`];
        control.input.setAttribute("aria-invalid", message ? "true" : "false");
        row.querySelector(":scope > .tc-error")?.remove();
        if (message) row.append(alert(message));
      }
      const shown = new Set(["architecture", ...Object.keys(controls).map((n) => `config.${n}`)]);
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
