// Light and full runs on their own schedules: production defaults write little and detect fast.
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.ts';
import { intervalOf, jobsFor, rowsPerDay } from '../../../src/service/scheduler.ts';

const target = (over: Record<string, unknown> = {}) => ({
  appUrl: 'https://tis.example',
  keycloak: { url: 'https://tis.example/auth' },
  credentials: { username: 'u', password: 'p' },
  ...over,
});

describe('depths', () => {
  it('production defaults: light every minute, full every 15 minutes, per probe', () => {
    const config = configSchema.parse({ targets: { prod: target() } });
    expect(config.schedule).toMatchObject({ interval: 900, light: 60 });
    const jobs = jobsFor(config).map((j) => `${j.probe}/${j.depth}/${j.intervalSeconds}`);
    expect(jobs).toEqual(['browser/light/60', 'browser/full/900', 'api/light/60', 'api/full/900']);
  });

  it('rows a day: one per full run of each probe, none for light runs', () => {
    const prod = configSchema.parse({ targets: { prod: target() } });
    expect(rowsPerDay(jobsFor(prod))).toEqual({ prod: 192 });
    // The earlier default (both probes in full every 60 s): 2,880 rows a day.
    const everyMinute = configSchema.parse({ schedule: { interval: 60, light: false }, targets: { prod: target() } });
    expect(rowsPerDay(jobsFor(everyMinute))).toEqual({ prod: 2880 });
  });

  it('a target may set its own intervals, or switch light runs off', () => {
    const config = configSchema.parse({
      targets: { a: target({ interval: '30m', light: '2m' }), b: target({ light: false, probes: ['api'] }) },
    });
    expect(intervalOf(config, config.targets.a!, 'full')).toBe(1800);
    expect(intervalOf(config, config.targets.a!, 'light')).toBe(120);
    expect(intervalOf(config, config.targets.b!, 'light')).toBe(false);
    expect(jobsFor(config, ['b']).map((j) => `${j.probe}/${j.depth}`)).toEqual(['api/full']);
    expect(rowsPerDay(jobsFor(config))).toEqual({ a: 96, b: 96 });
  });
});
