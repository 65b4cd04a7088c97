// Texts from the target (error bodies, reason texts, page texts) end up in results, logs,
// history and the status page: each is cut to a bounded length, saying how long it was.

/** Default cap for one target-supplied text, in characters. */
export const TEXT_CAP = 300;

/** `text` when short enough, else its start, an ellipsis and the original length. */
export function capText(text: string, max: number = TEXT_CAP): string {
  if (text.length <= max) return text;
  const head = text.slice(0, Math.max(1, max));
  // Never cut a surrogate pair in half: a lone surrogate is not valid UTF-8 when written.
  const safe = /[\uD800-\uDBFF]$/.test(head) ? head.slice(0, -1) : head;
  return `${safe}… (${text.length} characters)`;
}

/** Caps every string inside a JSON-like value (objects and arrays copied). */
export function capDeep<T>(value: T, max: number = TEXT_CAP, depth = 0): T {
  if (typeof value === 'string') return capText(value, max) as T;
  if (value === null || typeof value !== 'object' || depth > 40) return value;
  if (Array.isArray(value)) return value.map((v) => capDeep(v, max, depth + 1)) as T;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, capDeep(v, max, depth + 1)])) as T;
}
