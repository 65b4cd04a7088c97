// URLs as the probe prints and logs them: the target's without query or fragment (they may
// hold tokens); those the operator gives (a Pushgateway behind basic auth, a token in the
// query) without their credentials and query string.

const MASK = '***';

export function stripQuery(url: string): string {
  const i = url.search(/[?#]/);
  return i < 0 ? url : url.slice(0, i);
}

/** The URL fit to print: `user:password@` becomes `***@`, query string and fragment are dropped. */
export function displayUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    // Not a URL: still never show what looks like credentials or a query.
    return raw.replace(/\/\/[^/?#]*@/, `//${MASK}@`).replace(/[?#][\s\S]*$/, '');
  }
  const auth = u.username || u.password ? `${MASK}@` : '';
  // Keep the path as given: `http://host:9091` stays without a trailing slash.
  const givenPath = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(\/[^?#]*)?/i.exec(raw)?.[1] ?? '';
  const path = u.pathname === '/' && !givenPath ? '' : u.pathname;
  return `${u.protocol}//${auth}${u.host}${path}`;
}

/**
 * A text that may quote the URL (an error message from the HTTP client, the gateway's answer)
 * with the URL's credentials and query string masked, however they appear in it.
 */
export function scrubUrl(text: string, raw: string): string {
  const secrets = new Set<string>();
  try {
    const u = new URL(raw);
    for (const part of [u.username, u.password, u.search.slice(1), u.hash.slice(1)]) {
      secrets.add(part);
      secrets.add(safeDecode(part));
    }
    if (u.username || u.password) secrets.add(`${u.username}:${u.password}`);
  } catch {
    const m = /\/\/([^/?#]*)@/.exec(raw);
    if (m) for (const part of [m[1]!, ...m[1]!.split(':')]) secrets.add(part);
    const q = /[?#]([\s\S]*)$/.exec(raw);
    if (q) secrets.add(q[1]!);
  }
  secrets.delete('');
  let out = text.split(raw).join(displayUrl(raw));
  // Longest first, so a password is not half-masked by a shorter part that it contains.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join(MASK);
  // Whatever else looks like inline credentials.
  return out.replace(/(\/\/)[^\s/?#@]*:[^\s/?#@]*@/g, `$1${MASK}@`);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
