// A run's result from what the run recorded: the verdict of classification, the steps, the
// HTTP summary and the canary's outcome. Pure: the runner measures, this builds.
import { classify } from './classify.ts';
import { LIKELY_CAUSE } from './failures.ts';
import { isBadEvent, type Observation, type Seen } from './observation.ts';
import type { CanaryOutcome, Depth, HttpSummary, ProbeName, RunResult, StepName, StepResult } from './result.ts';
import { newRunId } from './run-id.ts';

export interface RunRecord {
  probe: ProbeName;
  depth: Depth;
  target: string;
  startedMs: number;
  finishedMs: number;
  observation: Observation;
  steps: StepResult[];
  http: HttpSummary;
  canaryFileName: string;
  /** The run's id (default: a new one from its start time). */
  id?: string;
}

export function buildResult(r: RunRecord): RunResult {
  const o = r.observation;
  const verdict = classify(o);
  const result: RunResult = {
    id: r.id ?? newRunId(r.startedMs),
    probe: r.probe,
    depth: r.depth,
    target: r.target,
    ok: verdict.ok,
    ...timing(r),
    message: verdict.message,
    steps: r.steps,
    http: r.http,
  };
  // A light run uploads nothing: it has no canary to report.
  if (r.depth === 'full') result.canary = canaryOutcome(r.canaryFileName, o);
  if (o.recentUploads) result.recentUploads = o.recentUploads;
  if (o.stop?.kind === 'cancelled') result.cancelled = true;
  if (!verdict.ok) {
    result.reason = verdict.reason;
    result.likelyCause = verdict.likelyCause;
    // The step the journey stopped in; for a run that ended but saw a bad answer, the step of that answer.
    const failedStep = o.stop ? o.step : firstBadStep(o);
    if (failedStep) result.failedStep = failedStep;
  }
  return result;
}

/** A result for a run the runner itself could not finish (never for a fault of the target). */
export function probeErrorResult(r: {
  probe: ProbeName;
  depth: Depth;
  target: string;
  startedMs: number;
  finishedMs: number;
  message: string;
}): RunResult {
  return {
    id: newRunId(r.startedMs),
    probe: r.probe,
    target: r.target,
    ok: false,
    depth: r.depth,
    reason: 'probe_error',
    likelyCause: LIKELY_CAUSE.probe_error,
    message: r.message,
    ...timing(r),
    steps: [],
    http: { requests: 0, byClass: { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, none: 0 } },
  };
}

export function canaryOutcome(fileName: string, seen: Seen): CanaryOutcome {
  const out: CanaryOutcome = { fileName };
  const u = seen.upload;
  if (u?.logId) out.logId = u.logId;
  if (u?.status) out.status = u.status;
  if (u?.numberOfErrors !== undefined) out.numberOfErrors = u.numberOfErrors;
  if (u?.numberImported !== undefined) out.numberImported = u.numberImported;
  if (seen.reasonTexts) out.reasonText = seen.reasonTexts.join(' | ');
  // The API's own dates when it gave them, else what the probe saw while polling.
  const d = seen.uploadDates;
  const queue = seconds(d?.uploadedDate, d?.jobStartTime) ?? msSpan(seen.uploadedAt, seen.startedAt);
  const run = seconds(d?.jobStartTime, d?.processedDate) ?? msSpan(seen.startedAt, seen.finishedAt);
  if (queue !== undefined) out.queueWaitSeconds = queue;
  if (run !== undefined && (d?.processedDate || seen.finishedAt)) out.importSeconds = run;
  return out;
}

function timing(r: { startedMs: number; finishedMs: number }) {
  return {
    startedAt: new Date(r.startedMs).toISOString(),
    finishedAt: new Date(r.finishedMs).toISOString(),
    durationSeconds: (r.finishedMs - r.startedMs) / 1000,
  };
}

function firstBadStep(o: Observation): StepName | undefined {
  return o.http.find((e) => isBadEvent(e))?.step;
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
