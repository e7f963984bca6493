// DOM helpers every view imports; esbuild bundles them into each view's module (widgets/static).

/** An element with its properties (or attributes, for names with a dash) and children. */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === "class") el.className = value;
    else if (key in el && !key.includes("-") && key !== "list") el[key] = value; // list: read-only property
    else if (value !== false) el.setAttribute(key, value === true ? "" : value);
  }
  el.append(...children.filter((c) => c !== null && c !== undefined));
  return el;
}

/** The design's one shared model (draft, pending, notice), referenced by every view of that design:
 * an edit sends the draft once, not once per view (anywidget's host.getModel). */
export function designOf(model, host) {
  return host.getModel(model.get("design"));
}

/** Inside JupyterLab's output area Enter fires no "change" (the notebook keeps the key): commit on it too.
 * A textarea given this commits on Enter instead of taking a new line (JSON text needs none). */
export function enterCommits(input) {
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.shiftKey) return;
    if (input.tagName === "TEXTAREA") event.preventDefault();
    input.dispatchEvent(new Event("change"));
  });
}

/** The file picked in `input` goes to Python as a message buffer, {upload: kind(), name}; one over the
 * widget's max_upload is not sent, and `tooLarge(file)` says so on the page. */
export function sendPickedFile(input, model, kind, tooLarge) {
  input.addEventListener("change", async () => {
    const picked = input.files[0];
    input.value = "";
    if (!picked) return;
    if (picked.size > model.get("max_upload")) return tooLarge(picked);
    model.send({ upload: kind(), name: picked.name }, undefined, [await picked.arrayBuffer()]);
  });
}

/** One alert per message: the error first, then each warning. */
export function alertsFor(error, warnings = []) {
  return [...(error ? [h("div", { class: "tc-error", role: "alert" }, error)] : []),
    ...warnings.map((w) => h("div", { class: "tc-warning", role: "alert" }, w))];
}

/** Object URLs for the bytes a view draws (PNGs, WAVs): `url(bytes, type)` while drawing; `redraw()`
 * starts a drawing and returns what frees the previous one's URLs, to call once the new one is on the
 * page; `free()` when the view goes. */
export function blobUrls() {
  let current = [];
  return {
    url(bytes, type) {
      const url = URL.createObjectURL(new Blob([bytes], { type }));
      current.push(url);
      return url;
    },
    redraw() {
      const old = current;
      current = [];
      return () => old.forEach((url) => URL.revokeObjectURL(url));
    },
    free() {
      this.redraw()();
    },
  };
}
