// One probe run against one target: secrets registered for redaction, the canary made, the
// journey run under its deadline, what was seen classified, evidence kept on failure. Never
// throws: whatever happens ends as a RunResult.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { apiJourney } from '../../probes/api.ts';
import { browserJourney, explainStop } from '../../probes/browser.ts';
import { buildCanaryWorkbook, canaryFileName } from '../canary.ts';
import { resolveCredentials } from '../config/load.ts';
import type { Config, TargetConfig } from '../config/schema.ts';
import { createEvidenceFolder, pruneEvidence, writeEvidence } from '../evidence/store.ts';
import type { Logger } from '../log.ts';
import { redactor } from '../redact.ts';
import { apiBase } from '../target/generic-upload.ts';
import { openBrowserSession, type BrowserSession } from './browser-session.ts';
import { classify } from './classify.ts';
import { HttpLog } from './http-log.ts';
import type { Canary, Journey, Noted } from './journey.ts';
import { isBadEvent, type ObservedHttp, type Observation, type Stop } from './observation.ts';
import type { CanaryOutcome, ProbeName, RunResult, StepName, StepResult } from './result.ts';
import { RunLog } from './run-log.ts';
import { JourneyStop, raceAbort, StepRunner, toStop } from './steps.ts';

export interface RunRequest {
  probe: ProbeName;
  targetName: string;
  target: TargetConfig;
  config: Config;
  /** serve passes a warm one; else the probe launches and closes its own. */
  browser?: Browser;
  /** abort => run ends promptly, result.cancelled = true */
  signal?: AbortSignal;
  logger?: Logger;
  /** Live progress (smoke prints as it goes). */
  onStep?: (step: StepResult) => void;
}

/** How long evidence collection may take after the journey ended. */
const EVIDENCE_WITHIN_MS = 20_000;

export async function runProbe(req: RunRequest): Promise<RunResult> {
  const { probe, targetName, target, config } = req;
  const startedMs = Date.now();
  const log = new RunLog(redactor, req.logger, { probe, target: targetName });

  // The run's signal: the deadline, a cancellation from outside, or a fail-fast stop.
  const runCtl = new AbortController();
  const stopRun = (s: Stop) => {
    if (!runCtl.signal.aborted) runCtl.abort(new JourneyStop(s));
  };
  const deadline = setTimeout(() => stopRun({ kind: 'run_deadline', seconds: target.timeouts.run }), target.timeouts.run * 1000);
  const onCancel = () => stopRun({ kind: 'cancelled' });
  if (req.signal?.aborted) onCancel();
  else req.signal?.addEventListener('abort', onCancel, { once: true });

  const steps = new StepRunner({
    timeouts: target.timeouts,
    signal: runCtl.signal,
    onStep: (s) => {
      log.info(`step ${s.name} ${s.ok ? 'ok' : 'failed'} in ${s.durationSeconds.toFixed(1)} s`, s.error ? { error: s.error } : undefined);
      try {
        req.onStep?.(s);
      } catch {
        // A progress printer's fault must not change the run's verdict.
      }
    },
  });
  const http = new HttpLog(
    { keycloak: target.keycloak.url, app: [new URL(target.appUrl).origin, apiBase(target.appUrl, target.apiPath)] },
    () => steps.current,
  );
  const noted: Noted = {};
  const canary: Canary = {
    fileName: canaryFileName(target.canary.filePrefix, targetName, new Date(startedMs)),
    workbook: Buffer.alloc(0),
    personId: target.canary.personId,
    expectedReason: target.canary.expectedReason.replaceAll('{personId}', String(target.canary.personId)),
  };

  let stop: Stop | undefined;
  let pendingAtStop: ObservedHttp[] | undefined;
  let session: BrowserSession | undefined;
  let journey: Journey | undefined;
  log.info('run started', { canary: canary.fileName });
  const journeyDone = (async () => {
    const credentials = await resolveCredentials(config, targetName);
    redactor.add(credentials.password);
    canary.workbook = await buildCanaryWorkbook(canary.personId);
    journey = {
      probe,
      targetName,
      target,
      config,
      credentials,
      canary,
      http,
      noted,
      redactor,
      log,
      signal: runCtl.signal,
      step: (name, work) => steps.run(name, work),
      stop: stopRun,
      pollSeconds: target.canary.pollInterval,
    };
    // Any 401/403/5xx/no answer from the target ends the run at once, whatever the page makes of it.
    http.onBad((e) => {
      log.warn(`bad response: ${e.method} ${e.url} ${e.status || e.failure}`);
      if (probe === 'browser') stopRun({ kind: 'bad_response', event: e });
    });
    if (probe === 'browser') {
      session = await openBrowserSession({ browser: req.browser, config, http, redactor, defaultTimeoutMs: target.timeouts.run * 1000 });
      await browserJourney(journey, session.page);
    } else {
      await apiJourney(journey);
    }
  })();
  try {
    await raceAbort(journeyDone, runCtl.signal);
  } catch (err) {
    // What was still open when the journey stopped: freezing the page below aborts those requests.
    pendingAtStop = http.pending();
    stop = toStop(err);
    if (stop.kind === 'bug') log.error('probe error', { error: err instanceof Error ? err.stack : String(err) });
    if (session && journey) {
      stop = await explainStop(journey, session.page, stop, steps.current).catch(() => stop!);
      await session.freeze();
    }
  } finally {
    clearTimeout(deadline);
    req.signal?.removeEventListener('abort', onCancel);
  }
  // A fail-fast stop that landed as the last step was settling still counts.
  if (!stop && runCtl.signal.aborted) stop = toStop(runCtl.signal.reason);

  const pending = pendingAtStop ?? http.pending();
  const observation: Observation = {
    probe,
    http: [...http.events],
    pending,
    expectedReason: canary.expectedReason,
  };
  if (stop) {
    observation.stop = stop;
    if (steps.current) observation.step = steps.current;
  }
  if (noted.appReloads !== undefined) observation.appReloads = noted.appReloads;
  if (noted.uploadAccepted) observation.uploadAccepted = true;
  if (noted.upload) observation.upload = noted.upload;
  if (noted.reasonTexts) observation.reasonTexts = noted.reasonTexts;
  const verdict = classify(observation);
  const cancelled = stop?.kind === 'cancelled';

  const finishedMs = Date.now();
  const result: RunResult = {
    probe,
    target: targetName,
    ok: verdict.ok,
    startedAt: new Date(startedMs).toISOString(),
    finishedAt: new Date(finishedMs).toISOString(),
    durationSeconds: (finishedMs - startedMs) / 1000,
    message: verdict.message,
    steps: steps.steps,
    http: http.summary(),
    canary: canaryOutcome(canary, noted),
  };
  if (cancelled) result.cancelled = true;
  if (!verdict.ok) {
    result.reason = verdict.reason!;
    if (verdict.likelyCause) result.likelyCause = verdict.likelyCause;
    const failedStep = stop ? steps.current : firstBadStep(observation);
    if (failedStep) result.failedStep = failedStep;
    log.warn(`run failed: ${verdict.reason}: ${verdict.message}`);
  } else {
    log.info('run healthy');
  }

  const safe = redactor.redactDeep(result);
  if (!verdict.ok && !cancelled) {
    try {
      safe.evidenceDir = await keepEvidence(req, safe, http, log, session);
    } catch (err) {
      log.error(`evidence not written: ${(err as Error).message}`);
    }
  } else {
    await session?.stopTrace();
  }
  const closed = session;
  await closed?.close();
  // A journey cut short by the deadline may still be opening its browser: close whatever it opens.
  void journeyDone
    .catch(() => {})
    .finally(() => {
      if (session && session !== closed) void session.close();
    });
  return safe;
}

function firstBadStep(o: Observation): StepName | undefined {
  return o.http.find((e) => isBadEvent(e))?.step;
}

function canaryOutcome(canary: Canary, noted: Noted): CanaryOutcome {
  const out: CanaryOutcome = { fileName: canary.fileName };
  const u = noted.upload;
  if (u?.logId) out.logId = u.logId;
  if (u?.status) out.status = u.status;
  if (u?.numberOfErrors !== undefined) out.numberOfErrors = u.numberOfErrors;
  if (u?.numberImported !== undefined) out.numberImported = u.numberImported;
  if (noted.reasonTexts) out.reasonText = noted.reasonTexts.join(' | ');
  const d = noted.uploadJson;
  const queue = seconds(d?.uploadedDate, d?.jobStartTime) ?? msSpan(noted.uploadedAt, noted.startedAt);
  const run = seconds(d?.jobStartTime, d?.processedDate) ?? msSpan(noted.startedAt, noted.finishedAt);
  if (queue !== undefined) out.queueWaitSeconds = queue;
  if (run !== undefined && (d?.processedDate || noted.finishedAt)) out.importSeconds = run;
  return out;
}

/** Seconds between two of the API's local date-times (same zone, so read both as UTC). */
function seconds(from?: string | null, to?: string | null): number | undefined {
  if (!from || !to) return undefined;
  const a = Date.parse(`${from}Z`);
  const b = Date.parse(`${to}Z`);
  return Number.isFinite(a) && Number.isFinite(b) && b >= a ? (b - a) / 1000 : undefined;
}

function msSpan(from?: number, to?: number): number | undefined {
  return from !== undefined && to !== undefined && to >= from ? (to - from) / 1000 : undefined;
}

async function keepEvidence(req: RunRequest, result: RunResult, http: HttpLog, log: RunLog, session?: BrowserSession): Promise<string> {
  const { dir, keep } = req.config.evidence;
  const folder = await createEvidenceFolder(dir, req.targetName, req.probe, new Date(result.startedAt));
  result.evidenceDir = folder;
  let rawTracePath: string | undefined;
  let tmp: string | undefined;
  const collect = async () => {
    const shot = await session?.screenshot();
    if (shot?.errors.length) log.warn(shot.png ? 'screenshot needed another try' : 'no screenshot', { errors: shot.errors });
    const screenshot = shot?.png;
    if (session) {
      tmp = await mkdtemp(join(tmpdir(), 'bup-trace-'));
      rawTracePath = (await session.stopTrace(join(tmp, 'trace.zip'))) ? join(tmp, 'trace.zip') : undefined;
    }
    return screenshot;
  };
  const screenshot = await Promise.race([collect(), new Promise<undefined>((r) => setTimeout(() => r(undefined), EVIDENCE_WITHIN_MS).unref())]);
  try {
    const written = await writeEvidence(folder, { result, network: http.last(200), log: log.text(), screenshot, rawTracePath }, redactor);
    log.info('evidence written', { folder, files: written });
  } finally {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
  await pruneEvidence(dir, keep);
  return folder;
}
