// The fault control interface: a small JSON API on loopback (see docs/box.md).
import express, { type NextFunction, type Request, type Response } from 'express';
import { FAULT_NAMES, FaultParamsError, UnknownFaultError, type FaultRegistry } from './faults.ts';

export function controlApp(faults: FaultRegistry): express.Express {
  const app = express();
  app.use(express.json({ strict: false, limit: '16kb' }));

  app.get('/faults', (_req, res) => {
    res.json({ active: faults.list(), available: FAULT_NAMES });
  });

  app.post('/faults/:name', async (req, res, next) => {
    try {
      // A body that is not JSON would otherwise be ignored and the fault set with defaults.
      const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
      if (hasBody && !req.is('application/json')) {
        res.status(400).json({ error: 'params must be sent as JSON (Content-Type: application/json)' });
        return;
      }
      const body: unknown = req.body;
      if (body !== undefined && (body === null || typeof body !== 'object' || Array.isArray(body))) {
        res.status(400).json({ error: 'params must be a JSON object' });
        return;
      }
      res.json({ active: await faults.set(req.params.name, body ?? {}) });
    } catch (err) {
      next(err);
    }
  });

  app.delete('/faults/:name', async (req, res, next) => {
    try {
      res.json({ active: await faults.clear(req.params.name) });
    } catch (err) {
      next(err);
    }
  });

  app.delete('/faults', async (_req, res, next) => {
    try {
      res.json({ active: await faults.clear() });
    } catch (err) {
      next(err);
    }
  });

  app.use((_req, res) => {
    res.status(404).json({ error: 'not found: use GET /faults, POST|DELETE /faults/<name>, DELETE /faults' });
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof UnknownFaultError) {
      res.status(404).json({ error: err.message });
    } else if (err instanceof FaultParamsError) {
      res.status(400).json({ error: err.message });
    } else if (isBodyError(err)) {
      res.status(err.status).json({ error: `malformed request body: ${err.message}` });
    } else {
      res.status(500).json({ error: err instanceof Error ? err.message : String(err) });
    }
  });
  return app;
}

function isBodyError(err: unknown): err is { status: number; message: string } {
  const e = err as { status?: unknown; type?: unknown };
  return typeof e?.status === 'number' && e.status >= 400 && e.status < 500 && typeof e.type === 'string';
}
