// Scrubs secrets from any text the probe writes (logs, evidence, reports). Two layers:
// the exact secret values known to the run (configured passwords, tokens obtained during the
// run), in every spelling they can take on the wire, and patterns for secrets we cannot know in
// advance (bearer tokens, JWTs, token/password fields, OAuth code/session_state parameters).
//
// Scope: the process-wide `redactor` holds configured secrets only (a bounded set). A run works
// with `redactor.child()`: the tokens it obtains live there and are gone with the run, so the
// cost of one redaction does not grow with uptime. Values come from the target too (tokens):
// only non-empty strings of a sane length are ever registered.

export const REDACTED = '[redacted]';

/** Shortest value redacted by value: shorter ones would scrub ordinary words; they are blanked by position instead. */
export const MIN_SECRET_LENGTH = 3;
/** Longest value registered: a token is a few KiB; anything larger is not a credential. */
const MAX_SECRET_LENGTH = 16_384;
/** redactDeep stops descending here (target-made structures can be deep). */
const MAX_DEPTH = 40;

const PATTERNS: Array<[RegExp, string]> = [
  // Authorization: Bearer xxx / Basic xxx
  [/\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/]+=*/gi, `$1 ${REDACTED}`],
  // JWTs and JWEs (access, refresh, id tokens; Keycloak's identity and restart cookies)
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){0,2}/g, REDACTED],
  // JSON fields: "access_token":"...", "password": "..."
  [
    /("(?:access_token|refresh_token|id_token|token|password|client_secret|authorization|cookie|set-cookie)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi,
    `$1"${REDACTED}"`,
  ],
  // Form and query parameters, also in URL fragments (keycloak-js uses response_mode=fragment).
  // A value stops at a backslash: in JSON text the next character is an escaped quote.
  [/([?&#;\s]|^)(code|session_state|access_token|refresh_token|id_token|password|client_secret)=[^&#\s"'<>\\]+/gi, `$1$2=${REDACTED}`],
  // Header lines in free text: "authorization: ...", "cookie: ...". Stops at a quote or a
  // backslash, so an escaped quote inside JSON text keeps its backslash.
  [/\b((?:set-)?cookie|authorization)(\s*[:=]\s*)[^\n"\\]+/gi, `$1$2${REDACTED}`],
];

export class Redactor {
  private readonly values = new Set<string>();
  /** Own and inherited spellings, longest first; rebuilt only after an add. */
  private sorted?: string[];
  private parentSize = -1;

  constructor(private readonly parent?: Redactor) {}

  /** A redactor for one run: everything this one removes, plus what the run registers. */
  child(): Redactor {
    return new Redactor(this);
  }

  /**
   * Registers a secret value; every later `redact` removes it in raw, URL-, form- and
   * JSON-encoded forms. Anything but a string of 3 to 16,384 characters is refused (returns false):
   * a value from the target is never trusted to be one.
   */
  add(value: unknown): boolean {
    if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH || value.length > MAX_SECRET_LENGTH) return false;
    if (value.trim() === '') return false;
    for (const v of [value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1), formEncode(value)]) {
      if (v.length >= MIN_SECRET_LENGTH) this.values.add(v);
    }
    this.sorted = undefined;
    return true;
  }

  private spellings(): string[] {
    const inherited = this.parent?.spellings() ?? [];
    if (!this.sorted || this.parentSize !== inherited.length) {
      this.parentSize = inherited.length;
      this.sorted = [...new Set([...inherited, ...this.values])].sort((a, b) => b.length - a.length);
    }
    return this.sorted;
  }

  redact(text: string): string {
    let out = typeof text === 'string' ? text : String(text);
    // Longest first, so a token containing a shorter registered value is removed whole.
    for (const v of this.spellings()) {
      if (out.includes(v)) out = out.split(v).join(REDACTED);
    }
    for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
    return out;
  }

  /**
   * Redacts every string inside a JSON-like value, walking the parsed value: redaction never
   * sees serialised JSON, so it can never break it. Functions and cycles are dropped.
   */
  redactDeep<T>(value: T): T {
    return this.walk(value, 0, new WeakSet()) as T;
  }

  private walk(v: unknown, depth: number, seen: WeakSet<object>): unknown {
    if (typeof v === 'string') return this.redact(v);
    if (v === null || typeof v !== 'object') return typeof v === 'function' || typeof v === 'symbol' ? undefined : v;
    if (seen.has(v) || depth > MAX_DEPTH) return '[…]';
    if (v instanceof Date) return v;
    seen.add(v);
    const out = Array.isArray(v)
      ? v.map((x) => this.walk(x, depth + 1, seen))
      : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.walk(x, depth + 1, seen)]));
    seen.delete(v);
    return out;
  }

  /** How many spellings of secrets this redactor removes (its own and inherited). */
  get size(): number {
    return this.spellings().length;
  }

  /** True when the text still holds a registered value (used by tests and as a last guard). */
  leaks(text: string): boolean {
    for (const v of this.spellings()) if (text.includes(v)) return true;
    return false;
  }
}

function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/** Process-wide redactor: configured secrets only. Runs use `redactor.child()` for their tokens. */
export const redactor = new Redactor();

export function redact(text: string): string {
  return redactor.redact(text);
}
