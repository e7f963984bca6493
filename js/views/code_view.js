// CodeView view: the design's Python, highlighted, with Copy, Insert as a new cell and Save as .py.
//
// "Insert as a new cell" dispatches `composer:insert-cell` on the button; the package's JupyterLab
// extension (JupyterLab 4, Notebook 7) inserts the cell and sets `detail.handled` synchronously.
// Anywhere else (VS Code, Colab, Voilà, no extension) the code goes to the clipboard instead.

import { h, designOf, enterCommits } from "../lib/dom.js";
import { running } from "../lib/running.js";

const INSERT_EVENT = "composer:insert-cell";
const INSERT_WAIT_MS = 300;

const KEYWORDS = new Set(("False None True and as assert async await break class continue def del elif else " +
  "except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield").split(" "));
const BUILTINS = new Set("print open len range dict list str int float bool tuple set".split(" "));
// One regex, one alternative per token kind, tried in order at each position.
const TOKEN = /(#[^\n]*)|((?:[rbuf]|rb|br)?(?:"""[\s\S]*?"""|'''[\s\S]*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'))|(\b\d[\d_]*(?:\.\d*)?(?:[eE][-+]?\d+)?\b)|([A-Za-z_]\w*)|([-+*/%=<>!&|^~@]+)/g;

/** Python source → [kind, text] pairs; kind is null for plain text. A tiny tokenizer: enough for
 * the engine's generated code (imports, calls, keyword arguments, literals, comments). */
export function tokenize(source) {
  const out = [];
  let last = 0;
  for (const m of source.matchAll(TOKEN)) {
    if (m.index > last) out.push([null, source.slice(last, m.index)]);
    const [text, comment, string, number, word, operator] = m;
    let kind = null;
    if (comment) kind = "comment";
    else if (string) kind = "string";
    else if (number) kind = "number";
    else if (operator) kind = "operator";
    else if (word) {
      const next = source.slice(m.index + text.length).match(/^\s*(.)/)?.[1];
      kind = KEYWORDS.has(word) ? "keyword" : BUILTINS.has(word) ? "builtin" : next === "(" ? "call" : null;
    }
    out.push([kind, text]);
    last = m.index + text.length;
  }
  if (last < source.length) out.push([null, source.slice(last)]);
  return out;
}

function highlight(source) {
  return tokenize(source).map(([kind, text]) => (kind ? h("span", { class: `tc-tok-${kind}` }, text) : text));
}

/** The code highlighted, each block of data (engine's codegen.data_blocks: 0-based first and last line)
 * folded behind a button that opens it in place: the page reads short, the code stays whole. */
function folded(source, folds) {
  const lines = source.split("\n");
  const out = [];
  let next = 0;
  for (const f of folds) {
    out.push(...highlight(lines.slice(next, f.first + 1).join("\n") + "\n"));
    const body = h("span", { hidden: true }, ...highlight(lines.slice(f.first + 1, f.last).join("\n") + "\n"));
    const what = `${f.items.toLocaleString()} lines of ${f.name}`;
    const toggle = h("button", { type: "button", class: "tc-fold", "aria-expanded": "false",
      "aria-label": `show the ${what}` }, `… ${what} …`);
    toggle.addEventListener("click", () => {
      const open = body.hidden;
      body.hidden = !open;
      toggle.setAttribute("aria-expanded", String(open));
      toggle.setAttribute("aria-label", `${open ? "hide" : "show"} the ${what}`);
    });
    out.push("    ", toggle, "\n", body);
    next = f.last;
  }
  out.push(...highlight(lines.slice(next).join("\n")));
  return out;
}

/** Copy text: the Clipboard API where the page may use it, else a hidden textarea + execCommand. */
async function copyText(text) {
  if (navigator.clipboard?.writeText) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {}
  }
  const area = h("textarea", { value: text, readOnly: true, style: "position:fixed;opacity:0;top:0;left:0" });
  document.body.append(area);
  area.select();
  try {
    return document.execCommand("copy");
  } finally {
    area.remove();
  }
}

export default {
  async render({ model, el, host }) {
    const design = await designOf(model, host);
    const copy = h("button", { type: "button" }, "Copy");
    const insert = h("button", { type: "button" }, "Insert as a new cell");
    const savePy = h("button", { type: "button" }, "Save as .py");
    const pyPath = h("input", { type: "text", "aria-label": "python file", spellcheck: false });
    const status = h("div", { class: "tc-status", role: "status", "aria-label": "code status" });
    const notice = h("div", { class: "tc-notice" });
    const code = h("code");
    const busy = running(design);
    el.replaceChildren(h("div", { class: "tc-view tc-code" },
      h("h3", {}, "Code"), busy.el,
      h("div", { class: "tc-row" }, copy, insert, savePy, pyPath),
      status, notice, h("pre", {}, code)));

    const say = (text, failed = false) => {
      status.textContent = text;
      status.classList.toggle("tc-failed", failed);
    };

    async function copyWithMessage(done, fallback) {
      say((await copyText(model.get("code"))) ? done : fallback, false);
    }

    copy.addEventListener("click", () =>
      copyWithMessage("Copied the code to the clipboard.", "Could not reach the clipboard; select the code below and copy it."));

    insert.addEventListener("click", () => {
      const event = new CustomEvent(INSERT_EVENT, {
        bubbles: true, composed: true, detail: { code: model.get("code"), handled: false },
      });
      insert.dispatchEvent(event);
      if (event.detail.handled) return say("Inserted the code as a new cell below.");
      // A listener may answer a moment later; if none does, copy instead (the click still counts
      // as the user gesture the clipboard needs).
      setTimeout(() => {
        if (event.detail.handled) return say("Inserted the code as a new cell below.");
        copyWithMessage("No notebook to insert into here: copied the code to the clipboard instead.",
          "No notebook to insert into here, and the clipboard is blocked: select the code below and copy it.");
      }, INSERT_WAIT_MS);
    });

    savePy.addEventListener("click", () => {
      say("Saving…");
      model.send({ action: "save_py" });
    });
    enterCommits(pyPath);
    pyPath.addEventListener("change", () => {
      model.set("py_path", pyPath.value.trim());
      model.save_changes();
    });

    function drawCode() {
      code.replaceChildren(...folded(model.get("code"), model.get("folds")));
      copy.disabled = insert.disabled = savePy.disabled = !model.get("code"); // none until the design is checked
      pyPath.placeholder = model.get("py_default");
    }

    function drawNotice() {
      const waiting = !model.get("code") && design.get("pending") ? "Writing the code…" : "";
      notice.textContent = design.get("notice").replace(/^Showing the last valid design/, "Code of the last valid design") || waiting;
    }

    model.on("change:code", () => { drawCode(); drawNotice(); });
    model.on("change:folds", drawCode);
    design.on("change:pending", drawNotice);
    model.on("change:py_default", drawCode);
    design.on("change:notice", drawNotice);
    model.on("change:status", () => { const s = model.get("status"); if (s) say(s, s.startsWith("Not saved")); });
    model.on("change:py_path", () => { pyPath.value = model.get("py_path"); });
    pyPath.value = model.get("py_path");
    drawCode();
    drawNotice();
    return () => busy.free();
  },
};
