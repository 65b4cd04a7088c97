// The shipped notification setup, proven with Debian's Alertmanager (0.25) and no Prometheus:
// alerts shaped like the rules' are posted straight to Alertmanager's API v2, and what reaches
// Slack (a loopback capture server in place of Slack's incoming webhook) and e-mail (a loopback
// SMTP server in place of the relay) is read back: the templates in deploy/alertmanager/templates
// must carry the likely cause, the diagnosis, the latest message, since when, and links that
// answer (runbook, dashboard and the failed run's evidence, served by another loopback server);
// the resolved notice must say recovered and since when. Also: amtool check-config on every
// shipped configuration 0.25 can load, the Teams file checked as YAML and its templates rendered
// by amtool, the routes tested with amtool, the grouping and the inhibition observed in a real
// Alertmanager, and the shipped timings measured.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import axios from 'axios';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { startHttpCapture, type CapturedRequest, type HttpCapture } from '../support/http-capture.ts';
import { parseMail } from '../support/mail.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { freePort, startDaemon, waitFor, type Daemon } from './daemons.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const amDir = join(root, 'deploy/alertmanager');
const templatesGlob = join(amDir, 'templates/*.tmpl');
/** Every shipped configuration Alertmanager 0.25 can load. */
const LOADABLE = [
  'alertmanager.yml',
  'alertmanager-local.yml',
  'alertmanager-slack.yml',
  'alertmanager-email.yml',
  'alertmanager-msteams-bridge.yml',
];
/** msteams_configs: Alertmanager 0.26 or later. */
const TEAMS = 'alertmanager-msteams.yml';
const TEAM_ALERTS = [
  'BulkUploadAuthRejected',
  'BulkUploadImportFailing',
  'BulkUploadQueueStalled',
  'BulkUploadProbeFailing',
  'BulkUploadNoSuccess',
  'BulkUploadImportSlow',
  'BulkUploadRealImportsFailing',
];
const OPERATOR_ALERTS = ['BulkUploadProbeNotRunning', 'BulkUploadProbeError', 'BulkUploadProbeEvidenceNotKept'];

interface Route {
  receiver: string;
  group_by?: string[];
  group_wait?: string;
  group_interval?: string;
  repeat_interval?: string;
  routes?: Route[];
}
interface Receiver {
  name: string;
  webhook_configs?: { url: string; send_resolved?: boolean }[];
  slack_configs?: Record<string, unknown>[];
  email_configs?: Record<string, unknown>[];
  msteams_configs?: Record<string, unknown>[];
}
interface AmConfig {
  templates?: string[];
  route: Route;
  receivers: Receiver[];
  inhibit_rules: { source_matchers: string[]; target_matchers: string[]; equal: string[] }[];
}

const readConfig = (file: string) => parse(readFileSync(join(amDir, file), 'utf8')) as AmConfig;
const amtool = (args: string[]) => spawnSync('amtool', args, { encoding: 'utf8', timeout: 60_000 });
/** Alertmanager's minor version (0.25 on Debian 12/13), from amtool's. */
const amMinor = Number(/version 0\.(\d+)/.exec(amtool(['--version']).stdout)?.[1] ?? NaN);

/** "2026-11-27 19:02:11 UTC", as the templates print a time. */
const utc = (d: Date) => `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 19)} UTC`;
/** A whole number of seconds as Go prints a time.Duration: "2m31s", "1h0m5s", "45s". */
function goDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h ? `${h}h${m}m${s}s` : m ? `${m}m${s}s` : `${s}s`;
}
/** Now, to the whole second (Alertmanager's templates print seconds). */
const wholeSecond = (offsetS = 0) => new Date(Math.floor(Date.now() / 1000) * 1000 + offsetS * 1000);

// ---------------------------------------------------------------------------------------------
// Alerts as the rules make them.

interface PostedAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  generatorURL?: string;
}

// As deploy/prometheus/alerts.yml words BulkUploadAuthRejected; the diagnosis and the message are
// what the probe reports in bulk_upload_probe_last_failure_info.
const LIKELY_CAUSE =
  'generic-upload rejects valid tokens: stale deployed configuration (Keycloak/Profile URLs or realm) after a deploy, as on 2024-10-15; or the test user is inactive in Profile';
const DIAGNOSIS = 'generic_upload_config_stale';
const MESSAGE = 'logged in, but the API answered 401 to GET https://tis.example.org/generic-upload/api/status';
/** The probe's page of a job's latest failure (evidence_url), under the links server. */
const evidencePath = (target: string) => `/targets/${target}/api/last-failure`;

function authRejected(links: string, target: string, startsAt: Date, endsAt?: Date): PostedAlert {
  return {
    labels: {
      alertname: 'BulkUploadAuthRejected',
      severity: 'critical',
      team: 'bulk-upload',
      service: 'bulk-upload',
      target,
      probe: 'api',
      depth: 'full',
      reason: 'auth_rejected',
      job: 'bulk-upload-probe',
      instance: 'bulk-upload-probe:9687',
    },
    annotations: {
      summary: `Bulk Upload rejects a logged-in user's API calls (${target}, api probe)`,
      description: `The api probe logs in to ${target}, but the Bulk Upload API (generic-upload) answers 401/403: the last 2 full runs in a row failed with auth_rejected. Users see the page reload itself / "server took too long".`,
      likely_cause: LIKELY_CAUSE,
      diagnosis: DIAGNOSIS,
      message: MESSAGE,
      runbook_url: `${links}/README.md#bulkuploadauthrejected`,
      dashboard_url: `${links}/d/bulk-upload-probe`,
      evidence_url: `${links}${evidencePath(target)}?depth=full`,
    },
    startsAt: startsAt.toISOString(),
    ...(endsAt ? { endsAt: endsAt.toISOString() } : {}),
    generatorURL: 'http://prometheus.example.org/graph?g0.expr=bulk_upload_probe_failure_reason',
  };
}

/** A generic alert: alertname, severity warning (unless `labels` says otherwise) and a summary. */
function plain(alertname: string, labels: Record<string, string>, startsAt = new Date(), endsAt?: Date): PostedAlert {
  return {
    labels: { alertname, severity: 'warning', ...labels },
    annotations: { summary: `${alertname} on ${labels.target ?? 'no target'}` },
    startsAt: startsAt.toISOString(),
    ...(endsAt ? { endsAt: endsAt.toISOString() } : {}),
  };
}

async function postAlerts(am: Daemon, alerts: PostedAlert[]): Promise<void> {
  const r = await axios.post(`${am.url}/api/v2/alerts`, alerts, { timeout: 10_000, validateStatus: () => true });
  expect(r.status, JSON.stringify(r.data)).toBe(200);
}

// ---------------------------------------------------------------------------------------------
// The shipped configurations, made runnable on loopback.

interface Loopback {
  /** Slack incoming-webhook base URL: receiver NAME posts to `${slack}/slack/NAME`. */
  slack?: string;
  smtpPort?: number;
  /** Shorten group_wait/group_interval as the other real-server tests do (false: shipped timings). */
  quick: boolean;
}

/** The shipped file with its templates made absolute and its receivers pointed at loopback. */
function loopbackConfig(file: string, o: Loopback): AmConfig {
  const config = readConfig(file);
  config.templates = (config.templates ?? []).map((t) => join(amDir, t));
  if (o.quick) Object.assign(config.route, { group_wait: '1s', group_interval: '2s', repeat_interval: '1h' });
  for (const r of config.receivers) {
    for (const s of r.slack_configs ?? []) s.api_url = `${o.slack}/slack/${r.name}`;
    for (const e of r.email_configs ?? []) Object.assign(e, { smarthost: `127.0.0.1:${o.smtpPort}`, require_tls: false });
  }
  return config;
}

async function startAlertmanager(dir: string, name: string, config: AmConfig): Promise<Daemon> {
  const port = await freePort();
  const configFile = join(dir, `${name}.yml`);
  await writeFile(configFile, stringify(config));
  return startDaemon(
    name,
    'prometheus-alertmanager',
    [
      `--config.file=${configFile}`,
      `--storage.path=${join(dir, `${name}-data`)}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=http://127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ],
    dir,
    port,
    '/-/ready',
  );
}

interface SlackAttachment {
  title: string;
  title_link?: string;
  text: string;
  fallback?: string;
  color?: string;
}
const attachment = (p: CapturedRequest) => (p.json as { attachments: SlackAttachment[] }).attachments[0]!;

/** Slack mrkdwn links <url|label>, by label. */
function slackLinks(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(/<([^|>]+)\|([^>]+)>/g)].map((m) => [m[2]!, m[1]!]));
}

/** Every link must be absolute, on the loopback links server, and answer 200. */
async function expectWorkingLinks(urls: string[], links: HttpCapture): Promise<void> {
  for (const u of urls) {
    const url = new URL(u); // throws on a relative link
    expect(url.origin, u).toBe(links.url);
    const r = await axios.get(u, { timeout: 5000, validateStatus: () => true });
    expect(r.status, u).toBe(200);
  }
}

// ---------------------------------------------------------------------------------------------

let dir: string;
let links: HttpCapture;
let slack: HttpCapture;
let smtp: SmtpSink;
let slackAm: Daemon | undefined;
let emailAm: Daemon | undefined;
const shown: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bup-receivers-'));
  // Stand-ins for where the links point: the docs host (the README with its runbooks), Grafana
  // and the probe's evidence of one failed run.
  links = await startHttpCapture();
  links.page('/README.md', readFileSync(join(root, 'README.md'), 'utf8'), 'text/markdown; charset=utf-8');
  links.page('/d/bulk-upload-probe', '<html><title>TIS Bulk Upload – synthetic probe</title></html>');
  links.page(
    evidencePath('prod'),
    '<html><title>Latest failure: prod, api probe</title><a href="evidence/screenshot.png">screenshot</a></html>',
  );
  slack = await startHttpCapture();
  smtp = await startSmtpSink();
  [slackAm, emailAm] = await Promise.all([
    startAlertmanager(dir, 'alertmanager-slack', loopbackConfig('alertmanager-slack.yml', { slack: slack.url, quick: true })),
    startAlertmanager(dir, 'alertmanager-email', loopbackConfig('alertmanager-email.yml', { smtpPort: smtp.port, quick: true })),
  ]);
});

afterAll(async () => {
  if (shown.length) console.log(shown.join('\n\n'));
  await slackAm?.stop();
  await emailAm?.stop();
  await slack?.close();
  await links?.close();
  await smtp?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the shipped Alertmanager configurations', () => {
  it('every one that Alertmanager 0.25 can load passes amtool check-config, templates included', () => {
    const shipped = readdirSync(amDir).filter((f) => /^alertmanager.*\.yml$/.test(f));
    expect(shipped.sort()).toEqual([...LOADABLE, TEAMS].sort());
    for (const file of LOADABLE) {
      const r = amtool(['check-config', join(amDir, file)]);
      expect(r.status, `${file}: ${r.stdout}${r.stderr}`).toBe(0);
      expect(r.stdout).toContain('SUCCESS');
    }
  });

  it(`${TEAMS} is refused by Alertmanager 0.25 (msteams_configs came in 0.26), as its comments say`, () => {
    const r = amtool(['check-config', join(amDir, TEAMS)]);
    if (amMinor < 26) {
      expect(r.status).not.toBe(0);
      expect(`${r.stdout}${r.stderr}`).toContain('field msteams_configs not found');
    } else expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(readFileSync(join(amDir, TEAMS), 'utf8')).toContain('NEEDS ALERTMANAGER 0.26 OR LATER');
  });

  it('all of them route, group, time and inhibit exactly like alertmanager.yml, with the same receivers', () => {
    const example = readConfig('alertmanager.yml');
    for (const file of [...LOADABLE, TEAMS]) {
      const c = readConfig(file);
      expect(c.route, file).toEqual(example.route);
      expect(c.inhibit_rules, file).toEqual(example.inhibit_rules);
      expect(
        c.receivers.map((r) => r.name),
        file,
      ).toEqual(['bulk-upload-team', 'probe-operators']);
    }
    // One notification per diagnosis; resolved within group_interval; inhibition reason-blind.
    expect(example.route).toMatchObject({ group_by: ['alertname', 'target', 'reason'], group_wait: '30s', group_interval: '15s' });
    expect(example.route.routes!.map((r) => r.receiver)).toEqual(['probe-operators', 'probe-operators']);
    for (const r of example.route.routes!) expect(Object.keys(r).sort()).toEqual(['matchers', 'receiver']); // inherits grouping and timings
    for (const rule of example.inhibit_rules) expect(rule.equal).not.toContain('reason');
  });

  it('the Slack and e-mail files use the templates; every notification sends resolved', () => {
    for (const file of ['alertmanager-slack.yml', 'alertmanager-email.yml', TEAMS])
      expect(readConfig(file).templates).toEqual(['templates/*.tmpl']);
    for (const r of readConfig('alertmanager-slack.yml').receivers) {
      expect(r.slack_configs).toEqual([
        expect.objectContaining({
          send_resolved: true,
          text: '{{ template "bulkupload.slack.text" . }}',
          api_url: expect.stringMatching(/^https:\/\//),
        }),
      ]);
    }
    for (const r of readConfig('alertmanager-email.yml').receivers) {
      expect(r.email_configs).toEqual([
        expect.objectContaining({ send_resolved: true, smarthost: expect.stringMatching(/^[\w.-]+:\d+$/), require_tls: true }),
      ]);
    }
    for (const r of readConfig('alertmanager-msteams-bridge.yml').receivers) {
      expect(r.webhook_configs).toEqual([{ url: `http://prometheus-msteams:2000/${r.name}`, send_resolved: true }]);
    }
  });

  it(`${TEAMS} (not loadable here) is valid YAML with the expected keys, and amtool renders its title and text`, async () => {
    const teams = readConfig(TEAMS);
    for (const r of teams.receivers) {
      expect(Object.keys(r).sort()).toEqual(['msteams_configs', 'name']);
      expect(r.msteams_configs).toHaveLength(1);
      const c = r.msteams_configs![0]!;
      expect(Object.keys(c).sort()).toEqual(['send_resolved', 'text', 'title', 'webhook_url']);
      expect(new URL(c.webhook_url as string).protocol).toBe('https:');
      expect(c.send_resolved).toBe(true);
    }
    const { title, text } = teams.receivers[0]!.msteams_configs![0]! as { title: string; text: string };
    // Render the configuration's own title and text with Alertmanager's template engine (amtool).
    const starts = wholeSecond(-150);
    const ends = wholeSecond(-1);
    const render = async (status: 'firing' | 'resolved', what: string) => {
      const a = authRejected('https://docs.example.org', 'prod', starts, status === 'resolved' ? ends : undefined);
      const data = {
        receiver: 'bulk-upload-team',
        status,
        alerts: [
          { status, labels: a.labels, annotations: a.annotations, startsAt: a.startsAt, endsAt: a.endsAt ?? '0001-01-01T00:00:00Z' },
        ],
        groupLabels: { alertname: a.labels.alertname, target: 'prod', reason: 'auth_rejected' },
        commonLabels: a.labels,
        commonAnnotations: a.annotations,
        externalURL: 'http://alertmanager.example.org',
      };
      const dataFile = join(dir, `teams-${status}.json`);
      await writeFile(dataFile, JSON.stringify(data));
      const r = amtool([
        'template',
        'render',
        `--template.glob=${templatesGlob}`,
        `--template.data=${dataFile}`,
        `--template.text=${what}`,
      ]);
      expect(r.status, r.stderr).toBe(0);
      return r.stdout;
    };
    expect(await render('firing', title)).toContain('[FIRING] BulkUploadAuthRejected on prod: auth_rejected');
    const firing = await render('firing', text);
    expect(firing).toContain(`**Likely cause in TIS:** ${LIKELY_CAUSE}`);
    expect(firing).toContain(`**Diagnosis:** ${DIAGNOSIS.replaceAll('_', '\\_')}`);
    expect(firing).toContain(`**Latest failure:** ${MESSAGE}`);
    expect(firing).toContain('**Failure reason:** auth\\_rejected'); // Teams would turn _rejected_ italic
    expect(firing).toContain(`**Firing since:** ${utc(starts)}`);
    const mdLinks = Object.fromEntries([...firing.matchAll(/\[([^\]]+)\]\(([^)]+)\)/g)].map((m) => [m[1]!, m[2]!]));
    expect(Object.keys(mdLinks)).toEqual(['Runbook', 'Dashboard', 'Evidence of the failed run']);
    for (const u of Object.values(mdLinks)) expect(new URL(u).protocol).toBe('https:');
    expect(await render('resolved', title)).toContain('[RECOVERED] BulkUploadAuthRejected on prod: auth_rejected');
    expect(await render('resolved', text)).toContain(
      `Recovered since ${utc(ends)}, after firing for ${goDuration((ends.getTime() - starts.getTime()) / 1000)} (since ${utc(starts)}, reason auth\\_rejected).`,
    );
    shown.push(`Teams text (rendered by amtool from ${TEAMS}):\n${firing}`);
  });
});

describe('routing (amtool config routes test)', () => {
  const routesTo = (file: string, receiver: string, labels: Record<string, string>) => {
    const r = amtool([
      'config',
      'routes',
      'test',
      `--config.file=${join(amDir, file)}`,
      `--verify.receivers=${receiver}`,
      ...Object.entries(labels).map(([k, v]) => `${k}=${v}`),
    ]);
    expect(r.status, `${file} ${JSON.stringify(labels)}: ${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout.trim()).toBe(receiver);
  };

  it.each(LOADABLE)('%s: the service alerts reach bulk-upload-team, the probe-health alerts probe-operators', (file) => {
    for (const alertname of TEAM_ALERTS) {
      routesTo(file, 'bulk-upload-team', {
        alertname,
        team: 'bulk-upload',
        service: 'bulk-upload',
        target: 'prod',
        probe: 'api',
        reason: 'auth_rejected',
      });
    }
    for (const alertname of OPERATOR_ALERTS) {
      routesTo(file, 'probe-operators', { alertname, team: 'probe-operators', service: 'bulk-upload', target: 'prod', probe: 'browser' });
      routesTo(file, 'probe-operators', { alertname, target: 'prod', probe: 'browser' }); // rules from before the team label
    }
    routesTo(file, 'probe-operators', { alertname: 'BulkUploadProbeNotRunning', team: 'probe-operators' }); // absent(): the rule's labels only
    routesTo(file, 'probe-operators', { alertname: 'BulkUploadSomethingNew', team: 'probe-operators' }); // routed by the label alone
    // --verify.receivers fails when the label set goes elsewhere (the check is not a formality).
    const wrong = amtool([
      'config',
      'routes',
      'test',
      `--config.file=${join(amDir, file)}`,
      '--verify.receivers=bulk-upload-team',
      'alertname=BulkUploadProbeError',
    ]);
    expect(wrong.status).not.toBe(0);
  });

  it('a different reason is a different group (a new notification); another probe with the same reason joins the group', async () => {
    await postAlerts(slackAm!, [
      plain('BulkUploadImportFailing', { target: 'stage', probe: 'api', depth: 'full', reason: 'import_failed' }),
      plain('BulkUploadImportFailing', { target: 'stage', probe: 'browser', depth: 'full', reason: 'import_failed' }),
      plain('BulkUploadImportFailing', { target: 'stage', probe: 'api', depth: 'full', reason: 'import_wrong_result' }),
      plain('BulkUploadProbeNotRunning', { target: 'stage', probe: 'api', depth: 'light' }),
    ]);
    type Group = { labels: Record<string, string>; receiver: { name: string }; alerts: { labels: Record<string, string> }[] };
    let groups: Group[] = [];
    await waitFor(
      async () => {
        groups = (await axios.get<Group[]>(`${slackAm!.url}/api/v2/alerts/groups`, { timeout: 5000 })).data.filter(
          (g) => g.labels.target === 'stage',
        );
        return groups.reduce((n, g) => n + g.alerts.length, 0) === 4;
      },
      'the four stage alerts in groups',
      20_000,
    );
    const summary = groups
      .map((g) => ({ labels: g.labels, receiver: g.receiver.name, probes: g.alerts.map((a) => a.labels.probe).sort() }))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect(summary).toEqual([
      {
        labels: { alertname: 'BulkUploadImportFailing', target: 'stage', reason: 'import_failed' },
        receiver: 'bulk-upload-team',
        probes: ['api', 'browser'],
      },
      {
        labels: { alertname: 'BulkUploadImportFailing', target: 'stage', reason: 'import_wrong_result' },
        receiver: 'bulk-upload-team',
        probes: ['api'],
      },
      { labels: { alertname: 'BulkUploadProbeNotRunning', target: 'stage' }, receiver: 'probe-operators', probes: ['api'] },
    ]);
    // Each group is its own Slack message.
    const titles = () =>
      slack.posts
        .filter((p) => attachment(p).title.includes(' on stage'))
        .map((p) => `${p.path} ${attachment(p).title}`)
        .sort();
    await waitFor(async () => titles().length >= 3, 'three Slack messages for stage', 20_000);
    expect(titles()).toEqual([
      '/slack/bulk-upload-team [FIRING:2] BulkUploadImportFailing on stage: import_failed',
      '/slack/bulk-upload-team [FIRING] BulkUploadImportFailing on stage: import_wrong_result',
      '/slack/probe-operators [FIRING] BulkUploadProbeNotRunning on stage',
    ]);
  });

  it('a specific diagnosis inhibits the generic alerts of the same probe and target, although they carry no reason', async () => {
    await postAlerts(slackAm!, [
      authRejected(links.url, 'qa', new Date()),
      plain('BulkUploadProbeFailing', { target: 'qa', probe: 'api', depth: 'full', severity: 'critical' }),
      plain('BulkUploadNoSuccess', { target: 'qa', probe: 'api', depth: 'full' }),
      plain('BulkUploadProbeFailing', { target: 'qa', probe: 'browser', depth: 'full', severity: 'critical' }),
    ]);
    type Status = { labels: Record<string, string>; status: { state: string; inhibitedBy: string[] } };
    const states = async () =>
      Object.fromEntries(
        (await axios.get<Status[]>(`${slackAm!.url}/api/v2/alerts`, { params: { filter: 'target="qa"' }, timeout: 5000 })).data.map((a) => [
          `${a.labels.alertname}/${a.labels.probe}`,
          `${a.status.state}${a.status.inhibitedBy.length ? ' (inhibited)' : ''}`,
        ]),
      );
    await waitFor(async () => (await states())['BulkUploadProbeFailing/api'] === 'suppressed (inhibited)', 'the inhibition', 20_000);
    expect(await states()).toEqual({
      'BulkUploadAuthRejected/api': 'active',
      'BulkUploadProbeFailing/api': 'suppressed (inhibited)',
      'BulkUploadNoSuccess/api': 'suppressed (inhibited)',
      'BulkUploadProbeFailing/browser': 'active', // another probe: not explained by the api probe's diagnosis
    });
  });
});

describe('notifications rendered by the shipped templates, end to end', () => {
  it('Slack: the message carries the likely cause, diagnosis, message, since when and working links; then says recovered', async () => {
    const starts = wholeSecond(-150);
    const t0 = Date.now();
    await postAlerts(slackAm!, [authRejected(links.url, 'prod', starts)]);
    const mine = (status: string) => (p: CapturedRequest) =>
      p.receivedAt >= t0 &&
      p.path === '/slack/bulk-upload-team' &&
      attachment(p).title.startsWith(`[${status}`) &&
      attachment(p).title.includes(' on prod');
    await waitFor(async () => slack.posts.some(mine('FIRING')), 'the Slack message', 30_000);
    const firing = attachment(slack.posts.find(mine('FIRING'))!);
    expect(firing.title).toBe('[FIRING] BulkUploadAuthRejected on prod: auth_rejected');
    expect(firing.color).toBe('danger');
    expect(firing.title_link).toBe(`${links.url}/README.md#bulkuploadauthrejected`);
    expect(firing.text).toContain("*Bulk Upload rejects a logged-in user's API calls (prod, api probe)*");
    expect(firing.text).toContain('*Failure reason:* `auth_rejected`');
    expect(firing.text).toContain(`*Likely cause in TIS:* ${LIKELY_CAUSE}`);
    expect(firing.text).toContain(`*Diagnosis:* ${DIAGNOSIS}`);
    expect(firing.text).toContain(`*Latest failure:* ${MESSAGE}`);
    expect(firing.text).toContain('*Where:* prod, api probe, full runs');
    expect(firing.text).toContain(`*Firing since:* ${utc(starts)}`);
    expect(firing.text).toContain('Bulk Upload probe · service bulk-upload · team bulk-upload · critical');
    const found = slackLinks(firing.text);
    expect(Object.keys(found)).toEqual(['Runbook', 'Dashboard', 'Evidence of the failed run']);
    await expectWorkingLinks([firing.title_link!, ...Object.values(found)], links);
    expect(links.gets).toContain(evidencePath('prod'));
    // The runbook link lands on the alert's own section.
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toMatch(/^### BulkUploadAuthRejected$/m);
    shown.push(`Slack, firing (title, then text):\n${firing.title}\n${firing.text}`);

    // The same alert with endsAt in the past: resolved.
    const ends = wholeSecond(-1);
    const t1 = Date.now();
    await postAlerts(slackAm!, [authRejected(links.url, 'prod', starts, ends)]);
    await waitFor(async () => slack.posts.some((p) => p.receivedAt >= t1 && mine('RECOVERED')(p)), 'the resolved Slack message', 30_000);
    const resolved = attachment(slack.posts.find((p) => p.receivedAt >= t1 && mine('RECOVERED')(p))!);
    expect(resolved.title).toBe('[RECOVERED] BulkUploadAuthRejected on prod: auth_rejected');
    expect(resolved.color).toBe('good');
    const lasted = goDuration((ends.getTime() - starts.getTime()) / 1000);
    expect(resolved.text).toContain("*Recovered:* Bulk Upload rejects a logged-in user's API calls (prod, api probe)");
    expect(resolved.text).toContain(
      `Recovered since ${utc(ends)}, after firing for ${lasted} (since ${utc(starts)}, reason \`auth_rejected\`).`,
    );
    // The links stay: the runbook's follow-up, and the last failed run's evidence for the post-mortem.
    expect(Object.keys(slackLinks(resolved.text))).toEqual(['Runbook', 'Dashboard', 'Evidence of the failed run']);
    await expectWorkingLinks(Object.values(slackLinks(resolved.text)), links);
    shown.push(`Slack, resolved (title, then text):\n${resolved.title}\n${resolved.text}`);
  });

  it('e-mail: subject and body carry the same, with plain absolute links and an HTML part; then a recovered mail', async () => {
    const starts = wholeSecond(-150);
    const before = smtp.messages.length;
    await postAlerts(emailAm!, [authRejected(links.url, 'prod', starts)]);
    const mails = () => smtp.messages.slice(before).map((m) => ({ to: m.to, mail: parseMail(m.data) }));
    const withSubject = (s: string) => mails().find((m) => m.mail.subject.startsWith(s));
    await waitFor(async () => withSubject('[FIRING]') !== undefined, 'the e-mail', 30_000);
    const { to, mail } = withSubject('[FIRING]')!;
    expect(to).toEqual(['<bulk-upload-team@example.org>']);
    expect(mail.subject).toBe('[FIRING] BulkUploadAuthRejected on prod: auth_rejected');
    expect(mail.headers.from).toBe('bulk-upload-probe@example.org');
    const text = mail.part('text/plain')!.text;
    expect(text).toContain("FIRING: Bulk Upload rejects a logged-in user's API calls (prod, api probe)");
    expect(text).toContain('  Failure reason:  auth_rejected');
    expect(text).toContain(`  Likely cause:    ${LIKELY_CAUSE}`);
    expect(text).toContain(`  Diagnosis:       ${DIAGNOSIS}`);
    expect(text).toContain(`  Latest failure:  ${MESSAGE}`);
    expect(text).toContain('  Where:           prod, api probe, full runs');
    expect(text).toContain(`  Firing since:    ${utc(starts)}`);
    const urls = Object.fromEntries([...text.matchAll(/^ {2}(Runbook|Dashboard|Evidence): +(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    expect(Object.keys(urls)).toEqual(['Runbook', 'Dashboard', 'Evidence']);
    await expectWorkingLinks(Object.values(urls), links);
    // The HTML part links the same URLs (html/template escapes & as &amp; inside href).
    const html = mail.part('text/html')!.text;
    for (const u of Object.values(urls)) expect(html).toContain(`href="${u.replaceAll('&', '&amp;')}"`);
    expect(html).toContain(`<td>${LIKELY_CAUSE}</td>`);
    shown.push(`E-mail, firing (Subject, then the text/plain part):\nSubject: ${mail.subject}\n${text}`);

    const ends = wholeSecond(-1);
    await postAlerts(emailAm!, [authRejected(links.url, 'prod', starts, ends)]);
    await waitFor(async () => withSubject('[RECOVERED]') !== undefined, 'the resolved e-mail', 30_000);
    const recovered = withSubject('[RECOVERED]')!.mail;
    expect(recovered.subject).toBe('[RECOVERED] BulkUploadAuthRejected on prod: auth_rejected');
    const rtext = recovered.part('text/plain')!.text;
    expect(rtext).toContain("RECOVERED: Bulk Upload rejects a logged-in user's API calls (prod, api probe)");
    expect(rtext).toContain(`  Recovered since: ${utc(ends)}, after firing for ${goDuration((ends.getTime() - starts.getTime()) / 1000)}`);
    expect(rtext).toContain(`  Fired at:        ${utc(starts)} (auth_rejected)`);
    expect(rtext).toContain(`  Evidence:        ${links.url}${evidencePath('prod')}?depth=full`);
    shown.push(`E-mail, resolved (Subject, then the text/plain part):\nSubject: ${recovered.subject}\n${rtext}`);
  });

  it('templates cope with an alert that has none of the optional labels and annotations', async () => {
    const t0 = Date.now();
    await postAlerts(slackAm!, [
      { labels: { alertname: 'BulkUploadProbeNotRunning' }, annotations: {}, startsAt: new Date().toISOString() },
    ]);
    const bare = (p: CapturedRequest) => p.receivedAt >= t0 && attachment(p).title === '[FIRING] BulkUploadProbeNotRunning';
    await waitFor(async () => slack.posts.some(bare), 'the bare alert in Slack', 30_000);
    const a = attachment(slack.posts.find(bare)!);
    expect(a.text).toMatch(
      /^:red_circle: \*BulkUploadProbeNotRunning\*\n\*Firing since:\* \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\n\nBulk Upload probe$/,
    );
    expect(a.text).not.toMatch(/no value|<nil>|\*\*/);
  });
});

describe('the shipped timings, measured with a real Alertmanager', () => {
  it('a new diagnosis is its own notification after group_wait, and a recovery is announced within group_interval', async () => {
    const capture = await startHttpCapture();
    const am = await startAlertmanager(
      dir,
      'alertmanager-timing',
      loopbackConfig('alertmanager-slack.yml', { slack: capture.url, quick: false }),
    );
    try {
      const route = readConfig('alertmanager-slack.yml').route;
      const groupWaitS = parseInt(route.group_wait!, 10);
      const groupIntervalS = parseInt(route.group_interval!, 10);
      // As Prometheus sends them: startsAt is when the rule turned firing, i.e. just now.
      // (Alertmanager skips group_wait for an alert that started more than group_wait ago.)
      const failing = (reason: string, startsAt: Date, endsAt?: Date) =>
        plain('BulkUploadImportFailing', { target: 'timing', probe: 'api', depth: 'full', reason, severity: 'critical' }, startsAt, endsAt);
      const titled = (title: string, after: number) => capture.posts.find((p) => p.receivedAt >= after && attachment(p).title === title);
      const starts = new Date();

      const t0 = Date.now();
      await postAlerts(am, [failing('import_failed', starts)]);
      const first = '[FIRING] BulkUploadImportFailing on timing: import_failed';
      await waitFor(async () => titled(first, t0) !== undefined, 'the first notification', (groupWaitS + 30) * 1000);
      const firstS = (titled(first, t0)!.receivedAt - t0) / 1000;

      // A new diagnosis on the same alert and target, and the first one recovering, at once.
      const t1 = Date.now();
      await postAlerts(am, [failing('import_wrong_result', new Date()), failing('import_failed', starts, new Date())]);
      const second = '[FIRING] BulkUploadImportFailing on timing: import_wrong_result';
      const recovered = '[RECOVERED] BulkUploadImportFailing on timing: import_failed';
      await waitFor(async () => titled(recovered, t1) !== undefined, 'the recovery', (groupIntervalS + 30) * 1000);
      const recoveredS = (titled(recovered, t1)!.receivedAt - t1) / 1000;
      await waitFor(async () => titled(second, t1) !== undefined, 'the new diagnosis', (groupWaitS + 30) * 1000);
      const secondS = (titled(second, t1)!.receivedAt - t1) / 1000;
      shown.push(
        `Shipped timings (group_wait ${route.group_wait}, group_interval ${route.group_interval}): first notification ${firstS} s ` +
          `after the alert; new diagnosis on the same alert and target ${secondS} s; recovery ${recoveredS} s after the alert resolved.`,
      );
      expect(firstS).toBeGreaterThanOrEqual(groupWaitS - 1);
      expect(firstS).toBeLessThan(groupWaitS + 10);
      expect(secondS).toBeGreaterThanOrEqual(groupWaitS - 1);
      expect(secondS).toBeLessThan(groupWaitS + 10); // its own group: not the old group's next tick
      expect(recoveredS).toBeLessThanOrEqual(groupIntervalS + 5);
      // The new diagnosis's message lists only itself.
      expect(attachment(titled(second, t1)!).text).not.toContain('import_failed');
    } finally {
      await am.stop();
      await capture.close();
    }
  }, 180_000);
});
