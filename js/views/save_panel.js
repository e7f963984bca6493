// SavePanel view: the checkpoint folder, overwrite, Save and Verify, a progress bar that says the bytes
// done of the total and the time left, Cancel while a save runs, and the result. The work runs in Python
// (a background thread); this view sends {action} and draws the traits.

import { h } from "../lib/dom.js";

export default {
  render({ model, el }) {
    const uid = `tc${Math.random().toString(36).slice(2, 8)}`;
    const folder = h("input", { id: `${uid}-folder`, type: "text", spellcheck: false });
    const overwrite = h("input", { id: `${uid}-overwrite`, type: "checkbox" });
    const save = h("button", { type: "button" }, "Save");
    const verify = h("button", { type: "button" }, "Verify");
    const cancel = h("button", { type: "button", hidden: true }, "Cancel");
    const progress = h("progress", { max: 1, value: 0, "aria-label": "save progress" });
    const status = h("div", { class: "tc-status", role: "status", "aria-label": "save status" });
    const files = h("div", { class: "tc-hint" });
    el.replaceChildren(h("div", { class: "tc-view tc-save" },
      h("h3", {}, "Save the checkpoint"),
      h("div", { class: "tc-row" }, h("label", { for: folder.id }, "folder"), folder,
        overwrite, h("label", { for: overwrite.id }, "overwrite")),
      h("div", { class: "tc-row" }, save, verify, cancel),
      progress, status, files));

    function setFolder() {
      model.set("folder", folder.value.trim());
      model.save_changes();
    }

    folder.addEventListener("change", setFolder);
    folder.addEventListener("input", setFolder);
    overwrite.addEventListener("change", () => {
      model.set("overwrite", overwrite.checked);
      model.save_changes();
    });
    cancel.addEventListener("click", () => model.send({ action: "cancel" }));
    for (const [button, action] of [[save, "save"], [verify, "verify"]]) {
      button.addEventListener("click", () => {
        setFolder();
        model.send({ action });
      });
    }

    function update() {
      if (document.activeElement !== folder) folder.value = model.get("folder");
      overwrite.checked = model.get("overwrite");
      const busy = model.get("busy");
      save.disabled = busy;
      verify.disabled = busy;
      cancel.hidden = !model.get("cancellable");
      cancel.disabled = model.get("cancelling");
      cancel.textContent = model.get("cancelling") ? "Cancelling…" : "Cancel";
      // Busy with nothing measured yet (a verify): an indeterminate bar.
      if (busy && !model.get("progress")) progress.removeAttribute("value");
      else progress.value = model.get("progress");
      const text = model.get("status");
      // While a save runs the status is its progress ("Writing the weights: 1.2 of 3.1 GiB · 61% · 8 s left").
      if (busy && text) progress.setAttribute("aria-valuetext", text);
      else progress.removeAttribute("aria-valuetext");
      status.textContent = text;
      status.classList.toggle("tc-failed", text.startsWith("Failed"));
      const report = model.get("report");
      files.textContent = report.files ? `Files: ${report.files.join(", ")}` : "";
    }

    for (const name of ["folder", "overwrite", "busy", "progress", "status", "report", "cancellable", "cancelling"]) {
      model.on(`change:${name}`, update);
    }
    update();
  },
};
