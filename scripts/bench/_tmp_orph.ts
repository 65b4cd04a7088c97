import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { loadConfig, resolveCredentials } from '../../src/config/load.ts';
const config = await loadConfig('/tmp/benchbox/bulk-upload-probe.yaml');
const t = config.targets.box!;
const cred = await resolveCredentials(config, 'box');
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
function stats() {
  const st = new Map<number, { ppid: number; own: number; reaped: number; comm: string }>();
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const x = readFileSync(`/proc/${n}/stat`, 'utf8');
      const f = x.slice(x.lastIndexOf(')') + 2).split(' ');
      st.set(+n, {
        ppid: +f[1]!,
        own: +f[11]! + +f[12]!,
        reaped: +f[13]! + +f[14]!,
        comm: x.slice(x.indexOf('(') + 1, x.lastIndexOf(')')),
      });
    } catch {}
  }
  return st;
}
const child = spawn('npx', ['playwright', 'test', '-c', 'scripts/bench/playwright.config.ts'], {
  env: { ...process.env, BENCH_TARGET: JSON.stringify(bare) },
  stdio: 'ignore',
});
const known = new Map<number, { ppid: number; own: number; reaped: number; comm: string }>();
const orphans = new Set<number>();
const timer = setInterval(() => {
  const st = stats();
  const roots = new Set([child.pid!, ...orphans]);
  const mine = new Set(roots);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, s] of st)
      if (!mine.has(pid) && mine.has(s.ppid)) {
        mine.add(pid);
        grew = true;
      }
  }
  for (const [pid, prev] of known) {
    const s = st.get(pid);
    if (s && !mine.has(pid)) {
      orphans.add(pid);
      mine.add(pid);
      console.log('orphaned', pid, prev.comm, 'ppid now', s.ppid);
    }
  }
  for (const pid of mine) {
    const s = st.get(pid);
    if (s) known.set(pid, s);
  }
}, 10);
await new Promise((r) => child.on('close', r));
await new Promise((r) => setTimeout(r, 300));
clearInterval(timer);
for (const [pid, s] of known) console.log(pid, s.comm, 'ppid', s.ppid, 'own', s.own, 'reaped', s.reaped);
