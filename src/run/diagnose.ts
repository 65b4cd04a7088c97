// A failed run's follow-up checks: after classification has given the reason, a few bounded
// requests with what the probe already holds (the test user's token, the configuration) ask the
// parts of TIS it can reach what the reason alone cannot say, and src/model/diagnosis.ts names
// the broken link. The reason is never changed. Each request has its own short timeout and a
// small answer limit; the whole stage ends within DIAGNOSIS_WITHIN_MS and by the run's own
// deadline (a run stopped by its deadline gets none), and at once when the run is cancelled.
// The follow-ups are not in the run's HTTP log (they are not the journey's); the run log says
// what was asked.
import type { Network } from '../config/network.ts';
import type { TargetConfig } from '../config/schema.ts';
import type { ProbeSession } from '../journey/probe.ts';
import type { RunLog } from '../journey/run-log.ts';
import {
  diagnose,
  expectedIssuer,
  followUpPlan,
  type DiagnosisVerdict,
  type FollowUpFacts,
  type FollowUpPlan,
  type HeldToken,
} from '../model/diagnosis.ts';
import type { RunResult } from '../model/result.ts';
import { capText } from '../model/text.ts';
import { raceAbort } from '../model/wait.ts';
import { check, discoveryUrl, tcsPersonUrl, tokenIssuer, userinfoUrl } from '../target/follow-up.ts';
import { HttpLog } from '../target/http-log.ts';
import type { Exchange } from '../target/http.ts';

/** One follow-up request's timeout (its answer, body included). */
export const FOLLOW_UP_TIMEOUT_SECONDS = 5;
/** The whole stage, token renewal included; never past the run's deadline either. */
export const DIAGNOSIS_WITHIN_MS = 6_000;
/** Less time than this left before the run's deadline: no follow-ups. */
const MIN_BUDGET_MS = 500;

export interface DiagnoseRequest {
  result: RunResult;
  target: TargetConfig;
  network?: Network;
  /** The probe's session: the token it holds. */
  session?: ProbeSession;
  /** Cancellation from outside: the stage ends at once and gives no diagnosis. */
  signal?: AbortSignal;
  /** Epoch ms by which the stage must have ended: the run's deadline. */
  deadlineMs: number;
  log: RunLog;
}

export interface DiagnosisOutcome extends DiagnosisVerdict {
  /** How long the follow-ups took. */
  seconds: number;
}

/** The follow-ups of a failed run and their diagnosis; undefined when none apply or there is no time. Never throws. */
export async function diagnoseRun(req: DiagnoseRequest): Promise<DiagnosisOutcome | undefined> {
  const { result, target, log } = req;
  // A target built without the schema (a test's, say) has no diagnosis block: follow-ups on.
  const settings: Partial<TargetConfig['diagnosis']> = target.diagnosis ?? {};
  if (settings.enabled === false) return undefined;
  const plan = followUpPlan(result);
  if (!plan || req.signal?.aborted) return undefined;
  const budget = Math.min(DIAGNOSIS_WITHIN_MS, req.deadlineMs - Date.now());
  if (budget < MIN_BUDGET_MS) {
    log.warn('no follow-up checks: the run deadline has passed');
    return undefined;
  }
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(new Error(`follow-ups past ${budget} ms`)), budget);
  const onCancel = () => ctl.abort(new Error('cancelled'));
  req.signal?.addEventListener('abort', onCancel, { once: true });
  const started = performance.now();
  const facts: FollowUpFacts = {};
  const ex: Exchange = {
    log: new HttpLog({ keycloak: target.keycloak.url, app: [new URL(target.appUrl).origin] }),
    // A request's own timeout ends it a little before the stage's, so its missing answer is known as such.
    timeoutSeconds: Math.max(0.2, Math.floor(Math.min(FOLLOW_UP_TIMEOUT_SECONDS * 1000, budget - 250) / 100) / 10),
    signal: ctl.signal,
    ...(req.network ? { network: req.network } : {}),
  };
  try {
    await raceAbort(gather(req, settings, plan, facts, ex), ctl.signal).catch(() => {});
  } finally {
    clearTimeout(timer);
    req.signal?.removeEventListener('abort', onCancel);
  }
  if (req.signal?.aborted) return undefined;
  const seconds = (performance.now() - started) / 1000;
  // A follow-up still running when the stage ended has no answer in the facts: the mapping reads what came.
  const verdict = diagnose(result, plan, { ...facts });
  if (facts.token) log.info(`follow-ups with the ${facts.token.source} token`, { issuer: facts.token.issuer ?? 'unreadable' });
  if (facts.noToken) log.info(`follow-ups without a token: ${facts.noToken}`);
  for (const a of [facts.discovery, facts.profile, facts.tcs]) {
    if (a) log.info(`follow-up ${a.what}: ${a.answered ? a.status || a.failure : `no answer (${a.failure})`} in ${a.ms} ms`);
  }
  return { ...verdict, seconds };
}

async function gather(
  req: DiagnoseRequest,
  settings: Partial<TargetConfig['diagnosis']>,
  plan: FollowUpPlan,
  facts: FollowUpFacts,
  ex: Exchange,
): Promise<void> {
  const { target } = req;
  const kc = target.keycloak;
  let held: HeldToken | undefined;
  if (plan.token) {
    held = await Promise.resolve(req.session?.userToken?.(ex)).then(
      (t) => {
        if (!t) facts.noToken = 'the probe held none';
        return t;
      },
      (err: unknown) => {
        facts.noToken = `getting one failed: ${capText(err instanceof Error ? err.message : String(err), 160)}`;
        return undefined;
      },
    );
    if (held) {
      facts.token = { source: held.source, expectedIssuer: expectedIssuer(kc.url, kc.realm) };
      const issuer = tokenIssuer(held.token);
      if (issuer) facts.token.issuer = issuer;
    }
  }
  const origin = new URL(target.appUrl).origin;
  const checks: Promise<unknown>[] = [];
  if (plan.discovery) checks.push(check(ex, discoveryUrl(kc.url, kc.realm)).then((a) => (facts.discovery = a)));
  // Profile asked about a token needs the token; asked whether it answers at all, it does not.
  if (plan.profile && (held || plan.case !== 'token'))
    checks.push(check(ex, userinfoUrl(settings.profileUrl ?? `${origin}/profile`), held?.token).then((a) => (facts.profile = a)));
  if (plan.tcs)
    checks.push(
      check(ex, tcsPersonUrl(settings.tcsUrl ?? `${origin}/tcs`, target.canary.personId), held?.token).then((a) => (facts.tcs = a)),
    );
  await Promise.all(checks);
}
