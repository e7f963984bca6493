// Waveforms as the audio preview and the processor builder draw them: float32 envelopes from Python
// ([min0, max0, min1, max1, …] bytes), each drawn as a filled SVG band.

const SVG = "http://www.w3.org/2000/svg";

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  el.append(...children);
  return el;
}

/** The floats of a message buffer (a DataView), copied so that their alignment is right. */
export function floats(view) {
  return new Float32Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
}

export function peak(values) {
  let top = 0;
  for (const v of values) top = Math.max(top, Math.abs(v));
  return top;
}

/** An envelope as a filled band: along the maxima, back along the minima, to ±`scale` (by default
 * ±max(1, its peak): audio in [-1, 1] fills the height, louder features are drawn to their own larger
 * scale with dashed lines at ±1, so that the change of scale shows). `shade` greys a padded stretch
 * [from, to) of the width. */
export function waveform(values, { label, scale = Math.max(1, peak(values)), shade = null }) {
  const n = values.length / 2;
  const y = (v) => (-v / scale).toFixed(4);
  const top = [];
  const bottom = [];
  for (let i = 0; i < n; i++) {
    top.push(`${i},${y(values[2 * i + 1])}`);
    bottom.push(`${i},${y(values[2 * i])}`);
  }
  const svg = s("svg", { class: "tc-wave", role: "img", "aria-label": label, viewBox: `0 -1 ${Math.max(n - 1, 1)} 2`,
    preserveAspectRatio: "none" });
  if (shade) svg.append(s("rect", { class: "tc-padding", x: shade[0] * n, y: -1, width: (shade[1] - shade[0]) * n, height: 2 }));
  if (scale > 1) {
    for (const v of [1, -1]) svg.append(s("line", { class: "tc-unit", x1: 0, x2: n, y1: y(v), y2: y(v) }));
  }
  svg.append(s("path", { class: "tc-signal", d: `M${top.join("L")}L${bottom.reverse().join("L")}Z` }));
  svg.append(s("title", {}, `${label}: drawn to ±${scale.toFixed(2)}`));
  return svg;
}
