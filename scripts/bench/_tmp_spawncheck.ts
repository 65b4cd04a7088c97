import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { loadConfig, resolveCredentials } from '../../src/config/load.ts';
import { reapedCpuSeconds } from './cpu.ts';
import { buildCanaryWorkbook } from '../../src/canary.ts';
import { writeFileSync } from 'node:fs';
const config = await loadConfig('/tmp/benchbox/bulk-upload-probe.yaml');
const t = config.targets.box!;
const cred = await resolveCredentials(config, 'box');
writeFileSync('/tmp/canary-check.xlsx', await buildCanaryWorkbook());
const bare = {
  pageUrl: new URL(t.uploadsPath, t.appUrl).toString(),
  apiBase: '',
  tokenUrl: '',
  tokenClientId: '',
  username: cred.username,
  password: cred.password,
  canaryPath: '/tmp/canary-check.xlsx',
  expectedReason: 'Person with id 999999999 does not exist',
  pollMs: 1000,
};
function tree(root: number) {
  const st = new Map<number, { ppid: number; own: number; reaped: number }>();
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const x = readFileSync(`/proc/${n}/stat`, 'utf8');
      const f = x.slice(x.lastIndexOf(')') + 2).split(' ');
      st.set(+n, { ppid: +f[1]!, own: +f[11]! + +f[12]!, reaped: +f[13]! + +f[14]! });
    } catch {}
  }
  return st;
}
for (let k = 0; k < 3; k++) {
  const c0 = reapedCpuSeconds();
  const child = spawn('npx', ['playwright', 'test', '-c', 'scripts/bench/playwright.config.ts'], {
    env: { ...process.env, BENCH_TARGET: JSON.stringify(bare) },
    stdio: 'ignore',
  });
  const seen = new Map<number, number>(); // pid -> last own ticks (own only, per process)
  const timer = setInterval(() => {
    const st = tree(child.pid!);
    const mine = new Set([child.pid!]);
    for (let grew = true; grew;) {
      grew = false;
      for (const [pid, s] of st)
        if (!mine.has(pid) && mine.has(s.ppid)) {
          mine.add(pid);
          grew = true;
        }
    }
    for (const pid of mine) {
      const s = st.get(pid);
      if (s) seen.set(pid, Math.max(seen.get(pid) ?? 0, s.own));
    }
  }, 25);
  await new Promise((r) => child.on('close', r));
  clearInterval(timer);
  const sampled = [...seen.values()].reduce((a, b) => a + b, 0) / 100;
  console.log('reaped delta', (reapedCpuSeconds() - c0).toFixed(2), 'sampled own (lower bound)', sampled.toFixed(2), 'procs', seen.size);
}
