// A Pushgateway URL with credentials or a token is never printed as given: not in the smoke
// report's lines, not in the errors of a failed push.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PushError, pushResults } from '../../../src/metrics/push.ts';
import { displayUrl, scrubUrl } from '../../../src/model/url.ts';
import { fakeResult } from '../../support/results.ts';

const SECRET = 'Gateway-Pa55';

describe('displayUrl', () => {
  it('masks user and password and drops the query string and fragment', () => {
    expect(displayUrl(`https://pusher:${SECRET}@gw.example:9091/base?token=abc#x`)).toBe('https://***@gw.example:9091/base');
    expect(displayUrl('https://pusher@gw.example')).toBe('https://***@gw.example');
    expect(displayUrl(`https://:${SECRET}@gw.example/`)).toBe('https://***@gw.example/');
  });

  it('leaves a plain URL as written', () => {
    expect(displayUrl('http://127.0.0.1:9091')).toBe('http://127.0.0.1:9091');
    expect(displayUrl('http://pushgateway:9091/prefix/')).toBe('http://pushgateway:9091/prefix/');
  });

  it('masks what looks like credentials even in a text that is not a URL', () => {
    const shown = displayUrl(`http://pusher:${SECRET}@[not-a-host/x?token=abc`);
    expect(shown).toBe('http://***@[not-a-host/x');
  });
});

describe('scrubUrl', () => {
  it('masks the URL, its user, password (also percent-decoded) and query wherever a message quotes them', () => {
    const url = `http://pusher:${encodeURIComponent('p@ss word')}@gw:9091/x?token=t0ken`;
    const message = `PUT ${url}/metrics failed; auth pusher:p%40ss%20word (p@ss word); token=t0ken; other //a:b@host`;
    const scrubbed = scrubUrl(message, url);
    for (const leak of ['p@ss word', 'p%40ss%20word', 't0ken', 'a:b@']) expect(scrubbed).not.toContain(leak);
    expect(scrubbed).toContain('http://***@gw:9091/x');
  });

  it('leaves a message about a plain URL alone', () => {
    expect(scrubUrl('connect ECONNREFUSED 127.0.0.1:1', 'http://127.0.0.1:1')).toBe('connect ECONNREFUSED 127.0.0.1:1');
  });
});

describe('pushResults errors', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    // A gateway that refuses the push and quotes back what it got, credentials included.
    server = createServer((req, res) => {
      req.resume();
      const auth = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
      res.writeHead(500).end(`cannot take ${req.url} from ${auth}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('a refused push names the status but not the credentials or the token the gateway echoed', async () => {
    const url = `http://pusher:${SECRET}@127.0.0.1:${port}/?token=${SECRET}-token`;
    const err = await pushResults(url, [fakeResult({ ok: true })]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PushError);
    const message = (err as Error).message;
    expect(message).toMatch(/status 500/);
    expect(message).toContain('***');
    expect(message).not.toContain(SECRET);
    expect(message).not.toContain('pusher:');
    expect(JSON.stringify(err)).not.toContain(SECRET);
  });

  it('an unusable URL fails with a message that does not quote it', async () => {
    for (const url of [`ftp://pusher:${SECRET}@127.0.0.1/`, `http://pusher:${SECRET}@[bad`]) {
      const err = await pushResults(url, []).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err).toBeInstanceOf(PushError);
      expect(err!.message).not.toContain(SECRET);
    }
  });
});
