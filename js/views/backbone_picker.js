// BackbonePicker view: the config's own default, a transformers AutoBackbone type or a timm model;
// which stages it hands on (out_features / out_indices); pretrained weights (timm).

import { h, designOf } from "../lib/dom.js";

const DEBOUNCE_MS = 400;
const TIMM = "timm:";

/** "1, 2, -1" / "stage2 stage3" → a list (ints where they are ints); "" → null. */
function parseList(text, ints) {
  const items = text.split(/[\s,[\]"']+/).filter(Boolean);
  if (!items.length) return null;
  return ints ? items.map((x) => (/^[-+]?\d+$/.test(x) ? Number(x) : x)) : items;
}

export default {
  async render({ model, el, host }) {
    const design = await designOf(model, host);
    const uid = `tc${Math.random().toString(36).slice(2, 8)}`;
    const send = (msg) => model.send(msg);
    const search = h("input", { type: "search", "aria-label": "search backbones", placeholder: "Search backbones…" });
    const select = h("select", { id: `${uid}-backbone` });
    const selectError = h("div");
    const outFeatures = h("input", { id: `${uid}-of`, type: "text", spellcheck: false });
    const outIndices = h("input", { id: `${uid}-oi`, type: "text", spellcheck: false, placeholder: "e.g. 1, 2, 3, 4" });
    const pretrained = h("input", { id: `${uid}-pre`, type: "checkbox" });
    const stagesHint = h("div", { class: "tc-hint" });
    const rowOf = (input, label, hint) => h("div", { class: "tc-field", "data-path": `backbone.${label}` },
      h("label", { for: input.id }, label), input, h("span"), ...(hint ? [hint] : []));
    const rows = {
      out_features: rowOf(outFeatures, "out_features", stagesHint),
      out_indices: rowOf(outIndices, "out_indices"),
      pretrained: rowOf(pretrained, "pretrained backbone"),
    };
    const general = h("div");
    const body = h("div", {},
      h("div", { class: "tc-row" }, h("label", { for: select.id }, "backbone"), select, search),
      selectError, rows.out_features, rows.out_indices, rows.pretrained);
    const none = h("p", { class: "tc-hint" });
    el.replaceChildren(h("div", { class: "tc-view tc-picker tc-backbone" }, h("h3", {}, "Backbone"), none, body, general));

    function build() {
      const fallback = model.get("default_backbone");
      select.replaceChildren(
        h("option", { value: "" }, fallback ? `default (${fallback})` : "default"),
        h("optgroup", { label: "transformers (AutoBackbone)" },
          ...model.get("backbone_types").map((t) => h("option", { value: t }, t))),
        h("optgroup", { label: "timm" },
          ...model.get("timm_models").map((t) => h("option", { value: TIMM + t }, t))));
      filter();
      update();
    }

    function filter() {
      const q = search.value.trim().toLowerCase();
      for (const option of select.querySelectorAll("optgroup option")) {
        option.hidden = Boolean(q) && !option.textContent.toLowerCase().includes(q) && !option.selected;
      }
    }

    function chosen(backbone) {
      if (!backbone) return "";
      return backbone.timm !== undefined ? TIMM + backbone.timm : backbone.model_type ?? "";
    }

    function alert(message) {
      return h("div", { class: "tc-error", role: "alert" }, message);
    }

    function update() {
      const takes = model.get("takes_backbone");
      none.hidden = takes;
      body.hidden = !takes;
      none.textContent = `${design.get("draft").model_type} takes no backbone.`;
      const backbone = design.get("draft").backbone;
      const errors = model.get("view_errors"); // only those this picker lists (Python routes them)
      select.value = chosen(backbone);
      const timm = backbone?.timm !== undefined;
      // A timm backbone takes stages by index; the row by name stays while it holds a value, so that
      // what was typed for another backbone (and its error) can be seen and cleared.
      rows.out_features.hidden = timm && backbone?.out_features === undefined && !errors["backbone.out_features"];
      const stages = model.get("stages");
      stagesHint.textContent = stages.length ? `stages: ${stages.join(", ")}` : "";
      outFeatures.placeholder = stages.length ? `e.g. ${stages.slice(-2).join(", ")}` : "";
      for (const [input, key] of [[outFeatures, "out_features"], [outIndices, "out_indices"]]) {
        if (document.activeElement !== input) input.value = (backbone?.[key] ?? []).join(", ");
        input.disabled = !backbone;
        input.title = backbone ? "" : "Choose a backbone first; the default hands on what its config says.";
      }
      pretrained.checked = Boolean(backbone?.pretrained);
      pretrained.disabled = !timm;
      pretrained.title = timm ? "Load the timm model's pretrained weights (needs them downloaded or cached)."
        : "Pretrained weights are loaded for timm backbones; a transformers backbone starts from its config.";
      const keys = { "": select, model_type: select, timm: select, out_features: outFeatures,
        out_indices: outIndices, pretrained };
      const shown = new Set();
      selectError.replaceChildren();
      for (const row of Object.values(rows)) row.querySelector(":scope > .tc-error")?.remove();
      for (const [key, input] of Object.entries(keys)) {
        const path = key ? `backbone.${key}` : "backbone";
        const message = errors[path];
        input.setAttribute("aria-invalid", message ? "true" : "false");
        if (!message || input.closest("[hidden]")) continue; // a hidden row's error is listed below
        shown.add(path);
        if (input === select) selectError.append(alert(message));
        else input.parentElement.append(alert(message));
      }
      general.replaceChildren(...Object.entries(errors)
        .filter(([key]) => !shown.has(key))
        .map(([key, message]) => alert(key ? `${key}: ${message}` : message)));
    }

    const timers = {};
    select.addEventListener("change", () => {
      // Stages typed for the previous backbone are not sent to the new one.
      Object.values(timers).forEach(clearTimeout);
      const value = select.value;
      const backbone = !value ? null : value.startsWith(TIMM) ? { timm: value.slice(TIMM.length) } : { model_type: value };
      send({ edit: { backbone } });
    });
    search.addEventListener("input", filter);
    for (const [input, key, ints] of [[outFeatures, "out_features", false], [outIndices, "out_indices", true]]) {
      const commit = () => {
        clearTimeout(timers[key]);
        const value = parseList(input.value, ints);
        send(value ? { edit: { [`backbone.${key}`]: value } } : { reset: [`backbone.${key}`] });
      };
      input.addEventListener("change", commit);
      input.addEventListener("input", () => {
        clearTimeout(timers[key]);
        timers[key] = setTimeout(commit, DEBOUNCE_MS);
      });
    }
    pretrained.addEventListener("change", () => send({ edit: { "backbone.pretrained": pretrained.checked } }));
    for (const name of ["backbone_types", "timm_models", "default_backbone"]) model.on(`change:${name}`, build);
    for (const name of ["view_errors", "stages", "takes_backbone"]) model.on(`change:${name}`, update);
    design.on("change:draft", update);
    build();
  },
};
