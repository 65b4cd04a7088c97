// Evidence: folders named by time, retention keeps the newest N, and a trace archive is
// rewritten without its secrets (headers, cookies, form bodies, registered values).
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import JSZip from 'jszip';
import { describe, expect, it } from 'vitest';
import { createEvidenceFolder, folderStamp, pruneEvidence, writeEvidence } from '../../../src/evidence/store.ts';
import { MAX_ENTRY_BYTES, scrubTrace } from '../../../src/evidence/trace.ts';
import { Redactor } from '../../../src/redact.ts';
import type { RunResult } from '../../../src/model/result.ts';

const PASSWORD = 'Known-Secret-Value-123';
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwcm9iZSJ9.c2lnbmF0dXJl';

describe('evidence retention', () => {
  it('keeps the newest folders across targets and probes, deletes the rest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bup-ev-'));
    const made: string[] = [];
    for (let i = 0; i < 6; i++) {
      const at = new Date(Date.UTC(2026, 10, 25, 10, 0, i));
      made.push(await createEvidenceFolder(dir, i % 2 ? 'stage' : 'box', i % 3 ? 'api' : 'browser', at));
    }
    const deleted = await pruneEvidence(dir, 4);
    expect(deleted.sort()).toEqual(made.slice(0, 2).sort());
    const left = [];
    for (const t of await readdir(dir)) for (const p of await readdir(join(dir, t))) left.push(...(await readdir(join(dir, t, p))));
    expect(left.sort()).toEqual(
      made
        .slice(2)
        .map((m) => m.split('/').pop())
        .sort(),
    );
  });

  it('names folders by UTC time and never reuses one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bup-ev-'));
    const at = new Date('2026-11-25T10:15:00.123Z');
    expect(folderStamp(at)).toBe('20261125T101500123Z');
    const a = await createEvidenceFolder(dir, 'box', 'api', at);
    const b = await createEvidenceFolder(dir, 'box', 'api', at);
    expect(a).not.toBe(b);
  });
});

describe('trace scrubbing', () => {
  it('removes authorization headers, cookies, form bodies and registered values from every text entry', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bup-tr-'));
    const zip = new JSZip();
    const record = {
      type: 'resource-snapshot',
      snapshot: {
        request: {
          url: 'http://kc/realms/lin/login-actions/authenticate',
          headers: [
            { name: 'Authorization', value: `Bearer ${TOKEN}` },
            { name: 'Cookie', value: 'KEYCLOAK_SESSION=abc123def' },
          ],
          postData: {
            mimeType: 'application/x-www-form-urlencoded',
            text: `username=u&password=${PASSWORD}`,
            params: [{ name: 'password', value: PASSWORD }],
          },
        },
        response: {
          cookies: [{ name: 'KEYCLOAK_IDENTITY', value: 'opaque-session-id-42' }],
          headers: [{ name: 'Set-Cookie', value: 'AUTH_SESSION_ID=xyz987' }],
        },
      },
    };
    zip.file('trace.network', `${JSON.stringify(record)}\n`);
    zip.file('trace.trace', JSON.stringify({ type: 'frame-snapshot', html: `<input value="${PASSWORD}">` }));
    zip.file('resources/token.json', JSON.stringify({ access_token: 'opaque-access', id_token: TOKEN }));
    const png = Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), Buffer.alloc(32, 1)]);
    zip.file('resources/shot.png', png);
    const source = join(dir, 'raw.zip');
    await writeFile(source, await zip.generateAsync({ type: 'nodebuffer' }));

    const redactor = new Redactor();
    redactor.add(PASSWORD);
    await scrubTrace(source, join(dir, 'trace.zip'), redactor);

    const out = await JSZip.loadAsync(await readFile(join(dir, 'trace.zip')));
    expect(Object.keys(out.files).sort()).toEqual(Object.keys(zip.files).sort());
    const all = (await Promise.all(Object.values(out.files).map((f) => f.async('nodebuffer')))).map((b) => b.toString('latin1')).join('\n');
    for (const secret of [PASSWORD, TOKEN, 'abc123def', 'opaque-session-id-42', 'xyz987', 'opaque-access'])
      expect(all).not.toContain(secret);
    expect(Buffer.compare(await out.files['resources/shot.png']!.async('nodebuffer'), png)).toBe(0);
    // Still a trace: records parse and keep their shape.
    const net = JSON.parse((await out.files['trace.network']!.async('string')).trim());
    expect(net.snapshot.request.url).toBe(record.snapshot.request.url);
  });
  it('leaves out an entry too large to keep (a huge body the page received), keeping the rest scrubbed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bup-tr-'));
    const zip = new JSZip();
    zip.file('trace.trace', JSON.stringify({ type: 'log', message: `password=${PASSWORD}` }));
    zip.file('resources/huge.json', `[${'"x",'.repeat(MAX_ENTRY_BYTES / 4)}"x"]`);
    const source = join(dir, 'raw.zip');
    await writeFile(source, await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }));
    const redactor = new Redactor();
    redactor.add(PASSWORD);
    expect(await scrubTrace(source, join(dir, 'trace.zip'), redactor)).toEqual({ dropped: ['resources/huge.json'] });
    const out = await JSZip.loadAsync(await readFile(join(dir, 'trace.zip')));
    expect(Object.keys(out.files)).toEqual(['trace.trace']);
    expect(await out.files['trace.trace']!.async('string')).not.toContain(PASSWORD);
  });

  it('keeps every trace record valid JSON, also where a secret ends right before an escaped quote', async () => {
    // Playwright logs navigations as `navigated to "URL"`: in the record's JSON the URL ends in \".
    // Scrubbing that text must not eat the backslash, or the viewer refuses the whole trace.
    const dir = await mkdtemp(join(tmpdir(), 'bup-tr-'));
    const url = 'http://app/admin/uploads#state=s1&session_state=sess-42&code=one-time-code-77';
    const lines = [
      { type: 'log', callId: 'c@1', message: `  navigated to "${url}"` },
      { type: 'log', callId: 'c@2', message: `token ${TOKEN}" and "password=${PASSWORD}"` },
    ];
    const zip = new JSZip();
    zip.file('trace.trace', lines.map((l) => JSON.stringify(l)).join('\n'));
    const source = join(dir, 'raw.zip');
    await writeFile(source, await zip.generateAsync({ type: 'nodebuffer' }));
    const redactor = new Redactor();
    redactor.add(PASSWORD);
    await scrubTrace(source, join(dir, 'trace.zip'), redactor);

    const text = await (await JSZip.loadAsync(await readFile(join(dir, 'trace.zip')))).files['trace.trace']!.async('string');
    const records = text.split('\n').map((l) => JSON.parse(l) as { message: string });
    expect(records).toHaveLength(2);
    expect(records[0]!.message).toBe('  navigated to "http://app/admin/uploads#state=s1&session_state=[redacted]&code=[redacted]"');
    for (const secret of ['sess-42', 'one-time-code-77', TOKEN, PASSWORD]) expect(text).not.toContain(secret);
  });
});

describe('writeEvidence', () => {
  it('writes network, log and result scrubbed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bup-w-'));
    await mkdir(dir, { recursive: true });
    const redactor = new Redactor();
    redactor.add(PASSWORD);
    const result = { probe: 'api', target: 'box', ok: false, message: `failed with ${PASSWORD}` } as unknown as RunResult;
    const files = await writeEvidence(dir, { result, network: [], log: `Authorization: Bearer ${TOKEN}\n` }, redactor);
    expect(files.sort()).toEqual(['network.json', 'probe.log', 'result.json']);
    for (const f of files) {
      const text = await readFile(join(dir, f), 'utf8');
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(TOKEN);
    }
  });
});
