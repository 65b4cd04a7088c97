// The Grafana-managed rules' PromQL, run for real: Debian's Prometheus scrapes a tiny loopback
// exporter that this test controls, first a healthy world, then one with every fault at once (each
// on its own target). Every query of the generated Grafana provisioning file must return nothing
// in the healthy world, and exactly the faulty jobs once the faults are there. The same Prometheus
// evaluates the generated alerts.yml with external labels set, so the annotations chat templates
// read (runbook, dashboard and evidence links, diagnosis, message) are checked as rendered;
// Debian's promtool cannot set external labels in its unit tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import axios from 'axios';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILES, GRAFANA_REF } from '../../deploy/alerts/build.ts';
import { ALERTS, runbookAnchor } from '../../deploy/alerts/definitions.ts';
import { LIKELY_CAUSE, type FailureReason } from '../../src/model/failures.ts';
import { PrometheusApi, freePort, stopChild, waitFor, type PromAlert } from './daemons.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const EXTERNAL = {
  runbook_base_url: 'https://runbooks.example.test/bulk-upload-probe/README.md',
  dashboard_url: 'https://grafana.example.test/d/bulk-upload-probe',
  status_url: 'https://probe.example.test/', // the trailing slash is dropped in links
};
const SCRAPE_S = 1;

// ------------------------------------------------------------------ the world the exporter shows

interface Job {
  target: string;
  probe: 'api' | 'browser';
  depth: 'light' | 'full';
  /** A job label of its own (honor_labels), e.g. the Pushgateway's smoke job. */
  job?: string;
  failing?: { reason: FailureReason; consecutive: number; diagnosis?: string; message: string };
  /** Seconds since the last run / success finished (default: 10). */
  lastRunAgo?: number;
  lastSuccessAgo?: number;
}

interface World {
  jobs: Job[];
  /** Counter series increased at every scrape, by this much. */
  perScrape: Record<string, number>;
  /** Counter series increased once, at the world's first scrape. */
  once?: Record<string, number>;
}

const job = (target: string, more: Partial<Job> = {}): Job => ({ target, probe: 'api', depth: 'light', ...more });

// Counter series, present at 0 from the start (as the probe pre-creates them).
const C = {
  probeErrors: 'bulk_upload_probe_failures_total{probe="api",depth="full",target="proberr",reason="probe_error"}',
  evidenceFailures: 'bulk_upload_probe_evidence_write_failures_total{probe="browser",depth="full",target="evidence"}',
  realFailed: 'bulk_upload_probe_real_uploads_ended_total{target="realfail",outcome="unexpected_error"}',
  realCompleted: 'bulk_upload_probe_real_uploads_ended_total{target="realfail",outcome="completed"}',
};
const queueBucket = (le: string) => `bulk_upload_probe_canary_queue_wait_seconds_bucket{probe="api",target="slow",le="${le}"}`;
const importBucket = (le: string) => `bulk_upload_probe_canary_import_duration_seconds_bucket{probe="api",target="slow",le="${le}"}`;
/** One observation per scrape: a healthy 1.5 s, or a slow 45 s. */
const fastQueue = { [queueBucket('2')]: 1, [queueBucket('20')]: 1, [queueBucket('60')]: 1, [queueBucket('+Inf')]: 1 };
const slowQueue = { [queueBucket('60')]: 1, [queueBucket('+Inf')]: 1 };
const fastImport = { [importBucket('2')]: 1, [importBucket('+Inf')]: 1 };

const smoke = job('prod', {
  job: 'bulk-upload-probe-smoke',
  depth: 'full',
  failing: { reason: 'auth_rejected', consecutive: 5, message: 'a smoke run pushed long ago' },
  lastRunAgo: 7200,
  lastSuccessAgo: 9000,
});

const TARGETS = ['ok', 'auth', 'import', 'queue', 'once', 'nosuccess', 'stuck', 'slow', 'proberr', 'evidence', 'realfail'];
const depthOf: Record<string, Partial<Job>> = {
  import: { probe: 'browser', depth: 'full' },
  queue: { depth: 'full' },
  slow: { depth: 'full' },
  proberr: { depth: 'full' },
  evidence: { probe: 'browser', depth: 'full' },
};

const healthy: World = {
  jobs: [...TARGETS.map((t) => job(t, depthOf[t])), smoke],
  perScrape: { ...fastQueue, ...fastImport, [C.realCompleted]: 1 },
};

const faulty: World = {
  jobs: [
    job('ok'),
    job('auth', {
      failing: {
        reason: 'auth_rejected',
        consecutive: 2,
        diagnosis: 'generic_upload_config_stale',
        message: 'GET /generic-upload/api/status answered 401 "Unauthorized"',
      },
      lastSuccessAgo: 130,
    }),
    job('import', {
      ...depthOf.import,
      failing: { reason: 'import_failed', consecutive: 3, diagnosis: 'none', message: 'the canary import ended UNEXPECTED_ERROR' },
      lastSuccessAgo: 600,
    }),
    job('queue', { ...depthOf.queue, failing: { reason: 'queue_stalled', consecutive: 2, message: 'the canary stayed PENDING' } }),
    job('once', { failing: { reason: 'auth_rejected', consecutive: 1, message: 'one 401 among successes' } }),
    job('nosuccess', { failing: { reason: 'timeout', consecutive: 1, message: 'no answer within 30 s' }, lastSuccessAgo: 3600 }),
    job('stuck', { lastRunAgo: 700, lastSuccessAgo: 700 }),
    job('slow', depthOf.slow),
    job('proberr', depthOf.proberr),
    job('evidence', depthOf.evidence),
    job('realfail'),
    smoke,
  ],
  perScrape: { ...slowQueue, ...fastImport, [C.realFailed]: 2, [C.probeErrors]: 1 },
  once: { [C.evidenceFailures]: 1 },
};

/** For each rule: the targets whose jobs its query must return once the faults are there. */
const EXPECTED: Record<string, string[]> = {
  BulkUploadAuthRejected: ['auth'],
  BulkUploadImportFailing: ['import'],
  BulkUploadQueueStalled: ['queue'],
  BulkUploadProbeFailing: ['auth', 'import', 'nosuccess', 'once', 'queue'],
  BulkUploadNoSuccess: ['nosuccess'],
  BulkUploadProbeNotRunning: ['stuck'],
  BulkUploadImportSlow: ['slow'],
  BulkUploadProbeError: ['proberr'],
  BulkUploadProbeEvidenceNotKept: ['evidence'],
  BulkUploadRealImportsFailing: ['realfail'],
};

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labelText = (l: Record<string, string | undefined>) =>
  Object.entries(l)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}="${esc(v!)}"`)
    .join(',');

class Exporter {
  world: World = healthy;
  generation = 0;
  private counters = new Map<string, number>(
    [...Object.values(C), ...Object.keys(fastQueue), ...Object.keys(fastImport)].map((k) => [k, 0]),
  );
  private onceDone = false;
  private server?: Server;
  url = '';

  show(world: World): void {
    this.world = world;
    this.generation += 1;
    this.onceDone = false;
  }

  private exposition(): string {
    const w = this.world;
    for (const [k, v] of Object.entries(w.perScrape)) this.counters.set(k, (this.counters.get(k) ?? 0) + v);
    if (w.once && !this.onceDone) for (const [k, v] of Object.entries(w.once)) this.counters.set(k, (this.counters.get(k) ?? 0) + v);
    this.onceDone = true;
    const now = Date.now() / 1000;
    const lines = [`bulk_upload_probe_test_world ${this.generation}`, `process_start_time_seconds ${now - 7200}`];
    for (const j of w.jobs) {
      const l = { job: j.job, probe: j.probe, depth: j.depth, target: j.target };
      const f = j.failing;
      lines.push(`bulk_upload_probe_success{${labelText(l)}} ${f ? 0 : 1}`);
      lines.push(`bulk_upload_probe_consecutive_failures{${labelText(l)}} ${f?.consecutive ?? 0}`);
      for (const reason of ['auth_rejected', 'import_failed', 'import_wrong_result', 'canary_imported', 'queue_stalled', 'timeout'])
        lines.push(`bulk_upload_probe_failure_reason{${labelText({ ...l, reason })}} ${f?.reason === reason ? 1 : 0}`);
      if (f)
        lines.push(
          `bulk_upload_probe_last_failure_info{${labelText({ ...l, reason: f.reason, diagnosis: f.diagnosis ?? 'none', message: f.message })}} 1`,
        );
      lines.push(`bulk_upload_probe_interval_seconds{${labelText(l)}} ${j.depth === 'full' ? 900 : 60}`);
      lines.push(`bulk_upload_probe_last_run_timestamp_seconds{${labelText(l)}} ${now - (j.lastRunAgo ?? 10)}`);
      lines.push(`bulk_upload_probe_last_success_timestamp_seconds{${labelText(l)}} ${now - (j.lastSuccessAgo ?? 10)}`);
    }
    for (const [k, v] of this.counters) lines.push(`${k} ${v}`);
    return `${lines.join('\n')}\n`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      if (req.url !== '/metrics') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(this.exposition());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as { port: number };
    this.url = `127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

// ------------------------------------------------------------------ Prometheus

let dir: string;
let exporter: Exporter;
let prometheus: ChildProcess | undefined;
let prom: PrometheusApi;
let logFile: string;

async function startPrometheus(): Promise<void> {
  const port = await freePort();
  const config = join(dir, 'prometheus.yml');
  await writeFile(
    config,
    stringify({
      global: { scrape_interval: `${SCRAPE_S}s`, evaluation_interval: `${SCRAPE_S}s`, external_labels: EXTERNAL },
      rule_files: [join(root, FILES.prometheusRules)],
      // honor_labels keeps the smoke job's own job label, as with the Pushgateway.
      scrape_configs: [{ job_name: 'bulk-upload-probe', honor_labels: true, static_configs: [{ targets: [exporter.url] }] }],
    }),
  );
  logFile = join(dir, 'prometheus.log');
  const log = createWriteStream(logFile);
  prometheus = spawn(
    'prometheus',
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  prometheus.stdout!.pipe(log);
  prometheus.stderr!.pipe(log);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (prometheus!.exitCode !== null) throw new Error(`prometheus exited with ${prometheus!.exitCode}`);
      return (await axios.get(`${url}/-/ready`, { timeout: 1000, validateStatus: () => true })).status === 200;
    },
    'Prometheus ready',
    30_000,
  ).catch(async (e: Error) => {
    throw new Error(`${e.message}\n${await readFile(logFile, 'utf8').catch(() => '')}`);
  });
  prom = new PrometheusApi(url);
}

/** Waits until Prometheus has scraped the exporter's current world `scrapes` times. */
async function scraped(scrapes: number): Promise<void> {
  const generation = exporter.generation;
  await waitFor(
    async () => (await prom.query(`bulk_upload_probe_test_world == ${generation}`)).length === 1,
    `world ${generation}`,
    20_000,
  );
  await new Promise((r) => setTimeout(r, scrapes * SCRAPE_S * 1000));
}

// ------------------------------------------------------------------ the generated Grafana rules

interface GrafanaQuery {
  refId: string;
  datasourceUid: string;
  model: { expr?: string };
}
const grafanaRules = (
  parse(readFileSync(join(root, FILES.grafanaRules), 'utf8')) as { groups: { rules: { title: string; data: GrafanaQuery[] }[] }[] }
).groups.flatMap((g) => g.rules);
const promqlOf = (title: string, refId: string): string | undefined =>
  grafanaRules.find((r) => r.title === title)?.data.find((q) => q.refId === refId)?.model.expr;

const targetsOf = (series: { metric: Record<string, string> }[]) => [...new Set(series.map((s) => s.metric.target ?? '(none)'))].sort();

describe('the Grafana-managed rules, queried in a real Prometheus', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bup-grafana-rules-'));
    exporter = new Exporter();
    await exporter.start();
    await startPrometheus();
    await waitFor(async () => (await prom.query('up{job="bulk-upload-probe"} == 1')).length === 1, 'the exporter scraped', 20_000);
  });

  afterAll(async () => {
    if (prometheus) await stopChild(prometheus);
    await exporter?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("every definition has a Grafana rule with one PromQL query, and it is the Prometheus rule's", () => {
    expect(grafanaRules.map((r) => r.title)).toEqual(ALERTS.map((a) => a.name));
    for (const a of ALERTS) expect(promqlOf(a.name, GRAFANA_REF.query)).toBe(a.expr);
    expect(Object.keys(EXPECTED).sort()).toEqual(ALERTS.map((a) => a.name).sort());
  });

  it("in a healthy world (a stale smoke push aside) every rule's query returns nothing", async () => {
    exporter.show(healthy);
    await scraped(4);
    const found: string[] = [];
    for (const a of ALERTS) {
      const result = await prom.query(promqlOf(a.name, GRAFANA_REF.query)!);
      if (result.length) found.push(`${a.name}: ${JSON.stringify(result.map((s) => s.metric))}`);
    }
    expect(found).toEqual([]);
    // The latest-failure query never comes back empty (that would make Grafana's whole rule NoData).
    const info = await prom.query(promqlOf('BulkUploadAuthRejected', GRAFANA_REF.info)!);
    expect(info.map((s) => [s.metric, s.value[1]])).toEqual([[{}, '0']]);
  }, 60_000);

  it("with the faults present, each rule's query returns exactly the faulty jobs", async () => {
    exporter.show(faulty);
    await scraped(1);
    const got: Record<string, string[]> = {};
    // Rates and increases need a few scrapes of the new world; the state-based queries answer at once.
    await waitFor(
      async () => {
        for (const a of ALERTS) got[a.name] = targetsOf(await prom.query(promqlOf(a.name, GRAFANA_REF.query)!));
        return ALERTS.every((a) => JSON.stringify(got[a.name]) === JSON.stringify(EXPECTED[a.name]));
      },
      'every query to return its faulty jobs',
      40_000,
      1000,
    ).catch(() => undefined);
    expect(got).toEqual(EXPECTED);

    // The labels that make the alert: the job's, plus what the rule adds (reason, phase).
    const auth = await prom.query(promqlOf('BulkUploadAuthRejected', GRAFANA_REF.query)!);
    expect(auth.map((s) => s.metric)).toEqual([
      { job: 'bulk-upload-probe', instance: exporter.url, probe: 'api', depth: 'light', target: 'auth', reason: 'auth_rejected' },
    ]);
    expect(auth[0]!.value[1]).toBe('2'); // the failed runs in a row: what the description prints
    const failing = await prom.query(promqlOf('BulkUploadProbeFailing', GRAFANA_REF.query)!);
    for (const s of failing) expect(s.metric.__name__).toBeUndefined();
    const slow = await prom.query(promqlOf('BulkUploadImportSlow', GRAFANA_REF.query)!);
    expect(slow.map((s) => s.metric.phase)).toEqual(['queue_wait']);
  }, 90_000);

  it("the latest-failure query returns each failing job's info series, whose labels include the alert's", async () => {
    const info = await prom.query(promqlOf('BulkUploadAuthRejected', GRAFANA_REF.info)!);
    expect(targetsOf(info)).toEqual(['auth', 'import', 'nosuccess', 'once', 'queue']);
    const auth = info.find((s) => s.metric.target === 'auth')!.metric;
    expect(auth).toMatchObject({ reason: 'auth_rejected', diagnosis: 'generic_upload_config_stale' });
    expect(auth.message).toBe('GET /generic-upload/api/status answered 401 "Unauthorized"');
    const alert = (await prom.query(promqlOf('BulkUploadAuthRejected', GRAFANA_REF.query)!))[0]!.metric;
    // Grafana gives an alert the $values of a query whose labels contain the alert's (or are contained).
    for (const [k, v] of Object.entries(alert)) expect(auth[k], k).toBe(v);
  });

  it('Prometheus renders the annotations with its external labels: runbook, dashboard and evidence links, diagnosis, message', async () => {
    let firing: PromAlert[] = [];
    await waitFor(
      async () => {
        firing = await prom.alerts();
        return ['BulkUploadAuthRejected', 'BulkUploadImportFailing', 'BulkUploadRealImportsFailing'].every((n) =>
          firing.some((a) => a.labels.alertname === n && a.state === 'firing'),
        );
      },
      'the alerts without `for` firing',
      30_000,
    );
    const named = (n: string) => firing.find((a) => a.labels.alertname === n)!;

    const auth = named('BulkUploadAuthRejected');
    expect(auth.labels).toMatchObject({ severity: 'critical', team: 'bulk-upload', service: 'bulk-upload', target: 'auth' });
    expect(auth.annotations).toEqual({
      summary: "Bulk Upload rejects a logged-in user's API calls (auth, api probe)",
      description:
        'The api probe logs in to auth, but the Bulk Upload API (generic-upload) answers 401/403: the last 2 light runs in a row ' +
        'failed with auth_rejected. Users see the page reload itself / "server took too long".',
      likely_cause: LIKELY_CAUSE.auth_rejected,
      diagnosis: 'generic_upload_config_stale',
      message: 'GET /generic-upload/api/status answered 401 "Unauthorized"',
      dashboard_url: EXTERNAL.dashboard_url,
      evidence_url: 'https://probe.example.test/targets/auth/api/last-failure?depth=light',
      runbook_url: `${EXTERNAL.runbook_base_url}#${runbookAnchor('BulkUploadAuthRejected')}`,
    });

    const importing = named('BulkUploadImportFailing');
    expect(importing.annotations).toMatchObject({
      likely_cause: LIKELY_CAUSE.import_failed,
      diagnosis: '', // "none" says nothing
      message: 'the canary import ended UNEXPECTED_ERROR',
      evidence_url: 'https://probe.example.test/targets/import/browser/last-failure?depth=full',
    });

    // Not about one job: no evidence link; the runbook and dashboard links all the same.
    const real = named('BulkUploadRealImportsFailing');
    expect(real.labels).toMatchObject({ severity: 'warning', team: 'bulk-upload', service: 'bulk-upload', target: 'realfail' });
    expect(real.annotations.evidence_url).toBeUndefined();
    expect(real.annotations.dashboard_url).toBe(EXTERNAL.dashboard_url);
    expect(real.annotations.runbook_url).toBe(`${EXTERNAL.runbook_base_url}#bulkuploadrealimportsfailing`);

    // A single failure and the smoke job's stale push fire nothing.
    expect(
      firing.filter((a) => ['once', 'prod'].includes(a.labels.target ?? '') && a.labels.alertname !== 'BulkUploadProbeFailing'),
    ).toEqual([]);
  }, 60_000);
});
