// One probe run against one target, and the deadlines around it: the run's secrets scoped to
// it, the canary made, the probe (chosen by name from the registry) opened and its journey run
// under the deadline and cancellation, the stop explained, the result built from what was seen
// (src/model/build-result.ts), a failed run's broken link named by bounded follow-ups within its
// deadline (src/run/diagnose.ts), evidence kept on failure, or always when asked (src/evidence/keep.ts), the probe closed.
// Never throws: whatever happens ends as a RunResult. Never hangs: the run ends by its deadline
// (timeouts.run) plus STOP_GRACE_SECONDS, every call into the probe after a stop is bounded,
// and what will not close in time is abandoned.
import type { Browser } from 'playwright-core';
import { PROBES } from '../../probes/registry.ts';
import { buildCanaryWorkbook, canaryFileName } from '../canary.ts';
import { resolveCredentials } from '../config/load.ts';
import { resolveNetwork, type Network } from '../config/network.ts';
import type { Config, TargetConfig } from '../config/schema.ts';
import { keepEvidence } from '../evidence/keep.ts';
import { NETWORK_EVENTS_KEPT } from '../evidence/store.ts';
import type { Canary, Journey } from '../journey/journey.ts';
import type { Probe, ProbeSession } from '../journey/probe.ts';
import { RunLog } from '../journey/run-log.ts';
import { StepRunner } from '../journey/steps.ts';
import type { Logger } from '../log.ts';
import { buildResult, probeErrorResult } from '../model/build-result.ts';
import { DETAIL_CAP } from '../model/diagnosis.ts';
import type { ObservedHttp, Seen } from '../model/observation.ts';
import type { Depth, ProbeName, RunResult, StepResult } from '../model/result.ts';
import { JourneyStop, toStop, type Stop } from '../model/stop.ts';
import { capDeep, capText } from '../model/text.ts';
import { raceAbort, within } from '../model/wait.ts';
import { redactor as processRedactor, type Redactor } from '../redact.ts';
import { apiBase } from '../target/generic-upload.ts';
import { HttpLog } from '../target/http-log.ts';
import { diagnoseRun } from './diagnose.ts';

export interface RunRequest {
  probe: ProbeName;
  /** Light: log in and check the answers, upload nothing. Full (default): the whole canary chain. */
  depth?: Depth;
  targetName: string;
  target: TargetConfig;
  config: Config;
  /** serve passes a warm one; else a probe that needs one launches and closes its own. */
  browser?: Browser;
  /** abort => run ends promptly, result.cancelled = true */
  signal?: AbortSignal;
  logger?: Logger;
  /** Live progress (smoke prints as it goes). */
  onStep?: (step: StepResult) => void;
  /** When the evidence folder (screenshot, trace, network log) is kept: for failed runs (default), or for every run but a cancelled one. */
  keepEvidence?: KeepEvidence;
}

export type KeepEvidence = 'on-failure' | 'always';

/**
 * How long a run may take past its deadline: explaining the stop and freezing the page (2 s
 * each), collecting evidence (7 s) and writing it (5 s), closing the probe (2 s) and, when it
 * will not close, abandoning it (2 s). Documented in docs/probes.md.
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
    const stack = redactor.redact(String(err instanceof Error ? err.stack : err));
    req.logger?.error({ event: 'runner_error', probe: req.probe, target: req.targetName, err: stack }, 'runner error');
    return failedToRun(req, startedMs, redactor.redact(capText(message, RESULT_TEXT_CAP)));
  }
}

async function runJourney(req: RunRequest, redactor: Redactor, startedMs: number): Promise<RunResult> {
  const { probe, targetName, target, config } = req;
  const depth = req.depth ?? 'full';
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
  const origins = { keycloak: target.keycloak.url, app: [new URL(target.appUrl).origin, apiBase(target.appUrl, target.apiPath)] };
  const http = new HttpLog(origins, () => steps.current);
  const seen: Seen = {};
  const canary: Canary = {
    fileName: canaryFileName(target.canary.filePrefix, targetName, new Date(startedMs), `${probe}-${depth}`),
    workbook: Buffer.alloc(0),
    personId: target.canary.personId,
    expectedReason: target.canary.expectedReason.replaceAll('{personId}', String(target.canary.personId)),
  };
  const chosen: Probe = PROBES[probe];

  let stop: Stop | undefined;
  let pendingAtStop: ObservedHttp[] | undefined;
  let session: ProbeSession | undefined;
  let network: Network | undefined;
  log.info('run started', depth === 'full' ? { depth, canary: canary.fileName } : { depth });
  const journeyDone = (async () => {
    const credentials = await resolveCredentials(config, targetName);
    // Configured secrets stay registered process-wide (a bounded set), whatever their length.
    processRedactor.add(credentials.password);
    processRedactor.add(credentials.clientSecret);
    // The proxy (the file's, else the environment's) and the CAs trusted; its password is a secret too.
    network = await resolveNetwork(config);
    for (const p of [network.proxy.http, network.proxy.https]) processRedactor.add(p?.password);
    canary.workbook = await buildCanaryWorkbook(canary.personId);
    const journey: Journey = {
      probe,
      depth,
      targetName,
      target,
      config,
      credentials,
      network,
      canary,
      http,
      seen,
      redactor,
      log,
      signal: runCtl.signal,
      step: (name, work) => steps.run(name, work),
      stop: stopRun,
      pollSeconds: target.canary.pollInterval,
    };
    http.onBad((e) => log.warn(`bad response: ${e.method} ${e.url} ${e.status || e.failure}`));
    session = await chosen.open(journey, { browser: req.browser });
    await session.run();
  })();
  try {
    await raceAbort(journeyDone, runCtl.signal);
  } catch (err) {
    // What was still open when the journey stopped: freezing the probe below aborts those requests.
    pendingAtStop = http.pending();
    stop = toStop(err);
    if (stop.kind === 'bug') log.error('probe error', { error: err instanceof Error ? err.stack : String(err) });
    if (session) {
      // A page stuck in a script loop answers nothing: each call is bounded, then the probe is frozen.
      const seenStop = stop;
      stop = await within(session.explain(seenStop, steps.current), EXPLAIN_WITHIN_MS).catch(() => seenStop);
      await within(session.freeze(), FREEZE_WITHIN_MS).catch((e: unknown) => log.warn(`not frozen: ${(e as Error).message}`));
    }
  } finally {
    clearTimeout(deadline);
    req.signal?.removeEventListener('abort', onCancel);
  }
  // A fail-fast stop that landed as the last step was settling still counts.
  if (!stop && runCtl.signal.aborted) stop = toStop(runCtl.signal.reason);

  let safe: RunResult;
  let failed: boolean;
  try {
    const result = buildResult({
      probe,
      depth,
      target: targetName,
      startedMs,
      finishedMs: Date.now(),
      observation: {
        ...seen,
        probe,
        depth,
        http: [...http.events],
        pending: pendingAtStop ?? http.pending(),
        expectedReason: canary.expectedReason,
        ...(stop ? { stop } : {}),
        ...(stop && steps.current ? { step: steps.current } : {}),
      },
      steps: steps.steps,
      http: http.summary(),
      canaryFileName: canary.fileName,
    });
    if (result.ok) log.info('run healthy');
    else log.warn(`run failed: ${result.reason}: ${result.message}`);
    // The broken link, named by bounded follow-ups (src/run/diagnose.ts); the reason never changes.
    if (!result.ok && !result.cancelled) {
      const deadlineMs = startedMs + target.timeouts.run * 1000;
      const d = await diagnoseRun({ result, target, network, session, signal: req.signal, deadlineMs, log }).catch((err: unknown) => {
        log.warn(`no diagnosis: ${(err as Error).message}`);
        return undefined;
      });
      if (d) {
        result.diagnosis = d.diagnosis;
        result.diagnosisDetail = capText(`${d.detail}; follow-ups ${d.seconds.toFixed(1)} s`, DETAIL_CAP);
        log.warn(`diagnosis ${d.diagnosis}: ${result.diagnosisDetail}`, { diagnosis: d.diagnosis, followUpSeconds: d.seconds });
      }
    }
    failed = !result.ok && !result.cancelled;
    safe = redactor.redactDeep(capDeep(result, RESULT_TEXT_CAP));
  } catch (err) {
    // Building the result from what the target sent failed: still a result, with the real message.
    log.error('result not built', { error: err instanceof Error ? err.stack : String(err) });
    safe = failedToRun(req, startedMs, redactor.redact(capText(`result not built: ${(err as Error).message}`, RESULT_TEXT_CAP)));
    failed = true;
  }
  const open = session;
  if (failed || (req.keepEvidence === 'always' && !safe.cancelled)) {
    const kept = await within(
      keepEvidence({
        dir: config.evidence.dir,
        keep: config.evidence.keep,
        target: targetName,
        probe,
        result: safe,
        network: http.last(NETWORK_EVENTS_KEPT),
        collect: (scratch) => open?.evidence(scratch) ?? Promise.resolve({ problems: [] }),
        collectWithinMs: EVIDENCE_WITHIN_MS,
        logText: () => log.text(),
        redactor,
        warn: (line) => log.warn(line),
      }),
      EVIDENCE_WITHIN_MS + EVIDENCE_WRITE_WITHIN_MS,
    ).catch((err: unknown) => ({ error: (err as Error).message }));
    if ('folder' in kept) {
      safe.evidenceDir = kept.folder;
      log.info('evidence written', { folder: kept.folder, files: kept.files });
    } else {
      safe.evidenceError = capText(redactor.redact(kept.error), 300);
      log.error(`evidence not written: ${safe.evidenceError}`);
      req.logger?.error({ event: 'evidence_write_failed', probe, target: targetName, error: safe.evidenceError }, 'evidence not written');
    }
  } else {
    await within(open?.discard() ?? Promise.resolve(), CLOSE_WITHIN_MS).catch(() => {});
  }
  if (open) await closeSession(open, req, log);
  // A journey cut short by the deadline may still be opening its probe: close whatever it opens.
  void journeyDone
    .catch(() => {})
    .finally(() => {
      if (session && session !== open) void closeSession(session, req, log);
    });
  return safe;
}

/** Closes the probe's session; one that will not close in time is abandoned (a warm browser relaunches). */
async function closeSession(session: ProbeSession, req: RunRequest, log: RunLog): Promise<void> {
  const closed = await within(session.close(), CLOSE_WITHIN_MS).then(
    () => true,
    () => false,
  );
  if (closed) return;
  log.error(`probe did not close within ${CLOSE_WITHIN_MS} ms: abandoned`);
  req.logger?.error(
    { event: 'browser_abandoned', probe: req.probe, target: req.targetName },
    'browser context did not close; browser closed',
  );
  await within(session.abandon(), CLOSE_WITHIN_MS).catch(() => {});
}

function failedToRun(req: RunRequest, startedMs: number, message: string): RunResult {
  return probeErrorResult({
    probe: req.probe,
    depth: req.depth ?? 'full',
    target: req.targetName,
    startedMs,
    finishedMs: Date.now(),
    message,
  });
}
