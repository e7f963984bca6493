// TrainingPlan view: the plan's settings as a form (the engine's fields: composer.training.settings),
// the memory of a device as a stacked bar against its memory and headroom (the shared memory chart), the
// plan's figures in words, and the launch folder's export. Python makes the plan and writes the folder;
// this view sends {setting: {name: value}} / {reset_setting: [name]} / {action: "export"} and draws
// `plan`, the errors at their fields and whether the plan shown is current.

import { h, designOf, enterCommits, alertsFor } from "../lib/dom.js";
import { Field } from "../lib/field.js";
import { same } from "../lib/format.js";
import { memoryChart } from "../lib/memory_chart.js";

export default {
  async render({ model, el, host }) {
    const design = await designOf(model, host);
    const uid = `tc${Math.random().toString(36).slice(2, 8)}`;
    const send = (msg) => model.send(msg);
    const status = h("div", { class: "tc-notice", role: "status", "aria-label": "plan status" });
    const general = h("div");
    const form = h("div", { class: "tc-plan-form" });
    const chart = h("div");
    const figures = h("table", { class: "tc-stats", "aria-label": "plan figures" });
    const folder = h("input", { id: `${uid}-folder`, type: "text", spellcheck: false });
    const folderError = h("div");
    const exportButton = h("button", { type: "button" }, "Export launch");
    const launchGeneral = h("div");
    const launchStatus = h("div", { class: "tc-status", role: "status", "aria-label": "launch status" });
    const launch = h("div", { class: "tc-plan-launch" },
      h("div", { class: "tc-row" }, h("label", { for: folder.id }, "launch folder"), folder, exportButton),
      folderError, launchGeneral, launchStatus);
    const result = h("div", { class: "tc-plan-result" }, chart, figures, launch);
    el.replaceChildren(h("div", { class: "tc-view tc-plan" }, h("h3", {}, "Training plan"), status, general,
      h("div", { class: "tc-plan-body" }, form, result)));
    const rows = new Map(); // setting name → its Field, kept while the engine lists it

    function build() {
      const groups = new Map();
      for (const field of model.get("fields")) {
        let row = rows.get(field.name);
        if (!row || !same(row.field, field)) {
          // An emptied number, or a select's blank option (where the default is none), is the default.
          const numeric = field.type === "int" || field.type === "float";
          const blank = field.nullable ? field.blank || "(none)" : numeric ? "(default)" : null;
          row = new Field(field, { id: `${uid}-${field.name}`, path: `plan.${field.name}`, blank,
            placeholder: field.blank, commit: (value) => send({ setting: { [field.name]: value } }),
            reset: () => send({ reset_setting: [field.name] }) });
          row.blank = blank;
          rows.set(field.name, row);
        }
        if (!groups.has(field.group)) groups.set(field.group, []);
        groups.get(field.group).push(row.el);
      }
      const names = new Set(model.get("fields").map((f) => f.name));
      for (const name of [...rows.keys()]) if (!names.has(name)) rows.delete(name);
      form.replaceChildren(...[...groups].map(([group, els]) =>
        h("fieldset", { class: "tc-sub" }, h("legend", {}, group), ...els)));
      update();
    }

    function update() {
      const given = model.get("settings");
      const errors = { ...model.get("launch_errors"), ...model.get("setting_errors") };
      for (const [name, row] of rows) {
        const set = Object.prototype.hasOwnProperty.call(given, name);
        const value = set ? given[name] : row.field.default;
        // A select with no blank option shows the default itself.
        row.update(value, { set: set || !row.blank, changed: set && !same(value, row.field.default),
          error: errors[`plan.${name}`] });
      }
      const atField = (path) => rows.has(path.replace(/^plan\./, "")) || path === "DIR";
      const line = ([path, message]) => (path ? `${path}: ${message}` : message);
      const elsewhere = (name) => Object.entries(model.get(name)).filter(([p]) => !atField(p)).flatMap((e) => alertsFor(line(e)));
      general.replaceChildren(...elsewhere("setting_errors"));
      launchGeneral.replaceChildren(...elsewhere("launch_errors"));
      drawLaunch();
      drawStatus();
    }

    function drawLaunch() {
      const error = model.get("launch_errors").DIR;
      if (document.activeElement !== folder) folder.value = model.get("folder");
      folder.setAttribute("aria-invalid", error ? "true" : "false");
      folderError.replaceChildren(...(error ? [h("div", { class: "tc-error", role: "alert", id: `${uid}-folder-error` }, error)] : []));
      if (error) folder.setAttribute("aria-describedby", `${uid}-folder-error`);
      else folder.removeAttribute("aria-describedby");
      exportButton.disabled = model.get("exporting");
      exportButton.textContent = model.get("exporting") ? "Exporting…" : "Export launch";
      launchStatus.textContent = model.get("launch_status");
    }

    function setFolder() {
      model.set("folder", folder.value.trim());
      model.save_changes();
    }

    enterCommits(folder);
    folder.addEventListener("change", setFolder);
    exportButton.addEventListener("click", () => {
      setFolder();
      send({ action: "export" });
    });

    function drawPlan() {
      const plan = model.get("plan");
      if (!plan.chart) return;
      chart.replaceChildren(memoryChart(plan.chart, "Memory per device"));
      figures.replaceChildren(...plan.figures.map(({ name, words }) =>
        h("tr", {}, h("th", { scope: "row" }, name), h("td", {}, h("span", { "aria-label": name }, words)))));
    }

    function drawStatus() {
      const first = !model.get("plan").chart;
      const stale = !first && !model.get("current");
      result.classList.toggle("tc-stale", stale);
      status.textContent = design.get("notice")
        || (model.get("planning") ? (first ? "Making the plan…" : "Updating the plan…")
          : stale ? "The plan shown is for the settings before the error." : "");
    }

    model.on("change:fields", build);
    model.on("change:settings", update);
    model.on("change:setting_errors", update);
    model.on("change:launch_errors", update);
    for (const name of ["folder", "exporting", "launch_status"]) model.on(`change:${name}`, drawLaunch);
    model.on("change:plan", drawPlan);
    for (const name of ["current", "planning"]) model.on(`change:${name}`, drawStatus);
    design.on("change:notice", drawStatus);
    build();
    drawPlan();
  },
};
