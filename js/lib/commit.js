// The one debounce of the page. A text control commits its value on Enter and on change (blur) at once,
// and after a pause in typing; a steady stream of keystrokes still commits every MAX_WAIT_MS. The kernel
// adds no timer of its own after this one: it folds what arrives while it is busy (widgets/_design.py).

import { enterCommits } from "./dom.js";

export const DEBOUNCE_MS = 300; // a pause in typing this long commits
export const MAX_WAIT_MS = 1000; // typing without a pause still commits this often

/** `fn` once, DEBOUNCE_MS after the last call and at most MAX_WAIT_MS after the first; `.now()` runs a
 * waiting call at once, `.cancel()` drops it. */
export function debounce(fn) {
  let timer = null;
  let first = 0;
  const run = () => {
    clearTimeout(timer);
    timer = null;
    fn();
  };
  const call = () => {
    const now = performance.now();
    if (timer === null) first = now;
    clearTimeout(timer);
    timer = setTimeout(run, Math.max(0, Math.min(DEBOUNCE_MS, first + MAX_WAIT_MS - now)));
  };
  call.now = run;
  call.cancel = () => {
    clearTimeout(timer);
    timer = null;
  };
  return call;
}

/** Commit `input` with `commit()` on change, on Enter (`enter`: false for a textarea whose Enter is a
 * new line) and after a pause in typing. Returns the debounced call (`.cancel()` drops a pending one). */
export function commitsOn(input, commit, { enter = true } = {}) {
  const later = debounce(commit);
  input.addEventListener("input", later);
  input.addEventListener("change", later.now);
  if (enter) enterCommits(input);
  return later;
}
