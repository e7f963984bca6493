// ProcessorBuilder view: the processor class, the parts it combines (those the design lacks can be given
// here), both halves previewed on one input, what the processor returns, the save → AutoProcessor round
// trip, and Save. Sends {action: "build", processor, parts} and {action: "save", folder}.

import { h, alertsFor, blobUrls, designOf, enterCommits } from "../lib/dom.js";
import { received, spectrogram, withTime } from "../lib/axes.js";
import { num } from "../lib/format.js";
import { floats, waveform } from "../lib/waveform.js";

export default {
  async render({ model, el, host }) {
    const design = await designOf(model, host);
    const uid = `tc${Math.random().toString(36).slice(2, 8)}`;
    const id = (name) => `${uid}-${name}`;
    const blobs = blobUrls();
    const png = (bytes) => blobs.url(bytes, "image/png");

    const processor = h("input", { id: id("processor"), type: "text", list: id("processors"), spellcheck: false });
    const processors = h("datalist", { id: id("processors") });
    const parts = h("div");
    const build = h("button", { type: "button" }, "Build processor");
    const text = h("input", { id: id("text"), type: "text", spellcheck: false });
    const folder = h("input", { id: id("folder"), type: "text", spellcheck: false });
    const save = h("button", { type: "button" }, "Save");
    const status = h("div", { class: "tc-status", role: "status", "aria-label": "processor status" });
    const alerts = h("div");
    const body = h("div");
    el.replaceChildren(h("div", { class: "tc-view tc-preview" },
      h("h3", {}, model.get("title")),
      h("div", { class: "tc-row" }, h("label", { for: processor.id }, "processor"), processor, processors),
      parts,
      h("div", { class: "tc-row" }, h("label", { for: text.id }, "text"), text, build),
      alerts, body,
      h("div", { class: "tc-row" }, h("label", { for: folder.id }, "folder"), folder, save),
      status));

    let inputs = {}; // attribute → {read()} for the parts the design lacks
    function drawParts() {
      inputs = {};
      parts.replaceChildren(...model.get("parts").map((p) => {
        if (p.has) {
          return h("div", { class: "tc-row" }, h("b", {}, p.attribute), h("span", {}, p.has),
            h("span", { class: "tc-hint" }, "(in the design)"));
        }
        if (p.attribute === "tokenizer") {
          const vocab = h("input", { id: id("vocab_file"), type: "text", spellcheck: false, placeholder: "vocab.json" });
          const pretrained = h("input", { id: id("pretrained"), type: "text", spellcheck: false, placeholder: "or a folder / hub id" });
          inputs.tokenizer = () => (vocab.value.trim() ? { vocab_file: vocab.value.trim() }
            : pretrained.value.trim() ? { pretrained: pretrained.value.trim() } : null);
          return h("div", { class: "tc-row" }, h("b", {}, "tokenizer"),
            h("label", { for: vocab.id }, "vocab_file"), vocab, h("label", { for: pretrained.id }, "pretrained"), pretrained);
        }
        const cls = h("input", { id: id(p.attribute), type: "text", spellcheck: false, value: p.default,
          placeholder: "a class name" });
        inputs[p.attribute] = () => (cls.value.trim() ? { class: cls.value.trim() } : null);
        return h("div", { class: "tc-row" }, h("label", { for: cls.id }, p.attribute), cls);
      }));
    }

    build.addEventListener("click", () => {
      const given = {};
      for (const [attribute, read] of Object.entries(inputs)) {
        const section = read();
        if (section) given[attribute] = section;
      }
      model.send({ action: "build", processor: processor.value.trim(), parts: given });
    });
    enterCommits(text);
    enterCommits(processor);
    text.addEventListener("change", () => {
      model.set("text", text.value);
      model.save_changes();
    });
    processor.addEventListener("change", () => {
      model.set("chosen", processor.value.trim());
      model.save_changes();
    });
    save.addEventListener("click", () => {
      model.set("folder", folder.value.trim());
      model.save_changes();
      status.textContent = "Saving…";
      model.send({ action: "save", folder: folder.value.trim() });
    });

    function half(name, p) {
      if (name === "tokenizer") {
        return h("div", {}, h("h4", {}, `tokenizer: ${p.class}`),
          h("div", { class: "tc-row" }, h("span", { class: "tc-count", "aria-label": "token count" }, String(p.count)), "tokens"),
          h("div", { class: "tc-tokens", "aria-label": "tokens" }, ...p.tokens.slice(0, 200).map((t, i) =>
            h("span", { class: `tc-token${t.special ? " tc-special" : ""}`, "data-hue": String(i % 6),
              "data-token-id": String(t.id), title: `id ${t.id}` }, t.token))));
      }
      if (name === "feature_extractor") {
        const f = p.features;
        const figure = (caption, plot) => h("figure", { class: "tc-figure-wide" }, h("figcaption", {}, caption), plot);
        return h("div", {}, h("h4", {}, `feature_extractor: ${p.class}`),
          figure(`Input audio: ${p.input.seconds.toFixed(2)} s at ${p.sampling_rate.toLocaleString()} Hz`,
            withTime(waveform(floats(p.input.envelope), { label: "input waveform" }), p.input.seconds)),
          f.kind === "waveform" ? figure(received(f), withTime(waveform(floats(f.envelope), { label: "features" }), f.seconds))
            : f.png ? figure(received(f), spectrogram(f, (bytes, type) => blobs.url(bytes, type))) : null,
          h("div", { class: "tc-hint" }, `${f.key} [${f.shape.join(", ")}]: mean ${num(f.mean)}, std ${num(f.std)}`));
      }
      return h("div", {}, h("h4", {}, `image_processor: ${p.class}`),
        h("div", { class: "tc-stages" },
          h("img", { src: png(p.original), alt: "original" }),
          ...(p.processed ? [h("img", { src: png(p.processed), alt: "resized" }),
            h("img", { src: png(p.normalized), alt: "normalized" })] : [])),
        h("div", { class: "tc-hint" }, `${p.key} [${p.shape.join(", ")}]: range ${num(p.range.min)} … ${num(p.range.max)}`));
    }

    function update() {
      const p = model.get("preview");
      const error = model.get("preview_error");
      if (document.activeElement !== processor) {
        processor.value = model.get("chosen") || design.get("draft").processor || model.get("default_processor");
      }
      if (document.activeElement !== text) text.value = model.get("text");
      if (document.activeElement !== folder) folder.value = model.get("folder");
      status.textContent = model.get("status");
      status.classList.toggle("tc-failed", model.get("status").startsWith("Failed"));
      // Only those this view lists: in a Composer the parts' errors are listed by their own panels.
      const errors = Object.entries(model.get("view_errors"));
      alerts.replaceChildren(...alertsFor(error),
        ...errors.map(([path, message]) => h("div", { class: "tc-error", role: "alert" }, path ? `${path}: ${message}` : message)));
      const freeOld = blobs.redraw();
      if (!p.class) {
        body.replaceChildren(h("div", { class: "tc-hint" },
          "Give the parts the processor needs, then press Build processor."));
      } else {
        const trip = p.round_trip;
        body.replaceChildren(
          h("div", {}, h("b", {}, p.class), ` combines ${Object.entries(p.parts).map(([k, v]) => `${k}: ${v}`).join(", ")}`),
          ...Object.entries(p.halves).map(([name, half_]) => {
            const el = half(name, half_); // its warnings below it: a CTC vocabulary that misses lowercase, …
            el.append(...alertsFor("", half_.warnings));
            return el;
          }),
          h("h4", {}, "What the processor returns"),
          h("table", { class: "tc-table", "aria-label": "processor outputs" },
            h("tbody", {}, ...Object.entries(p.outputs).map(([k, v]) =>
              h("tr", {}, h("th", {}, k), h("td", {}, `[${v.shape.join(", ")}]`), h("td", {}, v.dtype))))),
          h("div", { class: trip.identical ? "tc-ok" : "tc-error", role: trip.identical ? "status" : "alert",
            "aria-label": "round trip" },
          trip.identical ? `save_pretrained → AutoProcessor gives back ${trip.class} with identical outputs`
            : `after save_pretrained → AutoProcessor the outputs differ in ${trip.differ.join(", ")}`));
      }
      freeOld();
    }

    model.on("change:processor_classes", () =>
      processors.replaceChildren(...model.get("processor_classes").map((c) => h("option", { value: c }))));
    model.on("change:parts", drawParts);
    for (const name of ["preview", "preview_error", "status", "view_errors", "text", "folder", "chosen"]) {
      model.on(`change:${name}`, update);
    }
    design.on("change:draft", update);
    processors.replaceChildren(...model.get("processor_classes").map((c) => h("option", { value: c })));
    drawParts();
    update();
    return () => blobs.free();
  },
};
