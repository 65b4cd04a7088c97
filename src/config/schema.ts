// The probe's configuration file, validated with zod. One file holds several targets
// (box, stage, prod ...). Secrets never sit in it as plain text unless the operator insists:
// a secret is `{ env: NAME }`, `{ file: PATH }` or (for the box and tests) a literal string.
import { z } from 'zod';
import { PROBE_NAMES } from '../model/result.ts';
import { parseNoProxyEntry } from './no-proxy.ts';
import { selectorField } from './selector.ts';

const DURATION_TEXT = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_SECONDS = { ms: 0.001, s: 1, m: 60, h: 3600 } as const;

/** Seconds as a person would write them in the file: 200ms, 30s, 5m, 6h. */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  if (seconds < 1) return `${Number((seconds * 1000).toPrecision(6))}ms`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${Number(seconds.toPrecision(6))}s`;
}

/**
 * "30s", "2m", "1h", "250ms" or a number of seconds; parsed to seconds and held to
 * [minSeconds, maxSeconds]. Every duration is bounded: past ~24.8 days Node's timers fire at
 * once, a near-zero timeout means no time at all, and a near-zero poll interval busy-polls.
 */
export function duration(minSeconds: number, maxSeconds: number) {
  const expected = `a duration such as 30s, 2m or 1h (between ${formatDuration(minSeconds)} and ${formatDuration(maxSeconds)})`;
  // One custom check rather than a union, so every bad value gets the same message with the bounds.
  return z
    .custom<number | string>((v) => typeof v === 'number' || typeof v === 'string', expected)
    .transform((v, ctx) => {
      const seconds = toSeconds(v);
      if (seconds === undefined || !Number.isFinite(seconds)) {
        ctx.addIssue({ code: 'custom', message: expected });
        return z.NEVER;
      }
      if (seconds < minSeconds || seconds > maxSeconds) {
        ctx.addIssue({
          code: 'custom',
          message: `must be between ${formatDuration(minSeconds)} and ${formatDuration(maxSeconds)} (got ${typeof v === 'string' ? v : `${v} s`})`,
        });
        return z.NEVER;
      }
      return seconds;
    });
}

function toSeconds(v: number | string): number | undefined {
  if (typeof v === 'number') return v;
  const m = DURATION_TEXT.exec(v);
  if (!m) return undefined;
  return Number(m[1]) * UNIT_SECONDS[m[2] as keyof typeof UNIT_SECONDS];
}

/** A step of a journey or one HTTP request. */
const stepTimeout = duration(1, 3600);

/** "512KiB", "1MiB", "64kB", "2MB" or a number of bytes; parsed to bytes. */
export const byteSize = z
  .union([
    z.number().int().positive(),
    z.string().regex(/^\d+(\.\d+)?\s*(B|kB|KB|KiB|MB|MiB)$/, 'a size such as 512KiB, 1MiB or a number of bytes'),
  ])
  .transform((v) => {
    if (typeof v === 'number') return v;
    const m = /^(\d+(?:\.\d+)?)\s*(B|kB|KB|KiB|MB|MiB)$/.exec(v)!;
    const unit = { B: 1, kB: 1000, KB: 1000, KiB: 1024, MB: 1_000_000, MiB: 1_048_576 }[m[2] as 'B'];
    return Math.round(Number(m[1]) * unit);
  })
  .refine((n) => n >= 1024 && n <= 64 * 1_048_576, 'between 1KiB and 64MiB');

export const secret = z.union([
  z.string().min(1),
  z.object({ env: z.string().min(1) }).strict(),
  z.object({ file: z.string().min(1) }).strict(),
]);
export type SecretRef = z.infer<typeof secret>;

/** How often a probe runs against a target. */
const scheduleInterval = duration(1, 24 * 3600);
/** A light run's interval, or false for no light runs. */
const lightInterval = z.union([z.literal(false), scheduleInterval]);

const urlString = z.url({ protocol: /^https?$/ });

/**
 * Where the probe finds things on the pages: each field is a selector in the syntax of
 * src/config/selector.ts (role=, label=, text=, css= or CSS), or a list of them (the first that
 * matches is used). The defaults are role- and text-based, so a reasonable Angular page and
 * Keycloak's own login page satisfy them; the stand-in's ids follow as fallbacks.
 */
export const selectorsSchema = z
  .object({
    // Keycloak login page (stock themes; HEE runs a customised one).
    loginUsername: selectorField(['role=textbox[name=/user ?name|e-?mail/i]', '#username']),
    loginPassword: selectorField(['role=textbox[name=/password/i]', '#password', 'input[type=password]']),
    loginSubmit: selectorField(['role=button[name=/^(sign|log) ?in$/i]', '#kc-login']),
    /** Any element that shows a login error (wrong password, account disabled). */
    loginError: selectorField(['#input-error, .kc-feedback-text, #kc-error-message, .pf-m-danger, .alert-error']),
    // The Bulk Upload page.
    /** Present once the app has rendered for a logged-in user. */
    appReady: selectorField(['role=table', 'role=grid', '#uploads-table']),
    /** A file input needs no name or label to be set: CSS is the robust way to it. */
    fileInput: selectorField(['input[type=file]']),
    uploadButton: selectorField(['role=button[name=/^upload\\b/i]', '#upload-button']),
    uploadsTable: selectorField(['role=table', 'role=grid', '#uploads-table']),
    /** A row of the uploads table; `{fileName}` is replaced by the canary's file name. */
    uploadRow: selectorField(['role=row[name={fileName}]', '#uploads-table tbody tr:has(td:text-is("{fileName}"))']),
    /** Inside the row: the link that downloads the error workbook. */
    errorWorkbookLink: selectorField(['role=link[name=/download|error/i]', 'role=button[name=/download|error/i]', 'a.error-workbook']),
    /** Optional refresh control: clicked when the page has one. */
    refreshButton: selectorField(['role=button[name=/refresh|reload/i]', '#refresh-button']),
  })
  .strict();

export const columnsSchema = z
  .object({
    /** Header texts of the uploads table, used to find each cell by column. */
    fileName: z.string().default('File name'),
    status: z.string().default('Status'),
    errors: z.string().default('Errors'),
    imported: z.string().default('Imported'),
  })
  .strict();

export const timeoutsSchema = z
  .object({
    login: stepTimeout.default(30),
    openPage: stepTimeout.default(30),
    listUploads: stepTimeout.default(15),
    upload: stepTimeout.default(30),
    /** Upload → IN_PROGRESS (queue wait). */
    importStarted: stepTimeout.default(60),
    /** IN_PROGRESS → final status. */
    importFinished: stepTimeout.default(60),
    checkResult: stepTimeout.default(30),
    /** One HTTP request of the API probe. */
    request: stepTimeout.default(15),
    /** The whole run; nothing outlives it. */
    run: duration(5, 6 * 3600).default(180),
  })
  .strict();

/**
 * Everything read from the target is bounded: an answer larger than its limit is refused with
 * reason bad_answer before it is parsed, and target-supplied texts are cut to `text` characters.
 */
export const limitsSchema = z
  .object({
    /** One page of GET /status (JSON). */
    statusList: byteSize.default(1_048_576),
    /** The answer to POST /file (the new upload's JSON). */
    uploadAnswer: byteSize.default(65_536),
    /** Keycloak's token answer. */
    tokenAnswer: byteSize.default(65_536),
    /** The error workbook (xlsx); the canary's is a few KiB. */
    errorWorkbook: byteSize.default(1_048_576),
    /** Longest text from the target kept in results, logs and reports (characters). */
    text: z.number().int().min(40).max(10_000).default(300),
  })
  .strict();

export const canarySchema = z
  .object({
    /** A numeric TIS person id that does not exist. */
    personId: z.number().int().positive().default(999999999),
    /** File name prefix: every run leaves one row in the upload list that all admins see. */
    filePrefix: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,60}$/, 'letters, digits and hyphens only (older releases drop "." and "_" when searching uploads)')
      .default('synthetic-probe'),
    /** The healthy ending's reason text; `{personId}` is replaced. */
    expectedReason: z.string().default('Person with id {personId} does not exist'),
    /** How often the import's status is polled. */
    pollInterval: duration(0.2, 300).default(1),
  })
  .strict();

/** How the API probe gets its token (the browser probe always signs in on the login page). */
export const TOKEN_GRANTS = ['password', 'client_credentials'] as const;
export type TokenGrant = (typeof TOKEN_GRANTS)[number];

export const keycloakSchema = z
  .object({
    /** Keycloak base URL; older Keycloak needs the /auth prefix here. */
    url: urlString,
    realm: z.string().default('lin'),
    /**
     * `password`: the test user's credentials, through a public client with Direct Access Grants
     * (`tokenClientId`). `client_credentials`: a confidential client's own service account
     * (`clientId`, `clientSecret`), for realms that allow no password grants.
     */
    grant: z.enum(TOKEN_GRANTS).default('password'),
    /** Public client used for the API probe's password grant. */
    tokenClientId: z.string().min(1).default('api-tokens'),
    /** grant client_credentials: the confidential client, with service accounts enabled. */
    clientId: z.string().min(1).optional(),
    /** grant client_credentials: that client's secret ({ env: NAME } or { file: PATH }). */
    clientSecret: secret.optional(),
  })
  .strict()
  .superRefine((kc, ctx) => {
    if (kc.grant === 'client_credentials') {
      if (kc.clientId === undefined)
        ctx.addIssue({ code: 'custom', path: ['clientId'], message: "grant client_credentials needs the confidential client's id" });
      if (kc.clientSecret === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['clientSecret'],
          message: "grant client_credentials needs the client's secret ({ env: NAME } or { file: PATH })",
        });
      return;
    }
    for (const field of ['clientId', 'clientSecret'] as const) {
      if (kc[field] !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: 'only with grant: client_credentials (the password grant uses tokenClientId, a public client)',
        });
    }
  });
export type KeycloakConfig = z.infer<typeof keycloakSchema>;

/**
 * A failed run's follow-up checks (docs/probes.md#diagnosis): where the probe asks Profile and
 * TCS. Their defaults are the app's origin with /profile and /tcs, as TIS's front door routes them.
 */
export const diagnosisSchema = z
  .object({
    /** false: no follow-up checks, failed runs get no diagnosis. */
    enabled: z.boolean().default(true),
    /** Profile's base, under which `/api/userinfo` answers. */
    profileUrl: urlString.optional(),
    /** TCS's base, under which `/api/people/{id}` answers. */
    tcsUrl: urlString.optional(),
  })
  .strict();

export const targetSchema = z
  .object({
    /** Origin serving the admin UI and (behind the same front door) the API, e.g. https://apps.tis.nhs.uk */
    appUrl: urlString,
    uploadsPath: z.string().startsWith('/').default('/admin/uploads'),
    /** API base, absolute or relative to appUrl. */
    apiPath: z.string().default('/generic-upload/api'),
    keycloak: keycloakSchema,
    credentials: z.object({ username: secret, password: secret }).strict(),
    probes: z.array(z.enum(PROBE_NAMES)).min(1).optional(),
    /** Full runs' interval for this target (default: schedule.interval). */
    interval: scheduleInterval.optional(),
    /** Light runs' interval for this target, or false (default: schedule.light). */
    light: lightInterval.optional(),
    canary: canarySchema.prefault({}),
    selectors: selectorsSchema.prefault({}),
    columns: columnsSchema.prefault({}),
    timeouts: timeoutsSchema.prefault({}),
    limits: limitsSchema.prefault({}),
    diagnosis: diagnosisSchema.prefault({}),
  })
  .strict();

/**
 * Runs at once per probe by default: two browser runs keep two cores busy without starving the
 * service's own HTTP answers; API runs mostly wait on the network.
 */
export const DEFAULT_MAX_CONCURRENT_RUNS = { browser: 2, api: 8 } as const;

/**
 * The organisation's forward proxy (src/config/network.ts): overrides HTTPS_PROXY, HTTP_PROXY and
 * NO_PROXY for both probes; `false`: no proxy whatever the environment says.
 */
export const proxySchema = z.union([
  z.literal(false),
  z
    .object({
      /** http://host:port or https://host:port, for http:// and https:// targets alike; no credentials in it. */
      url: urlString.refine((u) => !/^[a-z]+:\/\/[^/?#]*@/i.test(u), 'no credentials in the URL: use proxy.username and proxy.password'),
      username: secret.optional(),
      password: secret.optional(),
      /** Hosts, domains (and everything under them), IP addresses and ranges reached directly, as NO_PROXY. */
      noProxy: z
        .array(
          z.string().superRefine((entry, ctx) => {
            const r = parseNoProxyEntry(entry);
            if ('error' in r) ctx.addIssue({ code: 'custom', message: `${r.error} (a host, .domain, IP address, CIDR range or *)` });
          }),
        )
        .default([]),
    })
    .strict()
    .refine((p) => p.password === undefined || p.username !== undefined, { message: 'a password needs a username', path: ['username'] }),
]);

/** TLS towards the targets (the API probe; Chromium reads its NSS database, see docs/probes.md). */
export const tlsSchema = z
  .object({
    /** PEM file of extra certificate authorities (a TLS-inspecting proxy's), trusted besides the usual ones. */
    caFile: z.string().min(1).optional(),
  })
  .strict();

export const configSchema = z
  .object({
    /** Probes run for every target unless the target narrows them. */
    probes: z.array(z.enum(PROBE_NAMES)).min(1).default(['browser', 'api']),
    schedule: z
      .object({
        /** Full runs (the whole canary chain: one upload row each) every this often. */
        interval: scheduleInterval.default(900),
        /** Light runs (log in, check the answers, upload nothing) every this often, or false for none. */
        light: lightInterval.default(60),
        /**
         * After a failed run, the job's next run comes this soon when that is sooner than its interval
         * (false: never sooner). One flaky full run then clears within a minute, before any alert's
         * `for:` has passed, and a real outage is confirmed by a second run.
         */
        retry: lightInterval.default(60),
        /** Up to this much random delay is added to each run's start. */
        jitter: duration(0, 3600).default(5),
        /**
         * At most this many runs at once, per probe (each browser run is a Chromium context: CPU
         * and memory). Due runs past the limit wait for a slot, oldest due first.
         */
        maxConcurrentRuns: z
          .object({
            browser: z.number().int().min(1).max(64).default(DEFAULT_MAX_CONCURRENT_RUNS.browser),
            api: z.number().int().min(1).max(256).default(DEFAULT_MAX_CONCURRENT_RUNS.api),
          })
          .strict()
          .default(DEFAULT_MAX_CONCURRENT_RUNS),
      })
      .strict()
      .default({ interval: 900, light: 60, retry: 60, jitter: 5, maxConcurrentRuns: DEFAULT_MAX_CONCURRENT_RUNS }),
    evidence: z
      .object({
        dir: z.string().min(1).default('./evidence'),
        /** How many failed runs' evidence folders are kept (oldest deleted first). */
        keep: z.number().int().min(1).max(10_000).default(50),
      })
      .strict()
      .default({ dir: './evidence', keep: 50 }),
    history: z
      .object({
        file: z.string().min(1).default('./.state/history.jsonl'),
        /** Rotate when the file grows past this many bytes (at most 256 MiB: each file is read whole at start). */
        maxBytes: z.number().int().min(10_000).max(268_435_456).default(5_000_000),
        /** Rotated files kept; every one is read back at start, so a few. */
        keep: z.number().int().min(0).max(100).default(3),
      })
      .strict()
      .default({ file: './.state/history.jsonl', maxBytes: 5_000_000, keep: 3 }),
    server: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(9687),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 9687 }),
    browser: z
      .object({
        /** Chromium to launch; unset: $CHROMIUM_PATH, else /usr/bin/chromium (src/browser/launch.ts). */
        executablePath: z.string().min(1).optional(),
        headless: z.boolean().default(true),
        /** Pause between browser actions, for a person watching a headed run (smoke --slow-mo); unset: none. */
        slowMo: duration(0, 60).optional(),
        /** Keep a Playwright trace for failed runs. */
        trace: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    /** Unset: HTTPS_PROXY / HTTP_PROXY / NO_PROXY from the environment. */
    proxy: proxySchema.optional(),
    tls: tlsSchema.optional(),
    targets: z
      .record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'a target name: lower case letters, digits, - and _'), targetSchema)
      .refine((t) => Object.keys(t).length > 0, 'at least one target'),
  })
  .strict();

/** A validated configuration file, plus what loadConfig adds that is not in the file. */
export type Config = z.infer<typeof configSchema> & {
  /**
   * The values of ONLY the environment variables the file's `{ env: NAME }` secrets name (the real
   * environment over the `.env` beside the file; an unset one is absent), as loadConfig saw them.
   * Plain data, so a spread copy resolves the same secrets. Holds secrets: never written anywhere.
   * Absent on a config not loaded from a file: secrets then resolve against process.env.
   */
  secretEnv?: Readonly<Record<string, string>>;
};
export type TargetConfig = z.infer<typeof targetSchema>;
export type Timeouts = z.infer<typeof timeoutsSchema>;
export type Limits = z.infer<typeof limitsSchema>;
