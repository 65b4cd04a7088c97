// Run history on disk: one RunResult per line (JSON lines), rotated by size so it never fills
// the disk. `history.jsonl` → `history.jsonl.1` → ... → `history.jsonl.<keep>`, oldest dropped.
// Read tolerantly: a line cut by a crash, of another shape or plain garbage is skipped and
// counted, never a reason for the status page or the service start to fail.
import { appendFile, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { RunResult } from './model/result.ts';
import { runResultSchema } from './model/result-schema.ts';

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
    return (await this.read(limit)).runs;
  }

  /** As recent(), and how many unreadable lines were skipped in the files it read. */
  async read(limit: number): Promise<{ runs: RunResult[]; skipped: number }> {
    await this.queue;
    const runs: RunResult[] = [];
    let skipped = 0;
    for (let i = 0; i <= this.opts.keep && runs.length < limit; i++) {
      const lines = await readLines(i === 0 ? this.opts.file : `${this.opts.file}.${i}`);
      const parsed = lines.flatMap(parseLine);
      skipped += lines.length - parsed.length;
      runs.unshift(...parsed.slice(Math.max(0, parsed.length - (limit - runs.length))));
    }
    return { runs, skipped };
  }

  private async write(line: string): Promise<void> {
    await mkdir(dirname(this.opts.file), { recursive: true });
    const size = await fileSize(this.opts.file);
    if (size > 0 && size + Buffer.byteLength(line) > this.opts.maxBytes) await this.rotate();
    // A write cut short (crash, disk full) leaves a line without its newline: end it first, so
    // that this record does not get glued onto it and lost with it.
    else if (size > 0 && !(await endsWithNewline(this.opts.file, size))) line = `\n${line}`;
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

async function endsWithNewline(path: string, size: number): Promise<boolean> {
  const f = await open(path, 'r');
  try {
    const { buffer } = await f.read(Buffer.alloc(1), 0, 1, size - 1);
    return buffer[0] === 0x0a;
  } finally {
    await f.close();
  }
}

// A line cut short by a crash mid-write, or not a RunResult at all, is skipped.
function parseLine(line: string): RunResult[] {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return [];
  }
  const parsed = runResultSchema.safeParse(value);
  return parsed.success ? [parsed.data] : [];
}
