// Keycloak's pages other than its login form: what it may show after the password instead of
// the app (a required action, a second factor, an error page, an identity provider's way in).
// The probe cannot and must not go on from any of them: the login step ends at once with what
// Keycloak asked for, rather than by the login timeout.
//
// Recognised by Keycloak's own page markers (ids of the stock themes: keycloak.v2 of Keycloak
// 26, and the older `keycloak` theme, whose ids are mostly the same) and by the login-actions
// URL `/login-actions/required-action?execution=ALIAS`, which a customised theme keeps too.
// `describeKeycloakPage` is pure (a view of the page in, a description or nothing out);
// `readKeycloakPage` reads that view from a live page; `keycloakPageShown` waits for one.
import type { Page } from 'playwright-core';
import { capText } from '../src/model/text.ts';
import { sleep } from '../src/model/wait.ts';

/**
 * One marker: an element only that page has. `action` is the required action its page stands
 * for (for a page reached without the login-actions URL). The first marker present that names
 * an action decides, so the order matters.
 */
interface Marker {
  css: string;
  action?: string;
}

/** The markers looked for, by name. Ids from Keycloak 26's themes; older themes' where they differ. */
export const KEYCLOAK_MARKERS = {
  // Required actions.
  passwordUpdate: { css: '#kc-passwd-update-form', action: 'UPDATE_PASSWORD' },
  totpSetup: { css: '#kc-totp-settings-form, #kc-totp-settings', action: 'CONFIGURE_TOTP' },
  // Before terms: the delete-credential page has the same Accept button (#kc-accept).
  deleteCredential: { css: '#kc-delete-text', action: 'delete_credential' },
  // Older themes: #kc-terms-text; Keycloak 26: only its Accept/Decline buttons.
  terms: { css: '#kc-terms-text, #kc-accept', action: 'TERMS_AND_CONDITIONS' },
  verifyEmail: { css: '#kc-verify-email-form', action: 'VERIFY_EMAIL' },
  updateProfile: { css: '#kc-update-profile-form', action: 'UPDATE_PROFILE' },
  updateEmail: { css: '#kc-update-email-form', action: 'UPDATE_EMAIL' },
  webauthnRegister: { css: '#registerWebAuthn, #kc-webauthn-settings-form', action: 'webauthn-register' },
  recoveryCodes: { css: '#kc-recovery-codes-settings-form', action: 'CONFIGURE_RECOVERY_AUTHN_CODES' },
  deleteAccount: { css: '#kc-deleteaccount-form', action: 'delete_account' },
  // A second factor asked at login.
  otpLogin: { css: '#kc-otp-login-form' },
  webauthnLogin: { css: '#webauth, #kc-form-webauthn' },
  recoveryCodeLogin: { css: '#kc-recovery-code-login-form' },
  chooseAuthenticator: { css: '#kc-select-credential-form' },
  // Identity providers: linking an account on first broker login.
  identityProviderLink: { css: '#kc-idp-review-profile-form, #linkAccount, #confirmOverride, #kc-link-text' },
  // Consent to the client's scopes.
  consent: { css: '#kc-oauth' },
  // Pages that only tell something.
  error: { css: '#kc-error-message' },
  expired: { css: '#loginRestartLink' },
  info: { css: '#kc-info-message' },
} as const satisfies Record<string, Marker>;

export type KeycloakMarker = keyof typeof KEYCLOAK_MARKERS;
const MARKER_NAMES = Object.keys(KEYCLOAK_MARKERS) as KeycloakMarker[];

/** Identity providers offered beside (or instead of) the login form: Keycloak 26 and older themes. */
const PROVIDER_LINKS = '#kc-social-providers a, #kc-social-providers button';

/** What a required action asks of the user, by its alias (Keycloak's provider ids; older aliases in lower case). */
const REQUIRED_ACTIONS: Record<string, string> = {
  UPDATE_PASSWORD: 'update the password',
  CONFIGURE_TOTP: 'configure OTP (a one-time code app)',
  TERMS_AND_CONDITIONS: 'accept the terms and conditions',
  VERIFY_EMAIL: 'verify the e-mail address',
  UPDATE_PROFILE: 'update the profile',
  VERIFY_PROFILE: 'update the profile (it is incomplete)',
  UPDATE_EMAIL: 'update the e-mail address',
  'WEBAUTHN-REGISTER': 'register a security key (WebAuthn)',
  'WEBAUTHN-REGISTER-PASSWORDLESS': 'register a passkey (WebAuthn passwordless)',
  CONFIGURE_RECOVERY_AUTHN_CODES: 'set up recovery codes',
  DELETE_ACCOUNT: 'confirm deleting the account',
  DELETE_CREDENTIAL: 'confirm deleting a credential',
  UPDATE_USER_LOCALE: 'choose a language',
  IDP_LINK: "link an identity provider's account",
};

/** Where a page is, seen from the target: Keycloak's, the app's, or neither. */
export type PageWhere = 'keycloak' | 'app' | 'elsewhere';

/** What the probe sees of a page: enough to tell which Keycloak page it is. Texts are the target's (untrusted). */
export interface KeycloakPageView {
  /** The page's URL, query included (`execution` names the required action). */
  url: string;
  where: PageWhere;
  /** The document has been parsed (readyState is not "loading"). */
  loaded: boolean;
  /** The configured login form (its username field) is on the page (read by `readKeycloakPage` only where it decides). */
  loginForm: boolean;
  /** Markers present on the page. */
  markers: readonly KeycloakMarker[];
  /** The error page's text (#kc-error-message), the info page's, the identity providers' names. */
  texts?: { error?: string; info?: string; providers?: readonly string[] };
  /** The page has stayed at this URL, loaded, long enough not to be a hop of a redirect chain. */
  settled?: boolean;
}

/** A text from the page for a message: whitespace collapsed, capped. */
function pageText(text: string | undefined, maxText: number): string | undefined {
  const t = text?.replace(/\s+/g, ' ').trim();
  return t ? capText(t, maxText) : undefined;
}

/** The required action an URL names (`/login-actions/required-action?execution=ALIAS`), as sent or capped. */
function requiredActionOf(url: URL): string | undefined {
  if (!url.pathname.includes('/login-actions/required-action')) return undefined;
  const execution = url.searchParams.get('execution') ?? '';
  // Aliases are short identifiers; anything else is shown capped, never trusted.
  return /^[A-Za-z0-9_-]{1,64}$/.test(execution) ? execution : capText(execution, 64) || 'unnamed';
}

/**
 * What a Keycloak page asks for, in one line, or undefined when it is no such page: the login
 * form itself, the app, or a page that is still loading or on its way elsewhere.
 */
export function describeKeycloakPage(view: KeycloakPageView, maxText: number): string | undefined {
  if (view.where === 'app') return undefined;
  let url: URL;
  try {
    url = new URL(view.url);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const has = (m: KeycloakMarker) => view.markers.includes(m);
  const error = pageText(view.texts?.error, maxText);

  if (view.where === 'keycloak' || view.markers.length > 0) {
    // A required action: by the login-actions URL, else by the form that stands for one.
    const fromUrl = requiredActionOf(url);
    const fromMarker = view.markers.map((m) => (KEYCLOAK_MARKERS[m] as Marker).action).find((a) => a !== undefined);
    const action = fromUrl ?? fromMarker;
    if (action && (fromMarker || view.loaded)) {
      const known = REQUIRED_ACTIONS[action.toUpperCase()];
      const what = known ? `${known} (required action ${action})` : `complete the required action ${action}`;
      // Its page may show an error instead of its form (VERIFY_EMAIL when no e-mail can be sent).
      const shown = error ? `; its page shows an error: ${error}` : '';
      return `Keycloak asks the test user to ${what} before the app${shown}`;
    }
    if (has('otpLogin')) return 'Keycloak asks the test user for a one-time code (OTP) before the app';
    if (has('webauthnLogin')) return 'Keycloak asks the test user for a security key (WebAuthn) before the app';
    if (has('recoveryCodeLogin')) return 'Keycloak asks the test user for a recovery code before the app';
    if (has('chooseAuthenticator')) return 'Keycloak asks the test user to choose a second factor before the app';
    if (has('identityProviderLink') || (view.where === 'keycloak' && /\/first-broker-login\b/.test(url.pathname) && view.loaded)) {
      return "Keycloak asks the test user to link an identity provider's account (first broker login) before the app";
    }
    if (has('consent')) return 'Keycloak asks the test user to grant the app access (consent) before the app';
    if (has('error')) return `Keycloak shows an error page: ${error ?? '(no text)'}`;
    if (has('expired')) return 'Keycloak says the login page has expired';
    if (has('info')) return `Keycloak shows a message instead of the app: ${pageText(view.texts?.info, maxText) ?? '(no text)'}`;
    const providers = (view.texts?.providers ?? []).map((p) => pageText(p, 80)).filter((p) => p !== undefined);
    if (view.where === 'keycloak' && view.loaded && !view.loginForm && providers.length > 0) {
      return `Keycloak offers an identity provider (${capText(providers.join(', '), maxText)}) instead of its login form`;
    }
    return undefined;
  }
  // Neither Keycloak nor the app: an identity provider's own page, once the browser stays there.
  if (view.settled && view.loaded && !view.loginForm) {
    return `the login went to ${capText(url.origin, 200)}, neither the app nor Keycloak (an identity provider?)`;
  }
  return undefined;
}

export interface ReadOptions {
  /** Where a URL is, seen from the target (the run's HTTP log knows the origins). */
  where(url: string): PageWhere;
  /** Whether the configured login form is on the page now. */
  loginFormShown(): Promise<boolean>;
}

/** Reads the view of the page as it is now; throws while the page navigates (read again). */
export async function readKeycloakPage(page: Page, opts: ReadOptions): Promise<KeycloakPageView> {
  const url = page.url();
  const where = opts.where(url);
  if (where === 'app') return { url, where, loaded: true, loginForm: false, markers: [] };
  const markers = Object.fromEntries(MARKER_NAMES.map((m) => [m, KEYCLOAK_MARKERS[m].css]));
  const seen = await page.evaluate(
    ({ markers, providers }) => {
      const text = (css: string) => (document.querySelector(css) as HTMLElement | null)?.innerText ?? undefined;
      return {
        loaded: document.readyState !== 'loading',
        present: Object.entries(markers)
          .filter(([, css]) => document.querySelector(css) !== null)
          .map(([name]) => name),
        error: text('#kc-error-message'),
        info: text('#kc-info-message'),
        providers: Array.from(document.querySelectorAll<HTMLElement>(providers))
          .slice(0, 10)
          .map((e) => e.innerText.slice(0, 200)),
      };
    },
    { markers, providers: PROVIDER_LINKS },
  );
  const texts: NonNullable<KeycloakPageView['texts']> = { providers: seen.providers };
  if (seen.error !== undefined) texts.error = seen.error.slice(0, 10_000);
  if (seen.info !== undefined) texts.info = seen.info.slice(0, 10_000);
  // The login form decides only between providers and the form, and for a page elsewhere: looked for there alone.
  const formDecides = seen.loaded && (where === 'keycloak' ? seen.providers.length > 0 : seen.present.length === 0);
  return {
    url,
    where,
    loaded: seen.loaded,
    loginForm: formDecides && (await opts.loginFormShown()),
    markers: MARKER_NAMES.filter((m) => seen.present.includes(m)),
    texts,
  };
}

/** How often the page is looked at while the login is under way. */
const LOOK_EVERY_MS = 200;
/** How long a page elsewhere must stay (loaded, same URL) before it counts as the login's end. */
const SETTLE_MS = 1500;

export interface WatchOptions extends ReadOptions {
  maxText: number;
  /** Ends the watch (the login step ended, one way or another). */
  signal: AbortSignal;
}

/**
 * Resolves with the description of the first Keycloak page (other than the login form) that the
 * page shows; rejects only when `signal` aborts. Looks every 200 ms: cheap (one read of the
 * page's ids), and as fast as any event would be on pages that arrive by redirect.
 */
export async function keycloakPageShown(page: Page, opts: WatchOptions): Promise<string> {
  let lastUrl = '';
  let sinceMs = 0;
  for (;;) {
    const view = await readKeycloakPage(page, opts).catch(() => undefined);
    if (view) {
      const now = performance.now();
      if (view.url !== lastUrl || !view.loaded) {
        lastUrl = view.loaded ? view.url : '';
        sinceMs = now;
      }
      const what = describeKeycloakPage({ ...view, settled: view.where === 'elsewhere' && now - sinceMs >= SETTLE_MS }, opts.maxText);
      if (what) return what;
    }
    await sleep(LOOK_EVERY_MS, opts.signal);
  }
}

/** The description of the page as it is now, or undefined (also when it cannot be read). */
export async function describePageNow(page: Page, opts: ReadOptions & { maxText: number }): Promise<string | undefined> {
  const view = await readKeycloakPage(page, opts).catch(() => undefined);
  return view && describeKeycloakPage(view, opts.maxText);
}
