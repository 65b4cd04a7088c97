// Evidence of a failed run, in `<dir>/<target>/<probe>/<timestamp>/`: screenshot.png, trace.zip,
// network.json (last events), result.json, probe.log. Everything is scrubbed before it is
// written; the newest `keep` folders are kept, older ones deleted.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Redactor } from '../redact.ts';
import type { HttpEvent, RunResult } from '../model/result.ts';
import { scrubTrace } from './trace.ts';

/** Network events kept in network.json. */
export const NETWORK_EVENTS_KEPT = 200;

/** `20261125T101500123Z`: sortable, safe in a path. */
export function folderStamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace('.', '');
}

/** Creates the run's evidence folder (a suffix keeps two runs of the same millisecond apart). */
export async function createEvidenceFolder(dir: string, target: string, probe: string, at: Date): Promise<string> {
  const base = join(dir, target, probe, folderStamp(at));
  let folder = base;
  for (let i = 1; existsSync(folder); i++) folder = `${base}-${i}`;
  await mkdir(folder, { recursive: true });
  return folder;
}

export interface Evidence {
  result: RunResult;
  network: HttpEvent[];
  log: string;
  screenshot?: Buffer;
  /** A raw trace written by Playwright; scrubbed into the folder. */
  rawTracePath?: string;
}

export async function writeEvidence(
  folder: string,
  ev: Evidence,
  redactor: Redactor,
  note: (line: string) => void = () => {},
): Promise<string[]> {
  const written: string[] = [];
  const put = async (name: string, data: string | Buffer) => {
    await writeFile(join(folder, name), data);
    written.push(name);
  };
  if (ev.screenshot) await put('screenshot.png', ev.screenshot);
  if (ev.rawTracePath) {
    // A trace too large to keep is left out; the rest of the evidence still is.
    const kept = await scrubTrace(ev.rawTracePath, join(folder, 'trace.zip'), redactor).catch((err: unknown) => {
      note(`trace not kept: ${(err as Error).message}`);
      return undefined;
    });
    if (kept) written.push('trace.zip');
    if (kept?.dropped.length) note(`trace kept without ${kept.dropped.length} oversized entr${kept.dropped.length === 1 ? 'y' : 'ies'}`);
  }
  await put('network.json', redactor.redact(JSON.stringify(ev.network.slice(-NETWORK_EVENTS_KEPT), null, 2)));
  await put('probe.log', redactor.redact(ev.log));
  await put('result.json', redactor.redact(JSON.stringify(ev.result, null, 2)));
  return written;
}

/** Deletes all but the newest `keep` evidence folders under dir (across targets and probes). */
export async function pruneEvidence(dir: string, keep: number): Promise<string[]> {
  const folders: Array<{ path: string; stamp: string }> = [];
  for (const target of await subdirs(dir)) {
    for (const probe of await subdirs(join(dir, target))) {
      for (const stamp of await subdirs(join(dir, target, probe))) folders.push({ path: join(dir, target, probe, stamp), stamp });
    }
  }
  folders.sort((a, b) => b.stamp.localeCompare(a.stamp));
  const old = folders.slice(keep);
  for (const f of old) await rm(f.path, { recursive: true, force: true });
  return old.map((f) => f.path);
}

async function subdirs(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
}
