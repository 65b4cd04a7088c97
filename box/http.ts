// Small helpers for the box's HTTP servers: every one listens on loopback only, and stopping
// one closes its open (keep-alive) connections too so that stop() never hangs.
import { createServer as createNetServer } from 'node:net';
import type { Server } from 'node:http';
import type { RequestListener } from 'node:http';
import { createServer } from 'node:http';

export const HOST = '127.0.0.1';

export async function listen(handler: RequestListener, port: number): Promise<Server> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

export function portOf(server: Server): number {
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('server is not listening on a TCP port');
  return addr.port;
}

export async function close(server: Server): Promise<void> {
  if (!server.listening) return;
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** A free loopback port, picked by the OS. */
export async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, HOST, () => resolve());
  });
  const addr = srv.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

export function origin(port: number): string {
  return `http://${HOST}:${port}`;
}
