// No secret in anything the probe writes or prints. Failing journeys (test user disabled,
// stale configuration: the latter logs in and obtains real tokens) run with evidence on and
// debug logging; then every file written (trace.zip unpacked entry by entry) and everything
// printed is scanned for the password, for every token obtained during the runs, and for
// anything shaped like a JWT.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { clearFault, setFault } from '../../box/control-client.ts';
import { launchBrowser } from '../../src/browser/launch.ts';
import { scrubTrace } from '../../src/evidence/trace.ts';
import { openBrowserSession } from '../../probes/browser-session.ts';
import { anyOf, locate } from '../../probes/locate.ts';
import { HttpLog } from '../../src/target/http-log.ts';
import { createLogger } from '../../src/log.ts';
import { redactor } from '../../src/redact.ts';
import { formatResult, formatStep, formatVerdict } from '../../src/report/console.ts';
import { toJson } from '../../src/report/json.ts';
import { toJUnitXml } from '../../src/report/junit.ts';
import type { RunResult } from '../../src/model/result.ts';
import { fileEntries, filesUnder } from '../support/leak-scan.ts';
import { probeSetup, SHORT_TIMEOUTS, type ProbeSetup } from './setup.ts';

const box = inject('box');
const JWT_SHAPED = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/;
const REPO = join(import.meta.dirname, '../..');

let browser: Browser;
let probes: ProbeSetup;

beforeAll(async () => {
  browser = await launchBrowser();
  probes = await probeSetup(box, browser);
});
afterAll(async () => {
  await clearFault(box.urls.control);
  await browser?.close();
});

/** Each file as text to scan; a zip (the trace) as each of its entries. */
async function scannable(path: string): Promise<Array<{ name: string; text: string }>> {
  const entries = await fileEntries(path);
  expect(entries.length).toBeGreaterThan(0);
  return entries.map(({ name, data }) => ({ name, text: data.toString('latin1') }));
}

function expectClean(name: string, text: string): void {
  expect(text.includes(box.testUser.password), `password in ${name}`).toBe(false);
  expect(redactor.leaks(text), `a configured secret in ${name}`).toBe(false);
  expect(JWT_SHAPED.exec(text)?.[0], `JWT-shaped text in ${name}`).toBeUndefined();
}

describe('secret scan', () => {
  it('failing journeys write and print no password, token or cookie', async () => {
    const printed: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        printed.push(String(chunk));
        cb();
      },
    });
    const logger = createLogger({ level: 'debug', destination: sink });
    const results: RunResult[] = [];
    for (const fault of ['test-user-disabled', 'stale-config']) {
      await setFault(box.urls.control, fault);
      for (const probe of ['browser', 'api'] as const) {
        const r = await probes.run(probe, { logger, onStep: (s) => printed.push(formatStep(probe, s)) });
        expect(r.ok).toBe(false);
        printed.push(formatResult(r));
        results.push(r);
      }
      await clearFault(box.urls.control);
    }
    printed.push(formatVerdict('box', results), toJson(results), toJUnitXml(results));
    expect(results.map((r) => r.reason)).toEqual(['login_failed', 'login_failed', 'auth_rejected', 'auth_rejected']);
    // The stale-config runs logged in and obtained real tokens (the JWT-shaped scan below finds
    // any of them); those were registered in each run's own redactor and are gone with it: the
    // process-wide one holds the configured password's spellings only.
    expect(redactor.size).toBeLessThanOrEqual(4);

    const files = await filesUnder(probes.evidenceDir);
    const names = files.map((f) => f.split('/').pop());
    expect(names.filter((n) => n === 'trace.zip')).toHaveLength(2);
    expect(names.filter((n) => n === 'screenshot.png')).toHaveLength(2);
    expect(names.filter((n) => n === 'result.json')).toHaveLength(4);
    let scanned = 0;
    let traceText = '';
    for (const f of files) {
      for (const { name, text } of await scannable(f)) {
        expectClean(name, text);
        if (name.includes('trace.zip!')) traceText += text;
        // Still a trace the viewer can open: every record of its JSON-lines entries parses.
        if (/trace\.zip!.*\.(trace|network)$/.test(name)) {
          for (const line of text.split('\n').filter((l) => l.trim() !== ''))
            expect(() => JSON.parse(line), `${name}: ${line.slice(0, 120)}`).not.toThrow();
        }
        scanned++;
      }
    }
    expect(scanned).toBeGreaterThan(20);
    // The scan saw what matters: the traces hold the login form post and the token answer,
    // scrubbed in place (the secrets were there to find).
    expect(traceText).toContain('login-actions/authenticate');
    expect(traceText).toContain('openid-connect/token');
    expect(traceText).toContain('[redacted]');
    expectClean('printed output', printed.join('\n'));
  });

  it('the smoke command prints and writes no secret (debug logs, JSON, JUnit)', async () => {
    const evidence = join(probes.evidenceDir, 'cli');
    const config = YAML.parse(await readFile(box.configPath, 'utf8')) as Record<string, any>;
    config.evidence = { dir: evidence, keep: 10 };
    config.targets.box.timeouts = { ...SHORT_TIMEOUTS };
    const configFile = join(probes.evidenceDir, 'smoke.yaml');
    await writeFile(configFile, YAML.stringify(config));
    const junit = join(probes.evidenceDir, 'smoke-junit.xml');

    await setFault(box.urls.control, 'stale-config');
    const run = await promisify(execFile)(
      process.execPath,
      [join(REPO, 'bin/bulk-upload-probe.js'), 'smoke', '--target', 'box', '--config', configFile, '--json', '--junit', junit],
      {
        env: { ...process.env, LOG_LEVEL: 'debug' },
        timeout: 90_000,
      },
    ).catch((e: { code: number; stdout: string; stderr: string }) => e);
    await clearFault(box.urls.control);

    expect('code' in run ? run.code : 0).toBe(1);
    const results = JSON.parse(run.stdout) as RunResult[];
    expect(results.map((r) => r.reason)).toEqual(['auth_rejected', 'auth_rejected']);
    expect(run.stderr).toContain('verdict: box UNHEALTHY');
    expectClean('smoke stdout', run.stdout);
    expectClean('smoke stderr', run.stderr);
    for (const f of [junit, ...(await filesUnder(evidence))]) for (const { name, text } of await scannable(f)) expectClean(name, text);
  });

  it('a raw Playwright trace of a login holds the password and tokens; the kept one does not', async () => {
    const target = probes.target;
    const http = new HttpLog({ keycloak: target.keycloak.url, app: [target.appUrl] });
    const session = await openBrowserSession({
      browser,
      config: probes.config,
      http,
      redactor,
      defaultTimeoutMs: 30_000,
      maxTokenAnswer: target.limits.tokenAnswer,
    });
    try {
      const page = session.page;
      await page.goto(`${target.appUrl}${target.uploadsPath}`);
      await anyOf(page, target.selectors.loginUsername).first().waitFor();
      await (await locate(page, target.selectors.loginUsername)).first().fill(box.testUser.username);
      await (await locate(page, target.selectors.loginPassword)).first().fill(box.testUser.password);
      await (await locate(page, target.selectors.loginSubmit)).first().click();
      await anyOf(page, target.selectors.appReady).first().waitFor();
      // keycloak-js has exchanged the code for tokens by the time the table loaded its rows.
      await page.waitForResponse((r) => r.url().includes('/generic-upload/api/status'));
      const raw = join(probes.evidenceDir, 'raw-trace.zip');
      expect(await session.stopTrace(raw)).toBe(true);
      const rawText = (await scannable(raw)).map((e) => e.text).join('\n');
      expect(rawText).toContain(box.testUser.password);
      expect(rawText).toMatch(JWT_SHAPED);
      const kept = join(probes.evidenceDir, 'kept-trace.zip');
      await scrubTrace(raw, kept, redactor);
      for (const { name, text } of await scannable(kept)) expectClean(name, text);
    } finally {
      await session.close();
    }
  });
});
