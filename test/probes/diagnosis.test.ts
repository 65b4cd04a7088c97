// The broken link, named, against TIS in a box: each fault's failed run gets its reason (as in
// faults.test.ts, unchanged) and a diagnosis from the follow-up checks. The two halves of the
// 2021 incident and the 2024 incident get three different diagnoses; a refused account, Keycloak
// answering 5xx, Keycloak refusing connections, and a realm that does not exist get theirs.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { clearFault, setFault, type FaultParamsInput } from '../../box/control-client.ts';
import type { Diagnosis } from '../../src/model/diagnosis.ts';
import type { FailureReason } from '../../src/model/failures.ts';
import type { ProbeName, RunResult } from '../../src/model/result.ts';
import { formatResult } from '../../src/report/console.ts';
import { useBoxProbes } from './setup.ts';

const box = inject('box');
const probes = useBoxProbes(box);

function explain(r: RunResult): string {
  return `${r.probe}: ${r.ok ? 'ok' : `${r.reason} / ${r.diagnosis ?? 'no diagnosis'}: ${r.message} [${r.diagnosisDetail ?? ''}]`}`;
}

/** Seconds the follow-ups took, as the detail says. */
function followUpSeconds(r: RunResult): number {
  const m = /follow-ups (\d+(?:\.\d+)?) s$/.exec(r.diagnosisDetail ?? '');
  return m ? Number(m[1]) : NaN;
}

/** The follow-ups' times as the run log (the evidence's probe.log) has them: the stage, and each request. */
async function followUpTimes(r: RunResult): Promise<string> {
  const log = await readFile(join(r.evidenceDir!, 'probe.log'), 'utf8');
  const total = /"followUpSeconds":([\d.e-]+)/.exec(log)?.[1];
  const each = [...log.matchAll(/follow-up GET \S+?\/([^/\s"]+): [^"]*? in (\d+) ms/g)].map((m) => `${m[1]} ${m[2]} ms`);
  return `follow-ups ${total ? Math.round(Number(total) * 1000) : '?'} ms (${each.join(', ')})`;
}

interface Case {
  fault: string;
  params?: FaultParamsInput;
  reason: FailureReason;
  diagnosis: Diagnosis;
  /** The detail must say this (per probe when they differ). */
  detail: RegExp | Record<ProbeName, RegExp>;
}

const CASES: Case[] = [
  {
    fault: 'stale-config',
    reason: 'auth_rejected',
    diagnosis: 'generic_upload_config_stale',
    // The browser asks Profile with the page's own token, the API probe with its session's.
    detail: {
      browser:
        /^Profile accepts the token generic-upload refused: GET http:\/\/127\.0\.0\.1:\d+\/profile\/api\/userinfo answered 200 .*\(page token\)/,
      api: /^Profile accepts the token generic-upload refused: .*answered 200 .*\(api-session token\)/,
    },
  },
  {
    fault: 'service-account-disabled',
    reason: 'import_failed',
    diagnosis: 'service_account_no_token',
    detail:
      /^the canary ended UNEXPECTED_ERROR while the realm answers the probe \(GET .*\/realms\/lin\/\.well-known\/openid-configuration answered 200/,
  },
  {
    fault: 'service-account-inactive-in-profile',
    reason: 'import_wrong_result',
    diagnosis: 'service_account_inactive_in_profile',
    detail:
      /^reason "500 Internal Server Error"; Profile and TCS answer the probe \(GET .*\/profile\/api\/userinfo answered 200 .*; GET .*\/tcs\/api\/people\/999999999 answered 404/,
  },
  {
    fault: 'test-user-disabled',
    reason: 'login_failed',
    diagnosis: 'account_refused',
    detail: /^the realm answers \(GET .*openid-configuration answered 200 .*\); the test user was refused/,
  },
  {
    fault: 'login-down',
    params: { mode: '5xx' },
    reason: 'login_unavailable',
    diagnosis: 'keycloak_failing',
    detail: /openid-configuration answered 503/,
  },
  {
    fault: 'login-down',
    params: { mode: 'refuse' },
    reason: 'login_unavailable',
    diagnosis: 'keycloak_unreachable',
    detail: /openid-configuration got no answer \(ECONNREFUSED/,
  },
];

const measured: string[] = [];

describe.each(CASES.map((c) => ({ ...c, label: c.params ? `${c.fault} ${JSON.stringify(c.params)}` : c.fault })))('fault $label', (c) => {
  for (const probe of ['browser', 'api'] as const) {
    it(`${probe}: ${c.reason}, diagnosed ${c.diagnosis}`, async () => {
      await setFault(box.urls.control, c.fault, c.params);
      const t0 = Date.now();
      const r = await probes().run(probe);
      const wall = (Date.now() - t0) / 1000;
      expect(r.ok, explain(r)).toBe(false);
      expect(r.reason, explain(r)).toBe(c.reason);
      expect(r.diagnosis, explain(r)).toBe(c.diagnosis);
      expect(r.diagnosisDetail, explain(r)).toMatch(c.detail instanceof RegExp ? c.detail : c.detail[probe]);
      // Bounded: the follow-ups well within their 6 s stage, and the run's own duration does not include them.
      expect(followUpSeconds(r)).toBeLessThan(6);
      expect(wall).toBeGreaterThanOrEqual(r.durationSeconds);
      expect(formatResult(r)).toContain(`diagnosis: ${c.diagnosis}: `);
      measured.push(`${c.label} ${probe}: ${r.reason} → ${r.diagnosis}, run ${r.durationSeconds.toFixed(1)} s, ${await followUpTimes(r)}`);
      console.log(`diagnosed ${measured.at(-1)}`);
    });
  }
});

describe('the three incidents get three different diagnoses', () => {
  it('stale-config, service-account-disabled and service-account-inactive-in-profile, for each probe', async () => {
    for (const probe of ['browser', 'api'] as const) {
      const seen = new Map<string, Diagnosis | undefined>();
      for (const fault of ['stale-config', 'service-account-disabled', 'service-account-inactive-in-profile']) {
        await setFault(box.urls.control, fault);
        const r = await probes().run(probe);
        seen.set(fault, r.diagnosis);
        await clearFault(box.urls.control, fault);
      }
      expect(new Set(seen.values()).size, JSON.stringify([...seen])).toBe(3);
      expect(seen.get('stale-config')).not.toBe(seen.get('service-account-inactive-in-profile'));
    }
  });
});

describe('a realm that does not exist (configuration, no fault)', () => {
  it('api: the token endpoint answers 404 (login_unavailable), the discovery document too: realm_not_found', async () => {
    const base = probes().target;
    const target = { ...base, keycloak: { ...base.keycloak, realm: 'no-such-realm' } };
    const r = await probes().run('api', { target });
    expect(r.reason, explain(r)).toBe('login_unavailable');
    expect(r.diagnosis, explain(r)).toBe('realm_not_found');
    expect(r.diagnosisDetail).toMatch(/\/realms\/no-such-realm\/\.well-known\/openid-configuration answered 404/);
    measured.push(
      `realm no-such-realm api: ${r.reason} → ${r.diagnosis}, run ${r.durationSeconds.toFixed(1)} s, ${await followUpTimes(r)}`,
    );
    console.log(`diagnosed ${measured.at(-1)}`);
  });
});

describe('a healthy run has no diagnosis', () => {
  // Last: by now the box is warm (a cold Keycloak on a loaded machine can take a first login past its timeout).
  it('both probes', async () => {
    for (const probe of ['browser', 'api'] as const) {
      const r = await probes().run(probe);
      expect(r.ok, explain(r)).toBe(true);
      expect(r.diagnosis).toBeUndefined();
      expect(r.diagnosisDetail).toBeUndefined();
    }
  });
});
