// Keeping a failed run's evidence: old folders pruned first (so a full disk recovers), what the
// probe can give collected under a bound, then the folder written; a failed write removes the
// half-written folder and says why.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HttpEvent, RunResult } from '../model/result.ts';
import { within } from '../model/wait.ts';
import type { Redactor } from '../redact.ts';
import { createEvidenceFolder, pruneEvidence, writeEvidence } from './store.ts';

/** What a probe adds: a screenshot, a raw trace, and what could not be collected. */
export interface Collected {
  screenshot?: Buffer;
  tracePath?: string;
  problems: string[];
}

export interface KeepRequest {
  dir: string;
  /** Folders kept per target and probe, this one included. */
  keep: number;
  target: string;
  probe: string;
  result: RunResult;
  /** The run's last HTTP events. */
  network: HttpEvent[];
  /** The probe's own evidence, written into a scratch folder; bounded by `collectWithinMs`. */
  collect: (scratch: string) => Promise<Collected>;
  collectWithinMs: number;
  /** The run log's text, read after collection (which may add to it). */
  logText: () => string;
  redactor: Redactor;
  warn: (line: string) => void;
}

export async function keepEvidence(req: KeepRequest): Promise<{ folder: string; files: string[] }> {
  await pruneEvidence(req.dir, Math.max(0, req.keep - 1)).catch((err: unknown) =>
    req.warn(`old evidence not pruned: ${(err as Error).message}`),
  );
  const scratch = await mkdtemp(join(tmpdir(), 'bup-evidence-'));
  try {
    const collected = await within(req.collect(scratch), req.collectWithinMs).catch((err: unknown): Collected => {
      req.warn(`evidence collection cut short: ${(err as Error).message}`);
      return { problems: [] };
    });
    for (const p of collected.problems) req.warn(p);
    const folder = await createEvidenceFolder(req.dir, req.target, req.probe, new Date(req.result.startedAt));
    try {
      const evidence = {
        result: { ...req.result, evidenceDir: folder },
        network: req.network,
        log: req.logText(),
        ...(collected.screenshot ? { screenshot: collected.screenshot } : {}),
        ...(collected.tracePath ? { rawTracePath: collected.tracePath } : {}),
      };
      const files = await writeEvidence(folder, evidence, req.redactor, req.warn);
      return { folder, files };
    } catch (err) {
      await rm(folder, { recursive: true, force: true }).catch(() => {});
      throw err;
    }
  } finally {
    await rm(scratch, { recursive: true, force: true }).catch(() => {});
  }
}
