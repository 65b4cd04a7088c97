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
    for (const spelling of [
      secret,
      encodeURIComponent(secret),
      new URLSearchParams({ p: secret }).toString().slice(2),
      JSON.stringify(secret).slice(1, -1),
    ]) {
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

  it('refuses anything but a string of a sane length: an odd token answer poisons nothing', () => {
    const r = new Redactor();
    for (const odd of [{}, '', '   ', 123, null, undefined, ['x'], 'x'.repeat(20_000)]) expect(r.add(odd)).toBe(false);
    expect(r.size).toBe(0);
    expect(r.redact('ordinary text stays')).toBe('ordinary text stays');
    expect(r.redactDeep({ a: 'still fine' })).toEqual({ a: 'still fine' });
  });

  it('redacts configured secrets from 3 characters on, in every spelling', () => {
    const r = new Redactor();
    const short = 'a&"';
    expect(r.add(short)).toBe(true);
    for (const spelling of [short, encodeURIComponent(short), JSON.stringify(short).slice(1, -1)])
      expect(r.redact(`x ${spelling} y`)).toBe(`x ${REDACTED} y`);
  });

  it('redactDeep works on parsed values: an escaped quote after a header name never breaks the value', () => {
    const r = new Redactor();
    const body = { error: 'server said cookie: abc\\"def and authorization: x\\"y', nested: [{ text: 'Bearer abc.def "quoted"' }] };
    const out = r.redactDeep(body);
    expect(out.error).toBe(`server said cookie: ${REDACTED}\\"def and authorization: ${REDACTED}\\"y`);
    expect(JSON.parse(JSON.stringify(out))).toEqual(out);
    const cyclic: Record<string, unknown> = { a: 'x' };
    cyclic.self = cyclic;
    expect(() => r.redactDeep(cyclic)).not.toThrow();
  });

  it("a run's child holds its tokens; they are gone with it and the process-wide list does not grow", () => {
    const base = new Redactor();
    base.add(PASSWORD);
    const before = base.size;
    for (let run = 0; run < 1000; run++) {
      const child = base.child();
      child.add(`token-of-run-${run}-${'x'.repeat(40)}`);
      expect(child.redact(`a ${PASSWORD} b token-of-run-${run}-${'x'.repeat(40)}`)).toBe(`a ${REDACTED} b ${REDACTED}`);
    }
    expect(base.size).toBe(before);
    expect(base.redact(`token-of-run-1-${'x'.repeat(40)}`)).toContain('token-of-run-1');
  });

  it('a child sees secrets its parent learns later', () => {
    const base = new Redactor();
    const child = base.child();
    expect(child.redact(`x ${PASSWORD}`)).toContain(PASSWORD);
    base.add(PASSWORD);
    expect(child.redact(`x ${PASSWORD}`)).toBe(`x ${REDACTED}`);
  });
});
