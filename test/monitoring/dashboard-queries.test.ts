// Every PromQL expression of the committed dashboard (panels, annotations, the variables'
// series selectors) parsed and evaluated by Debian's real Prometheus, with the variables filled
// in the ways Grafana fills them: one value, several values, All. alerting.test.ts runs the
// panel queries against scraped data; this catches a query Prometheus cannot even parse.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import axios from 'axios';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_FILE, SERVICE_JOB, SMOKE_JOB, dashboardExprs } from '../../deploy/dashboard/build.ts';
import { freePort, startPrometheus, type Daemon } from './daemons.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Grafana's values for the dashboard's variables: a multi-value variable becomes a regex group. */
const FILLINGS: Record<string, Record<string, string>> = {
  'one value each': { job: SERVICE_JOB, target: 'box', probe: 'api', depth: 'light' },
  'several values': {
    job: `(${SERVICE_JOB}|${SMOKE_JOB})`,
    target: '(box|prod)',
    probe: '(api|browser)',
    depth: '(light|full)',
  },
  All: { job: '.*', target: '.*', probe: '.*', depth: '.*' },
};
/** Grafana's built-in intervals, as it would send them. */
const BUILT_INS = { __rate_interval: '1m', __interval: '15s', __range: '6h' };

function fill(expr: string, values: Record<string, string>): string {
  return Object.entries({ ...BUILT_INS, ...values })
    .sort(([a], [b]) => b.length - a.length) // $__rate_interval before $__range …
    .reduce((e, [name, value]) => e.replaceAll(`$${name}`, value), expr);
}

let dir: string;
let prometheus: Daemon | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bup-dashboard-'));
  // Nothing listens on the scrape target or the Alertmanager port: only the query engine is used.
  prometheus = await startPrometheus({
    dir,
    rulesFile: join(root, 'deploy/prometheus/alerts.yml'),
    scrapeTarget: `127.0.0.1:${await freePort()}`,
    alertmanagerUrl: `http://127.0.0.1:${await freePort()}`,
    intervalSeconds: 5,
  });
});

afterAll(async () => {
  await prometheus?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('dashboard PromQL against a real Prometheus', () => {
  it('every expression of the committed dashboard is valid PromQL, whatever the variables hold', async () => {
    const exprs = dashboardExprs(JSON.parse(await readFile(DASHBOARD_FILE, 'utf8')));
    expect(exprs.length).toBeGreaterThan(20);
    const rejected: string[] = [];
    for (const [filling, values] of Object.entries(FILLINGS)) {
      for (const { where, expr } of exprs) {
        const q = fill(expr, values);
        expect(q, `${where}: a variable left unfilled`).not.toContain('$');
        const r = await axios.get<{ status: string; error?: string }>(`${prometheus!.url}/api/v1/query`, {
          params: { query: q },
          timeout: 10_000,
          validateStatus: () => true,
        });
        if (r.status !== 200 || r.data.status !== 'success') rejected.push(`${filling}, ${where}: ${r.data.error ?? r.status}\n  ${q}`);
      }
    }
    expect(rejected).toEqual([]);
  });

  it('Prometheus tells a broken expression apart (the check above can fail)', async () => {
    const r = await axios.get<{ status: string }>(`${prometheus!.url}/api/v1/query`, {
      params: { query: 'sum by (target) (increase(bulk_upload_probe_runs_total[1d]) /' },
      validateStatus: () => true,
    });
    expect(r.status).toBe(400);
    expect(r.data.status).toBe('error');
  });
});
