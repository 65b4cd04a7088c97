// One probe run against one target: secrets registered for redaction, the canary made, the
// journey run under its deadline, what was seen classified, evidence kept on failure. Never
// throws: whatever happens ends as a RunResult. Never hangs: the run ends by its deadline
// (timeouts.run) plus STOP_GRACE_SECONDS, every call into the browser after a stop is bounded,
// and a browser context that will not close in time is abandoned with its browser.
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
import { redactor as processRedactor, type Redactor } from '../redact.ts';
import { apiBase } from '../target/generic-upload.ts';
import { openBrowserSession, type BrowserSession } from './browser-session.ts';
import { LIKELY_CAUSE } from './causes.ts';
import { classify } from './classify.ts';
import { capDeep, capText } from './text.ts';
import { HttpLog } from './http-log.ts';
import type { Canary, Journey, Noted } from './journey.ts';
import { isBadEvent, type ObservedHttp, type Observation, type Stop } from './observation.ts';
import type { CanaryOutcome, ProbeName, RunResult, StepName, StepResult } from './result.ts';
import { RunLog } from './run-log.ts';
import { JourneyStop, raceAbort, StepRunner, toStop, within } from './steps.ts';

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

/**
 * How long a run may take past its deadline: explaining the stop and freezing the page (2 s
 * each), collecting evidence (7 s) and writing it (5 s), closing the browser context (2 s) and,
 * when it will not close, its browser (2 s). Documented in docs/probes.md.
 */
export const STOP_GRACE_SECONDS = 20;
const EXPLAIN_WITHIN_MS = 2_000;
const FREEZE_WITHIN_MS = 2_000;
const EVIDENCE_WITHIN_MS = 7_000;
const EVIDENCE_WRITE_WITHIN_MS = 5_000;
const CLOSE_WITHIN_MS = 2_000;
/** Longest text in a result (target texts are capped at their source to limits.text already). */
const RESULT_TEXT_CAP = 2_000;

export async function runProbe(req: RunRequest): Promise<RunResult> {
  const startedMs = Date.now();
  // Tokens obtained during this run are secrets of this run only: gone with it.
  const redactor = processRedactor.child();
  try {
    return await runJourney(req, redactor, startedMs);
  } catch (err) {
    // A fault in the runner itself (never in the journey: that ends as a stop) still gives a result.
    const message = err instanceof Error ? `${err.name}: ${err.message.split('\n')[0]}` : String(err);
    req.logger?.error({ event: 'runner_error', probe: req.probe, target: req.targetName, err: redactor.redact(String(err instanceof Error ? err.stack : err)) }, 'runner error');
    return probeErrorResult(req, startedMs, redactor.redact(capText(message, RESULT_TEXT_CAP)));
  }
}

async function runJourney(req: RunRequest, redactor: Redactor, startedMs: number): Promise<RunResult> {
  const { probe, targetName, target, config } = req;
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
    // Configured secrets stay registered process-wide (a bounded set), whatever their length.
    processRedactor.add(credentials.password);
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
      // A page stuck in a script loop answers nothing: each call is bounded, then the page is frozen.
      const seen = stop;
      stop = await within(explainStop(journey, session.page, seen, steps.current), EXPLAIN_WITHIN_MS).catch(() => seen);
      await within(session.freeze(), FREEZE_WITHIN_MS).catch((e: unknown) => log.warn(`page not frozen: ${(e as Error).message}`));
    }
  } finally {
    clearTimeout(deadline);
    req.signal?.removeEventListener('abort', onCancel);
  }
  // A fail-fast stop that landed as the last step was settling still counts.
  if (!stop && runCtl.signal.aborted) stop = toStop(runCtl.signal.reason);

  let safe: RunResult;
  let failed = false;
  try {
    const result = buildResult();
    failed = !result.ok && !result.cancelled;
    safe = redactor.redactDeep(capDeep(result, RESULT_TEXT_CAP));
  } catch (err) {
    // Building the result from what the target sent failed: still a result, with the real message.
    log.error('result not built', { error: err instanceof Error ? err.stack : String(err) });
    safe = probeErrorResult(req, startedMs, redactor.redact(capText(`result not built: ${(err as Error).message}`, RESULT_TEXT_CAP)));
    failed = true;
  }
  if (failed) {
    const kept = await within(keepEvidence(req, safe, http, log, redactor, session), EVIDENCE_WITHIN_MS + EVIDENCE_WRITE_WITHIN_MS).catch((err: unknown) => ({
      error: (err as Error).message,
    }));
    if ('folder' in kept) safe.evidenceDir = kept.folder;
    else {
      safe.evidenceError = capText(redactor.redact(kept.error), 300);
      log.error(`evidence not written: ${safe.evidenceError}`);
      req.logger?.error({ event: 'evidence_write_failed', probe, target: targetName, error: safe.evidenceError }, 'evidence not written');
    }
  } else {
    await within(session?.stopTrace() ?? Promise.resolve(false), CLOSE_WITHIN_MS).catch(() => false);
  }
  const closed = session;
  if (closed) await closeSession(closed, req, log);
  // A journey cut short by the deadline may still be opening its browser: close whatever it opens.
  void journeyDone
    .catch(() => {})
    .finally(() => {
      if (session && session !== closed) void closeSession(session, req, log);
    });
  return safe;

  function buildResult(): RunResult {
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
    return result;
  }
}

/** Closes the run's context; one that will not close in time is abandoned with its browser (the warm browser relaunches). */
async function closeSession(session: BrowserSession, req: RunRequest, log: RunLog): Promise<void> {
  const closed = await within(session.close(), CLOSE_WITHIN_MS).then(
    () => true,
    () => false,
  );
  if (closed) return;
  log.error(`browser context did not close within ${CLOSE_WITHIN_MS} ms: closing the browser`);
  req.logger?.error({ event: 'browser_abandoned', probe: req.probe, target: req.targetName }, 'browser context did not close; browser closed');
  const browser = req.browser ?? session.context.browser();
  await within(browser?.close() ?? Promise.resolve(), CLOSE_WITHIN_MS).catch(() => {});
}

/** A result for a run the runner itself could not finish (never for a fault of the target). */
function probeErrorResult(req: RunRequest, startedMs: number, message: string): RunResult {
  const finishedMs = Date.now();
  return {
    probe: req.probe,
    target: req.targetName,
    ok: false,
    reason: 'probe_error',
    likelyCause: LIKELY_CAUSE.probe_error,
    message,
    startedAt: new Date(startedMs).toISOString(),
    finishedAt: new Date(finishedMs).toISOString(),
    durationSeconds: (finishedMs - startedMs) / 1000,
    steps: [],
    http: { requests: 0, byClass: { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, none: 0 } },
  };
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

/**
 * Keeps a failed run's evidence: old folders pruned first (so a full disk recovers), then the
 * folder written; a failed write removes the half-written folder and says why.
 */
async function keepEvidence(
  req: RunRequest,
  result: RunResult,
  http: HttpLog,
  log: RunLog,
  redactor: Redactor,
  session?: BrowserSession,
): Promise<{ folder: string }> {
  const { dir, keep } = req.config.evidence;
  await pruneEvidence(dir, Math.max(0, keep - 1)).catch((err: unknown) => log.warn(`old evidence not pruned: ${(err as Error).message}`));
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
  const screenshot = await within(collect(), EVIDENCE_WITHIN_MS).catch((err: unknown) => {
    log.warn(`evidence collection cut short: ${(err as Error).message}`);
    return undefined;
  });
  const folder = await createEvidenceFolder(dir, req.targetName, req.probe, new Date(result.startedAt));
  try {
    const written = await writeEvidence(
      folder,
      { result: { ...result, evidenceDir: folder }, network: http.last(200), log: log.text(), screenshot, rawTracePath },
      redactor,
      (line) => log.warn(line),
    );
    log.info('evidence written', { folder, files: written });
    return { folder };
  } catch (err) {
    await rm(folder, { recursive: true, force: true }).catch(() => {});
    throw err;
  } finally {
    if (tmp) await rm(tmp, { recursive: true, force: true }).catch(() => {});
  }
}
