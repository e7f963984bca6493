// BackbonePicker view: the config's own default, a transformers AutoBackbone type or a timm model;
// which stages it hands on (out_features / out_indices); pretrained weights (timm).

import { h, designOf } from "../lib/dom.js";
import { Field, helpText } from "../lib/field.js";

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
    const stagesHint = h("div", { class: "tc-hint" });
    const stageRow = (key, ints, help, hint = null) => new Field({ name: key, type: "list", default: null, help }, {
      id: `${uid}-${key}`, path: `backbone.${key}`, hint, format: (v) => (v ?? []).join(", "),
      parse: (text) => parseList(text, ints) ?? undefined,
      commit: (value) => send({ edit: { [`backbone.${key}`]: value } }), reset: () => send({ reset: [`backbone.${key}`] }) });
    const rows = {
      out_features: stageRow("out_features", false, "The stages the backbone hands on, by name.", stagesHint),
      out_indices: stageRow("out_indices", true, "The stages the backbone hands on, by index (e.g. 1, 2, 3, 4)."),
      pretrained: new Field({ name: "pretrained", type: "bool", default: false }, {
        id: `${uid}-pre`, label: "pretrained backbone", path: "backbone.pretrained",
        commit: (value) => send({ edit: { "backbone.pretrained": value } }), reset: () => send({ reset: ["backbone.pretrained"] }) }),
    };
    rows.out_indices.control.placeholder = "e.g. 1, 2, 3, 4";
    const general = h("div");
    const body = h("div", {},
      h("div", { class: "tc-row" }, h("label", { for: select.id }, "backbone"), select, search),
      selectError, ...Object.values(rows).map((row) => row.el));
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
      rows.out_features.el.hidden = timm && backbone?.out_features === undefined && !errors["backbone.out_features"];
      const stages = model.get("stages");
      stagesHint.textContent = stages.length ? `stages: ${stages.join(", ")}` : "";
      rows.out_features.control.placeholder = stages.length ? `e.g. ${stages.slice(-2).join(", ")}` : "";
      for (const key of ["out_features", "out_indices"]) {
        rows[key].control.disabled = !backbone;
        rows[key].control.title = backbone ? helpText(rows[key].field) : "Choose a backbone first; the default hands on what its config says.";
      }
      rows.pretrained.control.disabled = !timm;
      rows.pretrained.control.title = timm ? "Load the timm model's pretrained weights (needs them downloaded or cached)."
        : "Pretrained weights are loaded for timm backbones; a transformers backbone starts from its config.";
      const shown = new Set();
      const selectMessage = ["backbone", "backbone.model_type", "backbone.timm"].map((path) => errors[path]).find(Boolean);
      select.setAttribute("aria-invalid", selectMessage ? "true" : "false");
      selectError.replaceChildren(...(selectMessage ? [alert(selectMessage)] : []));
      if (selectMessage) ["backbone", "backbone.model_type", "backbone.timm"].forEach((path) => errors[path] && shown.add(path));
      for (const [key, row] of Object.entries(rows)) {
        const path = `backbone.${key}`;
        const visible = !row.el.closest("[hidden]"); // a hidden row's error is listed below
        if (errors[path] && visible) shown.add(path);
        row.update(key === "pretrained" ? Boolean(backbone?.pretrained) : backbone?.[key],
          { changed: backbone?.[key] !== undefined, error: visible ? errors[path] : "" });
      }
      general.replaceChildren(...Object.entries(errors)
        .filter(([key]) => !shown.has(key))
        .map(([key, message]) => alert(key ? `${key}: ${message}` : message)));
    }

    select.addEventListener("change", () => {
      // Stages typed for the previous backbone are not sent to the new one.
      rows.out_features.typing.cancel();
      rows.out_indices.typing.cancel();
      const value = select.value;
      const backbone = !value ? null : value.startsWith(TIMM) ? { timm: value.slice(TIMM.length) } : { model_type: value };
      send({ edit: { backbone } });
    });
    search.addEventListener("input", filter);
    for (const name of ["backbone_types", "timm_models", "default_backbone"]) model.on(`change:${name}`, build);
    for (const name of ["view_errors", "stages", "takes_backbone"]) model.on(`change:${name}`, update);
    design.on("change:draft", update);
    build();
  },
};
