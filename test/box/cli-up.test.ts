// `tis-box up` starts a whole second box, prints where everything is, and stops everything it
// started (Keycloak's JVM included) on SIGTERM.
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axios from 'axios';
import { describe, expect, it } from 'vitest';

function urlAfter(out: string, label: string): string {
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`^\\s+${escaped}\\s+(http://127\\.0\\.0\\.1:\\d+)`, 'm').exec(out);
  if (!m) throw new Error(`no "${label}" line in:\n${out}`);
  return m[1]!;
}

describe('tis-box up', () => {
  it('prints URLs, credentials, control and config; SIGTERM stops everything', { timeout: 240_000 }, async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'tis-box-cli-'));
    const child = spawn('node', ['bin/tis-box.js', 'up', '--port-base', '0', '--state-dir', stateDir, '--quiet'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const deadline = Date.now() + 200_000;
      while (!out.includes('Ctrl-C stops everything') && Date.now() < deadline && child.exitCode === null) {
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(out).toContain('TIS in a box is up');
      expect(out).toContain('test user      bulk-upload-probe / Canary-Probe-Secret-7431');
      expect(out).toContain(`probe config   ${join(stateDir, 'bulk-upload-probe.yaml')}`);
      expect(existsSync(join(stateDir, 'bulk-upload-probe.yaml'))).toBe(true);

      const control = urlAfter(out, 'control');
      const app = urlAfter(out, 'admin page');
      const keycloak = urlAfter(out, 'keycloak');
      const keycloakOwn = urlAfter(out, 'keycloak (own)');
      expect((await axios.get(`${control}/faults`)).data.available).toHaveLength(9);
      expect((await axios.get(`${app}/admin/uploads`)).status).toBe(200);
      expect((await axios.get(`${keycloak}/realms/lin`)).status).toBe(200);

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      for (const url of [control, app, keycloak, `${keycloakOwn}/realms/lin`]) {
        await expect(axios.get(url, { timeout: 2000 }), url).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      }
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
