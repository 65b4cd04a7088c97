// One-shot runs (smoke after a deploy, a CronJob) push their results to a Pushgateway so
// they show beside the continuous service's series, with the same families and labels.
import { Pushgateway } from 'prom-client';
import { scrubUrl } from '../model/url.ts';
import type { RunResult } from '../model/result.ts';
import { ProbeMetrics } from './registry.ts';

export const DEFAULT_PUSH_JOB = 'bulk-upload-probe-smoke';

export interface PushOptions {
  /** Pushgateway job (grouping key); default `bulk-upload-probe-smoke`. */
  job?: string;
  /** Optional `instance` grouping label, e.g. the pipeline or host pushing. */
  instance?: string;
}

/**
 * Pushes the results (replacing whatever this grouping key held before: a smoke run's push
 * is its whole truth). When all results are for one target, the target joins the grouping
 * key so that smoke runs against different targets do not overwrite each other.
 */
export async function pushResults(pushgatewayUrl: string, results: RunResult[], opts: PushOptions = {}): Promise<void> {
  const metrics = new ProbeMetrics();
  for (const r of results) metrics.prepare(r.probe, r.depth, r.target);
  for (const r of results) metrics.record(r);

  const groupings: Record<string, string> = {};
  const targets = [...new Set(results.map((r) => r.target))];
  if (targets.length === 1) groupings.target = targets[0]!;
  if (opts.instance) groupings.instance = opts.instance;

  try {
    const gateway = new Pushgateway(pushgatewayUrl, { timeout: 10_000 }, metrics.registry);
    await gateway.push({ jobName: opts.job ?? DEFAULT_PUSH_JOB, groupings });
  } catch (e) {
    // The HTTP client and the gateway's answer may quote the URL, credentials and all.
    throw new PushError(scrubUrl(e instanceof Error ? e.message : String(e), pushgatewayUrl));
  }
}

/** A failed push; its message never holds the URL's credentials or query string. */
export class PushError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PushError';
  }
}
