// The HTTP log: which side an exchange belongs to (Keycloak may sit under the app's origin at
// /auth), what is recorded, what counts as bad, and what is still open.
import { describe, expect, it } from 'vitest';
import { HttpLog, statusClass } from '../../../src/target/http-log.ts';
import { stripQuery } from '../../../src/model/url.ts';

describe('HttpLog', () => {
  it('tells Keycloak from the app even on one origin, ignores foreign traffic, drops query strings', () => {
    const log = new HttpLog({ keycloak: 'https://tis.example/auth', app: ['https://tis.example'] });
    expect(log.sideOf('https://tis.example/auth/realms/lin/protocol/openid-connect/token')).toBe('keycloak');
    expect(log.sideOf('https://tis.example/generic-upload/api/status?page=0')).toBe('app');
    expect(log.sideOf('https://fonts.example/x.woff')).toBeUndefined();
    expect(log.start('GET', 'https://fonts.example/x.woff')).toBeUndefined();
    const id = log.start('GET', 'https://tis.example/admin/uploads#state=1&code=abc');
    log.finish(id, 200);
    expect(log.events[0]!.url).toBe('https://tis.example/admin/uploads');
    expect(stripQuery('http://a/b?c=d#e')).toBe('http://a/b');
  });

  it('summarises by status class and names the first bad response', () => {
    let step: 'login' | 'open_page' = 'login';
    const log = new HttpLog({ keycloak: 'http://kc', app: ['http://app'] }, () => step);
    const bad: string[] = [];
    log.onBad((e) => bad.push(`${e.status} ${e.url}`));
    log.finish(log.start('POST', 'http://kc/realms/lin/login-actions/authenticate'), 401);
    step = 'open_page';
    log.finish(log.start('GET', 'http://app/admin/uploads'), 200);
    log.finish(log.start('GET', 'http://app/generic-upload/api/status'), 401);
    log.finish(log.start('GET', 'http://app/generic-upload/api/status'), 0, 'net::ERR_ABORTED');
    const open = log.start('POST', 'http://app/generic-upload/api/file');
    const s = log.summary();
    expect(s.requests).toBe(4);
    expect(s.byClass).toMatchObject({ '2xx': 1, '4xx': 2, none: 1 });
    // Keycloak's own 4xx are the login step's to judge; a navigation abort is not a failure.
    expect(s.firstBad).toMatchObject({ status: 401, url: 'http://app/generic-upload/api/status' });
    expect(bad).toEqual(['401 http://app/generic-upload/api/status']);
    expect(log.events[0]!.step).toBe('login');
    expect(log.pending().map((e) => e.url)).toEqual(['http://app/generic-upload/api/file']);
    log.finish(open, 504);
    expect(bad).toHaveLength(2);
    expect(statusClass(504)).toBe('5xx');
    expect(statusClass(0)).toBe('none');
  });
});
