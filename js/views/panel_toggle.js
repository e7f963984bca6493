// PanelToggle view: a panel's heading as a button that opens and closes it. While its part of the
// design has an error, the heading says so and where, open or closed; a note beside the title says, e.g.,
// that the design's model does not use this part (its accessible name includes both).

import { h } from "../lib/dom.js";

export default {
  render({ model, el }) {
    const caret = h("span", { class: "tc-caret", "aria-hidden": "true" });
    const title = h("span", { class: "tc-panel-title" });
    const note = h("span", { class: "tc-panel-note" });
    const badge = h("span", { class: "tc-panel-error" });
    const button = h("button", { type: "button", class: "tc-panel-toggle" }, caret, title, note, badge);
    el.replaceChildren(h("div", { class: "tc-view tc-panel" }, button));

    function update() {
      const open = model.get("expanded");
      const problems = model.get("problems");
      button.setAttribute("aria-expanded", open ? "true" : "false");
      caret.textContent = open ? "▾" : "▸";
      title.textContent = model.get("title");
      note.hidden = !model.get("note");
      note.textContent = model.get("note");
      badge.hidden = !problems.length;
      badge.textContent = problems.length
        ? `⚠ ${problems.length === 1 ? "an error" : `${problems.length} errors`} at ${problems.join(", ")}` : "";
    }

    button.addEventListener("click", () => {
      model.set("expanded", !model.get("expanded"));
      model.save_changes();
    });
    for (const name of ["expanded", "problems", "title", "note"]) model.on(`change:${name}`, update);
    update();
  },
};
