// The target clients' small decisions: where the token endpoint and the API are (with and
// without Keycloak's /auth prefix), and telling a login page from an answer.
import { describe, expect, it } from 'vitest';
import { apiBase } from '../../../src/target/generic-upload.ts';
import { bodySnippet, looksLikeLoginPage } from '../../../src/target/http.ts';
import { tokenEndpoint } from '../../../src/target/keycloak.ts';

describe('target URLs', () => {
  it('token endpoint with and without the /auth prefix', () => {
    expect(tokenEndpoint({ url: 'http://127.0.0.1:18081', realm: 'lin', clientId: 'api-tokens' })).toBe(
      'http://127.0.0.1:18081/realms/lin/protocol/openid-connect/token',
    );
    expect(tokenEndpoint({ url: 'https://apps.tis.example/auth/', realm: 'lin', clientId: 'api-tokens' })).toBe(
      'https://apps.tis.example/auth/realms/lin/protocol/openid-connect/token',
    );
  });

  it('API base relative to the app, or absolute', () => {
    expect(apiBase('http://127.0.0.1:18080', '/generic-upload/api')).toBe('http://127.0.0.1:18080/generic-upload/api');
    expect(apiBase('https://apps.tis.example/', '/generic-upload/api/')).toBe('https://apps.tis.example/generic-upload/api');
    expect(apiBase('https://apps.tis.example', 'https://api.tis.example/generic-upload/api')).toBe(
      'https://api.tis.example/generic-upload/api',
    );
  });
});

describe('answers', () => {
  it('recognises Keycloak login pages, not other HTML or JSON', () => {
    const kc =
      '<html><body><form id="kc-form-login" action="http://kc/realms/lin/login-actions/authenticate?session_code=x"></form></body></html>';
    expect(looksLikeLoginPage(kc, 'text/html;charset=utf-8')).toBe(true);
    expect(looksLikeLoginPage(Buffer.from(kc), undefined)).toBe(true);
    expect(looksLikeLoginPage('<html><body>Bulk Upload</body></html>', 'text/html')).toBe(false);
    expect(looksLikeLoginPage([{ fileName: 'a.xlsx' }], 'application/json')).toBe(false);
  });

  it('keeps error bodies to one short line', () => {
    expect(bodySnippet('File uploaded cannot be processed : Unrecognised upload template\n\tat x.y')).toBe(
      'File uploaded cannot be processed : Unrecognised upload template',
    );
    expect(bodySnippet('x'.repeat(300))).toBe(`${'x'.repeat(160)}… (300 characters)`);
    expect(bodySnippet('')).toBeUndefined();
    expect(bodySnippet({ error: 'invalid_grant' })).toBe('{"error":"invalid_grant"}');
  });
});
