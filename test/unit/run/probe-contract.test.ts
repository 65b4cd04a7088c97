// The runner drives any probe through the one contract (src/journey/probe.ts) and knows none by
// name: a fake probe registered in place of a real one shows each call the runner makes, and
// when. Healthy: run, discard, close. Stopped: explain, freeze, evidence, close. Will not close:
// abandoned.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { configSchema } from '../../../src/config/schema.ts';
import type { Journey } from '../../../src/journey/journey.ts';
import type { Probe, ProbeSession } from '../../../src/journey/probe.ts';
import type { Stop } from '../../../src/model/stop.ts';

const fake = vi.hoisted(() => ({
  calls: [] as string[],
  journey: async (_j: Journey): Promise<void> => {},
  explain: async (stop: Stop): Promise<Stop> => stop,
  close: async (): Promise<void> => {},
}));

vi.mock('../../../probes/registry.ts', () => {
  const probe: Probe = {
    async open(j) {
      fake.calls.push('open');
      const session: ProbeSession = {
        run: async () => {
          fake.calls.push('run');
          await fake.journey(j);
        },
        explain: async (stop, step) => {
          fake.calls.push(`explain ${stop.kind} in ${step}`);
          return fake.explain(stop);
        },
        freeze: async () => void fake.calls.push('freeze'),
        evidence: async (dir) => {
          fake.calls.push('evidence');
          expect(existsSync(dir)).toBe(true);
          return { screenshot: Buffer.from('png'), problems: ['trace not kept: none recorded'] };
        },
        discard: async () => void fake.calls.push('discard'),
        close: async () => {
          fake.calls.push('close');
          await fake.close();
        },
        abandon: async () => void fake.calls.push('abandon'),
      };
      return session;
    },
  };
  return { PROBES: { api: probe, browser: probe } };
});

const { runProbe } = await import('../../../src/run/runner.ts');

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'bup-contract-'));
  const config = configSchema.parse({
    evidence: { dir, keep: 5 },
    targets: {
      t: {
        appUrl: 'http://127.0.0.1:9',
        keycloak: { url: 'http://127.0.0.1:9/kc' },
        credentials: { username: 'probe', password: 'Contract-Secret-1' },
      },
    },
  });
  config.targets.t!.timeouts = { ...config.targets.t!.timeouts, importStarted: 1, run: 30 };
  return { config, target: config.targets.t!, dir };
}

const never = () => new Promise<never>(() => {});

describe('the probe contract, as the runner uses it', () => {
  beforeEach(() => {
    fake.calls = [];
    fake.journey = async () => {};
    fake.explain = async (stop) => stop;
    fake.close = async () => {};
  });

  it('a healthy run: open, run, discard the recording, close; the verdict comes from what the journey saw', async () => {
    const { config, target } = await setup();
    fake.journey = async (j) => {
      await j.step('upload', async () => {
        j.seen.uploadAccepted = true;
        j.seen.upload = { logId: '7', status: 'COMPLETED', numberOfErrors: 1, numberImported: 0 };
      });
      await j.step('check_result', async () => {
        j.seen.reasonTexts = [j.canary.expectedReason];
      });
    };
    const r = await runProbe({ probe: 'api', targetName: 't', target, config });
    expect(r, r.message).toMatchObject({ ok: true, probe: 'api', canary: { logId: '7', status: 'COMPLETED' } });
    expect(r.steps.map((s) => s.name)).toEqual(['upload', 'check_result']);
    expect(fake.calls).toEqual(['open', 'run', 'discard', 'close']);
  });

  it('a stopped run: the probe explains the stop, holds still, gives its evidence, and is closed', async () => {
    const { config, target, dir } = await setup();
    fake.journey = async (j) => {
      await j.step('import_started', () => never());
    };
    fake.explain = async () => ({ kind: 'page', what: 'the uploads table is gone' });
    const r = await runProbe({ probe: 'api', targetName: 't', target, config });
    expect(r).toMatchObject({ ok: false, reason: 'page_broken', failedStep: 'import_started' });
    expect(r.message).toContain('the uploads table is gone');
    expect(fake.calls).toEqual(['open', 'run', 'explain step_timeout in import_started', 'freeze', 'evidence', 'close']);
    expect(r.evidenceDir?.startsWith(dir)).toBe(true);
    expect((await readdir(r.evidenceDir!)).sort()).toEqual(['network.json', 'probe.log', 'result.json', 'screenshot.png']);
  });

  it('a session that will not close is abandoned, and the run still ends with its result', async () => {
    const { config, target } = await setup();
    fake.journey = async (j) => {
      j.stop({ kind: 'bug', message: 'fake fault' });
    };
    fake.close = () => never();
    const r = await runProbe({ probe: 'browser', targetName: 't', target, config });
    expect(r).toMatchObject({ ok: false, reason: 'probe_error' });
    expect(fake.calls.slice(-2)).toEqual(['close', 'abandon']);
  }, 30_000);
});
