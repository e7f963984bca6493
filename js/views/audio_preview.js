// AudioPreview view: one clip through the feature extractor. Waveforms arrive as float32 envelopes
// ([min0, max0, min1, max1, …] bytes) and are drawn as SVG; a log-mel spectrogram arrives as PNG
// bytes; the clip itself as WAV bytes for the player. A batch of two clips shows padding and mask.

import { h, alertsFor, blobUrls, sendPickedFile } from "../lib/dom.js";
import { received, spectrogram, withTime } from "../lib/axes.js";
import { num } from "../lib/format.js";
import { floats, peak, waveform } from "../lib/waveform.js";

/** A waveform with its scale said under it. */
function wave(values, scale, label, shade = null) {
  return h("div", {}, waveform(values, { scale, label, shade }),
    h("div", { class: "tc-hint" }, `scale ±${scale.toFixed(2)}${scale > 1 ? " (dashed: ±1)" : ""}`));
}

export default {
  render({ model, el }) {
    const uid = `tc${Math.random().toString(36).slice(2, 8)}`;
    const blobs = blobUrls();
    // One player for the view, given a new clip only when the clip changes: an option edit redraws the
    // features but leaves playback alone.
    const player = h("audio", { controls: true, "aria-label": "input audio" });
    const clipUrls = blobUrls();
    let playerClip = "";
    function play(input, rate) {
      const clip = [model.get("source"), input.samples, rate, input.mean, input.std].join("|");
      if (clip === playerClip) return;
      clipUrls.redraw()();
      player.src = clipUrls.url(input.wav, "audio/wav");
      playerClip = clip;
    }

    // A clip of the person's selects the hidden "" option, so choosing a sample again is a change.
    const sample = h("select", { id: `${uid}-sample` }, h("option", { value: "", hidden: true }, "your clip"),
      h("option", { value: "speech" }, "speech"), h("option", { value: "tone" }, "tone"));
    const file = h("input", { type: "file", accept: ".wav,audio/wav,audio/x-wav", hidden: true, "aria-label": "WAV file" });
    const upload = h("button", { type: "button" }, "Upload");
    const resample = h("input", { id: `${uid}-resample`, type: "checkbox",
      title: "Resample a clip at another rate to the feature extractor's sampling_rate (scipy resample_poly)" });
    const source = h("div", { class: "tc-hint", "aria-label": "audio source" });
    const alerts = h("div");
    const body = h("div");
    el.replaceChildren(h("div", { class: "tc-view tc-preview" },
      h("h3", {}, model.get("title")),
      h("div", { class: "tc-row" }, h("label", { for: sample.id }, "sample"), sample, upload, file,
        resample, h("label", { for: resample.id }, "resample")),
      source, alerts, body));

    sample.addEventListener("change", () => model.send({ action: "sample", sample: sample.value }));
    upload.addEventListener("click", () => file.click());
    sendPickedFile(file, model, () => "audio", (picked) => alerts.prepend(h("div", { class: "tc-error", role: "alert" },
      `${picked.name} is ${(picked.size / 2 ** 20).toFixed(0)} MB, too large to upload; ` +
      "load it by path from Python: preview.load_audio(path)")));
    resample.addEventListener("change", () => {
      model.set("resample", resample.checked);
      model.save_changes();
    });

    function features(f, scale) {
      if (f.kind === "waveform") return withTime(wave(floats(f.envelope), scale, "features"), f.seconds);
      if (f.kind === "spectrogram") return spectrogram(f, (bytes, type) => blobs.url(bytes, type));
      return h("div", { class: "tc-hint" }, `${f.key}: shape [${f.shape.join(", ")}]`);
    }

    function batchRow(row, i, batch, scale) {
      const parts = [h("div", {}, `clip ${i + 1}: ${row.seconds.toFixed(2)} s, ${batch.key} [${row.shape.join(", ")}]`)];
      const ones = row.mask_ones;
      const length = row.mask_length;
      const left = batch.padding_side === "left";
      if (row.envelope) {
        const padded = length && ones < length ? (left ? [0, 1 - ones / length] : [ones / length, 1]) : null;
        parts.push(wave(floats(row.envelope), scale, `batch row ${i + 1}`, padded));
      }
      if (length !== undefined) {
        const kept = h("div", { style: `flex: ${ones} 0 0` });
        const pad = h("div", { style: `flex: ${length - ones} 0 0` });
        parts.push(h("div", { class: "tc-mask", role: "img", "aria-label": `attention mask row ${i + 1}`,
          title: `${ones} ones, ${length - ones} zeros`, style: left ? "flex-direction: row-reverse" : "" }, kept, pad),
        h("div", { class: "tc-hint" }, `attention mask: ${ones.toLocaleString()} of ${length.toLocaleString()} are 1` +
          (batch.attention_mask_sent ? "" : " (drawn from the clip lengths: this extractor does not return a mask)")));
      }
      return h("div", {}, ...parts);
    }

    function update() {
      const p = model.get("preview");
      const error = model.get("preview_error");
      resample.checked = model.get("resample");
      source.textContent = model.get("source");
      alerts.replaceChildren(...alertsFor(error, p.warnings));
      const freeOld = blobs.redraw();
      if (!p.input) {
        body.replaceChildren();
      } else {
        const input = p.input;
        const f = p.features;
        const inputValues = floats(input.envelope);
        const featureScale = Math.max(1, f.kind === "waveform" ? peak(floats(f.envelope)) : 1);
        const batch = p.batch;
        play(input, p.sampling_rate);
        body.replaceChildren(
          h("h4", {}, "Input audio"),
          player,
          withTime(wave(inputValues, Math.max(1, peak(inputValues)), "input waveform"), input.seconds),
          h("div", { class: "tc-hint" }, `${input.seconds.toFixed(2)} s, ${input.samples.toLocaleString()} samples at ` +
            `${p.sampling_rate} Hz; mean ${num(input.mean)}, std ${num(input.std)}, range ${num(input.min)} … ${num(input.max)}`),
          h("h4", {}, `${received(f)}, from ${p.class}`),
          features(f, featureScale),
          h("div", { class: "tc-hint", "aria-label": "feature statistics" },
            `${f.key} [${f.shape.join(", ")}]: mean ${num(f.mean)}, std ${num(f.std)}, range ${num(f.min)} … ${num(f.max)}`),
          h("h4", {}, `Batch of two clips, padded (${batch.padding}, ${batch.padding_side} side, value ${batch.padding_value})`),
          ...batch.rows.map((row, i) => batchRow(row, i, batch, featureScale)),
          h("div", { class: "tc-hint" }, `The model gets: ${Object.entries(batch.outputs)
            .map(([k, shape]) => `${k} [${shape.join(", ")}]`).join(", ")}`));
      }
      freeOld();
    }

    model.on("change:preview", update);
    model.on("change:preview_error", update);
    model.on("change:source", update);
    model.on("change:resample", update);
    const showSample = () => { sample.value = model.get("sample"); };
    model.on("change:sample", showSample);
    showSample();
    update();
    return () => {
      blobs.free();
      clipUrls.free();
    };
  },
};
