// What each failure reason most likely means in TIS: shown with every failed run and in
// docs/probes.md. Learned from the 2021-03-18 and 2024-10-15 incidents.
import type { FailureReason } from './result.ts';

export const LIKELY_CAUSE: Record<FailureReason, string> = {
  login_failed:
    "Keycloak refused the probe's test user: account disabled or locked, password changed or expired, user removed from realm or group",
  login_unavailable: 'Keycloak is down, restarting or unreachable (or the proxy in front of it answers 5xx)',
  auth_rejected:
    'generic-upload rejects valid tokens: stale deployed configuration (Keycloak/Profile URLs or realm) after a deploy, as on 2024-10-15; or the test user is inactive in Profile',
  server_error: 'generic-upload (or the front proxy) answers 5xx: crashed, out of memory, or a dependency failing',
  network: 'the target does not accept connections: service down, DNS or routing broken',
  timeout: 'the target is too slow: overloaded, out of memory, or a dependency answering slowly',
  upload_rejected: 'generic-upload refused the canary file: template detection or validation changed in a deploy',
  queue_stalled:
    "the import queue is blocked: an older upload keeps failing back to PENDING and is always taken first, or the import task is not running",
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
