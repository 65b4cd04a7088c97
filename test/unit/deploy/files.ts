// Reading the deployment files as data, for the tests beside this file: the Kubernetes manifests,
// the Containerfile's instructions, and the words of a shell command in a CI script.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export function readRepoFile(path: string): string {
  return readFileSync(`${repoRoot}${path}`, 'utf8');
}

/** One YAML document, refusing anything the parser complains about. */
export function parseYamlStrict(text: string, name: string): any {
  const all = parseAllDocuments(text);
  if (!Array.isArray(all)) throw new Error(`${name}: empty`);
  for (const d of all) if (d.errors.length) throw new Error(`${name}: ${d.errors.map((e) => e.message).join('; ')}`);
  if (all.length !== 1) throw new Error(`${name}: ${all.length} documents, want 1`);
  return all[0]!.toJS();
}

export type K8sDoc = {
  apiVersion: string;
  kind: string;
  metadata?: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
  resources?: string[];
  namespace?: string;
};

/** Every manifest in deploy/kubernetes/, by file name. */
export function kubernetesManifests(): Record<string, K8sDoc> {
  const dir = 'deploy/kubernetes/';
  const docs: Record<string, K8sDoc> = {};
  for (const f of readdirSync(`${repoRoot}${dir}`).filter((f) => f.endsWith('.yaml'))) {
    docs[f] = parseYamlStrict(readRepoFile(`${dir}${f}`), f) as K8sDoc;
  }
  return docs;
}

/** The probe configuration carried by the ConfigMap, as written (not yet validated). */
export function configMapConfig(docs: Record<string, K8sDoc>): any {
  const cm = Object.values(docs).find((d) => d.kind === 'ConfigMap')!;
  return parse(cm.data!['bulk-upload-probe.yaml']!);
}

export interface PodTemplate {
  /** e.g. "Deployment bulk-upload-probe" */
  owner: string;
  kind: string;
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } | undefined;
  spec: any;
}

const WORKLOAD_KINDS = ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob'];

/** The pod spec of every workload among the manifests. */
export function podTemplates(docs: Record<string, K8sDoc>): PodTemplate[] {
  return Object.values(docs)
    .filter((d) => WORKLOAD_KINDS.includes(d.kind))
    .map((d) => {
      const owner = `${d.kind} ${d.metadata?.name}`;
      if (d.kind === 'Pod') return { owner, kind: d.kind, metadata: d.metadata, spec: d.spec };
      const template = d.kind === 'CronJob' ? d.spec.jobTemplate.spec.template : d.spec.template;
      return { owner, kind: d.kind, metadata: template.metadata, spec: template.spec };
    });
}

export interface Instruction {
  keyword: string;
  /** The rest of the instruction, continuation lines joined. */
  text: string;
  /** The exec (JSON array) form's elements, when it is one. */
  exec?: string[];
}

/** The Containerfile's instructions in order: comments dropped, `\` continuations joined. */
export function containerfileInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!pending && (line === '' || line.startsWith('#'))) continue;
    if (pending && line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    const whole = (pending + line).trim();
    pending = '';
    const m = /^([A-Za-z]+)\s+(.*)$/.exec(whole);
    if (!m) throw new Error(`not an instruction: ${whole}`);
    const instruction: Instruction = { keyword: m[1]!.toUpperCase(), text: m[2]! };
    if (m[2]!.startsWith('[')) {
      const parsed: unknown = JSON.parse(m[2]!);
      if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) instruction.exec = parsed;
    }
    out.push(instruction);
  }
  if (pending) throw new Error('the Containerfile ends in a continuation');
  return out;
}

/** ENV instructions' variables (the `KEY=value ...` form), later ones winning. */
export function containerfileEnv(instructions: Instruction[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of instructions.filter((i) => i.keyword === 'ENV')) {
    for (const [key, value] of shellWords(i.text).map((w) => w.split(/=(.*)/s))) {
      if (value === undefined) throw new Error(`ENV without "=": ${i.text}`);
      env[key!] = value;
    }
  }
  return env;
}

/**
 * A shell script's commands, each as its words: backslash-newline joins lines, `&&`, `;` and
 * newlines separate commands, quotes group words. Enough for the scripts in deploy/ (no
 * substitutions are expanded: `"$TARGET"` stays `$TARGET`).
 */
export function shellCommands(script: string): string[][] {
  const commands: string[][] = [];
  for (const line of script.replace(/\\\n/g, ' ').split(/\n|&&|;/)) {
    const words = shellWords(line);
    if (words.length && !words[0]!.startsWith('#')) commands.push(words);
  }
  return commands;
}

export function shellWords(text: string): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|([^\s"']+)/g;
  let word = '';
  let last = -1;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const piece = m[1] ?? m[2] ?? m[3] ?? '';
    // Adjacent pieces (no space between) form one word: --opt="a b"
    if (last === m.index) word += piece;
    else {
      if (last !== -1) words.push(word);
      word = piece;
    }
    last = m.index + m[0].length;
  }
  if (last !== -1) words.push(word);
  return words;
}

/** The value after `--flag` (or in `--flag=value`) in a command's words. */
export function flagValue(words: string[], flag: string): string | undefined {
  const i = words.indexOf(flag);
  if (i >= 0) return words[i + 1];
  return words.find((w) => w.startsWith(`${flag}=`))?.slice(flag.length + 1);
}
