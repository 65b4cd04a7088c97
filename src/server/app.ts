// The service's HTTP face: Prometheus scrapes /metrics, the orchestrator asks /healthz and
// /readyz, people read / and /api/runs.
import express, { type Express } from 'express';
import type { ProbeMetrics } from '../metrics/registry.ts';
import type { RunResult } from '../model/result.ts';
import type { JobState } from '../model/job.ts';
import type { HealthReport } from './health.ts';
import { renderStatusPage } from './status-page.ts';

export interface AppDeps {
  metrics: ProbeMetrics;
  health: () => HealthReport;
  ready: () => boolean;
  runs: (filter: { probe?: string; target?: string; limit?: number }) => RunResult[];
  jobs: () => JobState[];
  version: string;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');

  app.get('/metrics', async (_req, res, next) => {
    try {
      const body = await deps.metrics.metrics();
      res.type(deps.metrics.contentType).send(body);
    } catch (e) {
      next(e);
    }
  });

  app.get('/healthz', (_req, res) => {
    const h = deps.health();
    res.status(h.ok ? 200 : 503).json({ status: h.ok ? 'ok' : 'unhealthy', ...h });
  });

  app.get('/readyz', (_req, res) => {
    const ready = deps.ready();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready' });
  });

  app.get('/api/runs', (req, res) => {
    const limit = Number(req.query.limit);
    res.json({
      runs: deps.runs({
        probe: typeof req.query.probe === 'string' ? req.query.probe : undefined,
        target: typeof req.query.target === 'string' ? req.query.target : undefined,
        limit: Number.isInteger(limit) && limit > 0 ? limit : undefined,
      }),
    });
  });

  app.get('/api/jobs', (_req, res) => {
    res.json({ jobs: deps.jobs() });
  });

  app.get('/', (_req, res) => {
    res
      .type('html')
      .send(renderStatusPage({ jobs: deps.jobs(), runs: deps.runs({ limit: 30 }), health: deps.health(), version: deps.version }));
  });

  return app;
}
