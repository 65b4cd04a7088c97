// One HTTP exchange with the target through axios: recorded in the run's HttpLog, bounded in
// time (headers AND body, by one total deadline) and in size, and turned into a JourneyStop
// when no usable answer comes. Statuses are returned, not thrown: each caller decides what an
// answer means. Bodies always arrive as bytes; callers parse them (see `jsonBody`).
import axios, { type AxiosRequestConfig } from 'axios';
import type { HttpLog } from './http-log.ts';
import type { Side } from '../model/observation.ts';
import { JourneyStop } from '../model/stop.ts';
import { REFUSED_UNREAD } from '../model/observation.ts';
import { stripQuery } from '../model/url.ts';
import { capText } from '../model/text.ts';
import { displayProxy, type Network } from '../config/network.ts';
import { routeFor } from './agents.ts';

export interface Exchange {
  log: HttpLog;
  /** Seconds one request may take, body included (timeouts.request). */
  timeoutSeconds: number;
  signal: AbortSignal;
  /** Proxy and trusted authorities (src/config/network.ts); absent: direct, Node's default authorities. */
  network?: Network;
}

/** An answer from the target, its body as bytes (never parsed by the HTTP client). */
export interface Answer {
  status: number;
  headers: Record<string, string | undefined>;
  body: Buffer;
  url: string;
  method: string;
  side: Side;
}

const client = axios.create({
  validateStatus: () => true,
  maxRedirects: 0,
  // axios's own proxy handling is off: the proxy (the file's, else HTTPS_PROXY/NO_PROXY) comes as
  // an explicit agent per request (src/target/agents.ts), the same settings Chromium gets.
  proxy: false,
  // The body is read as bytes and parsed by the caller: a broken body never becomes a half-parsed value.
  responseType: 'arraybuffer',
  transformResponse: [(data: unknown) => data],
  decompress: true,
});

export interface SendOptions {
  method: string;
  url: string;
  /** Largest body accepted, in bytes; a larger one ends the journey with bad_answer. */
  maxBytes: number;
  headers?: Record<string, string>;
  data?: unknown;
}

export async function send(ex: Exchange, req: SendOptions): Promise<Answer> {
  const method = req.method.toUpperCase();
  const url = stripQuery(req.url);
  const id = ex.log.start(method, req.url);
  const side = ex.log.sideOf(req.url) ?? 'app';
  // One total deadline for connecting, headers and body (axios's own timeout stops at the headers).
  const total = new AbortController();
  const timer = setTimeout(() => total.abort(), ex.timeoutSeconds * 1000);
  const signal = AbortSignal.any([ex.signal, total.signal]);
  const config: AxiosRequestConfig = {
    method,
    url: req.url,
    headers: req.headers,
    data: req.data,
    signal,
    maxContentLength: req.maxBytes,
    maxBodyLength: Infinity,
  };
  const route = routeFor(ex.network, req.url);
  if (route.httpAgent) config.httpAgent = route.httpAgent;
  if (route.httpsAgent) config.httpsAgent = route.httpsAgent;
  const via = route.proxy ? ` via proxy ${displayProxy(route.proxy)}` : '';
  try {
    const res = await client.request<ArrayBuffer>(config);
    ex.log.finish(id, res.status);
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(res.headers ?? {}))
      headers[k.toLowerCase()] = v === undefined || v === null ? undefined : String(v);
    return { status: res.status, headers, body: Buffer.from(res.data ?? new ArrayBuffer(0)), url, method, side };
  } catch (err) {
    if (ex.signal.aborted) {
      // Left open on purpose: a request cut short by a deadline is one that never answered.
      throw ex.signal.reason;
    }
    const code = axios.isAxiosError(err) ? (err.code ?? 'ERR_NETWORK') : 'ERR_UNKNOWN';
    const message = err instanceof Error ? err.message : String(err);
    if (total.signal.aborted || code === 'ECONNABORTED' || code === 'ETIMEDOUT') {
      ex.log.finish(id, 0, `timed out after ${ex.timeoutSeconds} s`);
      throw new JourneyStop({ kind: 'no_answer', side, method, url, seconds: ex.timeoutSeconds });
    }
    if (/maxContentLength/i.test(message)) {
      ex.log.finish(id, 0, `${REFUSED_UNREAD}: larger than ${req.maxBytes} bytes`);
      throw new JourneyStop({
        kind: 'bad_answer',
        side,
        what: `${method} ${url} answered more than ${formatBytes(req.maxBytes)} (the limit for this answer): refused unread`,
      });
    }
    const cause = axios.isAxiosError(err) && err.cause instanceof Error ? ((err.cause as NodeJS.ErrnoException).code ?? code) : code;
    ex.log.finish(id, 0, `${cause}${via}`);
    throw new JourneyStop({ kind: 'network', side, method, url, code: cause });
  } finally {
    clearTimeout(timer);
  }
}

/** The body as text (UTF-8), at most `max` characters kept. */
export function bodyText(a: Pick<Answer, 'body'>, max = 100_000): string {
  return a.body.toString('utf8', 0, Math.min(a.body.length, max * 4)).slice(0, max);
}

/**
 * The body parsed as JSON, or a bad_answer stop that says what came instead (HTML, truncated
 * JSON, an empty body). A login page is reported as such: the caller's token was not accepted.
 */
export function jsonBody(a: Answer, what: string): unknown {
  if (looksLikeLoginPage(a.body, a.headers['content-type'])) {
    throw new JourneyStop({ kind: 'login_page', where: `${a.method} ${a.url} answered ${a.status} with a login page` });
  }
  const text = bodyText(a, a.body.length);
  if (text.trim() === '')
    throw new JourneyStop({
      kind: 'bad_answer',
      side: a.side,
      what: `${a.method} ${a.url} answered ${a.status} with an empty body where ${what} was expected`,
    });
  try {
    return JSON.parse(text);
  } catch {
    const kind =
      /^\s*</.test(text) || /html/i.test(a.headers['content-type'] ?? '')
        ? 'an HTML page'
        : 'text that is not JSON (truncated or malformed)';
    throw new JourneyStop({
      kind: 'bad_answer',
      side: a.side,
      what: `${a.method} ${a.url} answered ${a.status} with ${kind} where ${what} was expected: ${bodySnippet(text, 120) ?? ''}`,
    });
  }
}

/** The first line of a plain-text or JSON error body, short enough for a message. */
export function bodySnippet(data: unknown, max = 160): string | undefined {
  if (data === undefined || data === null || data === '') return undefined;
  const text =
    typeof data === 'string'
      ? data.slice(0, 10_000)
      : Buffer.isBuffer(data)
        ? data.toString('utf8', 0, 10_000)
        : stringified(data).slice(0, 10_000);
  const line = text.split('\n')[0]!.trim();
  if (line === '') return undefined;
  return capText(line, max);
}

function stringified(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** The body parsed as JSON, or undefined when it is not JSON (for answers whose shape is optional). */
export function jsonOrUndefined(a: Pick<Answer, 'body'>): unknown {
  try {
    return JSON.parse(bodyText(a, a.body.length));
  } catch {
    return undefined;
  }
}

/** True when a body is an HTML login page (Keycloak's form) rather than the expected answer. */
export function looksLikeLoginPage(data: unknown, contentType: unknown): boolean {
  const text = typeof data === 'string' ? data.slice(0, 20_000) : Buffer.isBuffer(data) ? data.toString('utf8', 0, 20_000) : '';
  if (!/html/i.test(String(contentType ?? '')) && !/^\s*</.test(text)) return false;
  return /kc-form-login|id="kc-login"|login-actions\/authenticate|openid-connect\/auth/i.test(text);
}

/** A redirect's target, query removed (it may carry codes or state). */
export function redirectTarget(a: Answer): string | undefined {
  const loc = a.headers.location;
  if (!loc) return undefined;
  try {
    return capText(stripQuery(new URL(loc, a.url).toString()), 200);
  } catch {
    return capText(stripQuery(loc), 200);
  }
}

/** An answer the caller cannot go on with, as a stop that keeps what tells the cause. */
export function unexpected(a: Answer): JourneyStop {
  const stop: Extract<ConstructorParameters<typeof JourneyStop>[0], { kind: 'http' }> = {
    kind: 'http',
    side: a.side,
    method: a.method,
    url: a.url,
    status: a.status,
  };
  const body = bodySnippet(a.body);
  if (body) stop.body = body;
  const location = a.status >= 300 && a.status < 400 ? redirectTarget(a) : undefined;
  if (location) stop.location = location;
  if (a.headers['retry-after']) stop.retryAfter = capText(a.headers['retry-after'], 40);
  return new JourneyStop(stop);
}

export function formatBytes(n: number): string {
  if (n >= 1_048_576) return `${+(n / 1_048_576).toFixed(1)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}
