// The API journey: what the admin page does, straight against the API.
//   login           password grant at Keycloak's token endpoint (or client_credentials, keycloak.grant)
//   list_uploads    GET /status?page=0&size=1
//   upload          POST /file with the canary
//   import_started  poll /status until the canary leaves PENDING
//   import_finished poll /status until it reaches a final status
//   check_result    GET /uploadedFileErrors/{logId}, read `Reason for import failure`
import { canarySearchTerm, isCanaryName } from '../src/canary.ts';
import type { RecentUploads } from '../src/model/result.ts';
import type { Journey } from '../src/journey/journey.ts';
import { plainSession, type Probe } from '../src/journey/probe.ts';
import { JourneyStop } from '../src/model/stop.ts';
import { isFinalStatus, outcomeOf, UPLOAD_OUTCOMES, type Upload, type UploadOutcome, type UploadSnapshot } from '../src/model/upload.ts';
import { sleep } from '../src/model/wait.ts';
import { apiBase, GenericUploadApi } from '../src/target/generic-upload.ts';
import type { Exchange } from '../src/target/http.ts';
import { TokenSession, type KeycloakTarget, type TokenLogin } from '../src/target/keycloak.ts';
import { checkEnding, expectKnownStatus, hasErrorWorkbook, noteReasons } from './ending.ts';

/**
 * The API probe holds nothing open between calls: its session runs the journey, and gives a
 * failed run's follow-ups the token session's access token (renewed when about to expire).
 */
export const apiProbe: Probe = {
  open: async (j) => {
    const held: HeldSession = {};
    return {
      ...plainSession(() => apiJourney(j, held)),
      userToken: async (ex) => (held.session ? { token: await held.session.accessToken(ex), source: 'api-session' } : undefined),
    };
  },
};

/** The journey's token session, once logged in. */
export interface HeldSession {
  session?: TokenSession;
}

export async function apiJourney(j: Journey, held: HeldSession = {}): Promise<void> {
  const api = await j.step('login', (signal) => login(j, signal, held));
  if (j.depth === 'light') {
    // Light: the API answers the user's token, and real users' recent uploads are counted.
    const recent = await j.step('list_uploads', (signal) => api.listUploads(exchange(j, signal), RECENT_PAGE));
    j.seen.recentUploads = countRecent(recent, j.target.canary.filePrefix);
    return;
  }
  await j.step('list_uploads', (signal) => api.listUploads(exchange(j, signal), { page: 0, size: 1 }));
  const upload = await j.step('upload', (signal) => uploadCanary(j, api, signal));
  await j.step('import_started', (signal) => waitForCanary(j, api, upload, (s) => s !== 'PENDING', signal));
  j.seen.startedAt = Date.now();
  await j.step('import_finished', (signal) => waitForCanary(j, api, upload, isFinalStatus, signal));
  j.seen.finishedAt = Date.now();
  await j.step('check_result', (signal) => checkResult(j, api, upload, signal));
}

/** The page of recent uploads a light run reads: what the admin page shows first, newest first. */
const RECENT_PAGE = { page: 0, size: 50, sort: 'uploadedDate,desc' };

/** Real users' recent uploads by outcome (the probe's own canaries left out): counts and ids only. */
export function countRecent(uploads: Upload[], canaryPrefix: string): RecentUploads {
  const byOutcome = Object.fromEntries(UPLOAD_OUTCOMES.map((o) => [o, 0])) as Record<UploadOutcome, number>;
  const ended: RecentUploads['ended'] = [];
  let listed = 0;
  for (const u of uploads) {
    if (isCanaryName(canaryPrefix, u.fileName)) continue;
    listed++;
    const outcome = outcomeOf(u);
    byOutcome[outcome]++;
    if (outcome !== 'not_ended') ended.push({ id: String(u.logId), outcome });
  }
  return { listed, byOutcome, ended };
}

function exchange(j: Journey, signal: AbortSignal): Exchange {
  return { log: j.http, timeoutSeconds: j.target.timeouts.request, signal, network: j.network };
}

/** The password grant as the test user (a public client), or client_credentials as a confidential client's service account. */
function tokenLogin(j: Journey): { kc: KeycloakTarget; login: TokenLogin } {
  const kc = j.target.keycloak;
  if (kc.grant === 'client_credentials') {
    // The configuration guarantees both (src/config/schema.ts); resolveCredentials resolved the secret.
    if (kc.clientId === undefined || j.credentials.clientSecret === undefined)
      throw new Error('grant client_credentials without clientId and clientSecret');
    return {
      kc: { url: kc.url, realm: kc.realm, clientId: kc.clientId, clientSecret: j.credentials.clientSecret },
      login: { grant: 'client_credentials' },
    };
  }
  return {
    kc: { url: kc.url, realm: kc.realm, clientId: kc.tokenClientId },
    login: { grant: 'password', username: j.credentials.username, password: j.credentials.password },
  };
}

async function login(j: Journey, signal: AbortSignal, held: HeldSession): Promise<GenericUploadApi> {
  const session = new TokenSession({
    ...tokenLogin(j),
    maxBytes: j.target.limits.tokenAnswer,
    // Tokens obtained during the run are secrets too: nothing written may contain them.
    onTokens: (t) => {
      for (const v of [t.accessToken, t.refreshToken, t.idToken]) j.redactor.add(v);
    },
  });
  await session.login(exchange(j, signal));
  held.session = session;
  // Each later call asks the session, which renews the token before it expires: a slow queue
  // must not turn into a false auth_rejected from the probe's own expired token.
  return new GenericUploadApi(apiBase(j.target.appUrl, j.target.apiPath), (ex) => session.accessToken(ex), j.target.limits);
}

async function uploadCanary(j: Journey, api: GenericUploadApi, signal: AbortSignal): Promise<Upload> {
  const up = await api.uploadFile(exchange(j, signal), j.canary.fileName, j.canary.workbook);
  j.seen.uploadAccepted = true;
  j.seen.uploadedAt = Date.now();
  note(j, up);
  j.log.info('canary uploaded', { fileName: j.canary.fileName, logId: String(up.logId) });
  return up;
}

/** Polls /status for the canary's own upload until its status satisfies `done`. */
async function waitForCanary(
  j: Journey,
  api: GenericUploadApi,
  upload: Upload,
  done: (status: string) => boolean,
  signal: AbortSignal,
): Promise<Upload> {
  for (;;) {
    // Searched by a part of its name every release's filter keeps, and told apart by its logId.
    const term = canarySearchTerm(j.canary.fileName);
    const list = await api.listUploads(exchange(j, signal), { file: term, page: 0, size: 5 });
    const mine = list.find((u) => String(u.logId) === String(upload.logId));
    if (!mine)
      throw new JourneyStop({
        kind: 'bad_answer',
        side: 'app',
        what: `the canary upload ${upload.logId} is missing from GET /status?file=${term}`,
      });
    note(j, mine);
    if (done(mine.fileStatus)) return mine;
    await sleep(j.pollSeconds * 1000, signal);
  }
}

async function checkResult(j: Journey, api: GenericUploadApi, upload: Upload, signal: AbortSignal): Promise<void> {
  if (hasErrorWorkbook(j)) await noteReasons(j, await api.errorWorkbook(exchange(j, signal), upload.logId));
  checkEnding(j);
}

/** Notes the canary's upload as the API gives it; a status or count outside the contract ends the run at once. */
function note(j: Journey, u: Upload): void {
  expectKnownStatus(u.fileStatus, `the canary upload ${u.logId} has fileStatus`);
  if (u.fileStatus === 'COMPLETED' && (typeof u.numberOfErrors !== 'number' || typeof u.numberImported !== 'number')) {
    throw new JourneyStop({
      kind: 'bad_answer',
      side: 'app',
      what: `the canary upload ${u.logId} is COMPLETED without numberOfErrors and numberImported as numbers`,
    });
  }
  const snap: UploadSnapshot = { logId: String(u.logId), status: u.fileStatus };
  if (typeof u.numberOfErrors === 'number') snap.numberOfErrors = u.numberOfErrors;
  if (typeof u.numberImported === 'number') snap.numberImported = u.numberImported;
  if (j.seen.upload?.status !== snap.status) j.log.info(`canary status ${snap.status}`, { logId: snap.logId });
  j.seen.upload = snap;
  j.seen.uploadDates = {
    uploadedDate: u.uploadedDate ?? undefined,
    jobStartTime: u.jobStartTime ?? null,
    processedDate: u.processedDate ?? null,
  };
}
