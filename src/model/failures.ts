// Why a run failed: the fixed set of reasons, and what each most likely means in TIS (shown
// with every failed run; learned from the 2021-03-18 and 2024-10-15 incidents). Which
// observation leads to which reason is the ordered rule table in classify.ts.

/**
 * Why a run failed: a small fixed set, documented in the README with the likely cause in TIS.
 * Metrics pre-create one series per reason, so adding one is a deliberate change.
 */
export const FAILURE_REASONS = [
  'login_failed', // the login page/token endpoint refused the test user (bad credentials, account disabled)
  'login_unavailable', // Keycloak unreachable or answering 5xx
  'auth_rejected', // logged in, but the Bulk Upload API answered 401/403 (stale deployed configuration)
  'server_error', // the app or API answered 5xx
  'network', // connection refused/reset/DNS failure towards the target
  'timeout', // a step or the whole run passed its deadline with no more specific explanation
  'upload_rejected', // POST /file answered 4xx other than 401/403 (validation, template, type)
  'queue_stalled', // the canary stayed PENDING (or IN_PROGRESS) past its deadline
  'import_failed', // the import ended UNEXPECTED_ERROR / INVALID_FILE_FORMAT (service account cannot get a token)
  'import_wrong_result', // COMPLETED, but counts or the error reason text are not the canary's healthy ending
  'canary_imported', // numberImported = 1: the canary id exists, the canary is no longer harmless
  'page_broken', // the page did not behave: reload loop, login page where the app should be, element missing
  'bad_answer', // the target answered, but not in the agreed shape: HTML for JSON, truncated or oversized body, unknown status, missing row, redirect
  'rate_limited', // the target or a proxy before it answered 429 Too Many Requests
  'probe_error', // a fault in the probe itself (bug, browser crash): not evidence against TIS
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export const LIKELY_CAUSE: Record<FailureReason, string> = {
  login_failed:
    "Keycloak refused the probe's test user: account disabled or locked, password changed or expired, user removed from realm or group; or it asks the user for something first (a required action such as update password, OTP or terms; an identity provider)",
  login_unavailable: 'Keycloak is down, restarting or unreachable (or the proxy in front of it answers 5xx)',
  auth_rejected:
    'generic-upload rejects valid tokens: stale deployed configuration (Keycloak/Profile URLs or realm) after a deploy, as on 2024-10-15; or the test user is inactive in Profile',
  server_error: 'generic-upload (or the front proxy) answers 5xx: crashed, out of memory, or a dependency failing',
  network: 'the target does not accept connections: service down, DNS or routing broken',
  timeout: 'the target is too slow: overloaded, out of memory, or a dependency answering slowly',
  upload_rejected: 'generic-upload refused the canary file: template detection or validation changed in a deploy',
  queue_stalled:
    'the import queue is blocked: an older upload keeps failing back to PENDING and is always taken first, or the import task is not running',
  import_failed:
    "the import task cannot get the bulk_upload service account's token (account disabled in Keycloak, as on 2021-03-18) or failed unexpectedly",
  import_wrong_result:
    'the import ran but TCS failed: bulk_upload inactive in Profile (the second half of 2021-03-18) or TCS erroring; read the reason text',
  canary_imported:
    'the canary person id now exists in TIS: the canary is no longer harmless; choose another non-existent id (canary.personId)',
  page_broken:
    'the admin page or API did not behave: reload loop, session lost to the login page, an element or row missing (front-end deploy or changed selectors)',
  bad_answer:
    "the target answered outside generic-upload's or Keycloak's agreed contract: a proxy or error page instead of JSON, a truncated or oversized body, a status value or field shape a new release changed, a redirect; compare the release with the probe's expectations",
  rate_limited:
    'the target or a proxy in front of it throttles requests (429): a rate limit in the proxy or gateway, or too many clients; check the probe interval and the proxy',
  probe_error: 'a fault in the probe itself (bug, browser crash, shutdown): not evidence against TIS',
};
