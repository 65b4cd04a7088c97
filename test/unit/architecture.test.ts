// The layout's promises, checked on the source: the product (src/, probes/) ships without the
// box, the tests or dev dependencies (the container installs with --omit=dev), and the flow is
// one-way: runner and probes know nothing of the scheduler, server, metrics or CLI above them.
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
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"`;]*?from\s+['"]([^'"]+)['"]|import\(\s*['"`]([^'"`]+)['"`]\s*\)/g)].map((m) => m[1] ?? m[2]!);
  return specs.map((s) => (s.startsWith('.') ? relative(root, resolve(root, dirname(file), s)) : s));
}

const product = [...tsFiles('src'), ...tsFiles('probes')];

describe('architecture', () => {
  it('finds the product sources and their imports', () => {
    expect(product.length).toBeGreaterThan(20);
    expect(importsOf('src/run/runner.ts')).toContain('src/run/result.ts');
  });

  it('the product imports nothing from the box, the tests or the scripts', () => {
    const bad = product.flatMap((f) => importsOf(f).filter((i) => /^(box|test|scripts|fixtures)\//.test(i)).map((i) => `${f} → ${i}`));
    expect(bad).toEqual([]);
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

  it('runner, probes and targets do not reach up to the scheduler, server, metrics or commands', () => {
    const lower = product.filter((f) => /^(probes|src\/run|src\/target|src\/evidence)\//.test(f));
    expect(lower.length).toBeGreaterThan(10);
    const bad = lower.flatMap((f) =>
      importsOf(f)
        .filter((i) => /^src\/(service|server|metrics|commands|report)\//.test(i) || i === 'src/cli.ts')
        .map((i) => `${f} → ${i}`),
    );
    expect(bad).toEqual([]);
  });
});
