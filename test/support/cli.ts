// The product's CLI as a pipeline or a person runs it: a child process, its exit code and output.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const CLI = join(import.meta.dirname, '../../bin/bulk-upload-probe.js');

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(args: string[], timeoutMs = 90_000): Promise<Ran> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { timeout: timeoutMs });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}
