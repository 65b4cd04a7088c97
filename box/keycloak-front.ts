// Keycloak as everyone sees it (urls.keycloak): a reverse proxy in front of Keycloak's own
// port. The login-down fault acts here, so the box's control path to Keycloak stays up.
import type { Server } from 'node:http';
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { close, listen } from './http.ts';

export type LoginDownMode = '5xx' | 'refuse';

export class KeycloakFront {
  private server?: Server;
  private down?: LoginDownMode;
  private readonly app: express.Express;

  constructor(
    private readonly port: number,
    target: string,
  ) {
    this.app = express();
    this.app.use((_req, res, next) => {
      if (this.down === '5xx') {
        res.status(503).type('text/plain').send('Service Unavailable');
        return;
      }
      next();
    });
    this.app.use(
      createProxyMiddleware({
        target,
        // Keycloak builds its URLs from --hostname, not from the Host header.
        changeOrigin: false,
        on: {
          error: (_err, _req, res) => {
            if ('writeHead' in res && !res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' }).end('Bad Gateway');
            else res.destroy();
          },
        },
      }),
    );
  }

  async start(): Promise<void> {
    this.server = await listen(this.app, this.port);
  }

  /** 5xx: answer 503; refuse: stop listening, so connections are refused. */
  async setDown(mode: LoginDownMode): Promise<void> {
    this.down = mode;
    if (mode === 'refuse' && this.server) {
      await close(this.server);
      this.server = undefined;
    }
  }

  async setUp(): Promise<void> {
    this.down = undefined;
    if (!this.server) await this.start();
  }

  async stop(): Promise<void> {
    if (this.server) await close(this.server);
    this.server = undefined;
  }
}
