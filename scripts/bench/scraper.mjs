// Scrapes a probe service's /metrics and /healthz every 100 ms from a process of its own, as
// Prometheus and a kubelet would: the latency measured here is the one they see, not held up by
// the measuring script's own event loop. Plain JavaScript, started by scripts/capacity.ts with
// the service's URL and, optionally, a control server's (a bare HTTP server in a process of its
// own, asked as often: what the machine's load alone costs an answer); sends its samples
// ([path, wall-clock ms at the request, latency ms, status]; the control's path is 'control') to
// its parent when asked with 'report', then ends.
const [base, control] = process.argv.slice(2);
const asked = [['metrics', `${base}/metrics`], ['healthz', `${base}/healthz`], ...(control ? [['control', control]] : [])];
const samples = [];
let reporting = false;

process.on('message', (m) => {
  if (m !== 'report') return;
  reporting = true;
  process.send(samples, () => process.exit(0));
});
process.on('disconnect', () => process.exit(0));

while (!reporting) {
  for (const [path, url] of asked) {
    const at = Date.now();
    const t = performance.now();
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      samples.push([path, at, performance.now() - t, res.status]);
    } catch {
      samples.push([path, at, performance.now() - t, 0]);
    }
  }
  await new Promise((r) => setTimeout(r, 100));
}
