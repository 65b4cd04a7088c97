// The classification table is one piece of code and one table in the docs: they cannot drift.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROBES_DOC, withRulesTable } from '../../../scripts/docs.ts';
import { FAILURE_RULES, failureRulesTable } from '../../../src/model/classify.ts';
import { FAILURE_REASONS } from '../../../src/model/failures.ts';

describe('failure rules', () => {
  it('docs/probes.md shows the rule table as the code has it (npm run docs rewrites it)', () => {
    const doc = readFileSync(PROBES_DOC, 'utf8');
    expect(withRulesTable(doc)).toBe(doc);
    expect(doc).toContain(failureRulesTable());
  });

  it('every reason is given by some rule, and every rule says when it applies', () => {
    const given = new Set(FAILURE_RULES.flatMap((r) => r.gives));
    expect(FAILURE_REASONS.filter((r) => !given.has(r))).toEqual([]);
    for (const r of FAILURE_RULES) expect(r.when.length).toBeGreaterThan(10);
  });
});
