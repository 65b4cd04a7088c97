// Realm `lin` as imported from fixtures/keycloak/realm-lin.json. The constants here and the
// realm file must agree; test/box/realm.test.ts checks that they do.
export const REALM = 'lin' as const;
export const ADMIN_GROUP = 'BulkUploadAdmin';

/** The probe's own account: a member of BulkUploadAdmin. */
export const TEST_USER = {
  username: 'bulk-upload-probe',
  password: 'Canary-Probe-Secret-7431',
  firstName: 'Synthetic',
  lastName: 'Probe',
} as const;

/** The service account generic-upload's import task logs in as (password grant). */
export const SERVICE_ACCOUNT = {
  username: 'bulk_upload',
  password: 'Bulk-Upload-Service-Secret-2291',
  firstName: 'Bulk',
  lastName: 'Upload',
} as const;

/** Public client of the admin UI page (standard flow + PKCE S256). */
export const UI_CLIENT_ID = 'admin-ui';
/** Public client for password grants (the import task, the API probe). */
export const TOKEN_CLIENT_ID = 'api-tokens';

/**
 * Confidential client (service accounts enabled) for the API probe's client_credentials grant
 * (`keycloak.grant` in the probe's configuration). Its service account's tokens carry
 * `preferred_username` `service-account-<clientId>`; Profile knows that name as an active user
 * with the bulk upload permission, as it knows the test user. The real TIS accepts such a token
 * only once an operator has made the same Profile user (see docs/probes.md).
 */
export const PROBE_CLIENT = {
  clientId: 'bulk-upload-probe-client',
  secret: 'Probe-Client-Secret-5810',
  serviceAccount: 'service-account-bulk-upload-probe-client',
} as const;
