// ImagePreview view: one image through the image processor, original → resized → normalized and each
// channel, as PNG bytes from Python (blob URLs here), with the tensor's shape and statistics.
// Buttons send {action: "sample"}; an upload sends the file's bytes as a message buffer.

import { h, alertsFor, blobUrls, sendPickedFile } from "../lib/dom.js";
import { num } from "../lib/format.js";

export default {
  render({ model, el }) {
    const uid = `tc${Math.random().toString(36).slice(2, 8)}`;
    const blobs = blobUrls();
    const png = (bytes) => blobs.url(bytes, "image/png");

    const file = h("input", { id: `${uid}-file`, type: "file", accept: "image/*", hidden: true,
      "aria-label": "image file" });
    const upload = h("button", { type: "button" }, "Upload");
    const sample = h("button", { type: "button" }, "Use sample photo");
    const source = h("span", { class: "tc-hint", "aria-label": "image source" });
    const alerts = h("div");
    const stages = h("div", { class: "tc-stages" });
    const facts = h("div", { class: "tc-facts" });
    const channels = h("div", { class: "tc-stages" });
    el.replaceChildren(h("div", { class: "tc-view tc-preview" },
      h("h3", {}, model.get("title")),
      h("div", { class: "tc-row" }, sample, upload, file, source),
      alerts, stages, facts, channels));

    upload.addEventListener("click", () => file.click());
    sample.addEventListener("click", () => model.send({ action: "sample" }));
    sendPickedFile(file, model, () => "image", (picked) => alerts.prepend(h("div", { class: "tc-error", role: "alert" },
      `${picked.name} is ${(picked.size / 2 ** 20).toFixed(0)} MB, too large to upload; ` +
      "load it by path from Python: preview.load_image(path)")));

    function figure(bytes, alt, caption) {
      return h("figure", { class: "tc-figure" }, h("img", { src: png(bytes), alt, title: caption }),
        h("figcaption", {}, caption));
    }

    function update() {
      const p = model.get("preview");
      const error = model.get("preview_error");
      source.textContent = model.get("source");
      alerts.replaceChildren(...alertsFor(error, p.warnings));
      const freeOld = blobs.redraw();
      if (!p.original) {
        stages.replaceChildren();
        facts.replaceChildren();
        channels.replaceChildren();
      } else {
        const [w, hgt] = p.original_size;
        const range = p.range;
        const span = Math.max(Math.abs(range.min), Math.abs(range.max));
        stages.replaceChildren(
          figure(p.original, "original", `original ${w}×${hgt}`),
          ...(p.processed ? [h("span", { class: "tc-arrow" }, "→"),
            figure(p.processed, "resized", `resized ${p.processed_size[0]}×${p.processed_size[1]} (as pixels)`),
            h("span", { class: "tc-arrow" }, "→"),
            figure(p.normalized, "normalized", `normalized: grey is 0, ±${span.toFixed(2)}`)] : []));
        facts.replaceChildren(
          h("div", {}, h("b", {}, `${p.class}`), ` → ${p.key} `,
            h("span", { "aria-label": "tensor shape" }, `[${p.shape.join(", ")}]`), ` ${p.dtype}, range `,
            h("span", { "aria-label": "value range" }, `${num(range.min)} … ${num(range.max)}`),
            `, mean ${num(range.mean)}, std ${num(range.std)}`),
          ...(p.channels ? [h("table", { class: "tc-table", "aria-label": "channel statistics" },
            h("thead", {}, h("tr", {}, ...["channel", "mean", "std", "min", "max"].map((t) => h("th", {}, t)))),
            h("tbody", {}, ...p.channels.map((c, i) => h("tr", {}, h("td", {}, `${i} (${c.name})`),
              ...[c.mean, c.std, c.min, c.max].map((x) => h("td", {}, num(x)))))))] : []));
        channels.replaceChildren(...(p.channels || []).map((c, i) =>
          figure(c.png, `channel ${i}`, `channel ${i} (${c.name}) over ${num(range.min)} … ${num(range.max)}`)));
      }
      // The old images are gone from the page now; free them.
      freeOld();
    }

    model.on("change:preview", update);
    model.on("change:preview_error", update);
    model.on("change:source", update);
    update();
    return () => blobs.free();
  },
};
