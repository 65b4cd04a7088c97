// Builders shared by the unit tests of the service, metrics and history: a valid config and
// RunResults as a runner would produce them.
import { configSchema, type Config } from '../../src/config/schema.ts';
import type { FailureReason } from '../../src/model/failures.ts';
import type { Depth, ProbeName, RunResult } from '../../src/model/result.ts';

export function testConfig(over: {
  historyFile: string;
  interval?: number;
  /** Light runs' interval; none unless given (the suites count full runs). */
  light?: number | false;
  /** Retry after a failed run; none unless given. */
  retry?: number | false;
  jitter?: number;
  runDeadline?: number;
  targets?: string[];
  maxConcurrentRuns?: { browser: number; api: number };
}): Config {
  const target = (name: string) => ({
    appUrl: `http://127.0.0.1:1/${name}`,
    keycloak: { url: 'http://127.0.0.1:2' },
    credentials: { username: 'probe', password: 'not-a-real-secret' },
  });
  const config = configSchema.parse({
    history: { file: over.historyFile, maxBytes: 1_000_000, keep: 2 },
    targets: Object.fromEntries((over.targets ?? ['box']).map((n) => [n, target(n)])),
  });
  // Intervals and deadlines far below what the file allows keep the tests fast: set after parsing.
  config.schedule = {
    ...config.schedule,
    interval: over.interval ?? 60,
    light: over.light ?? false,
    retry: over.retry ?? false,
    jitter: over.jitter ?? 0.001,
    maxConcurrentRuns: over.maxConcurrentRuns ?? config.schedule.maxConcurrentRuns,
  };
  for (const t of Object.values(config.targets)) t.timeouts = { ...t.timeouts, run: over.runDeadline ?? 30 };
  return config;
}

export function fakeResult(f: {
  probe?: ProbeName;
  depth?: Depth;
  target?: string;
  ok?: boolean;
  reason?: FailureReason;
  cancelled?: boolean;
  durationSeconds?: number;
  queueWaitSeconds?: number;
  importSeconds?: number;
  at?: Date;
}): RunResult {
  const finished = f.at ?? new Date();
  const duration = f.durationSeconds ?? 4;
  const ok = f.ok ?? !f.reason;
  return {
    probe: f.probe ?? 'api',
    depth: f.depth ?? 'full',
    target: f.target ?? 'box',
    ok,
    cancelled: f.cancelled,
    reason: ok ? undefined : f.reason,
    failedStep: ok ? undefined : 'upload',
    message: ok ? 'canary ended as expected' : `failed: ${f.reason ?? 'cancelled'}`,
    startedAt: new Date(finished.getTime() - duration * 1000).toISOString(),
    finishedAt: finished.toISOString(),
    durationSeconds: duration,
    steps: [
      { name: 'login', ok: true, startedAt: finished.toISOString(), durationSeconds: 0.7 },
      { name: 'upload', ok, startedAt: finished.toISOString(), durationSeconds: 1.2 },
    ],
    http: { requests: 5, byClass: { '1xx': 0, '2xx': ok ? 5 : 3, '3xx': 0, '4xx': ok ? 0 : 2, '5xx': 0, none: 0 } },
    canary:
      f.queueWaitSeconds !== undefined || f.importSeconds !== undefined
        ? { fileName: 'synthetic-probe-box-x.xlsx', queueWaitSeconds: f.queueWaitSeconds, importSeconds: f.importSeconds }
        : undefined,
  };
}
