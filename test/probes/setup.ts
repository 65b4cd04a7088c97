// Shared by the probe integration suites: the box's own probe configuration with short step
// timeouts (faults must be seen fast) and evidence in a fresh folder.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { clearFault } from '../../box/control-client.ts';
import { launchBrowser } from '../../src/browser/launch.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { Config, TargetConfig } from '../../src/config/schema.ts';
import { timeoutsSchema } from '../../src/config/schema.ts';
import type { ProbeName, RunResult } from '../../src/model/result.ts';
import { runProbe, type RunRequest } from '../../src/run/runner.ts';
import type { BoxInfo } from '../support/box-info.ts';
import { FAST_TIMEOUTS } from '../../box/probe-config.ts';

/** Step timeouts for fault tests: long enough for a healthy box (imports take ~1-2 s), short enough to fail fast. */
export const SHORT_TIMEOUTS = timeoutsSchema.parse(FAST_TIMEOUTS);

export interface ProbeSetup {
  config: Config;
  target: TargetConfig;
  evidenceDir: string;
  run(probe: ProbeName, extra?: Partial<RunRequest>): Promise<RunResult>;
}

export async function probeSetup(box: BoxInfo, browser?: Browser): Promise<ProbeSetup> {
  const loaded = await loadConfig(box.configPath);
  const evidenceDir = await mkdtemp(join(tmpdir(), 'bup-evidence-'));
  const config: Config = { ...loaded, evidence: { dir: evidenceDir, keep: 100 } };
  const target: TargetConfig = { ...config.targets.box!, timeouts: SHORT_TIMEOUTS };
  config.targets = { box: target };
  return {
    config,
    target,
    evidenceDir,
    run: (probe, extra = {}) => runProbe({ probe, targetName: 'box', target, config, ...(browser ? { browser } : {}), ...extra }),
  };
}

/**
 * A suite's probes against the shared box: one browser for the suite, every fault cleared before
 * it and after each test (other suites share the box). The setup is there once beforeAll has run.
 */
export function useBoxProbes(box: BoxInfo): () => ProbeSetup {
  let browser: Browser | undefined;
  let probes: ProbeSetup | undefined;
  beforeAll(async () => {
    browser = await launchBrowser();
    probes = await probeSetup(box, browser);
    await clearFault(box.urls.control);
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await clearFault(box.urls.control);
  });
  return () => {
    if (!probes) throw new Error('the probe setup is ready only once beforeAll has run');
    return probes;
  };
}
