// The layout's promises, checked on the source: the product (src/, probes/) ships without the
// box, the tests or dev dependencies (the container installs with --omit=dev), and the flow is
// one-way: every module imports only the layers below its own (LAYERS).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };

function tsFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every module specifier a file imports (static and dynamic), resolved to a repo path when relative. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"`;]*?from\s+['"]([^'"]+)['"]|import\(\s*['"`]([^'"`]+)['"`]\s*\)/g)].map(
    (m) => m[1] ?? m[2]!,
  );
  return specs.map((s) => (s.startsWith('.') ? relative(root, resolve(root, dirname(file), s)) : s));
}

/** What a file loads as soon as it is loaded: its static imports, without the type-only ones (erased). */
function loadedWith(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(import|export)(?!\s+type\s)[^'"`;]*?from\s+['"]([^'"]+)['"]|(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g)]
    .map((m) => m[2] ?? m[3]!)
    .map((s) => (s.startsWith('.') ? relative(root, resolve(root, dirname(file), s)) : s));
}

/** Every module loaded before anything runs when `entries` are loaded (their static imports, transitively). */
function loadedClosure(entries: string[]): Set<string> {
  const seen = new Set<string>();
  const next = [...entries];
  while (next.length) {
    const f = next.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    if (/^(src|probes)\//.test(f)) next.push(...loadedWith(f));
  }
  return seen;
}

const product = [...tsFiles('src'), ...tsFiles('probes')];

/**
 * The product's layers, lowest first: a module may import its own layer's files only when they
 * are in the same module, and lower layers freely; never a higher layer. This is the one-way
 * flow of README's layout: commands/service → run → probes → journey → target → config → model.
 */
const LAYERS: Array<Array<[module: string, pattern: RegExp]>> = [
  [['model', /^src\/model\//]],
  [
    ['redact', /^src\/redact\.ts$/],
    ['version', /^src\/version\.ts$/],
    ['log', /^src\/log\.ts$/],
    ['canary', /^src\/canary\.ts$/],
  ],
  [['config', /^src\/config\//]],
  [['browser', /^src\/browser\//]],
  [
    ['target', /^src\/target\//],
    ['evidence', /^src\/evidence\//],
  ],
  [['journey', /^src\/journey\//]],
  [['probes', /^probes\/(?!registry\.ts$)/]],
  [['probe registry', /^probes\/registry\.ts$/]],
  [['run', /^src\/run\//]],
  [
    ['history', /^src\/history\.ts$/],
    ['metrics', /^src\/metrics\//],
    ['report', /^src\/report\//],
  ],
  [['server health', /^src\/server\/health\.ts$/]],
  [['status page', /^src\/server\/status-page\.ts$/]],
  [
    ['server', /^src\/server\/app\.ts$/],
    ['http front', /^src\/server\/front\.ts$/],
  ],
  [['service', /^src\/service\//]],
  [['commands', /^src\/commands\//]],
  [['cli', /^src\/cli\.ts$/]],
];

function placeOf(file: string): { layer: number; module: string } | undefined {
  for (const [layer, modules] of LAYERS.entries()) for (const [module, re] of modules) if (re.test(file)) return { layer, module };
  return undefined;
}

describe('architecture', () => {
  it('finds the product sources and their imports', () => {
    expect(product.length).toBeGreaterThan(20);
    expect(importsOf('src/run/runner.ts')).toContain('src/model/result.ts');
  });

  it('places every product file in a layer', () => {
    expect(product.filter((f) => !placeOf(f))).toEqual([]);
  });

  it('imports only downwards: no file imports a higher layer, or another module of its own layer', () => {
    const bad = product.flatMap((f) => {
      const from = placeOf(f)!;
      return importsOf(f)
        .filter((i) => /^(src|probes)\//.test(i))
        .filter((i) => {
          const to = placeOf(i);
          return !to || to.layer > from.layer || (to.layer === from.layer && to.module !== from.module);
        })
        .map((i) => `${f} → ${i}`);
    });
    expect(bad).toEqual([]);
  });

  it('the model is a leaf: it imports nothing of the project', () => {
    const bad = product
      .filter((f) => f.startsWith('src/model/'))
      .flatMap((f) =>
        importsOf(f)
          .filter((i) => /^(src|probes|box|test)\//.test(i) && !i.startsWith('src/model/'))
          .map((i) => `${f} → ${i}`),
      );
    expect(bad).toEqual([]);
  });

  it('the runner knows no probe by name: it takes them from the registry', () => {
    const runner = readFileSync(join(root, 'src/run/runner.ts'), 'utf8');
    expect(importsOf('src/run/runner.ts').filter((i) => i.startsWith('probes/'))).toEqual(['probes/registry.ts']);
    expect(runner).not.toMatch(/['"](browser|api)['"]/);
  });

  it('the product imports nothing from the box, the tests or the scripts', () => {
    const bad = product.flatMap((f) =>
      importsOf(f)
        .filter((i) => /^(box|test|scripts|fixtures)\//.test(i))
        .map((i) => `${f} → ${i}`),
    );
    expect(bad).toEqual([]);
  });

  it('the CLI loads Playwright, the runner, the service and their libraries only when a command runs, not to parse one', () => {
    // cli.ts loads every command's module at start, to register its options.
    const commands = /const commands = \[([^\]]+)\]/.exec(readFileSync(join(root, 'src/cli.ts'), 'utf8'))![1]!.match(/[a-z-]+/g)!;
    expect(commands).toEqual(['check-config', 'smoke', 'doctor', 'serve']);
    const loaded = loadedClosure(['src/cli.ts', ...commands.map((c) => `src/commands/${c}.ts`)]);
    expect(loaded).toContain('commander');
    expect(loaded).toContain('src/commands/usage.ts');
    const heavy = [...loaded].filter(
      (m) =>
        ['playwright-core', 'express', 'exceljs', 'prom-client', 'axios'].includes(m) ||
        /^(probes\/|src\/run\/|src\/service\/(?!shard\.ts)|src\/browser\/)/.test(m),
    );
    expect(heavy).toEqual([]);
  });

  it('the product imports no dev dependency (the container installs without them)', () => {
    const dev = Object.keys(pkg.devDependencies);
    const bad = product.flatMap((f) =>
      importsOf(f)
        .filter((i) => dev.some((d) => i === d || i.startsWith(`${d}/`)))
        .map((i) => `${f} → ${i}`),
    );
    expect(bad).toEqual([]);
  });
});
