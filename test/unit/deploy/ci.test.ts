// The CI examples in deploy/ci/ cannot run here (no GitHub, no GitLab, no Docker); they are held
// to what parsing proves: valid YAML, a `smoke` run in the probe's image with --junit, the report
// uploaded even when the run fails, a Pushgateway push, and the credentials the configuration
// names coming from the CI's secret store.
import { existsSync } from 'node:fs';
import { dirname, posix, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.ts';
import {
  containerfileInstructions,
  flagValue,
  kubernetesManifests,
  parseYamlStrict,
  podTemplates,
  readRepoFile,
  repoRoot,
  shellCommands,
} from './files.ts';

const CI_CONFIG = 'deploy/ci/bulk-upload-probe.yaml';
const ciConfig = configSchema.parse(parseYamlStrict(readRepoFile(CI_CONFIG), CI_CONFIG));
/** The environment variables the CI configuration's secrets name. */
const secretEnvNames = [
  ...new Set(
    Object.values(ciConfig.targets).flatMap((t) =>
      Object.values(t.credentials).flatMap((s) => (typeof s === 'object' && 'env' in s ? [s.env] : [])),
    ),
  ),
].sort();
/** The image the Kubernetes manifests run, without its tag. */
const imageRepository = podTemplates(kubernetesManifests())[0]!.spec.containers[0].image.replace(/:[^:/]+$/, '');
const containerRun = containerfileInstructions(readRepoFile('deploy/container/Containerfile'))
  .filter((i) => i.keyword === 'RUN')
  .map((i) => i.text)
  .join('\n');

/** The probe's own arguments (from `smoke` on) in a script's commands, and the command they are in. */
function smokeCommand(commands: string[][]): { words: string[]; args: string[]; index: number } {
  const index = commands.findIndex((w) => w.includes('smoke'));
  expect(index, 'a command that runs smoke').toBeGreaterThanOrEqual(0);
  const words = commands[index]!;
  return { words, args: words.slice(words.indexOf('smoke')), index };
}

/** `path` is `folder` or inside it (both relative to the checkout). */
function within(path: string, folder: string): boolean {
  const rel = posix.relative(posix.normalize(folder), posix.normalize(path));
  return rel === '' || (!rel.startsWith('..') && !posix.isAbsolute(rel));
}

function checkSmokeArgs(args: string[]): string {
  expect(args[0]).toBe('smoke');
  expect(flagValue(args, '--target'), '--target').toBeTruthy();
  expect(flagValue(args, '--pushgateway'), '--pushgateway').toBeTruthy();
  expect(flagValue(args, '--config')).toBe(CI_CONFIG);
  const junit = flagValue(args, '--junit');
  expect(junit, '--junit').toMatch(/\.xml$/);
  return junit!;
}

/** `mkdir -p` of the report's folder comes before the smoke run (--junit does not create it). */
function expectReportFolderMade(commands: string[][], smokeIndex: number, junit: string): void {
  const mkdir = commands.findIndex((w) => w[0] === 'mkdir' && w.includes('-p') && w.includes(dirname(junit)));
  expect(mkdir, `mkdir -p ${dirname(junit)}`).toBeGreaterThanOrEqual(0);
  expect(mkdir).toBeLessThan(smokeIndex);
}

/** The folder that the CI configuration's evidence goes to, relative to the checkout. */
const evidenceDir = relative(repoRoot, resolve(repoRoot, dirname(CI_CONFIG), ciConfig.evidence.dir));

describe('the CI configuration', () => {
  it('is one the probe accepts, every credential from an environment variable', () => {
    expect(Object.keys(ciConfig.targets).length).toBeGreaterThan(0);
    for (const [name, t] of Object.entries(ciConfig.targets)) {
      for (const s of Object.values(t.credentials)) expect(s, name).toHaveProperty('env');
    }
    expect(secretEnvNames.length).toBeGreaterThan(0);
  });

  it('keeps evidence inside the checkout, where it can be uploaded', () => {
    expect(evidenceDir.startsWith('..')).toBe(false);
  });

  it('is run by a command the image puts on the PATH', () => {
    expect(containerRun).toMatch(/ln -s \/app\/bin\/bulk-upload-probe\.js \/usr\/local\/bin\/bulk-upload-probe\b/);
  });
});

describe('GitHub Actions example', () => {
  const wf = parseYamlStrict(readRepoFile('deploy/ci/github-actions.yml'), 'github-actions.yml');
  const steps: any[] = wf.jobs.smoke.steps;
  const smokeStep = steps.find((s) => typeof s.run === 'string' && /\bsmoke\b/.test(s.run));
  const commands = shellCommands(smokeStep?.run ?? '');
  const runsOnFailure = /always\(\)|!\s*cancelled\(\)|failure\(\)/;

  it('is a workflow another can call after its deploy, or a person can start', () => {
    expect(wf.name).toBeTruthy();
    expect(Object.keys(wf.on).sort()).toEqual(['workflow_call', 'workflow_dispatch']);
    for (const trigger of ['workflow_call', 'workflow_dispatch']) {
      expect(wf.on[trigger].inputs.target.default, trigger).toBe('prod');
      expect(ciConfig.targets).toHaveProperty(wf.on[trigger].inputs.target.default);
      expect(wf.on[trigger].inputs.image.default, trigger).toMatch(new RegExp(`^${imageRepository}:`));
    }
  });

  it('runs smoke in the probe image, as in Kubernetes: read-only root, a writable /tmp, the checkout as working folder', () => {
    expect(smokeStep, 'a step that runs smoke').toBeDefined();
    const { words, index } = smokeCommand(commands);
    expect(words.slice(0, 2)).toEqual(['docker', 'run']);
    expect(smokeStep.env.IMAGE).toBe('${{ inputs.image }}');
    expect(words[words.indexOf('smoke') - 1]).toBe('$IMAGE');
    expect(words).toContain('--read-only');
    expect(flagValue(words, '--tmpfs')).toMatch(/^\/tmp(:|$)/);
    const workdir = flagValue(words, '-w');
    expect(flagValue(words, '-v')).toBe(`$GITHUB_WORKSPACE:${workdir}`);
    expect(existsSync(resolve(repoRoot, CI_CONFIG))).toBe(true);
    expect(index).toBeGreaterThanOrEqual(0);
  });

  it('writes a JUnit report into a folder it made, and pushes to the Pushgateway', () => {
    const { args, index } = smokeCommand(commands);
    const junit = checkSmokeArgs(args);
    expectReportFolderMade(commands, index, junit);
    expect(smokeStep.env.PUSHGATEWAY_URL).toBe('${{ secrets.PUSHGATEWAY_URL }}');
  });

  it("takes the configuration's credentials from the secret store into the container by name", () => {
    const { words } = smokeCommand(commands);
    const passed = words.flatMap((w, i) => (w === '-e' ? [words[i + 1]!] : [])).sort();
    expect(passed).toEqual(secretEnvNames);
    for (const name of secretEnvNames) {
      expect(smokeStep.env[name], name).toBe(`\${{ secrets.${name} }}`);
      expect(wf.on.workflow_call.secrets[name]?.required, `workflow_call declares ${name}`).toBe(true);
    }
    // Never a secret's value on the command line.
    expect(smokeStep.run).not.toMatch(/secrets\./);
  });

  it('uploads the report and the evidence and shows the test report, also when the smoke run failed', () => {
    const junit = checkSmokeArgs(smokeCommand(commands).args);
    const after = steps.slice(steps.indexOf(smokeStep) + 1);
    const upload = after.find((s) => /^actions\/upload-artifact@/.test(s.uses ?? ''));
    expect(upload, 'actions/upload-artifact').toBeDefined();
    expect(upload.if).toMatch(runsOnFailure);
    expect(within(junit, upload.with.path), `${junit} uploaded`).toBe(true);
    expect(within(evidenceDir, upload.with.path), `${evidenceDir} uploaded`).toBe(true);

    const report = after.find((s) => /^dorny\/test-reporter@/.test(s.uses ?? ''));
    expect(report, 'a test report step').toBeDefined();
    expect(report.if).toMatch(runsOnFailure);
    expect(report.with).toMatchObject({ path: junit, reporter: 'java-junit' });
    expect(wf.permissions.checks).toBe('write');
  });

  it('uses only well-known actions, each at a major version', () => {
    const uses = steps.filter((s) => s.uses).map((s) => s.uses as string);
    expect(uses.length).toBeGreaterThan(0);
    for (const u of uses) expect(u).toMatch(/^(actions\/(checkout|upload-artifact)|dorny\/test-reporter)@v\d+$/);
  });
});

describe('GitLab CI example', () => {
  const file = parseYamlStrict(readRepoFile('deploy/ci/gitlab-ci.yml'), 'gitlab-ci.yml');
  const reserved = ['stages', 'variables', 'default', 'include', 'workflow', 'image', 'services', 'cache', 'before_script', 'after_script'];
  /** A job with its `extends` applied (hashes merged deeply, the job's own values winning). */
  const resolveJob = (job: any): any => {
    if (!job.extends) return job;
    const base = [job.extends].flat().reduce((acc: any, name: string) => merge(acc, resolveJob(file[name])), {});
    const { extends: _e, ...own } = job;
    return merge(base, own);
  };
  const merge = (a: any, b: any): any => {
    if (!isHash(a) || !isHash(b)) return b;
    const out = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = k in a ? merge(a[k], v) : v;
    return out;
  };
  const isHash = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  const jobs = Object.entries(file)
    .filter(([name]) => !name.startsWith('.') && !reserved.includes(name))
    .map(([name, job]) => [name, resolveJob(job)] as const);

  it('has a job that runs smoke after the deploy', () => {
    expect(jobs.length).toBeGreaterThan(0);
    for (const [name, job] of jobs) {
      expect(job.stage, name).toBe('.post');
      expect(ciConfig.targets, name).toHaveProperty(job.variables.BUP_TARGET);
    }
  });

  it.each(jobs.map(([name, job]) => [name, job] as const))(
    '%s: runs smoke in the probe image with a JUnit report and a Pushgateway push',
    (_name, job) => {
      expect(job.image.name).toMatch(new RegExp(`^${imageRepository}:`));
      // The image's entrypoint runs the probe; GitLab needs a shell to run the script.
      expect(job.image.entrypoint).toEqual(['']);
      const commands: string[][] = job.script.flatMap((line: string) => shellCommands(line));
      const { words, args, index } = smokeCommand(commands);
      expect(words[0]).toBe('bulk-upload-probe');
      expect(flagValue(args, '--target')).toBe('$BUP_TARGET');
      const junit = checkSmokeArgs(args);
      expectReportFolderMade(commands, index, junit);
      expect(flagValue(args, '--pushgateway')).toBe('$PUSHGATEWAY_URL');

      expect(job.artifacts.when).toBe('always');
      expect(job.artifacts.reports.junit).toBe(junit);
      expect(
        job.artifacts.paths.some((p: string) => within(evidenceDir, p)),
        `${evidenceDir} kept as an artifact`,
      ).toBe(true);
    },
  );

  it('names no credential in the file: they come from CI/CD variables', () => {
    const text = readRepoFile('deploy/ci/gitlab-ci.yml');
    for (const [name, job] of jobs) {
      for (const secret of [...secretEnvNames, 'PUSHGATEWAY_URL']) expect(job.variables ?? {}, name).not.toHaveProperty(secret);
    }
    expect(file.variables ?? {}).not.toHaveProperty('BUP_PASSWORD');
    // ...but the file says which ones to set.
    for (const secret of secretEnvNames) expect(text.includes(secret), `gitlab-ci.yml mentions ${secret}`).toBe(true);
  });
});
