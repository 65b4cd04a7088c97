// Playwright traces record every request with its headers and bodies: the login form's
// password, the token endpoint's answer, Authorization headers, session cookies. Before a
// trace is kept, it is rewritten entry by entry: sensitive headers and form bodies blanked in
// the network records, then every text entry scrubbed with the run's redactor.
import { readFile, stat, writeFile } from 'node:fs/promises';
import JSZip from 'jszip';
import { REDACTED, type Redactor } from '../redact.ts';

const SENSITIVE_HEADERS = /^(authorization|proxy-authorization|cookie|set-cookie|x-auth-token)$/i;
/** Page actions whose parameters are what was typed. */
const TYPING_METHODS = /^(fill|type|pressSequentially|insertText)$/;

/** A raw trace larger than this is not kept at all (the page downloaded what the target sent). */
export const MAX_TRACE_BYTES = 64 * 1_048_576;
/** A single entry (a response body the page received) larger than this is left out of the kept trace. */
export const MAX_ENTRY_BYTES = 4 * 1_048_576;

export interface ScrubbedTrace {
  /** Entries left out for their size (the trace viewer shows them as missing resources). */
  dropped: string[];
}

export async function scrubTrace(source: string, destination: string, redactor: Redactor): Promise<ScrubbedTrace> {
  const size = (await stat(source)).size;
  if (size > MAX_TRACE_BYTES) throw new Error(`the raw trace is ${size} bytes, over the ${MAX_TRACE_BYTES}-byte limit: not kept`);
  const zip = await JSZip.loadAsync(await readFile(source));
  const out = new JSZip();
  const dropped: string[] = [];
  for (const entry of Object.values(zip.files)) {
    if (entry.dir) continue;
    // Checked before inflating where the archive says the size (JSZip keeps it on the entry).
    const declared = (entry as unknown as { _data?: { uncompressedSize?: number } })._data?.uncompressedSize;
    if (declared !== undefined && declared > MAX_ENTRY_BYTES) {
      dropped.push(entry.name);
      continue;
    }
    const data = await entry.async('nodebuffer');
    if (data.length > MAX_ENTRY_BYTES) {
      dropped.push(entry.name);
      continue;
    }
    out.file(entry.name, isText(data) ? scrubText(entry.name, data.toString('utf8'), redactor) : data, {
      date: entry.date,
    });
  }
  await writeFile(destination, await out.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }));
  return { dropped };
}

/** Images, archives (xlsx) and other binaries carry no text secrets; everything else is scrubbed. */
function isText(data: Buffer): boolean {
  const head = data.subarray(0, 8192);
  if (head.includes(0)) return false;
  const magic = head.subarray(0, 4).toString('latin1');
  return !(
    magic.startsWith('\x89PNG') ||
    magic.startsWith('\xff\xd8') ||
    magic.startsWith('PK') ||
    magic.startsWith('GIF8') ||
    magic.startsWith('RIFF')
  );
}

function scrubText(name: string, text: string, redactor: Redactor): string {
  // Trace and network records are JSON lines: scrub the parsed values, so that redaction can
  // never break a record's JSON (the trace viewer refuses a trace with one broken line).
  // Resources are raw bodies: scrubbed as text.
  if (!/\.(trace|network)$/.test(name)) return redactor.redact(text);
  return text
    .split('\n')
    .map((line) => {
      if (!line.startsWith('{')) return redactor.redact(line);
      try {
        return JSON.stringify(redactStrings(scrubRecord(JSON.parse(line)), redactor));
      } catch {
        return redactor.redact(line);
      }
    })
    .join('\n');
}

/** Every string in a parsed record, scrubbed. */
function redactStrings(v: unknown, redactor: Redactor): unknown {
  if (typeof v === 'string') return redactor.redact(v);
  if (Array.isArray(v)) return v.map((x) => redactStrings(x, redactor));
  if (!v || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactStrings(x, redactor)]));
}

/** Blanks sensitive header values and request bodies anywhere in a trace record. */
function scrubRecord(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(scrubRecord);
  if (!v || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  if (typeof o.name === 'string' && typeof o.value === 'string' && SENSITIVE_HEADERS.test(o.name)) {
    return { ...o, value: REDACTED };
  }
  const out: Record<string, unknown> = {};
  // What the probe typed (the password among it): blanked by position, whatever its length,
  // since a short value cannot be found by value without scrubbing ordinary words.
  const typed = typeof o.method === 'string' && TYPING_METHODS.test(o.method);
  for (const [k, val] of Object.entries(o)) {
    if (typed && k === 'params' && val && typeof val === 'object') {
      const params = { ...(val as Record<string, unknown>) };
      for (const f of ['value', 'text']) if (typeof params[f] === 'string') params[f] = REDACTED;
      out[k] = params;
      continue;
    }
    // Request bodies: the login form and the token grant carry credentials; none is worth keeping.
    if (k === 'postData' && val && typeof val === 'object') out[k] = { ...(val as object), text: REDACTED, params: [] };
    // Cookies (Keycloak's session and identity cookies) are credentials whatever their name.
    else if (k === 'cookies' && Array.isArray(val)) out[k] = val.map((c) => (c && typeof c === 'object' ? { ...c, value: REDACTED } : c));
    else out[k] = scrubRecord(val);
  }
  return out;
}
