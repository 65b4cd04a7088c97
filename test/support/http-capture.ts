// A loopback HTTP server that stands in for the services a notification talks to or links to:
// it records every POST (a chat service's incoming webhook, such as Slack's) and answers GETs
// for the pages it is given (a runbook, a dashboard, a failed run's evidence), 404 otherwise.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CapturedRequest {
  receivedAt: number;
  path: string;
  contentType: string;
  body: string;
  /** The body parsed as JSON, or undefined if it is not JSON. */
  json: unknown;
}

export interface Page {
  contentType: string;
  body: string;
}

export interface HttpCapture {
  url: string;
  posts: CapturedRequest[];
  /** GET paths (without query string) answered so far, in order. */
  gets: string[];
  /** Serves `body` at `path` (without query string) from now on. */
  page(path: string, body: string, contentType?: string): void;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startHttpCapture(): Promise<HttpCapture> {
  const posts: CapturedRequest[] = [];
  const gets: string[] = [];
  const pages = new Map<string, Page>();
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://capture').pathname;
    if (req.method === 'POST') {
      void readBody(req).then((body) => {
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        posts.push({ receivedAt: Date.now(), path, contentType: req.headers['content-type'] ?? '', body, json });
        // What Slack's incoming webhooks answer.
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
      return;
    }
    const page = req.method === 'GET' || req.method === 'HEAD' ? pages.get(path) : undefined;
    if (!page) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    gets.push(path);
    res.writeHead(200, { 'content-type': page.contentType }).end(req.method === 'HEAD' ? undefined : page.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    posts,
    gets,
    page: (path, body, contentType = 'text/html; charset=utf-8') => void pages.set(path, { contentType, body }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
