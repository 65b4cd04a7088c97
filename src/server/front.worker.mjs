// The service's HTTP front, on a thread of its own (started by front.ts). It answers /metrics,
// /healthz and /readyz at once from what the service's main thread last sent it, so a scrape
// or a kubelet probe is never held up by what that thread is busy with (driving a browser run,
// collecting garbage); every other request is passed on, unchanged, to the service's own
// server on loopback. It also knows when the main thread has gone quiet: past `staleAfterMs`
// without word from it, /healthz and /readyz answer 503 and /metrics 503 (Prometheus' `up`
// goes to 0), instead of serving figures that no longer move.
//
// Plain JavaScript, as the other workers, so that it runs whatever loader the parent uses.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { receiveMessageOnPort, workerData, parentPort } from 'node:worker_threads';

const { host, port, backendPort, staleAfterMs, snapshots } = workerData;

/** The latest of each, as the main thread sent them; `heardAt` on this thread's monotonic clock. */
const state = { metrics: undefined, contentType: 'text/plain', health: undefined, ready: false, heardAt: performance.now() };

function apply(m) {
  if (m.metrics !== undefined) {
    state.metrics = m.metrics;
    state.contentType = m.contentType ?? state.contentType;
  }
  if (m.health !== undefined) state.health = m.health;
  if (m.ready !== undefined) state.ready = m.ready;
  state.heardAt = performance.now();
}
snapshots.on('message', apply);

/** Takes what the main thread sent and this thread has not handled yet: a request sees every word sent before it. */
function drain() {
  for (let m = receiveMessageOnPort(snapshots); m; m = receiveMessageOnPort(snapshots)) apply(m.message);
}

/** Seconds since the main thread was last heard from, when that is past the limit; else undefined. */
function silentFor() {
  const ms = performance.now() - state.heardAt;
  return ms > staleAfterMs ? Math.round(ms / 1000) : undefined;
}

function json(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(text);
}

const answers = {
  '/metrics': (res) => {
    const silent = silentFor();
    if (silent !== undefined || state.metrics === undefined) {
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
      return res.end(`the probe service's main thread has not answered for ${silent ?? '?'} s\n`);
    }
    res.writeHead(200, {
      'Content-Type': state.contentType,
      'Content-Length': Buffer.byteLength(state.metrics),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(state.metrics);
  },
  '/healthz': (res) => {
    const h = state.health ?? { ok: false, problems: ['not started yet'] };
    const silent = silentFor();
    const report = silent === undefined ? h : { ...h, ok: false, problems: [...h.problems, `main thread silent for ${silent} s`] };
    json(res, report.ok ? 200 : 503, { status: report.ok ? 'ok' : 'unhealthy', ...report });
  },
  '/readyz': (res) => {
    const ready = state.ready && silentFor() === undefined;
    json(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready' });
  },
};

// Everything else goes to the service's own server, as it came.
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
function pass(req, res) {
  const upstream = http.request(
    { host: '127.0.0.1', port: backendPort, method: req.method, path: req.url, headers: req.headers, agent },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    },
  );
  upstream.on('error', () => {
    if (res.headersSent) return void res.destroy();
    res.writeHead(502, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('the probe service did not answer\n');
  });
  // A client gone before the answer: the service's answer is not wanted either.
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
}

const server = http.createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  const answer = req.method === 'GET' || req.method === 'HEAD' ? answers[path] : undefined;
  if (!answer) return pass(req, res);
  drain();
  answer(res);
});
server.keepAliveTimeout = 65_000;

server.once('error', (err) => parentPort.postMessage({ error: { code: err.code, message: err.message } }));
server.listen(port, host, () => parentPort.postMessage({ listening: server.address().port }));

parentPort.on('message', (m) => {
  if (m !== 'close') return;
  server.close(() => {
    agent.destroy();
    snapshots.close();
    parentPort.postMessage({ closed: true });
    parentPort.close();
  });
  server.closeAllConnections();
});
