// Looks for secrets in what the probe wrote: every file under a folder (each entry of a zip,
// such as trace.zip, too) and any text, in every spelling a secret can take on its way out.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import JSZip from 'jszip';

export interface Leak {
  /** File (and zip entry) or the label of the text scanned. */
  where: string;
  /** Which secret, described without repeating it. */
  what: string;
}

export interface SecretSet {
  /** Label → needles that must not appear. */
  needles: Array<{ what: string; needle: string }>;
}

/**
 * Every spelling of each secret: raw, URL-encoded, form-encoded and JSON-escaped; plus a
 * distinctive prefix, which catches a secret cut in half (by truncation or a scrubber that
 * stopped at a special character).
 */
export function secretSet(secrets: Array<{ what: string; value: string; prefix?: number }>): SecretSet {
  const needles: SecretSet['needles'] = [];
  for (const { what, value, prefix } of secrets) {
    const spellings = new Set([
      value,
      encodeURIComponent(value),
      new URLSearchParams({ v: value }).toString().slice(2),
      JSON.stringify(value).slice(1, -1),
      JSON.stringify(JSON.stringify(value)).slice(1, -1),
    ]);
    if (prefix && value.length > prefix) spellings.add(value.slice(0, prefix));
    for (const needle of spellings) needles.push({ what, needle });
  }
  return { needles };
}

export function scanText(where: string, text: string, set: SecretSet): Leak[] {
  const found = new Map<string, Leak>();
  for (const { what, needle } of set.needles) {
    if (text.includes(needle)) found.set(what, { where, what });
  }
  return [...found.values()];
}

/** Every file below `dir` (none when it does not exist). */
export async function filesUnder(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** Scans every file under `dir`; zip files are opened and each entry scanned. */
export async function scanDir(dir: string, set: SecretSet): Promise<{ files: string[]; leaks: Leak[] }> {
  const files = await filesUnder(dir);
  const leaks: Leak[] = [];
  for (const f of files) {
    const buf = await readFile(f);
    leaks.push(...scanText(f, buf.toString('utf8'), set), ...scanText(`${f} (latin1)`, buf.toString('latin1'), set));
    if (f.endsWith('.zip')) {
      const zip = await JSZip.loadAsync(buf);
      for (const name of Object.keys(zip.files)) {
        const entry = zip.files[name]!;
        if (entry.dir) continue;
        const text = await entry.async('string');
        leaks.push(...scanText(`${f}!${name}`, text, set));
      }
    }
  }
  return { files, leaks };
}

/** A file's bytes; a zip (trace.zip) as each of its entries, named `file!entry`. */
export async function fileEntries(path: string): Promise<Array<{ name: string; data: Buffer }>> {
  const data = await readFile(path);
  if (!path.endsWith('.zip')) return [{ name: path, data }];
  const zip = await JSZip.loadAsync(data);
  const entries = Object.values(zip.files).filter((f) => !f.dir);
  return Promise.all(entries.map(async (f) => ({ name: `${path}!${f.name}`, data: await f.async('nodebuffer') })));
}
