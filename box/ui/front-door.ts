// The app front door (urls.app): serves the admin page at /admin/uploads and, like the
// production ingress, routes /generic-upload, /profile and /tcs to each service.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { REALM, UI_CLIENT_ID } from '../realm.ts';

export interface FrontDoorOptions {
  keycloakUrl: string;
  genericUploadUrl: string;
  profileUrl: string;
  tcsUrl: string;
}

const PAGE_DIR = fileURLToPath(new URL('./page/', import.meta.url));
const KEYCLOAK_JS = createRequire(import.meta.url).resolve('keycloak-js');

export function frontDoorApp(opts: FrontDoorOptions): express.Express {
  const app = express();
  const noCache = { 'Cache-Control': 'no-store' };

  app.get(['/admin/uploads', '/admin/uploads/'], (_req, res) => {
    res.set(noCache).sendFile('index.html', { root: PAGE_DIR });
  });
  app.get('/admin/assets/app.js', (_req, res) => res.set(noCache).sendFile('app.js', { root: PAGE_DIR }));
  app.get('/admin/assets/page.css', (_req, res) => res.set(noCache).sendFile('page.css', { root: PAGE_DIR }));
  // The real keycloak-js adapter, served as the ES module it ships as.
  app.get('/admin/assets/keycloak.js', (_req, res) => res.type('text/javascript').sendFile(KEYCLOAK_JS));
  app.get('/admin/config.json', (_req, res) => {
    res.set(noCache).json({ keycloakUrl: opts.keycloakUrl, realm: REALM, clientId: UI_CLIENT_ID, apiPath: '/generic-upload/api' });
  });
  app.get('/', (_req, res) => res.redirect('/admin/uploads'));

  for (const [path, target] of [
    ['/generic-upload', opts.genericUploadUrl],
    ['/profile', opts.profileUrl],
    ['/tcs', opts.tcsUrl],
  ] as const) {
    app.use(
      createProxyMiddleware({
        target,
        pathFilter: (p) => p === path || p.startsWith(`${path}/`),
        xfwd: true,
        on: {
          error: (_err, _req, res) => {
            // Upstream unreachable: what an ingress answers.
            if ('writeHead' in res && !res.headersSent) {
              res.writeHead(502, { 'Content-Type': 'text/plain' }).end('Bad Gateway');
            } else {
              res.destroy();
            }
          },
        },
      }),
    );
  }
  return app;
}
