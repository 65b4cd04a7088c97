// The warm browser's Playwright server, in a process of its own (launchBrowserProcess in
// launch.ts). The long-running service drives Chromium through it over a loopback WebSocket, so
// the heavy part of driving a browser (the DevTools protocol, tracing's DOM snapshots, network
// bookkeeping) runs here and not on the event loop that answers /metrics and /healthz.
//
// Plain JavaScript, as the error-workbook worker, so that it starts without the parent's loader.
// Launch options come over the IPC channel, never on the command line (they may hold a proxy
// password). The process ends when its parent goes (the channel closes), when it is told to
// (SIGTERM), and when Chromium goes (a crash): the parent's next run starts a new one.
import { chromium } from 'playwright-core';

let server;
const end = (code) => {
  const closing = server ? server.close().catch(() => {}) : Promise.resolve();
  void closing.finally(() => process.exit(code));
};

process.once('disconnect', () => end(0));
process.once('SIGTERM', () => end(0));
process.once('SIGINT', () => end(0));

process.once('message', async (options) => {
  try {
    // Loopback only, on a free port; the endpoint's random path is the only way in.
    server = await chromium.launchServer({ ...options, host: '127.0.0.1', port: 0 });
    server.on('close', () => process.exit(0));
    process.send?.({ wsEndpoint: server.wsEndpoint(), pid: server.process()?.pid });
  } catch (err) {
    process.send?.({ error: String(err?.message ?? err).slice(0, 2000) });
    end(1);
  }
});
