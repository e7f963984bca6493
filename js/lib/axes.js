// Axes for the audio previews: a time axis under a waveform or a spectrogram, and the log-mel
// spectrogram as a figure with its mel-bin and time axes, its colour bar, and where the clip ends and
// padding begins (Whisper pads every clip to 30 s). The engine sends the numbers; this only draws them.

import { h } from "./dom.js";

/** Round tick values from 0 to `span`, at most `most` steps (1, 2, 5 or 10 times a power of ten apart). */
export function ticks(span, most = 8) {
  if (!(span > 0)) return [0];
  const power = 10 ** Math.floor(Math.log10(span / most));
  const step = [1, 2, 5, 10].map((s) => s * power).find((s) => span / s <= most);
  const out = [];
  for (let t = 0; t <= span * (1 + 1e-9); t += step) out.push(Number(t.toPrecision(6)));
  return out;
}

const seconds = (t) => `${Number(t.toFixed(2))}`;

/** Tick labels along the width: `span` seconds from 0, named "time (s)". */
export function timeAxis(span) {
  return h("div", { class: "tc-axis", "aria-label": "time axis" },
    ...ticks(span).map((t) => h("span", { class: "tc-tick", style: `left: ${(100 * t) / span}%` }, seconds(t))),
    h("span", { class: "tc-axis-name" }, "time (s)"));
}

const value = (x) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));

/** A spectrogram (f: the engine's features of kind "spectrogram") as a figure: mel bins up, time to the
 * right, the colour bar with the values its ends stand for, and the padded stretch marked. */
export function spectrogram(f, url) {
  const { low, high } = f.colours;
  const plot = h("div", { class: "tc-spectro-plot" },
    h("img", { class: "tc-spectrogram", src: url(f.png, "image/png"), alt: "features",
      title: `log-mel spectrogram: ${f.bins} mel bins × ${f.frames} frames` }));
  const padded = f.seconds && f.audio_seconds < f.seconds * 0.995;
  if (padded) {
    const at = (100 * f.audio_seconds) / f.seconds;
    plot.append(h("div", { class: "tc-spectro-padding", style: `left: ${at}%` },
      h("span", { class: "tc-spectro-mark" },
        `audio ends at ${f.audio_seconds.toFixed(2)} s · padding to ${seconds(f.seconds)} s →`)));
  }
  const bar = h("div", { class: "tc-colour-bar", role: "img",
    "aria-label": `colour scale: ${f.key} (log-mel) from ${value(low)} (dark) to ${value(high)} (bright)` },
  h("img", { src: url(f.colours.bar, "image/png"), alt: "" }),
  h("div", { class: "tc-colour-ticks" }, h("span", {}, value(high)), h("span", {}, value((low + high) / 2)),
    h("span", {}, value(low))));
  const melAxis = h("div", { class: "tc-mel-axis", "aria-label": "mel bin axis" },
    h("span", {}, String(f.bins - 1)), h("span", { class: "tc-axis-name" }, "mel bin"), h("span", {}, "0"));
  return h("figure", { class: "tc-spectro" },
    h("div", { class: "tc-spectro-grid" }, melAxis, plot, bar,
      h("span"), f.seconds ? timeAxis(f.seconds) : h("div", { class: "tc-hint" }, `${f.frames} frames`),
      h("span", { class: "tc-axis-name" }, "log-mel")),
    h("figcaption", { class: "tc-hint" }, `${f.key}: ${f.bins} mel bins × ${f.frames.toLocaleString()} frames` +
      (f.seconds ? ` (${seconds(f.seconds)} s)` : "") +
      (padded ? `; the clip fills the first ${f.audio_seconds.toFixed(2)} s, the rest is padding` : "")));
}

/** `plot` (a waveform's svg, or an element holding one) with a time axis of `span` seconds right under
 * its svg; no axis when the span is unknown. */
export function withTime(plot, span) {
  if (!span) return plot;
  if (plot instanceof SVGElement) return h("div", {}, plot, timeAxis(span));
  plot.querySelector("svg").after(timeAxis(span));
  return plot;
}

/** What the model receives from a feature extractor, in words: its input and whether it is normalised. */
export function received(f) {
  const how = f.normalized === true ? ", normalised to mean 0 and std 1" : f.normalized === false ? ", not normalised" : "";
  return `What the model receives (${f.key}${how})`;
}
