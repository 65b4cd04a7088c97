// Reading a run's evidence back, for the service's run pages: only the files evidence is made
// of (store.ts writes them, scrubbed), only from a run's own folder, and only when that folder
// really is one under the configured evidence folder. A run's `evidenceDir` comes from the run
// history on disk, so it is not trusted: it must be `<root>/<target>/<probe>/<stamp>` both as
// written and once every symbolic link is resolved (no link anywhere on the way, no `..`), and a
// file is opened without following a link. Nothing else under the folder is ever served.
import { constants, type Stats } from 'node:fs';
import { lstat, open, realpath, type FileHandle } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { httpEventSchema } from '../model/result-schema.ts';
import type { HttpEvent } from '../model/result.ts';

/** The files a run's evidence folder may hold, and how each is served. */
export const EVIDENCE_FILES = {
  'screenshot.png': { contentType: 'image/png', attachment: false },
  'trace.zip': { contentType: 'application/zip', attachment: true },
  'network.json': { contentType: 'application/json; charset=utf-8', attachment: false },
  'probe.log': { contentType: 'text/plain; charset=utf-8', attachment: false },
  'result.json': { contentType: 'application/json; charset=utf-8', attachment: false },
} as const;
export type EvidenceFileName = keyof typeof EVIDENCE_FILES;
export const EVIDENCE_FILE_NAMES = Object.keys(EVIDENCE_FILES) as EvidenceFileName[];

export function isEvidenceFileName(name: string): name is EvidenceFileName {
  return Object.hasOwn(EVIDENCE_FILES, name);
}

/** network.json read back at most this large. */
const MAX_NETWORK_LOG_BYTES = 4 * 1_048_576;

/**
 * The run's evidence folder (its real path) when it is a folder three levels under `root`
 * (target, probe, stamp), with no `..` and no symbolic link on the way; else undefined.
 */
export async function evidenceFolder(root: string, evidenceDir: string | undefined): Promise<string | undefined> {
  if (!evidenceDir || evidenceDir.includes('\0') || root.includes('\0')) return undefined;
  const rootAbs = resolve(root);
  const dirAbs = resolve(rootAbs, evidenceDir);
  const rel = relative(rootAbs, dirAbs);
  if (!isBelow(rel) || rel.split(sep).length !== 3) return undefined;
  try {
    const [realRoot, realDir] = await Promise.all([realpath(rootAbs), realpath(dirAbs)]);
    // The same three names once links are resolved: no link inside the evidence tree at all.
    if (relative(realRoot, realDir) !== rel) return undefined;
    if (!(await lstat(realDir)).isDirectory()) return undefined;
    return realDir;
  } catch {
    return undefined;
  }
}

function isBelow(rel: string): boolean {
  return rel !== '' && !isAbsolute(rel) && !rel.split(sep).some((part) => part === '..' || part === '.' || part === '');
}

export interface OpenEvidence {
  name: EvidenceFileName;
  handle: FileHandle;
  stats: Stats;
  contentType: string;
  attachment: boolean;
}

/**
 * Opens one of the run's evidence files for reading (the caller closes it): undefined when the
 * name is not an evidence file's, the folder is not a run's evidence folder, or the file is
 * missing, a link or not a regular file.
 */
export async function openEvidenceFile(root: string, evidenceDir: string | undefined, name: string): Promise<OpenEvidence | undefined> {
  if (!isEvidenceFileName(name)) return undefined;
  const folder = await evidenceFolder(root, evidenceDir);
  if (!folder) return undefined;
  let handle: FileHandle;
  try {
    // O_NOFOLLOW: a link put in place of the file is refused by the kernel, not by a check before.
    handle = await open(join(folder, name), constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch {
    return undefined;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new Error('not a regular file');
    return { name, handle, stats, ...EVIDENCE_FILES[name] };
  } catch {
    await handle.close().catch(() => {});
    return undefined;
  }
}

/** Which evidence files the run's folder holds (none when it is not a run's evidence folder). */
export async function listEvidence(root: string, evidenceDir: string | undefined): Promise<EvidenceFileName[]> {
  const folder = await evidenceFolder(root, evidenceDir);
  if (!folder) return [];
  const present = await Promise.all(
    EVIDENCE_FILE_NAMES.map(async (name) => {
      try {
        return (await lstat(join(folder, name))).isFile() ? [name] : [];
      } catch {
        return [];
      }
    }),
  );
  return present.flat();
}

/** One line of network.json: an HTTP event, with the step it belonged to when known. */
export type NetworkEvent = HttpEvent & { step?: string };

const networkLogSchema = z.array(httpEventSchema.extend({ step: z.string().optional() }));

/** The run's network log from its evidence folder, or undefined when there is none (or it does not read). */
export async function readNetworkLog(root: string, evidenceDir: string | undefined): Promise<NetworkEvent[] | undefined> {
  const file = await openEvidenceFile(root, evidenceDir, 'network.json');
  if (!file) return undefined;
  try {
    if (file.stats.size > MAX_NETWORK_LOG_BYTES) return undefined;
    const parsed = networkLogSchema.safeParse(JSON.parse(await file.handle.readFile('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  } finally {
    await file.handle.close().catch(() => {});
  }
}
