// The service's pages, behind its HTTP front (front.ts, which answers /metrics, /healthz and
// /readyz itself): people read / (status page), /runs/:id (a run's page, its evidence) and
// /api/runs; alerts link to /targets/:target/:probe/last-failure.
import express, { type Express, type Response } from 'express';
import { listEvidence, openEvidenceFile, readNetworkLog } from '../evidence/read.ts';
import type { RunResult } from '../model/result.ts';
import type { JobState } from '../model/job.ts';
import { RUN_ID_PATTERN, runIdOf } from '../model/run-id.ts';
import type { HealthReport } from './health.ts';
import { DEFAULT_STRIP_RUNS, renderNotFound, renderRunPage, renderStatusPage, runPath } from './status-page.ts';

/** Bars in each job's strip on the status page; the service keeps at least this many runs per job. */
export const STRIP_RUNS = DEFAULT_STRIP_RUNS;

export interface AppDeps {
  /** The service's health, shown on the status page. */
  health: () => HealthReport;
  /** The latest runs of all jobs, newest first; without a limit, all of them kept. */
  runs: (filter: { probe?: string; target?: string; limit?: number }) => RunResult[];
  /** A job's last runs, newest first (at least STRIP_RUNS); default: from `runs`. */
  jobRuns?: (job: { target: string; probe: string; depth: string }) => RunResult[];
  jobs: () => JobState[];
  version: string;
  /** The configured evidence folder: evidence is served from there and nowhere else. */
  evidenceDir: string;
  /** Now in ms, for "4 minutes ago" (tests fix it). */
  now?: () => number;
}

// The pages load nothing but their own images: even a text that escaped escaping could not run.
const PAGE_CSP =
  "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
// Evidence opened in a tab is data, never a document that may run anything.
const EVIDENCE_CSP = "default-src 'none'; sandbox";

function sendPage(res: Response, status: number, html: string): void {
  res.status(status).set({ 'Content-Security-Policy': PAGE_CSP, 'Cache-Control': 'no-store' }).type('html').send(html);
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use((_req, res, next) => {
    res.set({ 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' });
    next();
  });
  const now = deps.now ?? Date.now;
  const jobRuns = (j: { target: string; probe: string; depth: string }): RunResult[] =>
    deps.jobRuns ? deps.jobRuns(j) : deps.runs({}).filter((r) => r.target === j.target && r.probe === j.probe && r.depth === j.depth);
  /** Every run kept (the latest of all jobs, and each job's last ones), newest first. */
  const known = (): RunResult[] => {
    const all = new Set(deps.runs({}));
    for (const j of deps.jobs()) for (const r of jobRuns(j)) all.add(r);
    return [...all].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  };
  const findRun = (id: string): RunResult | undefined => (RUN_ID_PATTERN.test(id) ? known().find((r) => runIdOf(r) === id) : undefined);

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
    const html = renderStatusPage({
      jobs: deps.jobs(),
      runs: deps.runs({}),
      jobRuns,
      health: deps.health(),
      version: deps.version,
      now: now(),
      stripRuns: STRIP_RUNS,
    });
    sendPage(res, 200, html);
  });

  app.get('/runs/:id', async (req, res, next) => {
    try {
      const run = findRun(req.params.id);
      if (!run) return sendPage(res, 404, renderNotFound('No such run is kept (the service keeps its latest runs).'));
      const [evidence, network] = await Promise.all([
        listEvidence(deps.evidenceDir, run.evidenceDir),
        readNetworkLog(deps.evidenceDir, run.evidenceDir),
      ]);
      sendPage(res, 200, renderRunPage({ run, evidence, network, version: deps.version }));
    } catch (e) {
      next(e);
    }
  });

  // One of a run's evidence files: only the names evidence is made of, only from that run's own
  // folder under the configured evidence folder (src/evidence/read.ts checks the rest).
  app.get('/runs/:id/evidence/:file', async (req, res, next) => {
    const run = findRun(req.params.id);
    const file = run ? await openEvidenceFile(deps.evidenceDir, run.evidenceDir, req.params.file).catch(() => undefined) : undefined;
    if (!run || !file) return sendPage(res, 404, renderNotFound('No such evidence file.'));
    const disposition = file.attachment ? `attachment; filename="trace-${runIdOf(run)}.zip"` : `inline; filename="${file.name}"`;
    res.status(200).set({
      'Content-Type': file.contentType,
      'Content-Length': String(file.stats.size),
      'Content-Disposition': disposition,
      'Content-Security-Policy': EVIDENCE_CSP,
      'Cache-Control': 'private, max-age=300',
    });
    if (req.method === 'HEAD') {
      await file.handle.close().catch(() => {});
      return res.end();
    }
    const stream = file.handle.createReadStream();
    // A download broken off closes the file too.
    res.on('close', () => stream.destroy());
    stream.on('error', (e) => {
      if (res.headersSent) res.destroy(e);
      else next(e);
    });
    stream.pipe(res);
  });

  // For alerts: the latest failed (not cancelled) run of a target's probe, at one depth or any.
  app.get('/targets/:target/:probe/last-failure', (req, res) => {
    const depth = typeof req.query.depth === 'string' && req.query.depth !== '' ? req.query.depth : undefined;
    const { target, probe } = req.params;
    const run = known().find((r) => r.target === target && r.probe === probe && !r.ok && !r.cancelled && (!depth || r.depth === depth));
    if (!run) return sendPage(res, 404, renderNotFound('No failed run of this probe is kept.'));
    res.redirect(302, runPath(run));
  });

  app.use((_req, res) => sendPage(res, 404, renderNotFound('There is no page here.')));

  return app;
}
