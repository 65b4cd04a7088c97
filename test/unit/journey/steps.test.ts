// Steps and deadlines: each step is timed, ends at its timeout even when the work ignores its
// signal, and a run-level stop (deadline, cancel, fail-fast) ends the current step at once.
import { describe, expect, it } from 'vitest';
import { timeoutsSchema } from '../../../src/config/schema.ts';
import { JourneyStop, toStop } from '../../../src/model/stop.ts';
import { raceAbort, sleep } from '../../../src/model/wait.ts';
import { StepRunner } from '../../../src/journey/steps.ts';
import type { StepResult } from '../../../src/model/result.ts';

// The file refuses timeouts under 1 s; the tests set a short one after parsing to stay fast.
const timeouts = { ...timeoutsSchema.parse({ upload: 5 }), login: 0.2 };
const never = () => new Promise<never>(() => {});

describe('StepRunner', () => {
  it('times a step and reports it', async () => {
    const seen: StepResult[] = [];
    const steps = new StepRunner({ timeouts, signal: new AbortController().signal, onStep: (s) => seen.push(s) });
    expect(await steps.run('upload', async () => 42)).toBe(42);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ name: 'upload', ok: true });
    expect(steps.current).toBeUndefined();
  });

  it('ends a step at its own timeout even when the work never settles', async () => {
    const steps = new StepRunner({ timeouts, signal: new AbortController().signal });
    const t0 = Date.now();
    const err = await steps.run('login', never).catch((e) => e);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(toStop(err)).toEqual({ kind: 'step_timeout', seconds: 0.2 });
    expect(steps.steps[0]).toMatchObject({ name: 'login', ok: false, error: 'timed out after 0.2 s' });
    expect(steps.current).toBe('login');
  });

  it('ends the current step when the run is stopped from outside', async () => {
    const run = new AbortController();
    const steps = new StepRunner({ timeouts, signal: run.signal });
    setTimeout(() => run.abort(new JourneyStop({ kind: 'cancelled' })), 50);
    const err = await steps.run('upload', (signal) => sleep(10_000, signal)).catch((e) => e);
    expect(toStop(err)).toEqual({ kind: 'cancelled' });
  });

  it('treats anything else thrown as a probe bug', () => {
    expect(toStop(new TypeError('x is undefined'))).toEqual({ kind: 'bug', message: 'TypeError: x is undefined' });
  });
});

describe('raceAbort and sleep', () => {
  it('reject at once on an aborted signal', async () => {
    const c = new AbortController();
    c.abort(new JourneyStop({ kind: 'run_deadline', seconds: 1 }));
    await expect(raceAbort(never(), c.signal)).rejects.toBeInstanceOf(JourneyStop);
    await expect(sleep(1000, c.signal)).rejects.toBeInstanceOf(JourneyStop);
  });
});
