// A tiny HTTP forward proxy on loopback, as an organisation's would be: absolute-URI requests
// (http:// targets) are forwarded, CONNECT opens a tunnel (https:// targets). It counts what it
// forwarded per target host:port, and may require Basic credentials (407 otherwise).
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ForwardProxy {
  /** http://127.0.0.1:PORT */
  url: string;
  /** Requests (absolute URI) and tunnels (CONNECT) forwarded, per target host:port. */
  counts: Map<string, number>;
  /** Everything forwarded. */
  total(): number;
  /** Requests and CONNECTs refused with 407 (no or wrong credentials). */
  refused: number;
  /** Forgets the counts. */
  reset(): void;
  close(): Promise<void>;
}

const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'upgrade',
];

export async function startForwardProxy(opts: { auth?: { username: string; password: string } } = {}): Promise<ForwardProxy> {
  const counts = new Map<string, number>();
  const sockets = new Set<Socket>();
  const expected = opts.auth && `Basic ${Buffer.from(`${opts.auth.username}:${opts.auth.password}`).toString('base64')}`;
  const state = { refused: 0 };
  const allowed = (headers: IncomingHttpHeaders) => !expected || headers['proxy-authorization'] === expected;
  const count = (hostPort: string) => counts.set(hostPort, (counts.get(hostPort) ?? 0) + 1);

  const server = createServer((req, res) => {
    if (!/^https?:\/\//i.test(req.url ?? '')) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('a forward proxy: absolute URIs only');
      return;
    }
    if (!allowed(req.headers)) {
      state.refused++;
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test proxy"', 'content-length': '0' }).end();
      return;
    }
    const target = new URL(req.url!);
    count(`${target.hostname}:${target.port || (target.protocol === 'https:' ? 443 : 80)}`);
    const headers = { ...req.headers };
    for (const h of HOP_BY_HOP) delete headers[h];
    const upstream = httpRequest(
      { host: target.hostname, port: target.port || 80, method: req.method, path: `${target.pathname}${target.search}`, headers },
      (up) => {
        const back = { ...up.headers };
        for (const h of HOP_BY_HOP) delete back[h];
        res.writeHead(up.statusCode ?? 502, back);
        up.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('bad gateway');
    });
    req.pipe(upstream);
  });

  server.on('connect', (req, client: Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    if (!allowed(req.headers)) {
      state.refused++;
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test proxy"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(req.url ?? '');
    if (!m) {
      client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    count(`${m[1]}:${m[2]}`);
    const up = connect(Number(m[2]), m[1]!, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    sockets.add(up);
    up.on('close', () => {
      sockets.delete(up);
      client.destroy();
    });
    up.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
    client.on('close', () => up.destroy());
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
    get refused() {
      return state.refused;
    },
    reset() {
      counts.clear();
      state.refused = 0;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
