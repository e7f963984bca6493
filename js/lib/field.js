// The one field control every form draws (config form, part form, head and backbone pickers, tokenizer
// options): the label, the control the field's type asks for, the reset button, the help on hover and,
// while the value is wrong, an alert under it that the control points to.

import { h } from "./dom.js";
import { commitsOn } from "./commit.js";
import { formatValue, parseValue, same } from "./format.js";

/** A field's name as a label's content: a line may break after an underscore or a dot (a <wbr>), never
 * inside a word ("return_attention_mask" wraps as "return_attention_" / "mask"). A dotted prefix
 * ("text_config.") is dimmed. */
export function labelParts(text) {
  const dot = text.lastIndexOf(".") + 1;
  const pieces = (s) => s.split(/(?<=[_.])/).flatMap((piece, i) => (i ? [h("wbr"), piece] : [piece]));
  return [...(dot ? [h("span", { class: "tc-prefix" }, ...pieces(text.slice(0, dot))), h("wbr")] : []),
    ...pieces(text.slice(dot))];
}

/** The help on hover: the docstring's words, the allowed range, other names, the default. */
export function helpText(field) {
  const parts = [field.help || `${field.name}${field.type ? ` (${field.type})` : ""}`];
  if (field.minimum != null || field.maximum != null) {
    parts.push(`Allowed: ${[field.minimum != null ? `≥ ${field.minimum}` : "", field.maximum != null ? `≤ ${field.maximum}` : ""]
      .filter(Boolean).join(" and ")}.`);
  }
  if (field.aliases?.length) parts.push(`Also called: ${field.aliases.join(", ")}.`);
  parts.push(`Default: ${formatValue(field.default) || "none"}.`);
  return parts.join("\n");
}

const JSON_TYPES = new Set(["dict", "list", "config"]);
const choiceLabel = (c) => (c && typeof c === "object" && "name" in c ? c.name : formatValue(c));
const choiceValue = (c) => (c && typeof c === "object" && "value" in c ? c.value : c);

/**
 * One field. `field` is the engine's description ({name, type, default, nullable, choices, help,
 * minimum, maximum, aliases}: composer.fields.Field); `type` picks the control: a checkbox for bool, a
 * select for choice, a number input bounded by minimum / maximum, JSON text (growing with its value) for
 * dict and list, else text.
 * Options: `id` of the control; `label` (the field's name by default); `path` (the row's data-path);
 * `commit(value)` and `reset()`; `blank`: the text of the select option, and the meaning of an emptied
 * text, that puts the field back to its default (e.g. "(default)"; without it an emptied nullable field
 * is null); `parse(text)` / `format(value)` for a text that is not JSON (undefined from parse resets);
 * `rows` for a multi-line text; `hint`, an element shown under the control; `placeholder`, the words an
 * empty text shows (what its default means, e.g. "the fewest that fit").
 */
export class Field {
  constructor(field, { id, label = field.name, path = field.name, commit, reset, blank = null,
    parse = null, format = formatValue, rows = 0, hint = null, placeholder = null }) {
    Object.assign(this, { field, commitTo: commit, format });
    this.errorId = `${id}-error`;
    this.control = this.makeControl(id, blank, parse, rows, placeholder);
    this.label = h("label", { for: id, title: helpText(field) }, ...labelParts(label));
    this.reset = h("button", { type: "button", class: "tc-reset", "aria-label": `reset ${label}`,
      title: `Back to the default (${formatValue(field.default) || "none"})` }, "↺");
    this.reset.addEventListener("click", () => reset());
    this.resetTo = reset;
    this.el = h("div", { class: "tc-field", "data-path": path }, this.label, this.control, this.reset, hint);
  }

  makeControl(id, blank, parse, rows, placeholder) {
    const f = this.field;
    const common = { id, title: helpText(f), placeholder };
    if (f.type === "bool" && !(f.nullable && f.default === null)) {
      const box = h("input", { ...common, type: "checkbox" });
      box.addEventListener("change", () => this.commit(box.checked));
      this.read = () => box.checked;
      this.show = (v) => { box.checked = Boolean(v); };
      return box;
    }
    if (f.type === "choice" || f.type === "bool") {
      const choices = f.type === "bool" ? [true, false] : f.choices;
      const select = h("select", common,
        ...(blank ? [h("option", { value: "" }, blank)] : f.nullable ? [h("option", { value: "" }, "(none)")] : []),
        ...choices.map((c, i) => h("option", { value: String(i) }, choiceLabel(c))));
      this.read = () => (select.value === "" ? (blank ? undefined : null) : choiceValue(choices[Number(select.value)]));
      select.addEventListener("change", () => this.commit(this.read()));
      this.show = (v, set = true) => {
        const i = choices.findIndex((c) => same(choiceValue(c), v));
        select.value = set && i >= 0 ? String(i) : "";
      };
      return select;
    }
    const numeric = f.type === "int" || f.type === "float";
    // A number with a value domain (the engine's minimum / maximum, inclusive) is a number input bounded
    // by it; without one a text input, so that any text reaches the engine and is named there.
    const bounded = numeric && (f.minimum != null || f.maximum != null);
    const multiline = rows > 0 || (!parse && JSON_TYPES.has(f.type));
    const input = multiline
      ? h("textarea", { ...common, rows: rows || 1, spellcheck: false, class: rows ? null : "tc-json" })
      : bounded
        ? h("input", { ...common, type: "number", min: f.minimum ?? undefined, max: f.maximum ?? undefined,
            step: f.type === "int" ? "1" : "any" })
        : h("input", { ...common, type: "text", spellcheck: false, inputMode: numeric ? "decimal" : undefined });
    this.read = () => {
      if (blank && input.value.trim() === "") return undefined;
      return parse ? parse(input.value) : parseValue(f, input.value);
    };
    // JSON needs no new line: Enter commits it; labels one per line (`rows`) take Enter as a new line.
    this.typing = commitsOn(input, () => {
      if (input.validity?.badInput) return; // half-typed ("-", "1e"): nothing to send yet
      this.commit(this.read());
    }, { enter: !rows });
    this.show = (v) => {
      if (document.activeElement !== input) input.value = this.format(v);
    };
    return input;
  }

  /** Send a value once (a pause in typing, then Enter, then blur send it once); undefined resets. */
  commit(value) {
    if (this.sent !== undefined && same(this.sent, value)) return;
    this.sent = value;
    if (value === undefined) this.resetTo();
    else this.commitTo(value);
  }

  /** Show the design's `value` (`set`: the design gives one, else it is the default), whether it
   * differs from the default, and the error at the field. */
  update(value, { set = true, changed = false, error = "" } = {}) {
    this.show(value, set);
    if (!same(value, this.sent)) this.sent = undefined;
    this.el.classList.toggle("tc-changed", changed);
    this.control.setAttribute("aria-invalid", error ? "true" : "false");
    this.el.querySelector(":scope > .tc-error")?.remove();
    if (error) {
      this.el.append(h("div", { class: "tc-error", role: "alert", id: this.errorId }, error));
      this.control.setAttribute("aria-describedby", this.errorId);
    } else {
      this.control.removeAttribute("aria-describedby");
    }
  }
}
