// ModelTypePicker view: a search box over a list of every model type, grouped by modality.
// Choosing a type sends {edit: {model_type}}; Python starts a fresh design of that type.

import { h, designOf } from "../lib/dom.js";

export default {
  async render({ model, el, host }) {
    const design = await designOf(model, host);
    const uid = `tc${Math.random().toString(36).slice(2, 8)}`;
    const search = h("input", { type: "search", "aria-label": "search model types",
      placeholder: "Search model types…" });
    const select = h("select", { id: `${uid}-type`, size: 8 });
    const count = h("span", { class: "tc-hint", role: "status", "aria-label": "model types shown" });
    const errors = h("div");
    el.replaceChildren(h("div", { class: "tc-view tc-picker tc-types" },
      h("h3", {}, "Model type"),
      h("div", { class: "tc-row" }, search, count),
      h("label", { for: select.id }, "model_type"),
      select, errors));

    function build() {
      const groups = Object.entries(model.get("types")).filter(([, names]) => names.length);
      select.replaceChildren(...groups.map(([modality, names]) =>
        h("optgroup", { label: `${modality} (${names.length})` },
          ...names.map((name) => h("option", { value: name }, name)))));
      filter();
      update();
    }

    /** Hide what does not match; a group with nothing left goes too. */
    function filter() {
      const q = search.value.trim().toLowerCase();
      let shown = 0;
      for (const group of select.querySelectorAll("optgroup")) {
        let any = false;
        for (const option of group.children) {
          option.hidden = Boolean(q) && !option.value.toLowerCase().includes(q); // the chosen type too
          if (!option.hidden) { any = true; shown += 1; }
        }
        group.hidden = !any;
      }
      count.textContent = q ? `${shown} ${shown === 1 ? "match" : "matches"}` : `${select.options.length} types`;
    }

    function update() {
      const draft = design.get("draft");
      select.value = draft.model_type;
      select.selectedOptions[0]?.scrollIntoView?.({ block: "nearest" });
      const listed = Object.entries(model.get("view_errors")); // only those this picker lists (Python routes them)
      select.setAttribute("aria-invalid", listed.some(([key]) => key === "model_type") ? "true" : "false");
      errors.replaceChildren(...listed.map(([key, message]) =>
        h("div", { class: "tc-error", role: "alert" }, key && key !== "model_type" ? `${key}: ${message}` : message)));
    }

    function choose(name) {
      if (name && name !== design.get("draft").model_type) model.send({ edit: { model_type: name } });
    }

    select.addEventListener("change", () => choose(select.value));
    search.addEventListener("input", filter);
    search.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      const q = search.value.trim().toLowerCase();
      const options = [...select.options].filter((o) => !o.hidden);
      const exact = options.find((o) => o.value.toLowerCase() === q);
      choose((exact || options.find((o) => !o.selected) || options[0])?.value);
    });
    model.on("change:types", build);
    design.on("change:draft", update);
    model.on("change:view_errors", update);
    build();
  },
};
