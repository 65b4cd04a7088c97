// Scrubs secrets from any text the probe writes (logs, evidence, reports). Two layers:
// the exact secret values known at run start (password, tokens obtained during the run),
// in every spelling they can take on the wire, and patterns for secrets we cannot know in
// advance (bearer tokens, JWTs, token/password fields, OAuth code/session_state parameters).

export const REDACTED = '[redacted]';

/** The shortest value worth registering: shorter ones would scrub ordinary words. */
const MIN_SECRET_LENGTH = 6;

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
  [
    /([?&#;\s]|^)(code|session_state|access_token|refresh_token|id_token|password|client_secret)=[^&#\s"'<>\\]+/gi,
    `$1$2=${REDACTED}`,
  ],
  // Header lines in free text: "authorization: ...", "cookie: ..."
  [/\b((?:set-)?cookie|authorization)(\s*[:=]\s*)[^\n"]+/gi, `$1$2${REDACTED}`],
];

export class Redactor {
  private readonly values = new Set<string>();

  /** Registers a secret value; every later `redact` removes it in raw, URL- and JSON-encoded forms. */
  add(value: string | undefined | null): void {
    if (!value || value.length < MIN_SECRET_LENGTH) return;
    for (const v of [value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1), formEncode(value)]) {
      this.values.add(v);
    }
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a token containing a shorter registered value is removed whole.
    for (const v of [...this.values].sort((a, b) => b.length - a.length)) {
      if (out.includes(v)) out = out.split(v).join(REDACTED);
    }
    for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
    return out;
  }

  /** Redacts every string inside a JSON-like value. */
  redactDeep<T>(value: T): T {
    return JSON.parse(this.redact(JSON.stringify(value))) as T;
  }

  /** How many spellings of secrets are registered. */
  get size(): number {
    return this.values.size;
  }

  /** True when the text still holds a registered value (used by tests and as a last guard). */
  leaks(text: string): boolean {
    for (const v of this.values) if (text.includes(v)) return true;
    return false;
  }
}

function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/** Process-wide redactor: the runner registers each run's secrets here; logs and reports use it. */
export const redactor = new Redactor();

export function redact(text: string): string {
  return redactor.redact(text);
}
