// "Running… 12 s" while a design's summary and previews are being recomputed (DesignState.pending): long
// work (a 70B summary, a tokenizer trained on a large file) shows that it is under way, not frozen.

import { h } from "./dom.js";

/** A status line for the design's pending work, with the seconds it has run; `free()` stops its timer. */
export function running(design) {
  const el = h("div", { class: "tc-running", role: "status", "aria-label": "running" });
  let since = null;
  let timer = null;
  const draw = () => {
    const seconds = Math.floor((performance.now() - since) / 1000);
    el.textContent = seconds ? `Running… ${seconds} s` : "Running…";
  };
  const update = () => {
    const pending = design.get("pending");
    el.hidden = !pending;
    if (pending && since === null) {
      since = performance.now();
      draw();
      timer = setInterval(draw, 1000);
    } else if (!pending && since !== null) {
      clearInterval(timer);
      since = timer = null;
      el.textContent = "";
    }
  };
  design.on("change:pending", update);
  update();
  return { el, free: () => { clearInterval(timer); design.off("change:pending", update); } };
}
