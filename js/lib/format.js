// Values as forms show and read them, and numbers as the previews print them: one definition each.

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** Two JSON values are the same value (what was sent, what the design holds, a default). */
export const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** A value as a control shows it: "" for none, JSON with a space after each comma and colon (so that
 * a long value can wrap between its items), a string as itself. */
export function formatValue(value) {
  if (value === null || value === undefined) return "";
  if (typeof value !== "object") return String(value);
  if (Array.isArray(value)) return `[${value.map(json).join(", ")}]`;
  return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${json(v)}`).join(", ")}}`;
}

const json = (v) => (v !== null && typeof v === "object" ? formatValue(v) : JSON.stringify(v));

/** Text typed into a field of `type` (int, float, str, list, dict, any, …) → the JSON value to send;
 * nothing is null where the field allows it. Anything unparseable goes as typed, so the engine names the problem ("expected int, got 'twelve'");
 * "1, 2, 3" is a list too. */
export function parseValue(field, text) {
  const t = text.trim();
  if (t === "") return field.nullable ? null : text;
  if (field.type === "int" || field.type === "float") return NUMBER.test(t) ? Number(t) : t;
  if (field.type === "str") return text;
  try {
    return JSON.parse(t);
  } catch {
    if (field.type === "list" || field.kinds?.includes("list")) {
      try {
        return JSON.parse(`[${t}]`);
      } catch {}
    }
  }
  return t;
}

/** A statistic as the previews print it: three decimals, or an exponent for the very large and small. */
export const num = (x) => (Math.abs(x) >= 1000 || (x !== 0 && Math.abs(x) < 0.001) ? x.toExponential(2) : x.toFixed(3));
