// Redaction: known secret values in every spelling, and the patterns for secrets we cannot know.
import { describe, expect, it } from 'vitest';
import { REDACTED, Redactor } from '../../src/redact.ts';

const PASSWORD = 'Canary-Probe-Secret-7431';
const JWT =
  'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJidWxrLXVwbG9hZC1wcm9iZSIsImV4cCI6MTg5MzQ1NjAwMH0.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU';

describe('Redactor', () => {
  it('removes a registered value raw, URL-encoded, form-encoded and JSON-escaped', () => {
    const r = new Redactor();
    const secret = 'p@ss word/"quoted"&more';
    r.add(secret);
    for (const spelling of [secret, encodeURIComponent(secret), new URLSearchParams({ p: secret }).toString().slice(2), JSON.stringify(secret).slice(1, -1)]) {
      const out = r.redact(`before ${spelling} after`);
      expect(out).toBe(`before ${REDACTED} after`);
      expect(r.leaks(out)).toBe(false);
    }
  });

  it('leaves JSON text valid: a parameter value stops before an escaped quote', () => {
    const r = new Redactor();
    const json = JSON.stringify({ message: 'navigated to "http://app/#state=s&code=abc123&session_state=zz9"' });
    const out = r.redact(json);
    expect(JSON.parse(out)).toEqual({ message: `navigated to "http://app/#state=s&code=${REDACTED}&session_state=${REDACTED}"` });
  });

  it('ignores values too short to be secrets (they would scrub ordinary words)', () => {
    const r = new Redactor();
    r.add('ab');
    r.add(undefined);
    expect(r.redact('about ab')).toBe('about ab');
  });

  it('removes bearer tokens, JWTs and JWEs it was never told about', () => {
    const r = new Redactor();
    expect(r.redact(`Authorization: Bearer ${JWT}`)).not.toContain('eyJ');
    expect(r.redact(`{"token":"x","id":"${JWT}"}`)).not.toContain(JWT);
    const jwe = 'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..aGVsbG8td29ybGQ.Y2lwaGVydGV4dA.dGFn';
    expect(r.redact(`KC_RESTART=${jwe}; Path=/`)).not.toContain('aGVsbG8td29ybGQ');
  });

  it('removes token and password fields in JSON and form bodies, and OAuth parameters in URLs', () => {
    const r = new Redactor();
    const json = r.redact('{"access_token":"abc.def","refresh_token":"zzz","expires_in":300,"password":"hunter22"}');
    expect(json).toBe(`{"access_token":"${REDACTED}","refresh_token":"${REDACTED}","expires_in":300,"password":"${REDACTED}"}`);
    expect(r.redact(`grant_type=password&username=u&password=${PASSWORD}&client_id=api-tokens`)).toBe(
      `grant_type=password&username=u&password=${REDACTED}&client_id=api-tokens`,
    );
    const url = r.redact('http://app/admin/uploads#state=s1&session_state=abc-123&code=c0de.x.y&iss=http://kc');
    expect(url).toBe(`http://app/admin/uploads#state=s1&session_state=${REDACTED}&code=${REDACTED}&iss=http://kc`);
  });

  it('removes cookie and authorization header values in free text', () => {
    const r = new Redactor();
    expect(r.redact('cookie: KEYCLOAK_SESSION=abcdef; AUTH_SESSION_ID=123')).toBe(`cookie: ${REDACTED}`);
    expect(r.redact('set-cookie: KEYCLOAK_IDENTITY=xyz')).toBe(`set-cookie: ${REDACTED}`);
  });

  it('redactDeep keeps the structure and scrubs every string', () => {
    const r = new Redactor();
    r.add(PASSWORD);
    const v = r.redactDeep({ a: [`x ${PASSWORD}`], b: { c: `Bearer ${JWT}` }, n: 3 });
    expect(v).toEqual({ a: [`x ${REDACTED}`], b: { c: `Bearer ${REDACTED}` }, n: 3 });
  });

  it('leaves ordinary probe output alone', () => {
    const r = new Redactor();
    r.add(PASSWORD);
    const line = 'GET http://127.0.0.1:18080/generic-upload/api/status answered 401 (step list_uploads)';
    expect(r.redact(line)).toBe(line);
  });
});
