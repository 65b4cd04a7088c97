// One HTTP exchange with the target through axios: recorded in the run's HttpLog, bounded by
// its own timeout and the step's signal, and turned into a JourneyStop when no answer comes.
// Statuses are returned, not thrown: each caller decides what an answer means.
import axios, { type AxiosRequestConfig, type AxiosResponse } from 'axios';
import type { HttpLog } from '../run/http-log.ts';
import { JourneyStop } from '../run/steps.ts';
import { stripQuery } from '../run/http-log.ts';

export interface Exchange {
  log: HttpLog;
  /** Seconds one request may take (timeouts.request). */
  timeoutSeconds: number;
  signal: AbortSignal;
}

const client = axios.create({
  validateStatus: () => true,
  maxRedirects: 0,
  // Never pick up proxy settings from the environment: the probe talks to the target directly.
  proxy: false,
});

export async function send<T = unknown>(
  ex: Exchange,
  req: AxiosRequestConfig & { method: string; url: string },
): Promise<AxiosResponse<T>> {
  const method = req.method.toUpperCase();
  const id = ex.log.start(method, req.url);
  const side = ex.log.sideOf(req.url) ?? 'app';
  try {
    const res = await client.request<T>({ ...req, method, timeout: ex.timeoutSeconds * 1000, signal: ex.signal });
    ex.log.finish(id, res.status);
    return res;
  } catch (err) {
    if (ex.signal.aborted) {
      // Left open on purpose: a request cut short by a deadline is one that never answered.
      throw ex.signal.reason;
    }
    const code = axios.isAxiosError(err) ? (err.code ?? 'ERR_NETWORK') : 'ERR_UNKNOWN';
    const url = stripQuery(req.url);
    if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') {
      ex.log.finish(id, 0, `timed out after ${ex.timeoutSeconds} s`);
      throw new JourneyStop({ kind: 'no_answer', side, method, url, seconds: ex.timeoutSeconds });
    }
    const cause = axios.isAxiosError(err) && err.cause instanceof Error ? ((err.cause as NodeJS.ErrnoException).code ?? code) : code;
    ex.log.finish(id, 0, cause);
    throw new JourneyStop({ kind: 'network', side, method, url, code: cause });
  }
}

/** The first line of a plain-text or JSON error body, short enough for a message. */
export function bodySnippet(data: unknown, max = 160): string | undefined {
  if (data === undefined || data === null || data === '') return undefined;
  const text = typeof data === 'string' ? data : Buffer.isBuffer(data) ? data.toString('utf8') : JSON.stringify(data);
  const line = text.split('\n')[0]!.trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

/** True when a body is an HTML login page (Keycloak's form) rather than the expected answer. */
export function looksLikeLoginPage(data: unknown, contentType: unknown): boolean {
  const text = typeof data === 'string' ? data : Buffer.isBuffer(data) ? data.toString('utf8', 0, 20_000) : '';
  if (!/html/i.test(String(contentType ?? '')) && !/^\s*</.test(text)) return false;
  return /kc-form-login|id="kc-login"|login-actions\/authenticate|openid-connect\/auth/i.test(text);
}
