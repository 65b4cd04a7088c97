// The smoke command as a pipeline calls it: exit codes, progress as it goes, JSON on stdout.
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import JSZip from 'jszip';
import { describe, expect, inject, it } from 'vitest';
import { cli } from '../support/cli.ts';
import type { RunResult } from '../../src/model/result.ts';

const box = inject('box');
describe('bulk-upload-probe smoke', () => {
  it('exits 0 on a healthy box, printing each step with its time, then the verdict', async () => {
    const r = await cli(['smoke', '--target', 'box', '--config', box.configPath, '--probe', 'api']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    for (const step of ['login', 'list_uploads', 'upload', 'import_started', 'import_finished', 'check_result']) {
      expect(
        lines.some((l) => new RegExp(`^api +${step} +ok +\\d+\\.\\d s$`).test(l)),
        `${step} line in:\n${r.stdout}`,
      ).toBe(true);
    }
    expect(lines.at(-1)).toBe('verdict: box HEALTHY (api passed)');
  });

  it('--depth light: both probes log in and check the answers, nothing uploaded, exit 0', async () => {
    const r = await cli(['smoke', '--target', 'box', '--config', box.configPath, '--depth', 'light', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout) as RunResult[];
    expect(results.map((x) => `${x.probe}/${x.depth}/${x.ok}`)).toEqual(['browser/light/true', 'api/light/true']);
    expect(results.every((x) => x.canary === undefined)).toBe(true);
    expect(r.stderr).toContain('light (nothing uploaded)');
  });

  it('--json keeps stdout to the RunResult array and progress on stderr', async () => {
    const r = await cli(['smoke', '--target', 'box', '--config', box.configPath, '--probe', 'api', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout) as RunResult[];
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ probe: 'api', target: 'box', ok: true });
    expect(r.stderr).toContain('verdict: box HEALTHY');
  });

  it('exits 2 on bad configuration: invalid file, unknown target, unresolvable secret', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bup-smoke-'));
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'targets:\n  box:\n    appUrl: nope\n');
    const invalid = await cli(['smoke', '--target', 'box', '--config', bad]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('targets.box.appUrl');

    const unknown = await cli(['smoke', '--target', 'prod', '--config', box.configPath]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no target named "prod"');

    const noSecret = join(dir, 'nosecret.yaml');
    await writeFile(
      noSecret,
      `targets:\n  box:\n    appUrl: ${box.urls.app}\n    keycloak: { url: "${box.urls.keycloak}" }\n    credentials: { username: u, password: { env: BUP_UNSET_PASSWORD_VAR } }\n`,
    );
    const unresolved = await cli(['smoke', '--target', 'box', '--config', noSecret]);
    expect(unresolved.code).toBe(2);
    expect(unresolved.stderr).toContain('targets.box.credentials.password: environment variable BUP_UNSET_PASSWORD_VAR is not set');
  });

  it('--trace always keeps the trace and evidence folder of a healthy browser run', async () => {
    const r = await cli(['smoke', '--target', 'box', '--config', box.configPath, '--probe', 'browser', '--trace', 'always', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const [result] = JSON.parse(r.stdout) as RunResult[];
    expect(result).toMatchObject({ probe: 'browser', ok: true });
    expect(result!.evidenceDir, r.stderr).toBeDefined();
    const files = await readdir(result!.evidenceDir!);
    expect(files).toEqual(expect.arrayContaining(['trace.zip', 'screenshot.png', 'result.json', 'network.json', 'probe.log']));
    expect(r.stderr).toContain(`evidence: ${result!.evidenceDir}`);
    // The kept trace is scrubbed as a failed run's is.
    const zip = await JSZip.loadAsync(await readFile(join(result!.evidenceDir!, 'trace.zip')));
    for (const entry of Object.values(zip.files)) {
      if (!entry.dir) expect((await entry.async('string')).includes(box.testUser.password), entry.name).toBe(false);
    }
  });
});
