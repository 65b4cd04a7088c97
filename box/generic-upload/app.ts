// Stand-in for generic-upload (context path /generic-upload): the upload API. Every call is
// authenticated by asking Profile with the caller's token; any 4xx from Profile means 401.
import { extname } from 'node:path';
import axios from 'axios';
import express, { type NextFunction, type Request, type Response } from 'express';
import multer from 'multer';
import type { GenericUploadConfig } from './config.ts';
import { parseStatusQuery, queryStatus, BadQueryError } from './status-query.ts';
import { toJson, type UploadStore } from './store.ts';
import { detectTemplate, isMandatory } from './templates.ts';
import { buildErrorWorkbook, readFirstSheet } from './workbook.ts';

/** Faults that act on the service as a whole (slow, server-error). */
export interface GenericUploadFaults {
  delayMs?: number;
  status?: number;
}

export interface GenericUploadOptions {
  store: UploadStore;
  config: () => GenericUploadConfig;
  faults: GenericUploadFaults;
}

interface Caller {
  userName: string;
  firstName: string;
  lastName: string;
}

const STATUS_TEXT: Record<number, string> = { 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' };

export function genericUploadApp(opts: GenericUploadOptions): express.Express {
  const app = express();
  const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: 20 * 1024 * 1024 } });
  const api = express.Router();

  app.use('/generic-upload', async (req, res, next) => {
    const { delayMs, status } = opts.faults;
    if (delayMs) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delayMs);
        res.once('close', () => {
          clearTimeout(t);
          resolve();
        });
      });
      if (res.destroyed || res.writableEnded) return;
    }
    if (status) {
      res
        .status(status)
        .type('text/plain')
        .send(STATUS_TEXT[status] ?? 'Error');
      return;
    }
    next();
  });

  api.use(async (req: Request, res: Response, next: NextFunction) => {
    try {
      const answer = await axios.get<Caller>(`${opts.config().profileUrl}/profile/api/userinfo`, {
        headers: req.headers.authorization ? { authorization: req.headers.authorization } : {},
        validateStatus: () => true,
        timeout: 10_000,
      });
      if (answer.status >= 400 && answer.status < 500) {
        res.status(401).type('text/plain').send('Unauthorized');
        return;
      }
      if (answer.status !== 200) {
        res.status(500).type('text/plain').send('Internal Server Error');
        return;
      }
      res.locals.caller = answer.data;
      next();
    } catch {
      res.status(500).type('text/plain').send('Internal Server Error');
    }
  });

  api.post('/file', upload.any(), async (req, res) => {
    const files = Array.isArray(req.files) ? req.files : [];
    if (files.length === 0) {
      res.status(400).type('text/plain').send('expecting a file to be uploaded');
      return;
    }
    for (const f of files) {
      const ext = extname(f.originalname).slice(1);
      if (ext !== 'xls' && ext !== 'xlsx') {
        // The real service answers this text unformatted.
        res.status(415).type('text/plain').send('Content type %s not supported');
        return;
      }
    }
    const caller = res.locals.caller as Caller;
    let last;
    for (const f of files) {
      let sheet;
      try {
        sheet = await readFirstSheet(f.buffer);
      } catch (err) {
        res
          .status(400)
          .type('text/plain')
          .send(`File uploaded cannot be processed : ${err instanceof Error ? err.message : String(err)}`);
        return;
      }
      const fileType = detectTemplate(sheet.headers);
      if (!fileType) {
        res.status(400).type('text/plain').send('File uploaded cannot be processed : Unrecognised upload template');
        return;
      }
      const problems = sheet.rows.flatMap((row) =>
        sheet.headers.filter((h) => isMandatory(h) && row.cells.get(h) === null).map((h) => `${h} is required (row ${row.rowNumber})`),
      );
      if (problems.length > 0) {
        res
          .status(400)
          .type('text/plain')
          .send(`File uploaded failed validation : ${problems.map((p) => `\n${p}`).join('')}`);
        return;
      }
      last = opts.store.add({
        fileName: f.originalname,
        fileType,
        uploadedDate: new Date(),
        fileStatus: 'PENDING',
        username: caller.userName,
        firstName: caller.firstName,
        lastName: caller.lastName,
        content: f.buffer,
        rowErrors: new Map(),
      });
    }
    res.status(200).json(toJson(last!));
  });

  api.get('/status', (req, res) => {
    let page;
    try {
      page = queryStatus(opts.store.all(), parseStatusQuery(req.query as Record<string, unknown>));
    } catch (err) {
      if (err instanceof BadQueryError) {
        res.status(400).type('text/plain').send(err.message);
        return;
      }
      throw err;
    }
    res.set(page.headers).json(page.content);
  });

  api.get('/uploadedFileErrors/:logId', async (req, res) => {
    if (!/^\d+$/.test(req.params.logId)) {
      res.status(400).end();
      return;
    }
    const found = opts.store.get(Number(req.params.logId));
    try {
      if (!found) throw new Error('no such upload');
      const xlsx = await buildErrorWorkbook(found.content, found.rowErrors);
      res
        .status(200)
        .set({
          'Content-Type': 'application/octet-stream',
          'Content-Disposition': `form-data; name="${found.fileName}"; filename="${found.fileName}"`,
          'Cache-Control': 'must-revalidate, post-check=0, pre-check=0',
        })
        .send(xlsx);
    } catch {
      res.status(500).end();
    }
  });

  app.use('/generic-upload/api', api);
  // Multer errors (e.g. too large) and anything else: plain text, never a stack trace.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { status?: number; code?: string; message?: string };
    const status = e.code === 'LIMIT_FILE_SIZE' ? 413 : typeof e.status === 'number' ? e.status : 500;
    res
      .status(status)
      .type('text/plain')
      .send(status === 500 ? 'Internal Server Error' : (e.message ?? 'Bad Request'));
  });
  return app;
}
