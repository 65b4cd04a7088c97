// The follow-up checks of a failed run's diagnosis (src/run/diagnose.ts): one GET each, through
// send() (the exchange's own timeout, proxy and size limit), never throwing: every outcome is a
// CheckAnswer. Answers are the target's: only the status and the first line of a short body are
// kept. The token is read without being trusted (no signature check): only its issuer and expiry.
import { decodeJwt } from 'jose';
import { bodySnippet, send, type Exchange } from './http.ts';
import type { CheckAnswer } from '../model/diagnosis.ts';
import { REFUSED_UNREAD } from '../model/observation.ts';
import { JourneyStop } from '../model/stop.ts';
import { capText } from '../model/text.ts';
import { stripQuery } from '../model/url.ts';

/** Largest follow-up answer read (bytes): a discovery document is a few KiB, userinfo less. */
export const FOLLOW_UP_MAX_BYTES = 65_536;

/** The realm's OpenID discovery document. */
export function discoveryUrl(keycloakUrl: string, realm: string): string {
  return `${keycloakUrl.replace(/\/+$/, '')}/realms/${encodeURIComponent(realm)}/.well-known/openid-configuration`;
}

/** Profile's userinfo under its base (…/profile). */
export function userinfoUrl(profileBase: string): string {
  return `${profileBase.replace(/\/+$/, '')}/api/userinfo`;
}

/** A harmless read from TCS under its base (…/tcs): the canary's person, which does not exist. */
export function tcsPersonUrl(tcsBase: string, personId: number): string {
  return `${tcsBase.replace(/\/+$/, '')}/api/people/${personId}`;
}

/** One GET, with the bearer token when given. Never throws. */
export async function check(ex: Exchange, url: string, token?: string): Promise<CheckAnswer> {
  const what = `GET ${stripQuery(url)}`;
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  try {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await send(ex, { method: 'GET', url, headers, maxBytes: FOLLOW_UP_MAX_BYTES });
    const out: CheckAnswer = { what, status: res.status, answered: true, ms: ms() };
    // Only a short plain answer is worth quoting (Profile's "… not found or not active"); never a page or a document.
    const type = res.headers['content-type'] ?? '';
    if (res.status !== 200 && res.body.length <= 1024 && !/html/i.test(type)) {
      const text = bodySnippet(res.body, 160);
      if (text) out.text = text;
    }
    return out;
  } catch (err) {
    const stop = err instanceof JourneyStop ? err.stop : undefined;
    if (stop?.kind === 'bad_answer') return { what, status: 0, answered: true, ms: ms(), failure: `${REFUSED_UNREAD}: too large` };
    if (stop?.kind === 'no_answer') return { what, status: 0, answered: false, ms: ms(), failure: `no answer within ${stop.seconds} s` };
    if (stop?.kind === 'network') return { what, status: 0, answered: false, ms: ms(), failure: stop.code };
    return { what, status: 0, answered: false, ms: ms(), failure: 'cut short' };
  }
}

/** The issuer a token names, read without trusting the token (no signature check); undefined when unreadable. */
export function tokenIssuer(token: string): string | undefined {
  try {
    const iss = decodeJwt(token).iss;
    return typeof iss === 'string' && iss.length > 0 ? capText(iss, 200) : undefined;
  } catch {
    return undefined;
  }
}

/** When a token expires (epoch ms), as it says; undefined when unreadable or without exp. */
export function tokenExpiresAt(token: string): number | undefined {
  try {
    const exp = decodeJwt(token).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
