// The service's HTTP front (front.worker.mjs): a thread of its own that answers /metrics,
// /healthz and /readyz from the figures this thread sends it, and passes every other request
// on to the service's own server on loopback. Prometheus and the orchestrator get their answer
// in a millisecond whatever this thread is busy with; past `staleAfterMs` without word from
// this thread they get 503, as they should from a service that no longer moves.
import { MessageChannel, Worker } from 'node:worker_threads';
import type { HealthReport } from './health.ts';

export interface FrontSnapshot {
  /** /metrics' body and its content type. */
  metrics?: string;
  contentType?: string;
  health?: HealthReport;
  ready?: boolean;
}

export interface FrontOptions {
  host: string;
  port: number;
  /** The service's own server, on 127.0.0.1, which answers everything else. */
  backendPort: number;
  /** How long without word from this thread before the front says the service is unhealthy. */
  staleAfterMs: number;
  /** What it answers before the first send. */
  initial: FrontSnapshot;
  /** Called if the thread ends without being closed (a bug): nothing answers on the port any more. */
  onUnexpectedEnd?: (err: Error) => void;
}

export interface Front {
  /** The port it listens on (the configured one, or the one picked for port 0). */
  port: number;
  /** Sends new figures; a request that arrives after this call sees them. */
  send(s: FrontSnapshot): void;
  /** Stops listening and ends the thread. */
  close(): Promise<void>;
}

export async function startFront(opts: FrontOptions): Promise<Front> {
  const channel = new MessageChannel();
  const worker = new Worker(new URL('./front.worker.mjs', import.meta.url), {
    workerData: {
      host: opts.host,
      port: opts.port,
      backendPort: opts.backendPort,
      staleAfterMs: opts.staleAfterMs,
      snapshots: channel.port2,
    },
    transferList: [channel.port2],
    // Small and steady: its own heap stays small, so does its garbage collection.
    resourceLimits: { maxOldGenerationSizeMb: 64 },
  });
  channel.port1.postMessage(opts.initial);
  try {
    const port = await new Promise<number>((resolve, reject) => {
      worker.once('message', (m: { listening?: number; error?: { code?: string; message: string } }) => {
        if (m.listening !== undefined) return resolve(m.listening);
        reject(Object.assign(new Error(m.error?.message ?? 'the HTTP front did not start'), { code: m.error?.code }));
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the HTTP front ended (${code}) before it listened`)));
    });
    let closing: Promise<void> | undefined;
    let failure: Error | undefined;
    worker.on('error', (err) => (failure = err));
    worker.once('exit', (code) => {
      if (!closing) opts.onUnexpectedEnd?.(failure ?? new Error(`the HTTP front ended with code ${code}`));
    });
    return {
      port,
      send: (s) => channel.port1.postMessage(s),
      close: () =>
        (closing ??= (async () => {
          const ended = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
          worker.postMessage('close');
          // A front that does not close in time is ended.
          const timer = setTimeout(() => void worker.terminate(), 5_000);
          await ended;
          clearTimeout(timer);
          channel.port1.close();
        })()),
    };
  } catch (err) {
    await worker.terminate();
    channel.port1.close();
    throw err;
  }
}
