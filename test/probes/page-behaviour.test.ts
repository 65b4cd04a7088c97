// Page behaviours no box fault produces, through the real browser journey: a stand-in page and
// login form on loopback misbehave on purpose. Each must be recognised for what it is: a page
// that reloads itself in a loop, a login page where the app should be (a 200 that is really a
// login page), a canary row that never appears, a login that goes nowhere.
import type { Server } from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../../src/browser/launch.ts';
import { configSchema, type Config } from '../../src/config/schema.ts';
import { runProbe } from '../../src/run/runner.ts';

type Mode = 'reload' | 'session-lost' | 'no-row' | 'login-stuck';
let mode: Mode = 'reload';
let server: Server;
let origin = '';
let browser: Browser;
let config: Config;

const LOGIN_PAGE = `<!doctype html><title>Sign in</title>
<form id="kc-form-login" onsubmit="event.preventDefault(); signIn()">
  <input id="username" name="username"><input id="password" name="password" type="password">
  <button id="kc-login" type="submit">Sign In</button>
</form>
<script>
  function signIn() {
    if (MODE === 'login-stuck') { location.reload(); return; }
    sessionStorage.setItem('in', '1');
    location.href = '/admin/uploads';
  }
</script>`;

const APP_PAGE = `<!doctype html><title>Bulk Upload</title>
<div id="app"></div>
<script>
  if (!sessionStorage.getItem('in')) location.href = '/kc/login';
  else {
    document.getElementById('app').innerHTML =
      '<input type="file" id="upload-file"><button id="upload-button">Upload</button>' +
      '<table id="uploads-table"><thead><tr><th>File name</th><th>Status</th><th>Errors</th><th>Imported</th></tr></thead><tbody></tbody></table>';
    document.getElementById('upload-button').onclick = () => {
      const f = document.getElementById('upload-file').files[0];
      const body = new FormData(); body.append('file', f);
      fetch('/generic-upload/api/file', { method: 'POST', body });
    };
    if (MODE === 'reload') setTimeout(() => location.reload(), 400);
    if (MODE === 'session-lost') setTimeout(() => { sessionStorage.clear(); location.href = '/kc/login'; }, 400);
  }
</script>`;

beforeAll(async () => {
  const app = express();
  const page = (html: string) => (_req: express.Request, res: express.Response) => {
    res.type('html').send(html.replace(/MODE/g, JSON.stringify(mode)));
  };
  app.get('/kc/login', page(LOGIN_PAGE));
  app.get('/admin/uploads', page(APP_PAGE));
  // Accepts the upload, as generic-upload does; the page just never shows the row.
  app.post('/generic-upload/api/file', (_req, res) => {
    res.json({ logId: 1764064500000, fileName: 'x.xlsx', fileStatus: 'PENDING' });
  });
  await new Promise<void>((resolve) => {
    server = app.listen(0, '127.0.0.1', () => resolve());
  });
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  browser = await launchBrowser();
  config = configSchema.parse({
    evidence: { dir: await mkdtemp(join(tmpdir(), 'bup-page-')), keep: 10 },
    browser: { trace: false },
    targets: {
      stub: {
        appUrl: origin,
        keycloak: { url: `${origin}/kc` },
        credentials: { username: 'probe', password: 'Stub-Password-123' },
        timeouts: { login: '4s', openPage: '4s', upload: '4s', run: '20s' },
      },
    },
  });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => server?.close(r));
});

async function runWith(m: Mode) {
  mode = m;
  return runProbe({ probe: 'browser', targetName: 'stub', target: config.targets.stub!, config, browser });
}

describe('the browser journey recognises page behaviour', () => {
  it('a page that keeps reloading itself after login is page_broken (reload loop), within seconds', async () => {
    const r = await runWith('reload');
    expect(r.reason, r.message).toBe('page_broken');
    expect(r.message).toMatch(/reloaded itself 3 times/);
    expect(r.durationSeconds).toBeLessThan(6);
  });

  it('a login page where the app should be, once logged in, is page_broken (session lost)', async () => {
    const r = await runWith('session-lost');
    expect(r.reason, r.message).toBe('page_broken');
    expect(r.message).toContain('login page where the app should be');
    expect(r.message).toContain(`${origin}/kc/login`);
  });

  it('an accepted upload whose row never appears is page_broken, at the upload step', async () => {
    const r = await runWith('no-row');
    expect(r.reason, r.message).toBe('page_broken');
    expect(r.failedStep).toBe('upload');
    expect(r.message).toContain('row never appeared');
  });

  it('still on the login page after submitting, with no error shown, is login_failed', async () => {
    const r = await runWith('login-stuck');
    expect(r.reason, r.message).toBe('login_failed');
    expect(r.failedStep).toBe('login');
    expect(r.message).toContain('still on the login page');
  });
});
