// TokenizerPreview view: make a tokenizer (vocab file, pretrained, or trained here), then type text and
// see its tokens as coloured spans over the text (placed by their offsets in Python), ids on hover,
// special and unknown tokens marked, the count, a padded batch and the two backends side by side.
// Python owns the design: this view sends {action: "load" | "train", …}, {edit}/{reset} of options,
// uploads as message buffers, and sets the `text`, `max_length` and `truncation` traits.

import { h, alertsFor, designOf, enterCommits, sendPickedFile } from "../lib/dom.js";
import { commitsOn } from "../lib/commit.js";
import { Field } from "../lib/field.js";
import { same } from "../lib/format.js";

const MODES = { train: "train on text", vocab_file: "vocab file", pretrained: "pretrained folder or hub id" };

export default {
  async render({ model, el, host }) {
    const design = await designOf(model, host);
    const uid = `tc${Math.random().toString(36).slice(2, 8)}`;
    const id = (name) => `${uid}-${name.replace(/\W/g, "_")}`;
    const labelled = (name, control, text = name) => [h("label", { for: control.id }, text), control];
    const send = (msg) => model.send(msg);

    // ----- making a tokenizer -------------------------------------------------------------------
    const mode = h("select", { id: id("source") },
      ...Object.entries(MODES).map(([value, text]) => h("option", { value }, text)));
    const cls = h("input", { id: id("class"), type: "text", list: id("classes"), spellcheck: false });
    const classes = h("datalist", { id: id("classes") });
    const vocabFile = h("input", { id: id("vocab_file"), type: "text", spellcheck: false, placeholder: "vocab.txt / vocab.json" });
    const mergesFile = h("input", { id: id("merges_file"), type: "text", spellcheck: false, placeholder: "(BPE only)" });
    const pretrained = h("input", { id: id("pretrained"), type: "text", spellcheck: false, placeholder: "./folder or user/model" });
    const vocabSize = h("input", { id: id("vocab_size"), type: "number", min: 1, value: 1000 });
    const minFrequency = h("input", { id: id("min_frequency"), type: "number", min: 0, value: 0 });
    const trainText = h("textarea", { id: id("training text"), rows: 4, spellcheck: false,
      placeholder: "Text to train on, one example a line" });
    const trainFiles = h("div", { class: "tc-hint" });
    let trainFileList = []; // what Train sends: the design's training files, or the one just uploaded
    const showTrainFiles = (files) => {
      trainFileList = files;
      trainFiles.textContent = files.length ? `and ${files.join(", ")}` : "";
    };
    const file = h("input", { type: "file", hidden: true, "aria-label": "tokenizer file" });
    let uploadKind = "train";
    const uploadTrain = h("button", { type: "button" }, "Upload");
    const uploadVocab = h("button", { type: "button" }, "Upload");
    const loadButton = h("button", { type: "button" }, "Load");
    const trainButton = h("button", { type: "button" }, "Train");
    const optionsBox = h("div", { class: "tc-options" });
    const status = h("div", { class: "tc-status", role: "status", "aria-label": "tokenizer status" });
    const sectionErrors = h("div");
    const panes = {
      vocab_file: h("div", {}, h("div", { class: "tc-row" }, ...labelled("vocab_file", vocabFile), uploadVocab),
        h("div", { class: "tc-row" }, ...labelled("merges_file", mergesFile))),
      pretrained: h("div", { class: "tc-row" }, ...labelled("pretrained", pretrained)),
      train: h("div", {}, h("div", { class: "tc-row" }, ...labelled("vocab_size", vocabSize),
        ...labelled("min_frequency", minFrequency)),
      ...labelled("training text", trainText), h("div", { class: "tc-row" }, uploadTrain, trainFiles)),
    };
    const make = h("details", { open: true }, h("summary", {}, "Make a tokenizer"),
      h("div", { class: "tc-row" }, ...labelled("source", mode), ...labelled("class", cls), classes),
      ...Object.values(panes), optionsBox, h("div", { class: "tc-row" }, loadButton, trainButton),
      sectionErrors, status);

    // ----- the preview --------------------------------------------------------------------------
    const title = h("h3", {}, model.get("title"));
    const text = h("textarea", { id: id("text"), rows: 3, spellcheck: false });
    const maxLength = h("input", { id: id("max_length"), type: "number", min: 1, placeholder: "none" });
    const truncation = h("input", { id: id("truncation"), type: "checkbox" });
    const alerts = h("div");
    const counts = h("div", { class: "tc-row" });
    const tokens = h("div", { class: "tc-tokens", "aria-label": "tokens" });
    const batch = h("div", { class: "tc-batch" });
    const compare = h("div", { class: "tc-compare" });
    el.replaceChildren(h("div", { class: "tc-view tc-preview" }, title, make,
      h("div", {}, ...labelled("text", text)),
      h("div", { class: "tc-row" }, ...labelled("max_length", maxLength), truncation,
        h("label", { for: truncation.id }, "truncation")),
      alerts, counts, tokens, batch, compare));

    // ----- options of the class: lowercasing, special tokens, padding side ------------------------
    const section = () => design.get("draft").tokenizer || null;
    const sourceOf = (sec) => (sec ? ["vocab_file", "pretrained", "train"].find((k) => k in sec) : null);
    function activeClass() {
      if (cls.value.trim()) return cls.value.trim();
      if (mode.value === "train") return model.get("train_class");
      return model.get("preview").class || model.get("default_class");
    }
    let options = {}; // option name → its Field
    // With a tokenizer of this kind in the design, an option applies at once; else with Load / Train.
    const applies = () => sourceOf(section()) === mode.value;
    function buildOptions() {
      const offered = model.get("class_options");
      options = Object.fromEntries((offered[activeClass()] || offered[""]).map((field) => {
        const path = `tokenizer.options.${field.name}`;
        const row = new Field(field, { id: id(field.name), path,
          commit: (value) => applies() && send(same(value, field.default) ? { reset: [path] } : { edit: { [path]: value } }),
          reset: () => (applies() ? send({ reset: [path] }) : row.update(field.default)) });
        return [field.name, row];
      }));
      optionsBox.replaceChildren(...Object.values(options).map((row) => row.el));
      showOptions();
    }
    function showOptions() {
      const sec = section();
      const set = applies() ? sec.options || {} : {};
      const errors = model.get("view_errors");
      for (const [name, row] of Object.entries(options)) {
        const value = name in set ? set[name] : row.field.default;
        row.update(value, { changed: name in set && !same(value, row.field.default),
          error: errors[`tokenizer.options.${name}`] });
      }
    }
    function chosenOptions() {
      return Object.fromEntries(Object.entries(options).map(([name, row]) => [name, row.read()])
        .filter(([name, value]) => !same(value, options[name].field.default)));
    }

    // ----- the form follows the design ----------------------------------------------------------
    let shownSection = undefined;
    function showMode() {
      for (const [name, pane] of Object.entries(panes)) pane.hidden = name !== mode.value;
      loadButton.hidden = mode.value === "train";
      trainButton.hidden = mode.value !== "train";
      const names = mode.value === "train" ? Object.keys(model.get("trainable")) : model.get("classes");
      classes.replaceChildren(...names.map((n) => h("option", { value: n },
        mode.value === "train" ? `${n}: ${model.get("trainable")[n]}` : n)));
      cls.placeholder = mode.value === "train" ? model.get("train_class") :
        mode.value === "pretrained" ? "(as saved)" : model.get("default_class") || "a tokenizer class";
      buildOptions();
    }
    function fillForm() {
      const sec = section();
      if (same(sec, shownSection)) return;
      shownSection = sec;
      if (!sec) return;
      // The field being typed in keeps what the person types; the others show the design.
      const put = (control, value) => { if (document.activeElement !== control) control.value = value; };
      put(mode, sourceOf(sec));
      put(cls, sec.class || "");
      put(vocabFile, sec.vocab_file || "");
      put(mergesFile, sec.merges_file || "");
      put(pretrained, sec.pretrained || "");
      if (sec.train) {
        put(trainText, (sec.train.text || []).join("\n"));
        put(vocabSize, sec.train.vocab_size ?? 1000);
        put(minFrequency, sec.train.min_frequency ?? 0);
        showTrainFiles(sec.train.files || []);
      }
      showMode();
    }
    function showErrors() {
      const errors = model.get("view_errors"); // only those this view lists (Python routes them)
      sectionErrors.replaceChildren(...Object.entries(errors)
        .filter(([path]) => !(path.startsWith("tokenizer.options.") && path.slice(18) in options)) // at the option
        .map(([path, message]) => h("div", { class: "tc-error", role: "alert" }, path ? `${path}: ${message}` : message)));
    }

    mode.addEventListener("change", showMode);
    cls.addEventListener("change", buildOptions);
    uploadTrain.addEventListener("click", () => { uploadKind = "train"; file.accept = ".txt,text/plain"; file.click(); });
    uploadVocab.addEventListener("click", () => { uploadKind = "vocab_file"; file.accept = ".txt,.json"; file.click(); });
    sendPickedFile(file, model, () => uploadKind, (picked) => {
      status.textContent = `${picked.name} is too large to upload; give its path instead.`;
    });
    loadButton.addEventListener("click", () => {
      const source = mode.value;
      const path = (source === "vocab_file" ? vocabFile : pretrained).value.trim();
      send({ action: "load", source, path, tokenizer_class: cls.value.trim() || null,
        merges_file: source === "vocab_file" ? mergesFile.value.trim() || null : null, options: chosenOptions() });
    });
    trainButton.addEventListener("click", () => {
      send({ action: "train", text: trainText.value, tokenizer_class: cls.value.trim() || null,
        vocab_size: Number(vocabSize.value) || 1000, min_frequency: Number(minFrequency.value) || 0,
        files: trainFileList, options: chosenOptions() });
    });
    model.on("change:uploaded", () => {
      const up = model.get("uploaded");
      if (up.vocab_file) vocabFile.value = up.vocab_file;
      if (up.train) showTrainFiles([up.train]);
    });

    // ----- typing -------------------------------------------------------------------------------
    commitsOn(text, () => {
      model.set("text", text.value);
      model.save_changes();
    }, { enter: false });
    enterCommits(maxLength);
    maxLength.addEventListener("change", () => {
      const n = parseInt(maxLength.value, 10);
      model.set("max_length", Number.isFinite(n) && n > 0 ? n : null);
      model.save_changes();
    });
    truncation.addEventListener("change", () => {
      model.set("truncation", truncation.checked);
      model.save_changes();
    });

    // ----- drawing the preview ------------------------------------------------------------------
    function tokenSpan(text, toks, p) {
      const first = p.tokens[toks[0]];
      const special = toks.some((i) => p.tokens[i].special);
      const unknown = toks.some((i) => p.tokens[i].unknown);
      const describe = toks.map((i) => `${p.tokens[i].id} ${JSON.stringify(p.tokens[i].token)}`).join(", ");
      return h("span", { class: `tc-token${special ? " tc-special" : ""}${unknown ? " tc-unknown" : ""}`,
        "data-hue": String(toks[0] % 6), "data-token-id": String(first.id),
        title: `id ${describe}${special ? " (special)" : ""}${unknown ? " (unknown)" : ""}` }, text);
    }

    function drawTokens(p) {
      const frag = document.createDocumentFragment();
      for (const seg of p.segments) {
        frag.append(seg.tokens.length ? tokenSpan(seg.text, seg.tokens, p) : h("span", { class: "tc-gap" }, seg.text));
      }
      tokens.replaceChildren(frag);
    }

    function drawBatch(b) {
      if (!b) return batch.replaceChildren();
      const width = Math.max(...b.rows.map((r) => r.input_ids.length));
      const head = h("tr", {}, h("th", {}, ""), ...Array.from({ length: width }, (_, i) => h("th", {}, String(i))));
      const rows = b.rows.flatMap((r, i) => [
        h("tr", {}, h("th", {}, `text ${i + 1}`), ...r.tokens.map((t, j) => h("td", {
          class: r.attention_mask[j] ? "" : "tc-pad", title: `id ${r.input_ids[j]}` }, t))),
        h("tr", {}, h("th", {}, "attention_mask"), ...r.attention_mask.map((m) => h("td", { class: `tc-mask-${m}` }, String(m)))),
      ]);
      batch.replaceChildren(
        h("h4", {}, `Batch of ${b.rows.length}: padding to the longest, ${b.padding_side} side` +
          (b.max_length ? `, truncation at max_length ${b.max_length}` : "")),
        ...(b.note ? [h("div", { class: "tc-warning", role: "alert" }, b.note)] : []),
        h("table", { class: "tc-table", "aria-label": "batch" }, h("thead", {}, head), h("tbody", {}, ...rows)));
    }

    function drawCompare(c) {
      if (!c || c.available === undefined) return compare.replaceChildren();
      if (!c.available) return compare.replaceChildren(h("h4", {}, "Backends"), h("div", { class: "tc-hint" }, c.reason));
      const differs = (side) => new Set(c.differences.flatMap((d) => {
        const [a, b] = d[side];
        return Array.from({ length: b - a }, (_, k) => a + k);
      }));
      const row = (side, run) => {
        const marked = differs(side);
        return h("div", { class: "tc-row", "aria-label": `${side === "fast" ? "tokenizers" : "pure Python"} tokens` },
          h("b", {}, `${run.class}`), h("span", { class: "tc-hint" }, `${run.shown} tokens, ${run.ms} ms`),
          h("div", { class: "tc-tokens" }, ...run.tokens.map((t, i) => h("span", {
            class: `tc-token${t.special ? " tc-special" : ""}${marked.has(i) ? " tc-differs" : ""}`,
            "data-hue": String(i % 6), "data-token-id": String(t.id), title: `id ${t.id}` }, t.token), " ")));
      };
      compare.replaceChildren(h("h4", {}, "Backends: tokenizers against pure Python"),
        ...(c.note ? [h("div", { class: "tc-hint" }, c.note)] : []),
        row("fast", c.fast), row("python", c.python),
        h("ul", {}, ...c.explanation.map((line) => h("li", {}, line))));
    }

    function update() {
      const p = model.get("preview");
      const error = model.get("preview_error");
      if (document.activeElement !== text && text.value !== model.get("text")) text.value = model.get("text");
      const ml = model.get("max_length");
      if (document.activeElement !== maxLength) maxLength.value = ml === null ? "" : String(ml);
      truncation.checked = model.get("truncation");
      status.textContent = model.get("status");
      title.textContent = model.get("title") + (p.class ? ` · ${p.class} (${p.backend}) · ${p.vocab_size.toLocaleString()} tokens` : "");
      alerts.replaceChildren(...alertsFor(error, p.warnings));
      if (!p.tokens) {
        counts.replaceChildren(...(error ? [] : [h("span", { class: "tc-hint" },
          "No tokenizer yet: load a vocabulary or a pretrained one, or train one above.")]));
        tokens.replaceChildren();
        batch.replaceChildren();
        return;
      }
      counts.replaceChildren(h("span", { class: "tc-count", "aria-label": "token count" }, String(p.count)),
        h("span", {}, p.count === 1 ? "token" : "tokens"),
        h("span", { class: "tc-hint" }, (p.count_untruncated > p.count
          ? `(${p.count_untruncated} before truncation; ${p.kept_chars} of ${p.text.length} characters kept)`
          : `from ${p.text.length} characters`) +
          (p.offsets === "aligned" ? " · placed by searching the text: this backend reports no offsets" : "")));
      drawTokens(p);
      drawBatch(p.batch);
    }

    model.on("change:preview", update);
    model.on("change:preview_error", update);
    model.on("change:status", update);
    model.on("change:text", update);
    model.on("change:max_length", update);
    model.on("change:truncation", update);
    model.on("change:comparison", () => drawCompare(model.get("comparison")));
    design.on("change:draft", () => { fillForm(); showOptions(); });
    model.on("change:view_errors", () => { showErrors(); showOptions(); });
    model.on("change:class_options", buildOptions);
    text.value = model.get("text");
    mode.value = sourceOf(section()) || "train";
    showMode();
    fillForm();
    showErrors();
    update();
    drawCompare(model.get("comparison"));
  },
};
