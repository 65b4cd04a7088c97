// Keycloak's pages other than the login form, told from what the probe sees of them: the URL,
// which of Keycloak's own page markers are present, and the page's texts. The views below are
// the pages Keycloak 26.7 of TIS in a box really serves (ids read from them), and those of older
// themes; test/probes/keycloak-pages.test.ts runs the browser probe through the real ones.
import { describe, expect, it } from 'vitest';
import { describeKeycloakPage, type KeycloakPageView } from '../../../probes/keycloak-pages.ts';

const KC = 'http://127.0.0.1:18081/realms/lin';
const action = (alias: string) =>
  `${KC}/login-actions/required-action?execution=${alias}&client_id=admin-ui&tab_id=ai8HU8RMB8o&client_data=eyJydSI6Imh0dHAi`;

function view(v: Partial<KeycloakPageView>): KeycloakPageView {
  return { url: `${KC}/login-actions/authenticate?session_code=x`, where: 'keycloak', loaded: true, loginForm: false, markers: [], ...v };
}
const describePage = (v: Partial<KeycloakPageView>, max = 300) => describeKeycloakPage(view(v), max);

describe('describeKeycloakPage', () => {
  it.each([
    ['UPDATE_PASSWORD', 'passwordUpdate', 'update the password'],
    ['CONFIGURE_TOTP', 'totpSetup', 'configure OTP'],
    ['TERMS_AND_CONDITIONS', 'terms', 'accept the terms'],
    ['VERIFY_EMAIL', 'verifyEmail', 'verify the e-mail address'],
    ['UPDATE_PROFILE', 'updateProfile', 'update the profile'],
  ] as const)(
    'required action %s: by its URL and its form, by the URL alone (a customised theme), by the form alone',
    (alias, marker, what) => {
      const expected = `Keycloak asks the test user to ${what}`;
      const both = describePage({ url: action(alias), markers: [marker] });
      expect(both).toContain(expected);
      expect(both).toContain(`(required action ${alias}) before the app`);
      expect(describePage({ url: action(alias) })).toContain(`${expected}`);
      expect(describePage({ url: action(alias) })).toContain(`(required action ${alias})`);
      expect(describePage({ markers: [marker] })).toContain(`(required action ${alias})`);
    },
  );

  it('says it exactly for UPDATE_PASSWORD', () => {
    expect(describePage({ url: action('UPDATE_PASSWORD'), markers: ['passwordUpdate'] })).toBe(
      'Keycloak asks the test user to update the password (required action UPDATE_PASSWORD) before the app',
    );
  });

  it("names an older Keycloak's lower-case alias and an action it does not know, and caps a hostile one", () => {
    expect(describePage({ url: action('terms_and_conditions'), markers: ['terms'] })).toContain(
      'accept the terms and conditions (required action terms_and_conditions)',
    );
    expect(describePage({ url: action('acme-sms-otp') })).toBe(
      'Keycloak asks the test user to complete the required action acme-sms-otp before the app',
    );
    const hostile = describePage({ url: action(encodeURIComponent(`<script>${'x'.repeat(500)}`)) })!;
    expect(hostile.length).toBeLessThan(200);
    expect(describePage({ url: `${KC}/login-actions/required-action?client_id=admin-ui` })).toContain('the required action unnamed');
  });

  it('waits for a required-action URL to load before judging it, unless its form is already there', () => {
    expect(describePage({ url: action('UPDATE_PASSWORD'), loaded: false })).toBeUndefined();
    expect(describePage({ url: action('UPDATE_PASSWORD'), loaded: false, markers: ['passwordUpdate'] })).toContain('update the password');
  });

  it('a required action whose page shows an error says both (VERIFY_EMAIL when Keycloak cannot send mail)', () => {
    expect(
      describePage({
        url: action('VERIFY_EMAIL'),
        markers: ['error'],
        texts: { error: '\n  Failed to send email, please try again later.\n' },
      }),
    ).toBe(
      'Keycloak asks the test user to verify the e-mail address (required action VERIFY_EMAIL) before the app; its page shows an error: Failed to send email, please try again later.',
    );
  });

  it('delete-credential is not taken for terms, although both have an Accept button', () => {
    expect(describePage({ markers: ['deleteCredential', 'terms'] })).toContain('required action delete_credential');
  });

  it('a second factor, consent, first broker login', () => {
    expect(describePage({ markers: ['otpLogin'] })).toBe('Keycloak asks the test user for a one-time code (OTP) before the app');
    expect(describePage({ markers: ['webauthnLogin'] })).toContain('security key');
    expect(describePage({ markers: ['chooseAuthenticator'] })).toContain('second factor');
    expect(describePage({ markers: ['consent'] })).toContain('grant the app access (consent)');
    expect(describePage({ markers: ['identityProviderLink'] })).toContain("link an identity provider's account");
    expect(describePage({ url: `${KC}/login-actions/first-broker-login?client_id=admin-ui` })).toContain('first broker login');
  });

  it("an error page: its text, collapsed and capped (the target's text is untrusted)", () => {
    expect(describePage({ markers: ['error'], texts: { error: '  Invalid parameter:\n redirect_uri ' } })).toBe(
      'Keycloak shows an error page: Invalid parameter: redirect_uri',
    );
    const long = describePage({ markers: ['error'], texts: { error: 'x'.repeat(5000) } }, 100)!;
    expect(long).toContain('(5000 characters)');
    expect(long.length).toBeLessThan(200);
    expect(describePage({ markers: ['error'] })).toBe('Keycloak shows an error page: (no text)');
  });

  it('an expired login page and an info page', () => {
    expect(describePage({ markers: ['expired'] })).toBe('Keycloak says the login page has expired');
    expect(describePage({ markers: ['info'], texts: { info: 'Your account has been updated.' } })).toBe(
      'Keycloak shows a message instead of the app: Your account has been updated.',
    );
  });

  it('identity providers instead of the login form; beside it they are no reason to stop', () => {
    expect(
      describePage({ url: `${KC}/protocol/openid-connect/auth?client_id=admin-ui`, texts: { providers: ['NHS Login', ' Microsoft\n'] } }),
    ).toBe('Keycloak offers an identity provider (NHS Login, Microsoft) instead of its login form');
    expect(describePage({ loginForm: true, texts: { providers: ['NHS Login'] } })).toBeUndefined();
  });

  it('a page elsewhere ends the login only once the browser stays there, without a login form', () => {
    const idp = { url: 'https://login.idp.example/authorize?client_id=x', where: 'elsewhere' as const };
    expect(describePage({ ...idp, settled: false })).toBeUndefined();
    expect(describePage({ ...idp, settled: true, loginForm: true })).toBeUndefined();
    expect(describePage({ ...idp, settled: true })).toBe(
      'the login went to https://login.idp.example, neither the app nor Keycloak (an identity provider?)',
    );
    // Keycloak under another host name than configured still shows its own markers.
    expect(describePage({ url: 'https://auth.other.example/realms/lin/x', where: 'elsewhere', markers: ['totpSetup'] })).toContain(
      'configure OTP',
    );
  });

  it('the login form, a wrong password, the app and odd URLs are no such page', () => {
    expect(describePage({ url: `${KC}/protocol/openid-connect/auth?client_id=admin-ui`, loginForm: true })).toBeUndefined();
    expect(describePage({ loginForm: true })).toBeUndefined(); // re-shown with "Invalid username or password."
    expect(describePage({ url: 'http://127.0.0.1:18080/admin/uploads', where: 'app', markers: ['error'] })).toBeUndefined();
    expect(describePage({ url: 'about:blank', where: 'elsewhere', settled: true })).toBeUndefined();
    expect(describePage({ url: 'not a url' })).toBeUndefined();
  });
});
