// The selector doctor against the box, as a person runs it: the default selectors are all found
// once on Keycloak's real login page and the box's admin page (exit 0, a report, annotated
// screenshots); a wrong id is reported not found with a role-based suggestion that, pasted into
// the configuration, matches the box's upload button; nothing is uploaded without --upload.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import YAML from 'yaml';
import type { DoctorReport } from '../../probes/doctor.ts';
import { cli as runCli } from '../support/cli.ts';
import { runCanary, testUserToken, uploadApi, uploadCount as boxUploads } from '../support/tis-client.ts';

const cli = (args: string[]) => runCli(args, 110_000);
const uploadCount = () => boxUploads(box);

const box = inject('box');
/** The box's own configuration with some selectors changed. */
async function configWith(dir: string, name: string, selectors: Record<string, unknown>): Promise<string> {
  const config = YAML.parse(await readFile(box.configPath, 'utf8')) as { targets: { box: Record<string, unknown> } };
  config.targets.box.selectors = selectors;
  const file = join(dir, name);
  await writeFile(file, YAML.stringify(config));
  return file;
}

async function reportOf(out: string): Promise<DoctorReport> {
  return JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as DoctorReport;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bup-doctor-'));
  // One upload with an error in the table, so that uploadRow and errorWorkbookLink have a row to be checked on.
  await runCanary(uploadApi(box, await testUserToken(box)));
});

describe('bulk-upload-probe doctor', () => {
  it('finds every default selector and column header exactly once on the real pages, uploading nothing', async () => {
    const before = await uploadCount();
    const out = join(dir, 'healthy');
    const r = await cli(['doctor', '--target', 'box', '--config', box.configPath, '--out', out]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout.trim().split('\n').at(-2)).toBe('verdict: box every selector and column header found exactly once');

    const report = await reportOf(out);
    expect(report.ok).toBe(true);
    const verdicts = Object.fromEntries(report.checks.map((c) => [c.field, c.verdict]));
    for (const f of ['loginUsername', 'loginPassword', 'loginSubmit', 'appReady', 'fileInput', 'uploadButton', 'uploadsTable']) {
      expect(verdicts[`selectors.${f}`], f).toBe('found');
    }
    // Found by the role-based defaults, not by the stand-in's id fallbacks.
    const used = Object.fromEntries(report.checks.map((c) => [c.field, c.used]));
    expect(used['selectors.loginSubmit']).toMatch(/^role=button/);
    expect(used['selectors.uploadButton']).toMatch(/^role=button/);
    expect(used['selectors.uploadRow']).toMatch(/^role=row/);
    for (const f of ['uploadRow', 'errorWorkbookLink', 'refreshButton']) expect(verdicts[`selectors.${f}`], f).toBe('found');
    for (const c of ['fileName', 'status', 'errors', 'imported']) expect(verdicts[`columns.${c}`], c).toBe('found');
    for (const shot of ['login.png', 'app.png']) expect(existsSync(join(out, shot)), shot).toBe(true);
    // The password never printed or written.
    expect(r.stdout + r.stderr).not.toContain(box.testUser.password);
    expect(await readFile(join(out, 'report.json'), 'utf8')).not.toContain(box.testUser.password);

    expect(await uploadCount()).toBe(before);
  });

  it('reports a wrong id as not found and suggests a role-based selector that matches the upload button (exit 1)', async () => {
    const before = await uploadCount();
    const out = join(dir, 'wrong');
    const wrong = await configWith(dir, 'wrong.yaml', { uploadButton: '#no-such-upload-button' });
    const r = await cli(['doctor', '--target', 'box', '--config', wrong, '--out', out]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(1);
    expect(r.stdout).toMatch(/^ {2}selectors\.uploadButton +NOT FOUND +0 {2}#no-such-upload-button$/m);
    expect(r.stdout).toMatch(/verdict: box 1 problem\(s\): selectors\.uploadButton not found/);

    const check = (await reportOf(out)).checks.find((c) => c.field === 'selectors.uploadButton')!;
    expect(check).toMatchObject({ verdict: 'not_found', count: 0 });
    expect(check.suggestions[0]).toMatch(/^role=button\[name=/);

    // The printed configuration line, pasted as it is, finds the box's upload button once.
    const line = /^ {4}uploadButton: (.+)$/m.exec(r.stdout)?.[1];
    expect(line, r.stdout).toBeDefined();
    const pasted = YAML.parse(`uploadButton: ${line}`) as { uploadButton: string[] };
    expect(pasted.uploadButton[0]).toBe(check.suggestions[0]);
    const fixedOut = join(dir, 'fixed');
    const fixed = await cli(['doctor', '--target', 'box', '--config', await configWith(dir, 'fixed.yaml', pasted), '--out', fixedOut]);
    expect(fixed.code, fixed.stdout).toBe(0);
    const after = (await reportOf(fixedOut)).checks.find((c) => c.field === 'selectors.uploadButton')!;
    expect(after).toMatchObject({ verdict: 'found', count: 1, used: check.suggestions[0] });

    expect(await uploadCount()).toBe(before);
  });

  it('--upload runs the full browser journey once after the checks', async () => {
    const before = await uploadCount();
    const r = await cli(['doctor', '--target', 'box', '--config', box.configPath, '--out', join(dir, 'upload'), '--upload']);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/^browser +check_result +ok/m);
    expect(r.stdout).toMatch(/^browser +HEALTHY in/m);
    expect(await uploadCount()).toBe(before + 1);
  });
});
