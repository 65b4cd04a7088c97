// Evidence read back for the run pages: only the evidence files, only from a run's own folder
// under the configured evidence folder; `..`, absolute paths, links leading out and names that
// are not evidence are refused, whatever the run record (read from history on disk) says.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidenceFolder, listEvidence, openEvidenceFile, readNetworkLog } from '../../../src/evidence/read.ts';

const SECRET = 'SECRET-MARKER-do-not-serve';
let base: string;
let root: string;
let run: string;
let outside: string;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'bup-read-'));
  root = join(base, 'evidence');
  run = join(root, 'box', 'browser', '20261125T101500123Z');
  outside = join(base, 'outside');
  await mkdir(run, { recursive: true });
  await mkdir(join(outside, 'box', 'browser', 'x'), { recursive: true });
  await writeFile(join(run, 'screenshot.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  await writeFile(
    join(run, 'network.json'),
    JSON.stringify([{ method: 'GET', url: 'http://a/b', status: 401, durationMs: 3, at: 'x', step: 'login', side: 'app' }]),
  );
  await writeFile(join(run, 'other.txt'), SECRET);
  await writeFile(join(outside, 'secret.txt'), SECRET);
  await writeFile(join(outside, 'box', 'browser', 'x', 'network.json'), SECRET);
  await writeFile(join(root, 'history.jsonl'), SECRET);
  // A link in place of an evidence file, and a run folder that is a link, both leading out.
  const linked = join(root, 'box', 'browser', 'linked-file');
  await mkdir(linked);
  await symlink(join(outside, 'secret.txt'), join(linked, 'probe.log'));
  await symlink(join(outside, 'box', 'browser', 'x'), join(root, 'box', 'browser', 'linked-folder'));
  await symlink(join(outside, 'box'), join(root, 'linked-target'));
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

async function read(evidenceDir: string | undefined, name: string): Promise<string | undefined> {
  const f = await openEvidenceFile(root, evidenceDir, name);
  if (!f) return undefined;
  try {
    return await f.handle.readFile('utf8');
  } finally {
    await f.handle.close();
  }
}

describe('evidence read back', () => {
  it("opens a run's evidence file, says its type, and lists what the folder holds", async () => {
    const f = await openEvidenceFile(root, run, 'screenshot.png');
    expect(f).toMatchObject({ name: 'screenshot.png', contentType: 'image/png', attachment: false });
    expect(f!.stats.size).toBe(4);
    await f!.handle.close();
    expect(await listEvidence(root, run)).toEqual(['screenshot.png', 'network.json']);
    expect(await readNetworkLog(root, run)).toEqual([
      { method: 'GET', url: 'http://a/b', status: 401, durationMs: 3, at: 'x', step: 'login' },
    ]);
    // A relative evidence folder is read against the evidence folder.
    expect(await evidenceFolder(root, 'box/browser/20261125T101500123Z')).toBe(await evidenceFolder(root, run));
  });

  it('refuses names that are not evidence files: traversal, absolute, encoded, other files', async () => {
    for (const name of [
      '../../../outside/secret.txt',
      '..%2F..%2F..%2Foutside%2Fsecret.txt',
      '%2e%2e/%2e%2e/history.jsonl',
      '..\\..\\history.jsonl',
      join(outside, 'secret.txt'),
      '/etc/passwd',
      'other.txt',
      'screenshot.png/../other.txt',
      'screenshot.png\0.txt',
      'Screenshot.PNG',
      '__proto__',
      'constructor',
      '',
    ]) {
      expect(await read(run, name), name).toBeUndefined();
    }
  });

  it("refuses a run whose evidence folder is not one of the evidence folder's run folders", async () => {
    for (const dir of [
      outside,
      join(outside, 'box', 'browser', 'x'),
      join(root, '..', 'outside', 'box', 'browser', 'x'),
      join(root, 'box', 'browser', '..', '..', '..', 'outside', 'box', 'browser', 'x'),
      '../outside/box/browser/x',
      '/etc',
      root,
      join(root, 'box'),
      join(root, 'box', 'browser'),
      join(run, 'deeper'),
      `${run}\0`,
      '',
      undefined,
    ]) {
      expect(await read(dir, 'network.json'), String(dir)).toBeUndefined();
      expect(await listEvidence(root, dir), String(dir)).toEqual([]);
    }
  });

  it('follows no symbolic link: neither a file nor a folder on the way that leads out', async () => {
    expect(await read(join(root, 'box', 'browser', 'linked-file'), 'probe.log')).toBeUndefined();
    expect(await listEvidence(root, join(root, 'box', 'browser', 'linked-file'))).toEqual([]);
    expect(await read(join(root, 'box', 'browser', 'linked-folder'), 'network.json')).toBeUndefined();
    expect(await read(join(root, 'linked-target', 'browser', 'x'), 'network.json')).toBeUndefined();
    expect(await readNetworkLog(root, join(root, 'box', 'browser', 'linked-folder'))).toBeUndefined();
  });

  it('an evidence folder reached through a link is served when the link is the evidence folder itself', async () => {
    // e.g. evidence.dir: /data/evidence where /data is a mounted volume's link: the tree below is checked.
    const alias = join(base, 'alias');
    await symlink(root, alias);
    expect(await readNetworkLog(alias, join(alias, 'box', 'browser', '20261125T101500123Z'))).toHaveLength(1);
    const f = await openEvidenceFile(alias, join(alias, 'box', 'browser', '20261125T101500123Z'), 'screenshot.png');
    expect(f).toBeDefined();
    await f!.handle.close();
  });
});
