// The deployment's security and durability properties, held field by field: every pod meets Pod
// Security "restricted" and runs with a read-only root filesystem; the service keeps its state
// on a PersistentVolumeClaim and never runs twice; the image is Node 22, tini, a numeric user.
// Nothing here can run a container or a cluster: these are the properties parsing can prove.
import { dirname, posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS } from '../../../src/browser/launch.ts';
import { configSchema } from '../../../src/config/schema.ts';
import {
  configMapConfig,
  containerfileEnv,
  containerfileInstructions,
  kubernetesManifests,
  podTemplates,
  readRepoFile,
  type K8sDoc,
  type PodTemplate,
} from './files.ts';

const docs = kubernetesManifests();
const pods = podTemplates(docs);
const ofKind = (kind: string) => Object.values(docs).filter((d) => d.kind === kind);
const deployment = ofKind('Deployment')[0]!;
const cronJob = ofKind('CronJob')[0]!;
const instructions = containerfileInstructions(readRepoFile('deploy/container/Containerfile'));
const imageEnv = containerfileEnv(instructions);
const config = configSchema.parse(configMapConfig(docs));

const containersOf = (spec: any): any[] => [...(spec.initContainers ?? []), ...spec.containers, ...(spec.ephemeralContainers ?? [])];

/**
 * What Pod Security Standards "restricted" (latest, which includes "baseline") finds wrong with a
 * pod spec: https://kubernetes.io/docs/concepts/security/pod-security-standards/. One line per
 * violation; none for a pod the admission controller of a `restricted` namespace admits.
 */
export function restrictedViolations(spec: any, metadata: { annotations?: Record<string, string> } = {}): string[] {
  const out: string[] = [];
  const pod = spec.securityContext ?? {};
  const allowedVolumes = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];
  const safeSysctls = [
    'kernel.shm_rmid_forced',
    'net.ipv4.ip_local_port_range',
    'net.ipv4.ip_unprivileged_port_start',
    'net.ipv4.tcp_syncookies',
    'net.ipv4.ping_group_range',
    'net.ipv4.ip_local_reserved_ports',
    'net.ipv4.tcp_keepalive_time',
    'net.ipv4.tcp_fin_timeout',
    'net.ipv4.tcp_keepalive_intvl',
    'net.ipv4.tcp_keepalive_probes',
  ];
  const seLinuxTypes = [undefined, '', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'];

  for (const ns of ['hostNetwork', 'hostPID', 'hostIPC']) if (spec[ns] === true) out.push(`pod: ${ns}`);
  if (pod.windowsOptions?.hostProcess === true) out.push('pod: hostProcess');
  for (const v of spec.volumes ?? []) {
    const type = Object.keys(v).find((k) => k !== 'name');
    if (!type || !allowedVolumes.includes(type)) out.push(`pod: volume ${v.name} of type ${type}`);
  }
  for (const s of pod.sysctls ?? []) if (!safeSysctls.includes(s.name)) out.push(`pod: sysctl ${s.name}`);
  if (pod.runAsNonRoot !== true && containersOf(spec).some((c) => c.securityContext?.runAsNonRoot !== true)) {
    out.push('pod: runAsNonRoot is not true for the pod nor for every container');
  }
  if (pod.runAsUser === 0) out.push('pod: runAsUser 0');
  const podSeccomp = pod.seccompProfile?.type;
  if (podSeccomp !== undefined && !['RuntimeDefault', 'Localhost'].includes(podSeccomp)) out.push(`pod: seccompProfile ${podSeccomp}`);
  if (pod.appArmorProfile?.type === 'Unconfined') out.push('pod: appArmorProfile Unconfined');
  for (const [k, v] of Object.entries(metadata.annotations ?? {})) {
    if (k.startsWith('container.apparmor.security.beta.kubernetes.io/') && v === 'unconfined') out.push(`pod: ${k}`);
  }
  const checkSeLinux = (where: string, o: any) => {
    if (!o) return;
    if (!seLinuxTypes.includes(o.type)) out.push(`${where}: seLinuxOptions.type ${o.type}`);
    if (o.user || o.role) out.push(`${where}: seLinuxOptions user/role`);
  };
  checkSeLinux('pod', pod.seLinuxOptions);

  for (const c of containersOf(spec)) {
    const where = `container ${c.name}`;
    const sc = c.securityContext ?? {};
    if (sc.privileged === true) out.push(`${where}: privileged`);
    if (sc.windowsOptions?.hostProcess === true) out.push(`${where}: hostProcess`);
    if (sc.allowPrivilegeEscalation !== false) out.push(`${where}: allowPrivilegeEscalation is not false`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) out.push(`${where}: capabilities.drop lacks ALL`);
    for (const cap of sc.capabilities?.add ?? []) if (cap !== 'NET_BIND_SERVICE') out.push(`${where}: adds capability ${cap}`);
    if (sc.runAsNonRoot === false) out.push(`${where}: runAsNonRoot false`);
    if (sc.runAsUser === 0) out.push(`${where}: runAsUser 0`);
    const seccomp = sc.seccompProfile?.type ?? podSeccomp;
    if (!['RuntimeDefault', 'Localhost'].includes(seccomp)) out.push(`${where}: seccompProfile is ${seccomp ?? 'unset'}`);
    if (sc.appArmorProfile?.type === 'Unconfined') out.push(`${where}: appArmorProfile Unconfined`);
    if (sc.procMount !== undefined && sc.procMount !== 'Default') out.push(`${where}: procMount ${sc.procMount}`);
    checkSeLinux(where, sc.seLinuxOptions);
    for (const p of c.ports ?? []) if (p.hostPort) out.push(`${where}: hostPort ${p.hostPort}`);
  }
  return out;
}

/** The container's settings for the read-only root filesystem and its resources. */
function hardeningViolations(t: PodTemplate): string[] {
  const out: string[] = [];
  const pod = t.spec.securityContext ?? {};
  const numeric = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
  if (!numeric(pod.runAsUser)) out.push(`runAsUser ${pod.runAsUser} is not a numeric non-root uid`);
  if (!numeric(pod.fsGroup)) out.push(`fsGroup ${pod.fsGroup} is not a numeric non-root gid`);
  if (pod.runAsNonRoot !== true) out.push('pod runAsNonRoot is not true');
  if (pod.seccompProfile?.type !== 'RuntimeDefault') out.push('pod seccompProfile is not RuntimeDefault');
  if (t.spec.automountServiceAccountToken !== false) out.push('mounts a service account token it does not need');
  const emptyDirs = new Set((t.spec.volumes ?? []).filter((v: any) => v.emptyDir).map((v: any) => v.name));
  for (const c of containersOf(t.spec)) {
    const sc = c.securityContext ?? {};
    if (sc.readOnlyRootFilesystem !== true) out.push(`${c.name}: readOnlyRootFilesystem is not true`);
    const tmp = (c.volumeMounts ?? []).find((m: any) => m.mountPath === '/tmp');
    if (!tmp || !emptyDirs.has(tmp.name) || tmp.readOnly) out.push(`${c.name}: /tmp is not a writable emptyDir`);
    for (const kind of ['requests', 'limits']) {
      for (const res of ['cpu', 'memory']) if (!c.resources?.[kind]?.[res]) out.push(`${c.name}: no ${kind}.${res}`);
    }
  }
  return out;
}

/** Kubernetes quantities to bytes (memory) or cores (cpu), enough for the values used here. */
function quantity(q: string | number): number {
  const m = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|k|M|G)?$/.exec(String(q));
  if (!m) throw new Error(`quantity ${q}`);
  const unit = { m: 1e-3, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, k: 1e3, M: 1e6, G: 1e9 }[m[2] as 'm'] ?? 1;
  return Number(m[1]) * unit;
}

describe('every pod meets Pod Security "restricted"', () => {
  it('covers the Deployment and the CronJob', () => {
    expect(pods.map((p) => p.kind).sort()).toEqual(['CronJob', 'Deployment']);
  });

  it.each(pods.map((p) => [p.owner, p] as const))('%s: no violation of the restricted profile', (_owner, p) => {
    expect(restrictedViolations(p.spec, p.metadata)).toEqual([]);
  });

  it.each(pods.map((p) => [p.owner, p] as const))(
    '%s: numeric non-root user and group, read-only root filesystem with an emptyDir /tmp, requests and limits',
    (_owner, p) => {
      expect(hardeningViolations(p)).toEqual([]);
    },
  );

  it('the check itself finds each thing the profile forbids', () => {
    const good = structuredClone(deployment.spec.template.spec);
    expect(restrictedViolations(good)).toEqual([]);
    const broken = (change: (s: any) => void) => {
      const s = structuredClone(good);
      change(s);
      return restrictedViolations(s);
    };
    const c = (s: any) => s.containers[0].securityContext;
    expect(broken((s) => delete c(s).allowPrivilegeEscalation)).toEqual(['container probe: allowPrivilegeEscalation is not false']);
    expect(broken((s) => (c(s).capabilities = { drop: ['NET_RAW'] }))).toEqual(['container probe: capabilities.drop lacks ALL']);
    expect(broken((s) => (c(s).capabilities.add = ['SYS_ADMIN']))).toEqual(['container probe: adds capability SYS_ADMIN']);
    expect(broken((s) => delete s.securityContext.seccompProfile)).toEqual(['container probe: seccompProfile is unset']);
    expect(broken((s) => (c(s).seccompProfile = { type: 'Unconfined' }))).toEqual(['container probe: seccompProfile is Unconfined']);
    expect(broken((s) => delete s.securityContext.runAsNonRoot)).toEqual([
      'pod: runAsNonRoot is not true for the pod nor for every container',
    ]);
    expect(broken((s) => (c(s).runAsUser = 0))).toEqual(['container probe: runAsUser 0']);
    expect(broken((s) => (c(s).privileged = true))).toEqual(['container probe: privileged']);
    expect(broken((s) => (s.hostNetwork = true))).toEqual(['pod: hostNetwork']);
    expect(broken((s) => s.volumes.push({ name: 'host', hostPath: { path: '/' } }))).toEqual(['pod: volume host of type hostPath']);
    expect(broken((s) => (s.containers[0].ports[0].hostPort = 9687))).toEqual(['container probe: hostPort 9687']);
    expect(broken((s) => (s.initContainers = [{ name: 'init', securityContext: {} }]))).toEqual([
      'container init: allowPrivilegeEscalation is not false',
      'container init: capabilities.drop lacks ALL',
    ]);
  });

  it('the namespace enforces the restricted profile, and is the namespace everything is applied to', () => {
    const ns = ofKind('Namespace');
    expect(ns).toHaveLength(1);
    expect(ns[0]!.metadata!.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
    expect(docs['kustomization.yaml']!.namespace).toBe(ns[0]!.metadata!.name);
  });

  it("Chromium's shared memory does not depend on /dev/shm's size", () => {
    // Either Chromium is told to use /tmp instead, or every pod gives it a memory-backed /dev/shm.
    const shmInTmp = CHROMIUM_ARGS.includes('--disable-dev-shm-usage');
    for (const p of pods) {
      const shm = containersOf(p.spec)[0].volumeMounts?.find((m: any) => m.mountPath === '/dev/shm');
      const memory = shm && p.spec.volumes.find((v: any) => v.name === shm.name)?.emptyDir?.medium === 'Memory';
      expect(shmInTmp || memory, p.owner).toBe(true);
    }
  });

  it("the pods run as the image's user, and every writable folder the image names is an emptyDir they mount", () => {
    const [uid, gid] = instructions
      .findLast((i) => i.keyword === 'USER')!
      .text.split(':')
      .map(Number);
    const writable = ['TMPDIR', 'HOME', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME'].map((k) => imageEnv[k]);
    for (const p of pods) {
      expect(p.spec.securityContext.runAsUser, p.owner).toBe(uid);
      expect(p.spec.securityContext.runAsGroup ?? gid, p.owner).toBe(gid);
      const emptyDirs = p.spec.volumes.filter((v: any) => v.emptyDir).map((v: any) => v.name);
      const mounts: string[] = p.spec.containers[0].volumeMounts
        .filter((m: any) => emptyDirs.includes(m.name))
        .map((m: any) => m.mountPath);
      for (const dir of writable)
        expect(
          mounts.some((m) => dir === m || dir!.startsWith(`${m}/`)),
          `${p.owner}: ${dir}`,
        ).toBe(true);
    }
  });
});

describe('the service keeps its state across a redeploy and never runs twice', () => {
  const pod = deployment.spec.template.spec;
  const probe = pod.containers[0];

  it('one replica, replaced with Recreate (the old pod stops before the new one starts)', () => {
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
  });

  it('history and evidence live on a PersistentVolumeClaim mounted where the configuration points them', () => {
    const claims = ofKind('PersistentVolumeClaim') as K8sDoc[];
    expect(claims).toHaveLength(1);
    const claim = claims[0]!;
    expect(claim.spec.accessModes).toContain('ReadWriteOnce');
    expect(quantity(claim.spec.resources.requests.storage)).toBeGreaterThanOrEqual(quantity('512Mi'));

    const volume = pod.volumes.find((v: any) => v.persistentVolumeClaim?.claimName === claim.metadata!.name);
    expect(volume, 'a volume from the claim').toBeDefined();
    const mount = probe.volumeMounts.find((m: any) => m.name === volume.name);
    expect(mount, 'the claim mounted in the container').toBeDefined();
    expect(mount.readOnly).not.toBe(true);
    const under = (path: string) => posix.relative(mount.mountPath, path);
    for (const path of [config.history.file, config.evidence.dir]) {
      expect(posix.isAbsolute(path), path).toBe(true);
      expect(under(path).startsWith('..') || under(path) === '', `${path} under ${mount.mountPath}`).toBe(false);
    }
    // The same folder is the image's data volume.
    expect(instructions.find((i) => i.keyword === 'VOLUME')!.exec).toContain(mount.mountPath);
    expect(dirname(config.history.file)).toBe(mount.mountPath);
  });

  it('asks for enough memory for Node and a warm Chromium, and caps it', () => {
    for (const p of pods) {
      const r = p.spec.containers[0].resources;
      expect(quantity(r.requests.memory), p.owner).toBeGreaterThanOrEqual(quantity('512Mi'));
      expect(quantity(r.limits.memory), p.owner).toBeGreaterThanOrEqual(quantity(r.requests.memory));
      expect(quantity(r.limits.cpu), p.owner).toBeGreaterThanOrEqual(quantity(r.requests.cpu));
    }
  });
});

describe('the smoke CronJob can gate a pipeline', () => {
  const job = cronJob.spec.jobTemplate.spec;
  const text = readRepoFile('deploy/kubernetes/cronjob-smoke.yaml');

  it('one try, bounded in time, one at a time: its exit code is the verdict', () => {
    expect(job.backoffLimit).toBe(0);
    expect(job.activeDeadlineSeconds).toBeGreaterThan(0);
    expect(job.activeDeadlineSeconds).toBeLessThanOrEqual(3600);
    expect(job.template.spec.restartPolicy).toBe('Never');
    expect(cronJob.spec.concurrencyPolicy).toBe('Forbid');
    expect(job.template.spec.containers[0].args[0]).toBe('smoke');
  });

  it('says how: a Job from the CronJob, waited for until complete or failed', () => {
    const name = cronJob.metadata!.name;
    for (const [file, doc] of [
      ['cronjob-smoke.yaml', text],
      ['docs/monitoring.md', readRepoFile('docs/monitoring.md')],
    ] as const) {
      for (const words of ['create job', `--from=cronjob/${name}`, 'wait --for=condition=complete', 'wait --for=condition=failed']) {
        expect(doc.includes(words), `${file} says "${words}"`).toBe(true);
      }
    }
  });
});

describe('container image', () => {
  const from = instructions.filter((i) => i.keyword === 'FROM');
  const run = instructions
    .filter((i) => i.keyword === 'RUN')
    .map((i) => i.text)
    .join('\n');

  it('is Node 22 LTS on Debian (slim), with Debian chromium and an init process', () => {
    expect(from).toHaveLength(1);
    expect(from[0]!.text).toMatch(/^node:22-(bookworm|trixie)-slim$/);
    expect(run).toMatch(/apt-get install [^\n]*\bchromium\b/);
    expect(run).toMatch(/apt-get install [^\n]*\b(tini|dumb-init)\b/);
    expect(imageEnv.CHROMIUM_PATH).toBe('/usr/bin/chromium');
  });

  it('installs production dependencies only', () => {
    expect(run).toMatch(/\bnpm ci --omit=dev\b/);
  });

  it('runs as a numeric non-root user that it creates', () => {
    const user = instructions.filter((i) => i.keyword === 'USER');
    expect(user).toHaveLength(1);
    const m = /^(\d+)(?::(\d+))?$/.exec(user[0]!.text);
    expect(m, `USER ${user[0]!.text} is numeric`).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0);
    expect(Number(m![2] ?? 1)).toBeGreaterThan(0);
    expect(run).toContain(`--uid ${m![1]}`);
    // Nothing runs after USER that would need root.
    expect(instructions.slice(instructions.indexOf(user[0]!)).some((i) => i.keyword === 'RUN')).toBe(false);
  });

  it('starts the probe under tini or dumb-init (exec form), serve by default', () => {
    const entrypoint = instructions.findLast((i) => i.keyword === 'ENTRYPOINT')!;
    expect(entrypoint.exec, 'exec form').toBeDefined();
    expect(entrypoint.exec![0]).toMatch(/^\/usr\/bin\/(tini|dumb-init)$/);
    expect(entrypoint.exec!.slice(-2)).toEqual(['node', '/app/bin/bulk-upload-probe.js']);
    expect(instructions.findLast((i) => i.keyword === 'CMD')!.exec![0]).toBe('serve');
  });

  it('keeps every writable path under the temporary folder, for a read-only root filesystem', () => {
    expect(imageEnv.TMPDIR).toBe('/tmp');
    for (const k of ['HOME', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME']) expect(`${imageEnv[k]}/`, k).toMatch(/^\/tmp\//);
    expect(imageEnv.BULK_UPLOAD_PROBE_CONFIG).toMatch(/^\/config\//);
  });

  it('checks its health on /healthz', () => {
    const hc = instructions.find((i) => i.keyword === 'HEALTHCHECK');
    expect(hc?.text).toMatch(/CMD .*\/healthz/);
  });
});
