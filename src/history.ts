// Run history on disk: one RunResult per line (JSON lines), rotated by size so it never fills
// the disk. `history.jsonl` → `history.jsonl.1` → ... → `history.jsonl.<keep>`, oldest dropped.
import { appendFile, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { RunResult } from './run/result.ts';

export interface HistoryOptions {
  file: string;
  /** Rotate before an append would take the file past this many bytes. */
  maxBytes: number;
  /** Rotated files kept (0: the current file is simply started afresh). */
  keep: number;
}

export class RunHistory {
  // Appends are chained so that concurrent runs never interleave a rotation and a write.
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly opts: HistoryOptions) {}

  get file(): string {
    return this.opts.file;
  }

  append(result: RunResult): Promise<void> {
    const line = `${JSON.stringify(result)}\n`;
    const next = this.queue.then(() => this.write(line));
    // A failed write must not poison every later append; the caller sees this one's error.
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** The newest `limit` runs, newest last, from the current file and then the rotated ones. */
  async recent(limit: number): Promise<RunResult[]> {
    await this.queue;
    const out: RunResult[] = [];
    for (let i = 0; i <= this.opts.keep && out.length < limit; i++) {
      const lines = await readLines(i === 0 ? this.opts.file : `${this.opts.file}.${i}`);
      const parsed = lines.flatMap(parseLine);
      out.unshift(...parsed.slice(Math.max(0, parsed.length - (limit - out.length))));
    }
    return out;
  }

  private async write(line: string): Promise<void> {
    await mkdir(dirname(this.opts.file), { recursive: true });
    const size = await fileSize(this.opts.file);
    if (size > 0 && size + Buffer.byteLength(line) > this.opts.maxBytes) await this.rotate();
    await appendFile(this.opts.file, line, 'utf8');
  }

  private async rotate(): Promise<void> {
    const { file, keep } = this.opts;
    if (keep === 0) {
      await rm(file, { force: true });
      return;
    }
    await rm(`${file}.${keep}`, { force: true });
    for (let i = keep - 1; i >= 1; i--) {
      if ((await fileSize(`${file}.${i}`)) >= 0) await rename(`${file}.${i}`, `${file}.${i + 1}`).catch(ignoreMissing);
    }
    await rename(file, `${file}.1`);
  }
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (e) {
    ignoreMissing(e);
    return -1;
  }
}

function ignoreMissing(e: unknown): void {
  if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
}

async function readLines(path: string): Promise<string[]> {
  try {
    return (await readFile(path, 'utf8')).split('\n').filter((l) => l.trim() !== '');
  } catch (e) {
    ignoreMissing(e);
    return [];
  }
}

// A line cut short by a crash mid-write is skipped rather than failing the whole read.
function parseLine(line: string): RunResult[] {
  try {
    return [JSON.parse(line) as RunResult];
  } catch {
    return [];
  }
}
